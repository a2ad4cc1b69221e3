"""Status changes (学籍异动): U1 休学, U2 复学, U3 退学, U4 自动退学 and C4 station status changes.

Each chain is data on the shared approval kernel (registrar.approvals): the stages, in the
order WORKFLOWS.md draws them, with their signer roles. Effects on the student's record are
services in statuschange.services, run when a stage is passed (``Stage.on_pass``) or the
chain completes (``Chain.on_complete``); every effect writes effective-dated history.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import AttachmentRule, Chain, Stage, Window, register
from registrar.approvals.models import ApprovalRequest
from students.models import Student
from students.validators import id_birth_date, validate_id_number

PERSONAL_ONLY = _("Only a change of personal data gives new personal data; leave this empty.")
NO_PERSONAL_CHANGE = _("Give at least one new value: name, ID number or birth date.")
SAME_VALUE = _("This is the student's current value.")
ID_BIRTH_MISMATCH = _("The birth date does not match the ID number: change both together.")
ID_NUMBER_TAKEN = _("Another student has this ID number.")

GROUP = "statuschange"
ENROLLED = (Student.Status.ENROLLED,)
MB = 1024 * 1024
F = "statuschange.forms."
S = "statuschange.services."

# Stages several chains share, exactly as WORKFLOWS.md words them.
ADVISOR_CONFIRM = Stage("advisor_confirm", _("Class advisor confirms"), ("advisor",), deadline_days=3)
ADVISOR_COLLEGE_REVIEW = Stage(
    "college_review",
    _("Class advisor, college secretary and college director sign"),
    ("advisor", "college_secretary", "college_dean"),
    deadline_days=5,
)

# --- U1 休学 -----------------------------------------------------------------------------------
U1 = Chain(
    code="suspension",
    seed_code="U1",
    name=_("Suspension of studies"),
    description=_(
        "休学: the student applies, the class advisor confirms, college, offices and university "
        "leadership sign; the registrar issues the suspension change slip; finance and clearance."
    ),
    exclusive_group=GROUP,
    allowed_statuses=ENROLLED,
    validate=S + "suspension_validate",
    stages=(
        ADVISOR_CONFIRM,
        Stage(
            "college_review",
            _("Counsellor, college secretary and dean sign"),
            ("counsellor", "college_secretary", "college_dean"),
            deadline_days=5,
        ),
        Stage(
            "offices_review",
            _("Student Affairs and Academic Affairs sign"),
            ("student_affairs", "academic_affairs"),
            deadline_days=5,
        ),
        # 学校党委、分管校长: both sign (stage code kept from the single "leadership" signer, so
        # requests already waiting here stay valid and now wait for both)
        Stage(
            "leadership_review",
            _("University party committee and vice-president in charge sign"),
            ("party_committee", "vice_president"),
            deadline_days=7,
        ),
        Stage(
            "registrar_issue",
            _("Registrar issues the suspension change slip"),
            ("academic_affairs",),
            deadline_days=3,
            form=F + "EffectiveDateForm",
            on_pass=S + "suspension_apply",
            issues=("suspension_slip",),
        ),
        Stage("finance_receipt", _("Finance receives the change slip"), ("finance",), deadline_days=5),
        Stage("clearance", _("Leaving procedures: library and dorm"), ("library", "dorm"), deadline_days=7),
    ),
    attachments=(
        AttachmentRule(
            "medical_certificate", _("Medical certificate"), required_if=(("reason", "illness"),), max_bytes=5 * MB
        ),
        AttachmentRule("supporting_document", _("Supporting document"), max_bytes=5 * MB),
    ),
)


class SuspensionRequest(ApprovalRequest):
    """休学申请 (U1). States: draft → advisor_confirm → college_review → offices_review →
    leadership_review → registrar_issue → finance_receipt → clearance → completed."""

    class Reason(models.TextChoices):
        ILLNESS = "illness", _("Illness")
        PERSONAL = "personal", _("Personal reasons")
        MILITARY = "military", _("Military service")
        ENTREPRENEURSHIP = "entrepreneurship", _("Entrepreneurship")
        OTHER = "other", _("Other")

    chain = U1
    state = U1.state_field()
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reason_detail = models.TextField(_("details"), max_length=1000)
    period_start = models.DateField(_("suspension from"))
    period_end = models.DateField(_("suspension until"))
    effective_date = models.DateField(_("effective date"), null=True, blank=True)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("suspension request")
        verbose_name_plural = _("suspension requests")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="suspension_period_positive",
                violation_error_message=_("The suspension must end after it starts."),
            )
        ]

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days


# --- U2 复学 -----------------------------------------------------------------------------------
U2 = Chain(
    code="resumption",
    seed_code="U2",
    name=_("Resumption of studies"),
    description=_(
        "复学: only for a suspended student; the registrar issues the resumption certificate and "
        "places the student in a class of the receiving cohort; finance settles tuition; services restored."
    ),
    exclusive_group=GROUP,
    allowed_statuses=(Student.Status.SUSPENDED,),
    validate=S + "resumption_validate",
    stages=(
        ADVISOR_CONFIRM,
        ADVISOR_COLLEGE_REVIEW,
        Stage(
            "offices_review",
            _("Heads of Student Affairs and Academic Affairs sign"),
            ("student_affairs_head", "academic_affairs_head"),
            deadline_days=5,
        ),
        # 院党委、分管院长 (院: the institution): both sign
        Stage(
            "leadership_review",
            _("Party committee and vice-president in charge sign"),
            ("party_committee", "vice_president"),
            deadline_days=7,
        ),
        Stage(
            "registrar_issue",
            _("Registrar issues the resumption certificate"),
            ("academic_affairs",),
            deadline_days=3,
            form=F + "ResumptionPlacementForm",
            on_pass=S + "resumption_apply",
            issues=("resumption_certificate",),
        ),
        Stage(
            "finance_settlement",
            _("Finance settles outstanding tuition"),
            ("finance",),
            deadline_days=7,
            form=F + "TuitionSettlementForm",
        ),
        Stage(
            "services_restored",
            _("Canteen, library, dorm check-in, teaching secretary and class (the advisor records the return)"),
            ("canteen", "library", "dorm", "teaching_secretary", "advisor"),
            deadline_days=7,
        ),
    ),
    attachments=(AttachmentRule("medical_clearance", _("Medical clearance"), max_bytes=5 * MB),),
)


class ResumptionRequest(ApprovalRequest):
    """复学申请 (U2). States: draft → advisor_confirm → college_review → offices_review →
    leadership_review → registrar_issue → finance_settlement → services_restored → completed."""

    chain = U2
    state = U2.state_field()
    reason_detail = models.TextField(_("details"), max_length=1000)
    receiving_class = models.ForeignKey(
        "students.Class",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving class"),
    )
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    tuition_amount = models.DecimalField(
        _("tuition settled (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    tuition_receipt = models.CharField(_("tuition receipt number"), max_length=32, blank=True)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("resumption request")
        verbose_name_plural = _("resumption requests")


# --- U3 退学 -----------------------------------------------------------------------------------
U3 = Chain(
    code="withdrawal",
    seed_code="U3",
    name=_("Withdrawal"),
    description=_(
        "退学: after the college, offices and university leadership approve, the registrar issues the "
        "leave-school notice; departments clear the student in any order; the registrar issues the "
        "withdrawal certificate; Student Affairs files the dossier."
    ),
    exclusive_group=GROUP,
    allowed_statuses=(Student.Status.ENROLLED, Student.Status.SUSPENDED),
    stages=(
        ADVISOR_CONFIRM,
        ADVISOR_COLLEGE_REVIEW,
        Stage(
            "offices_review",
            _("Student Affairs, Academic Affairs and the head in charge sign"),
            ("student_affairs", "academic_affairs", "academic_affairs_head"),
            deadline_days=5,
        ),
        Stage("leadership_approval", _("University leadership approves"), ("leadership",), deadline_days=7),
        Stage(
            "registrar_notice",
            _("Registrar issues the leave-school notice"),
            ("academic_affairs",),
            deadline_days=3,
            issues=("leave_notice",),
        ),
        Stage(
            "clearance",
            _("Leaving clearance by departments"),
            ("college_office", "youth_league", "apartment", "finance", "library", "textbook"),
            deadline_days=14,
            role_forms=(("finance", F + "FinanceClearanceForm"),),
        ),
        Stage(
            "registrar_certificate",
            _("Registrar receives notice, photos and ID card; issues the certificate"),
            ("academic_affairs",),
            deadline_days=5,
            form=F + "WithdrawalHandInForm",
            on_pass=S + "withdrawal_apply",
            issues=("withdrawal_certificate",),
        ),
        Stage(
            "dossier",
            _("Dossier filed and collected at Student Affairs"),
            ("student_affairs",),
            deadline_days=30,
            form=F + "DossierForm",
        ),
    ),
    attachments=(AttachmentRule("supporting_document", _("Supporting document"), max_bytes=5 * MB),),
)


class WithdrawalRequest(ApprovalRequest):
    """退学申请 (U3). States: draft → advisor_confirm → college_review → offices_review →
    leadership_approval → registrar_notice → clearance (parallel items) → registrar_certificate →
    dossier → completed."""

    chain = U3
    state = U3.state_field()
    reason_detail = models.TextField(_("reason"), max_length=1000)
    arrears = models.DecimalField(_("arrears (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    refund = models.DecimalField(_("refund (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    notice_returned = models.BooleanField(_("leave-school notice handed in"), default=False)
    photos_received = models.PositiveSmallIntegerField(_("1-inch photos received"), null=True, blank=True)
    id_card_returned = models.BooleanField(_("student ID card handed in"), default=False)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    dossier_filed_on = models.DateField(_("dossier filed on"), null=True, blank=True)
    dossier_collected_on = models.DateField(_("dossier collected on"), null=True, blank=True)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("withdrawal request")
        verbose_name_plural = _("withdrawal requests")


# --- U4 自动退学 ---------------------------------------------------------------------------------
U4 = Chain(
    code="auto_withdrawal",
    seed_code="U4",
    name=_("Automatic withdrawal"),
    description=_(
        "自动退学: started by the counsellor for a student who stopped attending; no certificate of "
        "incomplete study, withdrawal certificate or transcript is ever issued to the student."
    ),
    initiator_roles=("counsellor",),
    exclusive_group=GROUP,
    allowed_statuses=(Student.Status.ENROLLED, Student.Status.SUSPENDED),
    on_complete=S + "auto_withdrawal_complete",
    stages=(
        Stage(
            "college_leadership", _("College leadership signs"), ("college_secretary", "college_dean"), deadline_days=5
        ),
        Stage("aa_head", _("Academic Affairs head in charge signs"), ("academic_affairs_head",), deadline_days=5),
        # the form goes to the registrar section, which records its receipt, then awaits leadership
        Stage(
            "registrar_receipt",
            _("Registrar section records receipt of the form"),
            ("academic_affairs",),
            deadline_days=3,
        ),
        Stage("leadership_approval", _("University leadership approves"), ("leadership",), deadline_days=7),
    ),
    attachments=(AttachmentRule("absence_evidence", _("Evidence of absence"), required=True, max_bytes=5 * MB),),
)


class AutoWithdrawalRequest(ApprovalRequest):
    """自动退学审批 (U4), filed by the counsellor. States: draft → college_leadership → aa_head →
    registrar_receipt → leadership_approval → completed."""

    chain = U4
    state = U4.state_field()
    absent_since = models.DateField(_("absent since"))
    evidence = models.TextField(_("evidence of absence"), max_length=2000)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("automatic withdrawal")
        verbose_name_plural = _("automatic withdrawals")


# --- C4 函授站学籍异动 -----------------------------------------------------------------------------
C4 = Chain(
    code="station_status_change",
    seed_code="C4",
    name=_("Station status change"),
    description=_(
        "学籍异动 via a correspondence station: a change of status or of personal data (name, ID number, "
        "birth date); station review, college review, the leader in charge of records, filing with the "
        "provincial education department (which may refuse: the request returns with its reason), feedback "
        "to the station, record updated with history. Only within the filing window of the term."
    ),
    initiator_roles=("station",),
    exclusive_group=GROUP,
    validate=S + "station_change_validate",
    on_complete=S + "station_change_complete",
    # the academic calendar's filing windows of each term (Academic Affairs edits the dates per year)
    windows=(
        Window(
            _("Autumn term filing window"),
            "status_change_filing_autumn_opens",
            "status_change_filing_autumn_closes",
        ),
        Window(
            _("Spring term filing window"),
            "status_change_filing_spring_opens",
            "status_change_filing_spring_closes",
        ),
    ),
    stages=(
        Stage("station_review", _("Station review"), ("station",), deadline_days=5),
        Stage("college_review", _("College review"), ("college_dean",), deadline_days=7),
        Stage(
            "records_leader",
            _("Leader in charge of student records signs"),
            ("records_leader",),
            deadline_days=5,
        ),
        Stage(
            "province_filing",
            _("Filed with the provincial education department"),
            ("academic_affairs",),
            deadline_days=30,
            form=F + "ProvinceFilingForm",
            help_text=_(
                "If the province refuses the filing, reject the request with the province's reason: it returns "
                "to the station with that reason and the student's record is not changed."
            ),
        ),
        Stage("station_feedback", _("Result fed back to the station"), ("station",), deadline_days=7),
    ),
    attachments=(AttachmentRule("written_application", _("Written application"), required=True, max_bytes=5 * MB),),
)


class StationStatusChangeRequest(ApprovalRequest):
    """函授站学籍异动 (C4), filed by station staff. States: draft → station_review → college_review →
    records_leader → province_filing → station_feedback → completed."""

    class ChangeType(models.TextChoices):
        SUSPENSION = "suspension", _("Suspension (休学)")
        RESUMPTION = "resumption", _("Resumption (复学)")
        WITHDRAWAL = "withdrawal", _("Withdrawal (退学)")
        PERSONAL_DATA = "personal_data", _("Personal data (姓名、身份证号、出生日期)")

    #: a personal-data change: request field → the student's field it replaces
    PERSONAL_FIELDS = {"new_name": "name", "new_id_number": "id_number", "new_birth_date": "birth_date"}

    chain = C4
    state = C4.state_field()
    change_type = models.CharField(_("change"), max_length=16, choices=ChangeType.choices)
    new_name = models.CharField(
        _("new name"), max_length=32, blank=True, help_text=_("Only for a change of personal data.")
    )
    new_id_number = models.CharField(
        _("new ID number"),
        max_length=18,
        blank=True,
        validators=[validate_id_number],
        help_text=_("Only for a change of personal data."),
    )
    new_birth_date = models.DateField(
        _("new birth date"), null=True, blank=True, help_text=_("Only for a change of personal data.")
    )
    reason_detail = models.TextField(_("reason"), max_length=1000)
    filed_on = models.DateField(_("filed with the province on"), null=True, blank=True)
    filing_reference = models.CharField(_("filing reference"), max_length=64, blank=True)
    filing_outcome = models.CharField(_("province's outcome"), max_length=255, blank=True)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("station status change")
        verbose_name_plural = _("station status changes")

    def personal_changes(self) -> dict:
        """{student field: new value} of a personal-data change (empty for a change of status)."""
        if self.change_type != self.ChangeType.PERSONAL_DATA:
            return {}
        out = {}
        for own, field in self.PERSONAL_FIELDS.items():
            value = getattr(self, own)
            if isinstance(value, str):
                value = value.strip().upper() if own == "new_id_number" else value.strip()
            if value not in ("", None):
                out[field] = value
        return out

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.change_type != self.ChangeType.PERSONAL_DATA:
            given = [own for own in self.PERSONAL_FIELDS if getattr(self, own) not in ("", None)]
            if given:
                raise ValidationError(dict.fromkeys(given, PERSONAL_ONLY))
            return
        if self.new_id_number:
            self.new_id_number = self.new_id_number.strip().upper()
        changes = self.personal_changes()
        if not changes:
            raise ValidationError({"new_name": NO_PERSONAL_CHANGE})
        if self.student_id is None:
            return
        student = self.student
        errors = {}
        for own, field in self.PERSONAL_FIELDS.items():
            if field in changes and changes[field] == getattr(student, field):
                errors[own] = SAME_VALUE
        id_number = changes.get("id_number", student.id_number)
        birth_date = changes.get("birth_date", student.birth_date)
        born = id_birth_date(id_number) if id_number else None
        if born and birth_date and born != birth_date:
            errors["new_birth_date" if "birth_date" in changes else "new_id_number"] = ID_BIRTH_MISMATCH
        if "id_number" in changes and Student.objects.filter(id_number=id_number).exclude(pk=student.pk).exists():
            errors["new_id_number"] = ID_NUMBER_TAKEN
        if errors:
            raise ValidationError(errors)


for _chain in (U1, U2, U3, U4, C4):
    register(_chain)
