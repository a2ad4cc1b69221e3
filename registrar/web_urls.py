from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path("workflows/", views.workflows, name="workflows"),
    path("calendar/", views.due_calendar, name="calendar"),
    path("calendar/ics/", views.due_calendar_ics, name="calendar_ics"),
    path("favicon.ico", views.favicon, name="favicon"),  # browsers ask for it whatever the page says
]
