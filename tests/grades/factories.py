"""Factories and builders for the grades tests."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from grades.models import Course, GradeEntryWindow, Offering, Term
from grades.services.teaching import offering_create
from tests.factories import CollegeFactory, UserFactory


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Term
        django_get_or_create = ("code",)

    code = "2025-2026-1"
    name = "2025-2026学年第一学期"
    start_date = dt.date(2025, 9, 1)
    end_date = dt.date(2026, 1, 20)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"CS{n:04d}")
    name = factory.Sequence(lambda n: f"课程{n}")
    name_en = factory.Sequence(lambda n: f"Course {n}")
    credits = Decimal("3.0")
    hours = 48
    college = factory.SubFactory(CollegeFactory)


_seq = iter(range(1, 10**9))


def make_offering(
    *,
    course=None,
    term=None,
    classes=(),
    instructors=(),
    kind=Offering.Kind.REGULAR,
    exam_date=None,
    college=None,
    code=None,
    scale=Offering.Scale.HUNDRED,
) -> Offering:
    """An offering through the real service (so its classes' students are enrolled)."""
    term = term or TermFactory()
    course = course or CourseFactory(college=college or (classes[0].college if classes else None) or CollegeFactory())
    college = college or (classes[0].college if classes else course.college)
    return offering_create(
        code=code or f"{term.code}-{course.code}-{next(_seq):03d}",
        term=term,
        course=course,
        college=college,
        kind=kind,
        instructors=instructors,
        classes=classes,
        exam_date=exam_date or dt.date(2026, 1, 10),
        scale=scale,
    )


def open_window(term, *, published_by=None, days=30, **kw) -> GradeEntryWindow:
    now = timezone.now()
    window = GradeEntryWindow.objects.create(
        term=term,
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=days),
        published_by=published_by or UserFactory(),
        **kw,
    )
    return window
