from grades.views import dashboards, entry, imports, records, stations, transcripts

app_name = "grades"
urlpatterns = [
    *entry.urlpatterns,
    *records.urlpatterns,
    *transcripts.urlpatterns,
    *stations.urlpatterns,
    *imports.urlpatterns,
    *dashboards.urlpatterns,
]
