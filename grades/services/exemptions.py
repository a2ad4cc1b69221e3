"""Exemption chain C8X (免修 / 免试): the kernel calls ``exemption_validate`` when the request is
submitted and ``exemption_apply`` when the college's last approval completes it (same transaction).

An approved exemption marks the student's grade on that offering exempt (免修): passed, no grade
point, so it earns the credits and is left out of the GPA (grades.selectors.records.gpa).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import COMPLETED, WITHDRAWN
from registrar.exceptions import ApplicationError

from ..models import ExemptionRequest, Grade, Offering
from .results import RESULT_FIELDS, apply_result, evaluate, offering_weights

NOT_ON_OFFERING = _(
    "%(name)s is not on the grade sheet of %(offering)s: an exemption can only be requested for a "
    "course the student takes."
)
SHEET_CLOSED = _(
    "The grade sheet of %(offering)s is no longer being entered (it is “%(state)s”): an exemption can "
    "no longer be recorded on it."
)
ALREADY_EXEMPT = _("%(name)s is already exempt from %(offering)s.")
ALREADY_REQUESTED = _("%(name)s already has an open exemption request for %(offering)s (#%(id)s).")

#: what the exemption writes into every component of the sheet (parsed by grades.scoring like a typed 免修)
EXEMPT_ENTRY = "免修"


def _grade(request, *, lock: bool = False) -> Grade | None:
    qs = Grade.objects.filter(offering_id=request.offering_id, student_id=request.student_id)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _check(request, grade: Grade | None, offering: Offering) -> None:
    names = {"name": request.student.name, "offering": f"{offering.code} {offering.course.name}"}
    if grade is None:
        raise ApplicationError(NOT_ON_OFFERING % names)
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(SHEET_CLOSED % {**names, "state": offering.get_sheet_state_display()})
    if grade.mark == Grade.Mark.EXEMPT:
        raise ApplicationError(ALREADY_EXEMPT % names)


def exemption_validate(*, request: ExemptionRequest) -> None:
    """Refuse submitting unless the student is on the offering, its sheet is still being entered,
    the student is not exempt already and no other exemption request for it is open."""
    offering = Offering.objects.select_related("course").get(pk=request.offering_id)
    _check(request, _grade(request), offering)
    other = (
        ExemptionRequest.objects.filter(student_id=request.student_id, offering_id=request.offering_id)
        .exclude(pk=request.pk)
        .exclude(state__in=[COMPLETED, WITHDRAWN])
        .first()
    )
    if other is not None:
        raise ApplicationError(
            ALREADY_REQUESTED
            % {"name": request.student.name, "offering": f"{offering.code} {offering.course.name}", "id": other.pk}
        )


def exemption_apply(*, request: ExemptionRequest, actor) -> Grade:
    """Mark the student's grade on the offering exempt (runs inside the kernel's transaction)."""
    offering = Offering.objects.select_for_update().select_related("course").get(pk=request.offering_id)
    grade = _grade(request, lock=True)
    _check(request, grade, offering)
    weights = offering_weights(offering)
    stored, result = evaluate(
        scale=offering.scale,
        rounding=offering.rounding,
        kind=offering.kind,
        weights=weights,
        raw={code: EXEMPT_ENTRY for code, _w in weights},
    )
    apply_result(grade, components=stored, result=result, actor=actor)
    grade.full_clean()
    grade.save(update_fields=RESULT_FIELDS)
    return grade
