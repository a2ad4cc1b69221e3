"""The REST API's student endpoints (``/api/students/``), mounted by registrar/api/urls.py in its
``api`` namespace: a student as the caller may see them, within their scope."""

from django.urls import path
from rest_framework import generics, serializers

from registrar import params

from .models import Student
from .permissions import personal_data
from .selectors import student_get_visible, student_list


class StudentSerializer(serializers.ModelSerializer):
    """A student as the caller may see them: the personal fields (``students.permissions.PERSONAL_FIELDS``)
    in full or masked, as ``personal_data`` decides; ``personal_data_masked`` says which."""

    college = serializers.CharField(source="college.name", read_only=True)
    major = serializers.CharField(source="major.name", read_only=True)
    klass = serializers.CharField(source="klass.name", read_only=True)
    station = serializers.CharField(source="station.name", read_only=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    id_number = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    ethnicity = serializers.SerializerMethodField()
    political_status = serializers.SerializerMethodField()
    personal_data_masked = serializers.SerializerMethodField()

    class Meta:
        model = Student
        fields = [
            "id",
            "student_number",
            "name",
            "gender",
            "id_number",
            "birth_date",
            "ethnicity",
            "political_status",
            "personal_data_masked",
            "level",
            "study_form",
            "college",
            "major",
            "klass",
            "station",
            "enrollment_date",
            "expected_graduation",
            "card_number",
            "status",
            "status_label",
        ]

    def _personal(self, obj):
        cache = self.context.setdefault("_personal", {})
        if obj.pk not in cache:
            request = self.context.get("request")
            cache[obj.pk] = personal_data(getattr(request, "user", None), obj)
        return cache[obj.pk]

    def get_id_number(self, obj) -> str:
        return self._personal(obj).id_number

    def get_birth_date(self, obj) -> str:
        return self._personal(obj).birth_date

    def get_ethnicity(self, obj) -> str:
        return self._personal(obj).ethnicity

    def get_political_status(self, obj) -> str:
        return self._personal(obj).political_status

    def get_personal_data_masked(self, obj) -> bool:
        return self._personal(obj).masked


class StudentListView(generics.ListAPIView):
    serializer_class = StudentSerializer

    def get_queryset(self):
        query = params.parse_api_query(self.request.query_params, search=params.SearchField())
        return student_list(user=self.request.user, search=query["search"] or "")


class StudentDetailView(generics.RetrieveAPIView):
    serializer_class = StudentSerializer

    def get_object(self):
        return student_get_visible(self.request.user, self.kwargs["pk"])  # Http404 → 404 (DRF)


urlpatterns = [
    path("", StudentListView.as_view(), name="students"),
    path("<int:pk>/", StudentDetailView.as_view(), name="student"),
]
