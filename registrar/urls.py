from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language is chosen by cookie/session, not URL)
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from registrar.documents.urls import public_urlpatterns as documents_public_urls

urlpatterns = [
    path("", include("registrar.web_urls")),
    path("", include(documents_public_urls)),
    path("requests/", include("registrar.approvals.urls")),
    path("documents/", include("registrar.documents.urls")),
    path("students/", include("students.urls")),
    path("status-changes/", include("statuschange.urls")),
    path("grades/", include("grades.urls")),
    path("api/grades/", include("grades.api.urls")),
    path("api/", include("registrar.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view loads its initialisation script from a URL: no inline script (Content-Security-Policy)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# MEDIA_URL is deliberately not served, not even with DEBUG: every stored file is downloaded through
# the view of the object it belongs to, which checks its permission (registrar/files.py).
