"""Grade corrections (U5C, 成绩更正): after Academic Affairs confirms a sheet, a grade changes
only through a ``GradeCorrectionRequest`` (instructor → college dean → Academic Affairs) on the
approval kernel. ``correction_validate`` runs when the instructor submits (the kernel's chain
``validate``); ``correction_apply`` runs when Academic Affairs approves (the last stage's
``on_pass``), in the kernel's transaction, and writes one ``GradeChange`` row."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError

from ..models import Grade, GradeChange, GradeCorrectionRequest, Offering
from ..scoring import Result, ScoreError, compute, display, parse_entry
from .results import RESULT_FIELDS, apply_result, evaluate, offering_weights

NOT_INSTRUCTOR = _("Only an instructor of %(offering)s may request a correction of its grades.")
WRONG_STUDENT = _("This grade belongs to another student than the one the request is about.")
SHEET_NOT_CONFIRMED = _(
    "The grade sheet of %(offering)s is not confirmed yet: correct the grade on the sheet "
    "itself, a correction request is only for confirmed grades."
)
GIVE_ONE_VALUE = _("Give exactly one new value: a score, a level or a special mark.")
BAD_NEW_VALUE = _("The new value is not valid on this sheet: %(error)s")
UNCHANGED = _("The new value (%(value)s) is the grade as it stands: nothing to correct.")

#: the key a corrected composite is computed under on multi-component sheets
CORRECTED = "corrected"


def _raw_new_value(request: GradeCorrectionRequest):
    given = [v for v in (request.new_score, (request.new_level or "").strip(), request.new_mark) if v not in (None, "")]
    if len(given) != 1:
        raise ApplicationError(GIVE_ONE_VALUE)
    value = given[0]
    return value if isinstance(value, Decimal) else str(value)


def _single_component(offering: Offering) -> str | None:
    weights = offering_weights(offering)
    return weights[0][0] if len(weights) == 1 else None


def correction_result(*, request: GradeCorrectionRequest) -> tuple[dict | None, Result]:
    """The grade's result with the requested value: (component values to store or None, result).

    A one-component sheet re-evaluates that component through ``results.evaluate``; on a
    multi-component sheet the new value replaces the composite (the component scores stay as
    they were): scored directly on the sheet's scale, with ``passed`` and the grade point
    recomputed. Either way a passed make-up is capped as on the sheet."""
    grade = request.grade
    offering = grade.offering
    raw = _raw_new_value(request)
    code = _single_component(offering)
    try:
        if code is not None:
            stored, result = evaluate(
                scale=offering.scale,
                rounding=offering.rounding,
                kind=offering.kind,
                weights=[(code, 100)],
                raw={code: raw},
            )
            return stored, result
        entry = parse_entry(raw, scale=offering.scale)
        result = compute(
            scale=offering.scale,
            rounding=offering.rounding,
            weights=[(CORRECTED, 100)],
            entries={CORRECTED: entry},
            kind=offering.kind,
        )
        return None, result
    except ScoreError as exc:
        message = str(exc).removeprefix(f"{code}: ") if code else str(exc)
        raise ApplicationError(BAD_NEW_VALUE % {"error": message}) from None


def grade_display(grade: Grade) -> str:
    return display(grade.score, grade.level, grade.mark)


def correction_validate(*, request: GradeCorrectionRequest) -> None:
    """Refuse the submission unless the applicant teaches the grade's offering, the sheet is
    confirmed and the new value parses on the sheet's scale and differs from the grade; then
    snapshot the old value on the request (saved by the kernel with the transition)."""
    grade = Grade.objects.select_related("offering").get(pk=request.grade_id)
    request.grade = grade
    offering = grade.offering
    if grade.student_id != request.student_id:
        raise ApplicationError(WRONG_STUDENT)
    if not offering.instructors.filter(pk=request.applicant_id).exists():
        raise ApplicationError(NOT_INSTRUCTOR % {"offering": offering.code})
    if offering.sheet_state != Offering.SheetState.CONFIRMED:
        raise ApplicationError(SHEET_NOT_CONFIRMED % {"offering": offering.code})
    _stored, result = correction_result(request=request)
    old = grade_display(grade)
    new = display(result.score, result.level, result.mark)
    if new == old:
        raise ApplicationError(UNCHANGED % {"value": new or "—"})
    request.old_value = old


@transaction.atomic
def correction_apply(*, request: GradeCorrectionRequest, actor) -> Grade:
    """Write the approved correction on the grade and record one ``GradeChange`` (old, new,
    reason, the request)."""
    grade = Grade.objects.select_for_update().select_related("offering").get(pk=request.grade_id)
    request.grade = grade
    if grade.offering.sheet_state != Offering.SheetState.CONFIRMED:
        raise ApplicationError(SHEET_NOT_CONFIRMED % {"offering": grade.offering.code})
    stored, result = correction_result(request=request)
    old = grade_display(grade)
    components = stored if stored is not None else grade.components
    apply_result(grade, components=components, result=result, actor=request.applicant)
    grade.full_clean()
    grade.save(update_fields=RESULT_FIELDS)
    GradeChange.objects.create(
        grade=grade,
        old_value=old,
        new_value=grade_display(grade),
        reason=request.reason,
        request_type=request.chain.code,
        request_id=request.pk,
        actor=actor,
    )
    return grade
