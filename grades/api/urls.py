from grades.api import entry, records

app_name = "grades-api"
urlpatterns = [*entry.urlpatterns, *records.urlpatterns]
