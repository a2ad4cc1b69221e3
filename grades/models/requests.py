"""Grade chains on the shared kernel: corrections (U5) and exemptions (C8, C10)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import AttachmentRule, Chain, Stage
from registrar.approvals.models import ApprovalRequest

from ..scoring import display
from .sheets import Grade
from .teaching import Offering

MB = 1024 * 1024
S = "grades.services."


# --- U5 grade correction ------------------------------------------------------------------
CORRECTION = Chain(
    code="grade_correction",
    seed_code="U5C",
    open_per=("grade",),
    name=_("Grade correction"),
    description=_(
        "成绩更正: after confirmation a grade changes only this way — the instructor applies with the "
        "reason, the college and then Academic Affairs approve; old and new values are recorded."
    ),
    initiator_roles=("instructor",),
    validate=S + "corrections.correction_validate",
    stages=(
        Stage("college_review", _("College reviews"), ("college_dean",), deadline_days=5),
        Stage(
            "academic_affairs_review",
            _("Academic Affairs approves"),
            ("academic_affairs",),
            deadline_days=5,
            on_pass=S + "corrections.correction_apply",
        ),
    ),
    attachments=(AttachmentRule("evidence", _("Evidence (marked paper, record)"), max_bytes=5 * MB),),
    documents=("approval_form",),
)


CORRECTION_OTHER_STUDENT = _("This grade belongs to another student.")


class GradeCorrectionRequest(ApprovalRequest):
    """成绩更正申请 (U5). States: draft → college_review → academic_affairs_review → completed."""

    chain = CORRECTION
    state = CORRECTION.state_field()
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("grade"))
    old_value = models.CharField(_("old value"), max_length=64, blank=True, editable=False)
    new_score = models.DecimalField(
        _("new score"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    new_level = models.CharField(_("new level"), max_length=8, blank=True)
    new_mark = models.CharField(_("new special mark"), max_length=16, choices=Grade.Mark.choices, blank=True)
    reason = models.TextField(_("reason"), max_length=1000)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("grade correction request")
        verbose_name_plural = _("grade correction requests")

    def clean(self):
        super().clean()
        if self.grade_id and self.student_id and self.grade.student_id != self.student_id:
            raise ValidationError({"grade": CORRECTION_OTHER_STUDENT})

    @classmethod
    def limit_applicant_choices(cls, form, user, student) -> None:
        """The application form's ``grade`` lists only the instructor's confirmed grades of the
        student (of every student while the student is not known yet)."""
        field = form.fields.get("grade")
        if field is None or user is None:
            return
        field.queryset = correctable_grades(user=user, student=student)
        field.label_from_instance = correction_grade_label
        field.help_text = _("Only confirmed grades on sheets you teach can be corrected.")


def correctable_grades(*, user, student=None):
    """Grades ``user`` may ask to correct: on sheets they teach that Academic Affairs confirmed."""
    qs = Grade.objects.filter(offering__instructors=user, offering__sheet_state=Offering.SheetState.CONFIRMED)
    if student is not None:
        qs = qs.filter(student=student)
    return qs.select_related("course", "term", "offering").order_by("-term__start_date", "course__code")


def correction_grade_label(grade: Grade) -> str:
    return (
        f"{grade.term.code} · {grade.course.code} {grade.course.name} · {grade.offering.code} · "
        f"{display(grade.score, grade.level, grade.mark) or '—'}"
    )


# --- C8/C10 exemption ---------------------------------------------------------------------
EXEMPTION = Chain(
    code="exemption",
    seed_code="C8X",
    open_per=("offering",),
    name=_("Course exemption"),
    description=_(
        "免修 / 免试: the student (or their station) applies with evidence; the college teaching "
        "secretary reviews and the dean approves; the course is marked exempt."
    ),
    initiator_roles=("student", "station"),
    validate=S + "exemptions.exemption_validate",
    stages=(
        Stage("secretary_review", _("College teaching secretary reviews"), ("teaching_secretary",), deadline_days=5),
        Stage("college_approval", _("College approves"), ("college_dean",), deadline_days=5),
    ),
    attachments=(
        AttachmentRule("evidence", _("Evidence (certificate, prior transcript)"), required=True, max_bytes=5 * MB),
    ),
    on_complete=S + "exemptions.exemption_apply",
    documents=("approval_form",),
)


class ExemptionRequest(ApprovalRequest):
    """免修/免试申请 (C8, C10). States: draft → secretary_review → college_approval → completed."""

    class Kind(models.TextChoices):
        EXEMPT_STUDY = "study", _("Exemption from attending (免修)")
        EXEMPT_EXAM = "exam", _("Exemption from the exam (免试)")

    chain = EXEMPTION
    state = EXEMPTION.state_field()
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="+", verbose_name=_("course"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.EXEMPT_STUDY)
    reason = models.TextField(_("reason"), max_length=1000)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("exemption request")
        verbose_name_plural = _("exemption requests")

    @classmethod
    def limit_applicant_choices(cls, form, user, student) -> None:
        """The application form's ``offering`` lists only offerings the student is on whose sheet is
        still being entered (a staff initiator who has not picked the student yet: those of the
        students in their scope)."""
        field = form.fields.get("offering")
        if field is None:
            return
        offerings = Offering.objects.filter(sheet_state=Offering.SheetState.ENTERING).select_related("course", "term")
        if student is not None:
            offerings = offerings.filter(grades__student=student)
        else:
            from students.selectors import student_list

            offerings = offerings.filter(grades__student__in=student_list(user=user).values("pk")).distinct()
        field.queryset = offerings
