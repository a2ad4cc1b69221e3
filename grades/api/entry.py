"""The grade-sheet API (U5), mounted under /api/grades/ with names ``grades-api:…``.

Thin views over the same selectors and services as the pages: scope → 404, role → 403, a
refused action (wrong state, closed window, bad cells) → 400 ``{"detail": message, "errors": […]}``
with one entry per bad cell. Session and token authentication come from REST_FRAMEWORK.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from registrar import params
from registrar.exceptions import ApplicationError

from .. import scoring
from ..models import Grade, GradeComponent, Offering
from ..selectors import entry as selectors
from ..services import entry as services


class Refused(APIException):
    """A domain refusal: 400 with the message and, for entry, every bad cell."""

    status_code = 400
    default_code = "refused"

    def __init__(self, exc: ApplicationError):
        self.detail = {"detail": str(exc.message), **dict(exc.extra.items())}


def _call(func):
    try:
        return func()
    except ApplicationError as exc:
        raise Refused(exc) from None
    except Http404:
        raise NotFound() from None
    except PermissionDenied as exc:
        raise DRFPermissionDenied(str(exc) or None) from None


# --- serializers ------------------------------------------------------------------------------
class ComponentSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="display_label", read_only=True)

    class Meta:
        model = GradeComponent
        fields = ["code", "label", "weight", "position"]


class GradeRowSerializer(serializers.ModelSerializer):
    student_number = serializers.CharField(source="student.student_number", read_only=True)
    name = serializers.CharField(source="student.name", read_only=True)
    klass = serializers.CharField(source="student.klass.name", read_only=True, default="")
    result = serializers.SerializerMethodField()
    components = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Component scores as stored, by component code."
    )

    class Meta:
        model = Grade
        fields = [
            "id",
            "student_number",
            "name",
            "klass",
            "components",
            "score",
            "level",
            "mark",
            "passed",
            "grade_point",
            "result",
            "entered_at",
        ]

    def get_result(self, obj) -> str:
        return scoring.display(obj.score, obj.level, obj.mark)


class OfferingSerializer(serializers.ModelSerializer):
    """An offering in the list (``entered``/``total``/``is_late`` are annotated by the selector)."""

    course_code = serializers.CharField(source="course.code", read_only=True)
    course_name = serializers.CharField(source="course.name", read_only=True)
    term = serializers.CharField(source="term.code", read_only=True)
    college = serializers.CharField(source="college.name", read_only=True)
    instructors = serializers.SerializerMethodField()
    entry_due = serializers.DateField(read_only=True)
    entered = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = Offering
        fields = [
            "id",
            "code",
            "course_code",
            "course_name",
            "term",
            "college",
            "kind",
            "instructors",
            "exam_date",
            "entry_due",
            "sheet_state",
            "entered",
            "total",
            "is_late",
            "submitted_at",
            "confirmed_at",
        ]

    def get_instructors(self, obj) -> list[str]:
        return [u.username for u in obj.instructors.all()]


class OfferingSheetSerializer(OfferingSerializer):
    """One grade sheet: composition, scale, the entry window and every student's row."""

    components = ComponentSerializer(many=True, read_only=True)
    grades = serializers.SerializerMethodField()
    entry_open = serializers.SerializerMethodField()

    class Meta(OfferingSerializer.Meta):
        fields = [*OfferingSerializer.Meta.fields, "scale", "rounding", "entry_open", "components", "grades"]

    def _grades(self, obj) -> list[Grade]:
        if not hasattr(obj, "_sheet_grades"):
            obj._sheet_grades = list(selectors.sheet_grades(obj))
        return obj._sheet_grades

    @extend_schema_field(GradeRowSerializer(many=True))
    def get_grades(self, obj) -> list[dict]:
        return GradeRowSerializer(self._grades(obj), many=True).data

    def get_entry_open(self, obj) -> bool:
        return selectors.entry_open(obj)


class GradesInputSerializer(serializers.Serializer):
    rows = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True, allow_null=True)),
        help_text="{grade id or student number: {component code: typed value}}; values as typed in the grid "
        '("85", "72.5", "良", "缺考"); "" clears a cell; cells left out keep their value.',
    )


class CellErrorSerializer(serializers.Serializer):
    student_number = serializers.CharField()
    component = serializers.CharField()
    column = serializers.CharField()
    message = serializers.CharField()
    row = serializers.IntegerField(required=False)


class RefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = CellErrorSerializer(many=True, required=False)


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class EnteredSerializer(serializers.Serializer):
    saved = serializers.IntegerField(help_text="Rows whose stored values changed.")
    sheet = OfferingSheetSerializer()


# --- views ------------------------------------------------------------------------------------
FILTERS = [
    OpenApiParameter("search", str, description="Offering code, course code or name"),
    OpenApiParameter("term", int, description="Term id"),
    OpenApiParameter("college", int, description="College id"),
    OpenApiParameter("state", str, enum=Offering.SheetState.values),
    OpenApiParameter("late", bool, description="Only offerings past their entry due date and not submitted"),
]


def _sheet(request, pk) -> Offering:
    return _call(lambda: selectors.offering_for(request.user, pk))


def _sheet_data(request, pk) -> dict:
    return OfferingSheetSerializer(_sheet(request, pk)).data


@extend_schema(parameters=FILTERS, summary="Grade sheets in the caller's scope")
class OfferingListView(generics.ListAPIView):
    serializer_class = OfferingSerializer
    filter_backends: list = []

    def get_queryset(self):
        if not selectors.may_see_sheets(self.request.user):
            raise DRFPermissionDenied()
        q = params.parse_api_query(
            self.request.query_params,
            term=params.IdField(),
            college=params.IdField(),
            search=params.SearchField(),
            state=forms.ChoiceField(required=False, choices=Offering.SheetState.choices),
            late=forms.BooleanField(required=False),
        )
        return selectors.offering_list(
            self.request.user,
            term_id=q["term"],
            college_id=q["college"],
            state=q["state"] or None,
            late=bool(q["late"]),
            search=q["search"] or "",
        )


@extend_schema(summary="One grade sheet with its components and every student's grades")
class OfferingDetailView(generics.RetrieveAPIView):
    serializer_class = OfferingSheetSerializer

    def get_object(self):
        return _sheet(self.request, self.kwargs["pk"])


class OfferingGradesView(APIView):
    """Enter grades (all or nothing): the same service as the grid."""

    @extend_schema(
        request=GradesInputSerializer,
        responses={200: EnteredSerializer, 400: RefusedSerializer},
        summary="Enter component scores (PUT or POST)",
    )
    def put(self, request, pk):
        offering = _sheet(request, pk)
        body = GradesInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = _call(
            lambda: services.grades_enter(offering=offering, actor=request.user, rows=body.validated_data["rows"])
        )
        return Response({"saved": outcome.count, "sheet": _sheet_data(request, pk)})

    @extend_schema(
        request=GradesInputSerializer,
        responses={200: EnteredSerializer, 400: RefusedSerializer},
        summary="Enter component scores (PUT or POST)",
    )
    def post(self, request, pk):
        return self.put(request, pk)


class _SheetAction(APIView):
    """POST one transition on a sheet; answers with the sheet."""

    input_serializer: type[serializers.Serializer] | None = None

    def act(self, request, offering: Offering, body: dict):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, pk):
        offering = _sheet(request, pk)
        data = {}
        if self.input_serializer is not None:
            body = self.input_serializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        _call(lambda: self.act(request, offering, data))
        return Response(_sheet_data(request, pk))


class OfferingSubmitView(_SheetAction):
    def act(self, request, offering, body):
        return services.sheet_submit(offering=offering, actor=request.user)

    @extend_schema(
        request=None,
        responses={200: OfferingSheetSerializer, 400: RefusedSerializer},
        summary="The instructor submits the sheet (locked for them)",
    )
    def post(self, request, pk):
        return super().post(request, pk)


class OfferingConfirmView(_SheetAction):
    def act(self, request, offering, body):
        return services.sheet_confirm(offering=offering, actor=request.user)

    @extend_schema(
        request=None,
        responses={200: OfferingSheetSerializer, 400: RefusedSerializer},
        summary="Academic Affairs confirms (认定): students see the grades",
    )
    def post(self, request, pk):
        return super().post(request, pk)


class OfferingReturnView(_SheetAction):
    input_serializer = ReturnInputSerializer

    def act(self, request, offering, body):
        return services.sheet_return(offering=offering, actor=request.user, reason=body["reason"])

    @extend_schema(
        request=ReturnInputSerializer,
        responses={200: OfferingSheetSerializer, 400: RefusedSerializer},
        summary="Academic Affairs returns a submitted sheet to the instructor with a reason",
    )
    def post(self, request, pk):
        return super().post(request, pk)


urlpatterns = [
    path("offerings/", OfferingListView.as_view(), name="offerings"),
    path("offerings/<int:pk>/", OfferingDetailView.as_view(), name="offering"),
    path("offerings/<int:pk>/grades/", OfferingGradesView.as_view(), name="offering-grades"),
    path("offerings/<int:pk>/submit/", OfferingSubmitView.as_view(), name="offering-submit"),
    path("offerings/<int:pk>/confirm/", OfferingConfirmView.as_view(), name="offering-confirm"),
    path("offerings/<int:pk>/return/", OfferingReturnView.as_view(), name="offering-return"),
]
