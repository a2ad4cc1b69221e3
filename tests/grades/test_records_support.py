"""Builders shared by the records tests (no tests here): sheets entered through the real
result path (grades.services.results) and confirmed, terms, settings overrides."""

import datetime as dt

from django.utils import timezone

from grades.models import Offering, Term
from grades.services.results import apply_result, evaluate, offering_weights
from grades.services.teaching import offering_enrol
from tests.grades.factories import CourseFactory, TermFactory, make_offering


def term(n: int = 1) -> Term:
    """Term ``n`` of consecutive half-years starting 2025-09 (1: 2025-2026-1, 2: 2025-2026-2, 3: 2026-2027-1 …)."""
    year = 2025 + (n - 1) // 2
    if n % 2:
        return TermFactory(
            code=f"{year}-{year + 1}-1",
            name=f"{year}-{year + 1}学年第一学期",
            start_date=dt.date(year, 9, 1),
            end_date=dt.date(year + 1, 1, 20),
        )
    return TermFactory(
        code=f"{year}-{year + 1}-2",
        name=f"{year}-{year + 1}学年第二学期",
        start_date=dt.date(year + 1, 2, 20),
        end_date=dt.date(year + 1, 7, 10),
    )


def grades_settings(settings, **overrides):
    """Override ``REGISTRAR["GRADES"]`` keys on a copy of the dicts (never mutate the shared one)."""
    settings.REGISTRAR = {**settings.REGISTRAR, "GRADES": {**settings.REGISTRAR["GRADES"], **overrides}}


def enter(offering: Offering, values: dict, *, actor=None) -> None:
    """Enter each student's value (``{student: raw}``; a dict of component values for multi-component
    sheets) through ``results.evaluate`` / ``apply_result``."""
    offering = Offering.objects.prefetch_related("components").get(pk=offering.pk)
    weights = offering_weights(offering)
    grades = {g.student_id: g for g in offering.grades.all()}
    for student, raw in values.items():
        g = grades[student.pk]
        raw = raw if isinstance(raw, dict) else {weights[0][0]: raw}
        stored, result = evaluate(
            scale=offering.scale, rounding=offering.rounding, kind=offering.kind, weights=weights, raw=raw
        )
        apply_result(g, components=stored, result=result, actor=actor)
        g.save()


def confirm(offering: Offering) -> Offering:
    """Mark the sheet confirmed (the entry workflow is another area's; its state is all that matters here)."""
    Offering.objects.filter(pk=offering.pk).update(
        sheet_state=Offering.SheetState.CONFIRMED, confirmed_at=timezone.now()
    )
    return Offering.objects.get(pk=offering.pk)


def sheet(
    *,
    students,
    values=None,
    term_=None,
    course=None,
    kind=Offering.Kind.REGULAR,
    instructors=(),
    confirmed=True,
    college=None,
    credits=None,
    scale=Offering.Scale.HUNDRED,
) -> Offering:
    """An offering of ``course`` (a new one by default) for ``students`` with ``values`` entered."""
    students = list(students)
    college = college or (course.college if course else students[0].college)
    if course is None:
        course = CourseFactory(college=college, **({"credits": credits} if credits is not None else {}))
    offering = make_offering(
        course=course, term=term_ or term(1), college=college, kind=kind, instructors=instructors, scale=scale
    )
    offering_enrol(offering=offering, students=students)
    if values:
        enter(offering, values)
    return confirm(offering) if confirmed else offering
