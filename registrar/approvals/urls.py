from django.urls import path, re_path

from . import views

app_name = "approvals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("batch-approve/", views.inbox_batch_approve, name="batch_approve"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:pk>/revoke/", views.delegation_revoke, name="delegation_revoke"),
    re_path(views.SEED_CODE_PATH, views.seed_code_redirect, name="seed_code_redirect"),
    path("<str:chain>/new/", views.request_create, name="create"),
    path("<str:chain>/<int:pk>/", views.request_detail, name="detail"),
    path("<str:chain>/<int:pk>/edit/", views.request_edit, name="edit"),
    path("<str:chain>/<int:pk>/act/<str:action>/", views.request_act, name="act"),
    path("<str:chain>/<int:pk>/reassign/", views.request_reassign, name="reassign"),
    path("<str:chain>/<int:pk>/approval-form/", views.approval_form, name="approval_form"),
    path("<str:chain>/<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]
