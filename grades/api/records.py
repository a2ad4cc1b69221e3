"""A student's confirmed grade record as JSON: the student's own (``grades-api:me``) and a
student's read by staff in scope (``grades-api:student``; 404 outside it, 403 without a role
that reads records). The same selectors as the pages; two queries for the record whatever the
number of grades."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from registrar.approvals.permissions import student_of

from ..selectors.records import RecordPage, record_page, record_student, record_visible_student

ONLY_STUDENTS = _("Only a student has grades of their own.")


def _num(value):
    return None if value is None else str(value)


def _grade(g, counted) -> dict:
    return {
        "id": g.pk,
        "offering": g.offering.code,
        "term": g.term.code,
        "kind": g.kind,
        "kind_label": str(g.get_kind_display()),
        "counted": counted is not None and g.pk == counted.pk,
        "score": _num(g.score),
        "level": g.level,
        "mark": g.mark,
        "result": g.display_result,
        "passed": g.passed,
        "grade_point": _num(g.grade_point),
        "exam_date": g.offering.exam_date.isoformat() if g.offering.exam_date else None,
    }


def _course(r) -> dict:
    c = r.course
    return {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "credits": _num(c.credits),
        "type": c.kind,
        "type_label": str(c.get_kind_display()),
        "assessment": c.assessment,
        "assessment_label": str(c.get_assessment_display()),
        "passed": r.passed,
        "failed": r.failed,
        "attempts": [_grade(g, r.counted) for g in r.attempts],
    }


def record_json(page: RecordPage) -> dict:
    s = page.student
    record = page.record
    return {
        "student": {
            "id": s.pk,
            "student_number": s.student_number,
            "name": s.name,
            "college": s.college.name,
            "major": s.major.name,
            "class": s.klass.name,
        },
        "terms": [
            {
                "code": t.term.code,
                "name": t.term.name,
                "gpa": _num(t.gpa),
                "credits_earned": _num(t.credits_earned),
                "courses": [_course(r) for r in t.courses],
            }
            for t in page.terms
        ],
        "credits": {
            "earned": _num(record.credits_earned),
            "attempted": _num(record.credits_attempted),
            "required": _num(page.required_credits),
        },
        "gpa": _num(record.gpa),
        "average_score": _num(record.average_score),
        "open_failures": [
            {"code": r.course.code, "name": r.course.name, "term": r.term.code, "result": r.counted.display_result}
            for r in record.open_failures
        ],
    }


class MyGradesView(APIView):
    @extend_schema(responses=dict, summary="The student's own confirmed grades: terms, credits, GPA, open failures")
    def get(self, request):
        own = student_of(request.user)
        if own is None:
            raise DRFPermissionDenied(ONLY_STUDENTS)
        return Response(record_json(record_page(record_student(own.pk))))


class StudentGradesView(APIView):
    @extend_schema(responses=dict, summary="A student's confirmed grades, for staff who may read them (scoped)")
    def get(self, request, pk):
        try:
            student = record_visible_student(request.user, pk)
        except Http404:
            raise NotFound() from None
        except PermissionDenied:
            raise DRFPermissionDenied() from None
        return Response(record_json(record_page(student)))


urlpatterns = [
    path("me/", MyGradesView.as_view(), name="me"),
    path("students/<int:pk>/", StudentGradesView.as_view(), name="student"),
]
