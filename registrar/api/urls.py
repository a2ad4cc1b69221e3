from django.urls import include, path, re_path

from registrar.approvals.views import SEED_CODE_PATH, seed_code_redirect

from . import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("workflows/", views.WorkflowListView.as_view(), name="workflows"),
    path("students/", include("students.api")),  # the students app's endpoints: api:students, api:student
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    re_path(SEED_CODE_PATH.replace("^", "^requests/", 1), seed_code_redirect, name="seed_code_redirect"),
    path("requests/<str:chain>/", views.RequestListCreateView.as_view(), name="requests"),
    path("requests/<str:chain>/<int:pk>/", views.RequestDetailView.as_view(), name="request"),
    path("requests/<str:chain>/<int:pk>/transitions/", views.RequestTransitionsView.as_view(), name="transitions"),
    path("requests/<str:chain>/<int:pk>/attachments/", views.RequestAttachmentView.as_view(), name="attachments"),
]
