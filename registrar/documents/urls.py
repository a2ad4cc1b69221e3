"""Document pages. ``urlpatterns`` is mounted under /documents/ (namespace "documents");
``public_urlpatterns`` (the no-login verification page) is mounted at the site root."""

from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/download/", views.document_download, name="download"),
    path("<int:pk>/revoke/", views.document_revoke_view, name="revoke"),
    path("<int:pk>/reissue/", views.document_reissue_view, name="reissue"),
    path("<int:pk>/retry/", views.document_retry_view, name="retry"),
]

#: Include at the root without a namespace: ``path("", include(public_urlpatterns))``.
public_urlpatterns = [
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
