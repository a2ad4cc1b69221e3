"""Writes on the people register."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import ScheduledChange, StatusHistory, Student


@transaction.atomic
def student_record_change(
    *, student: Student, field: str, new_value, actor=None, request=None, effective_date=None, note: str = ""
) -> StatusHistory | ScheduledChange | None:
    """Change one field of a student's record, writing an effective-dated history row.

    A change dated after today is not made yet: it waits as a ``ScheduledChange`` that
    ``scheduled_changes_apply`` makes on its date (so every chain's effect takes effect when it says).
    Returns the history row, the scheduled change, or None when the value is already the new one."""
    request_type = request.chain.code if request is not None else ""
    request_id = request.pk if request is not None else None
    if effective_date is not None and effective_date > timezone.localdate():
        return _change_schedule(
            student=student,
            field=field,
            new_value=new_value,
            actor=actor,
            request_type=request_type,
            request_id=request_id,
            effective_date=effective_date,
            note=note,
        )
    return _change_make(
        student=student,
        field=field,
        new_value=new_value,
        actor=actor,
        request_type=request_type,
        request_id=request_id,
        effective_date=effective_date,
        note=note,
    )


@transaction.atomic
def student_record_fields_change(
    *, student: Student, changes: dict, actor=None, request=None, effective_date=None, note: str = ""
) -> list[StatusHistory]:
    """Change several fields of a student's record at once (a name, an ID number and the birth date
    it encodes), checked together, with one history row per changed field (old and new value, date,
    request). A refusal of the record's checks raises ``ValidationError`` and writes nothing."""
    request_type = request.chain.code if request is not None else ""
    request_id = request.pk if request is not None else None
    student = Student.objects.select_for_update().get(pk=student.pk)
    old = {field: getattr(student, field) for field in changes}
    changed = {field: value for field, value in changes.items() if old[field] != value}
    if not changed:
        return []
    for field, value in changed.items():
        setattr(student, field, value)
    student.full_clean()
    student.save(update_fields=[*changed, "updated_at"])
    when = effective_date or timezone.localdate()
    return [
        StatusHistory.objects.create(
            student=student,
            field=field,
            old_value=_text(old[field]),
            new_value=_text(value),
            effective_date=when,
            request_type=request_type,
            request_id=request_id,
            recorded_by=actor,
            note=note,
        )
        for field, value in changed.items()
    ]


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _change_make(
    *, student: Student, field: str, new_value, actor, request_type: str, request_id, effective_date, note: str
) -> StatusHistory | None:
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
        request_type=request_type,
        request_id=request_id,
        recorded_by=actor,
        note=note,
    )


def _stored(student: Student, field: str, value) -> str:
    """``value`` of ``field`` as the text a ScheduledChange keeps (a related row by its id)."""
    model_field = student._meta.get_field(field)
    if model_field.is_relation:
        return "" if value is None else str(value.pk)
    return "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))


def _loaded(student: Student, field: str, text: str):
    model_field = student._meta.get_field(field)
    if not text:
        return "" if model_field.empty_strings_allowed and not model_field.is_relation else None
    if model_field.is_relation:
        return model_field.related_model._default_manager.get(pk=text)
    return model_field.to_python(text)


def _change_schedule(
    *, student: Student, field: str, new_value, actor, request_type: str, request_id, effective_date, note: str
) -> ScheduledChange | None:
    old_value = getattr(student, field)
    if old_value == new_value:
        return None
    change, _created = ScheduledChange.objects.update_or_create(
        student=student,
        field=field,
        request_type=request_type,
        request_id=request_id,
        state=ScheduledChange.State.PENDING,
        defaults={
            "old_value": str(old_value or ""),
            "new_value": str(new_value or ""),
            "value": _stored(student, field, new_value),
            "effective_date": effective_date,
            "recorded_by": actor,
            "note": note,
        },
    )
    return change


def scheduled_changes_apply(*, today=None) -> int:
    """Make the scheduled changes whose date has come (idempotent: run it as often as you like).

    The changes one request scheduled for one date are made together, in one transaction, or — when
    the record no longer holds a value they were approved from — all marked superseded. Returns the
    number of changes made."""
    today = today or timezone.localdate()
    due = (
        ScheduledChange.objects.filter(state=ScheduledChange.State.PENDING, effective_date__lte=today)
        .order_by("effective_date", "id")
        .values_list("pk", "student_id", "request_type", "request_id", "effective_date")
    )
    groups: dict[tuple, list[int]] = {}
    for pk, *key in due:
        groups.setdefault(tuple(key), []).append(pk)
    return sum(_scheduled_group_apply(ids=ids) for ids in groups.values())


@transaction.atomic
def _scheduled_group_apply(*, ids: list[int]) -> int:
    changes = list(
        ScheduledChange.objects.select_for_update()
        .filter(pk__in=ids, state=ScheduledChange.State.PENDING)
        .order_by("id")
    )
    if not changes:
        return 0  # another run made them meanwhile
    student = Student.objects.select_for_update().get(pk=changes[0].student_id)
    now = timezone.now()
    if any(str(getattr(student, c.field) or "") != c.old_value for c in changes):
        ScheduledChange.objects.filter(pk__in=[c.pk for c in changes]).update(
            state=ScheduledChange.State.SUPERSEDED, resolved_at=now
        )
        return 0
    for c in changes:
        _change_make(
            student=student,
            field=c.field,
            new_value=_loaded(student, c.field, c.value),
            actor=c.recorded_by,
            request_type=c.request_type,
            request_id=c.request_id,
            effective_date=c.effective_date,
            note=c.note,
        )
    ScheduledChange.objects.filter(pk__in=[c.pk for c in changes]).update(
        state=ScheduledChange.State.APPLIED, resolved_at=now
    )
    return len(changes)


def idcard_reissue_complete(*, request, actor) -> None:
    """U6 completed: the student's record carries the new card number."""
    student_record_change(
        student=request.student, field="card_number", new_value=request.new_card_number, actor=actor, request=request
    )
