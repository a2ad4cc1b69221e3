"""Effects and rules of the status-change chains. Called by the approval kernel inside the
transaction of the sign-off that triggers them: raising ApplicationError rolls everything back."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import COMPLETED
from registrar.approvals.selectors import request_attachments
from registrar.exceptions import ApplicationError
from students.models import Student
from students.services import student_record_change, student_record_fields_change

SUSPENSION_TOO_LONG = _("One suspension may last at most %(days)s days; this one lasts %(asked)s.")
SUSPENSION_TOTAL_TOO_LONG = _(
    "Suspensions may add up to at most %(days)s days; with this one they would reach %(total)s."
)
MEDICAL_CLEARANCE_REQUIRED = _("The suspension was for illness: attach a medical clearance to resume.")
RECEIVING_CLASS_OTHER_MAJOR = _("The receiving class must belong to the student's major (%(major)s).")
NOT_CORRESPONDENCE = _("Station status changes are for correspondence students only.")
PERSONAL_DATA_REFUSED = _("The student's record refuses the new personal data: %(errors)s")
CHANGE_NOT_POSSIBLE = _("A “%(change)s” is not possible for a student whose status is “%(status)s”.")


def _rules() -> dict:
    return settings.REGISTRAR["STATUS_CHANGE"]


# --- U1 ----------------------------------------------------------------------------------------
def suspension_validate(*, request) -> None:
    from .models import SuspensionRequest

    rules = _rules()
    if request.days > rules["SUSPENSION_MAX_DAYS"]:
        raise ApplicationError(SUSPENSION_TOO_LONG % {"days": rules["SUSPENSION_MAX_DAYS"], "asked": request.days})
    earlier = SuspensionRequest.objects.filter(student=request.student, state=COMPLETED).exclude(pk=request.pk)
    total = request.days + sum(r.days for r in earlier)
    if total > rules["SUSPENSION_TOTAL_MAX_DAYS"]:
        raise ApplicationError(SUSPENSION_TOTAL_TOO_LONG % {"days": rules["SUSPENSION_TOTAL_MAX_DAYS"], "total": total})


def suspension_apply(*, request, actor) -> None:
    student_record_change(
        student=request.student,
        field="status",
        new_value=Student.Status.SUSPENDED,
        actor=actor,
        request=request,
        effective_date=request.effective_date,
    )


# --- U2 ----------------------------------------------------------------------------------------
def resumption_validate(*, request) -> None:
    from .models import SuspensionRequest

    last = SuspensionRequest.objects.filter(student=request.student, state=COMPLETED).order_by("-completed_at").first()
    if (
        last
        and last.reason == SuspensionRequest.Reason.ILLNESS
        and not any(a.kind == "medical_clearance" for a in request_attachments(request))
    ):
        raise ApplicationError(MEDICAL_CLEARANCE_REQUIRED)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def resumption_apply(*, request, actor) -> None:
    student = request.student
    new_class = request.receiving_class
    if new_class.major_id != student.major_id:
        raise ApplicationError(RECEIVING_CLASS_OTHER_MAJOR % {"major": student.major})
    shift = new_class.cohort - student.klass.cohort
    when = request.effective_date
    student_record_change(
        student=student,
        field="status",
        new_value=Student.Status.ENROLLED,
        actor=actor,
        request=request,
        effective_date=when,
    )
    student_record_change(
        student=student, field="klass", new_value=new_class, actor=actor, request=request, effective_date=when
    )
    if shift:
        student_record_change(
            student=student,
            field="expected_graduation",
            new_value=_add_years(student.expected_graduation, shift),
            actor=actor,
            request=request,
            effective_date=when,
        )


# --- U3 / U4 -------------------------------------------------------------------------------------
def _withdraw(*, request, actor, kind: str, when) -> None:
    student = request.student
    student_record_change(
        student=student,
        field="status",
        new_value=Student.Status.WITHDRAWN,
        actor=actor,
        request=request,
        effective_date=when,
    )
    student_record_change(
        student=student, field="withdrawal_kind", new_value=kind, actor=actor, request=request, effective_date=when
    )


def withdrawal_apply(*, request, actor) -> None:
    _withdraw(request=request, actor=actor, kind=Student.WithdrawalKind.VOLUNTARY, when=request.effective_date)


def auto_withdrawal_complete(*, request, actor) -> None:
    _withdraw(request=request, actor=actor, kind=Student.WithdrawalKind.AUTOMATIC, when=timezone.localdate())


# --- C4 ------------------------------------------------------------------------------------------
_C4_FROM = {
    "suspension": (Student.Status.ENROLLED,),
    "resumption": (Student.Status.SUSPENDED,),
    "withdrawal": (Student.Status.ENROLLED, Student.Status.SUSPENDED),
    "personal_data": tuple(Student.Status.values),  # a record is corrected whatever the status
}
_C4_TO = {
    "suspension": Student.Status.SUSPENDED,
    "resumption": Student.Status.ENROLLED,
    "withdrawal": Student.Status.WITHDRAWN,
}


def station_change_validate(*, request) -> None:
    student = request.student
    if student.study_form != Student.StudyForm.CORRESPONDENCE:
        raise ApplicationError(NOT_CORRESPONDENCE)
    if student.status not in _C4_FROM[request.change_type]:
        raise ApplicationError(
            CHANGE_NOT_POSSIBLE % {"change": request.get_change_type_display(), "status": student.get_status_display()}
        )


def station_change_complete(*, request, actor) -> None:
    when = request.filed_on or timezone.localdate()
    if request.change_type == request.ChangeType.PERSONAL_DATA:
        _personal_data_apply(request=request, actor=actor, when=when)
    elif request.change_type == "withdrawal":
        _withdraw(request=request, actor=actor, kind=Student.WithdrawalKind.VOLUNTARY, when=when)
    else:
        student_record_change(
            student=request.student,
            field="status",
            new_value=_C4_TO[request.change_type],
            actor=actor,
            request=request,
            effective_date=when,
        )


def _personal_data_apply(*, request, actor, when) -> None:
    """The province accepted a change of personal data: the record takes the new values, each with
    a history row (old and new value, the filing date, the request, the province's reference)."""
    from django.core.exceptions import ValidationError

    try:
        student_record_fields_change(
            student=request.student,
            changes=request.personal_changes(),
            actor=actor,
            request=request,
            effective_date=min(when, timezone.localdate()),
            note=request.filing_reference,
        )
    except ValidationError as exc:  # the record changed since the request was filed (an ID number taken …)
        raise ApplicationError(
            PERSONAL_DATA_REFUSED % {"errors": "; ".join(m for ms in exc.message_dict.values() for m in ms)}
        ) from None
