"""Grade views, one module per area; each module's ``urlpatterns`` is mounted by grades/urls.py."""
