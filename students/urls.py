app_name = "students"
urlpatterns = []
