from django.urls import path

from . import views

app_name = "statuschange"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.export_xlsx, name="export"),
]
