"""Teaching data writes: terms, courses, plans, offerings and enrolment."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError
from students.models import Student

from ..models import Grade, GradeComponent, Offering

ENROL_CLOSED = _("The grade sheet of %(offering)s is already submitted: students can no longer be added.")
ENROL_NOT_STUDYING = _("%(name)s is not enrolled at the university (status: %(status)s).")

#: A new offering starts with one component, the final exam at 100 % (the teaching secretary sets the real one).
DEFAULT_COMPOSITION = ((GradeComponent.Code.FINAL, 100),)


@transaction.atomic
def offering_create(
    *,
    code: str,
    term,
    course,
    college,
    kind: str = Offering.Kind.REGULAR,
    instructors=(),
    classes=(),
    exam_date=None,
    scale: str = Offering.Scale.HUNDRED,
    rounding: str = Offering.Rounding.INTEGER,
) -> Offering:
    """Create an offering, enrol its classes' studying students, and give it the default composition."""
    offering = Offering(
        code=code,
        term=term,
        course=course,
        college=college,
        kind=kind,
        exam_date=exam_date,
        scale=scale,
        rounding=rounding,
    )
    offering.full_clean()
    offering.save()
    offering.instructors.set(instructors)
    offering.classes.set(classes)
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=offering, code=c, weight=w, position=i)
            for i, (c, w) in enumerate(DEFAULT_COMPOSITION)
        ]
    )
    students = Student.objects.filter(klass__in=list(classes), status=Student.Status.ENROLLED)
    offering_enrol(offering=offering, students=students, via=Grade.Source.CLASS)
    return offering


@transaction.atomic
def offering_enrol(*, offering: Offering, students, via: str = Grade.Source.INDIVIDUAL) -> int:
    """Put ``students`` on the offering's sheet (already enrolled ones are skipped). Returns how many were added."""
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(ENROL_CLOSED % {"offering": offering.code})
    existing = set(Grade.objects.filter(offering=offering).values_list("student_id", flat=True))
    rows = [
        Grade(
            offering=offering,
            student=s,
            course_id=offering.course_id,
            term_id=offering.term_id,
            kind=offering.kind,
            enrolled_via=via,
        )
        for s in students
        if s.pk not in existing
    ]
    Grade.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
