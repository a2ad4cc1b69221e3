"""Writes on the people register."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Student, StatusHistory


@transaction.atomic
def student_record_change(*, student: Student, field: str, new_value, actor=None, request=None,
                          effective_date=None, note: str = "") -> StatusHistory | None:
    """Change one field of a student's record, writing an effective-dated history row."""
    old_value = getattr(student, field)
    if old_value == new_value:
        return None
    setattr(student, field, new_value)
    student.full_clean()
    student.save(update_fields=[field, "updated_at"])
    return StatusHistory.objects.create(
        student=student,
        field=field,
        old_value=str(old_value or ""),
        new_value=str(new_value or ""),
        effective_date=effective_date or timezone.localdate(),
        request_type=request.chain.code if request is not None else "",
        request_id=request.pk if request is not None else None,
        recorded_by=actor,
        note=note,
    )


def idcard_reissue_complete(*, request, actor) -> None:
    """U6 completed: the student's record carries the new card number."""
    student_record_change(student=request.student, field="card_number", new_value=request.new_card_number,
                          actor=actor, request=request)
