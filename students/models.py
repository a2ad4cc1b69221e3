"""Organisation and people: colleges, majors, classes, stations, students, staff roles."""

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import AttachmentRule, Chain, Stage, register
from registrar.approvals.models import ApprovalRequest
from registrar.common import AppendOnlyModel, TimeStampedModel, mask_name  # mask_name: re-exported
from registrar.roles import Role, Scope
from registrar.scopes import Grant

from .validators import validate_id_number

ENGLISH_NAME_HELP = _("Printed on English documents (the English transcript); the name is printed when it is empty.")


class College(TimeStampedModel):
    """二级学院 — a college (faculty) of the university, or the correspondence college."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    name_en = models.CharField(_("English name"), max_length=128, blank=True, help_text=ENGLISH_NAME_HELP)

    class Meta:
        ordering = ["code"]
        verbose_name = _("college")
        verbose_name_plural = _("colleges")

    def __str__(self):
        return self.name

    @property
    def english_name(self) -> str:
        return self.name_en or self.name


class Major(TimeStampedModel):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True, help_text=ENGLISH_NAME_HELP)
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="majors", verbose_name=_("college"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("major")
        verbose_name_plural = _("majors")

    def __str__(self):
        return self.name

    @property
    def english_name(self) -> str:
        return self.name_en or self.name


class Station(TimeStampedModel):
    """函授站 — a correspondence station registering and teaching correspondence students."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    name_en = models.CharField(_("English name"), max_length=128, blank=True, help_text=ENGLISH_NAME_HELP)
    city = models.CharField(_("city"), max_length=32, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("station")
        verbose_name_plural = _("stations")

    def __str__(self):
        return self.name

    @property
    def english_name(self) -> str:
        return self.name_en or self.name


class Class(TimeStampedModel):
    """班级 — a class of one cohort in one major, with its advisor and counsellor."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    cohort = models.PositiveSmallIntegerField(_("cohort year"))
    major = models.ForeignKey(Major, on_delete=models.PROTECT, related_name="classes", verbose_name=_("major"))
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="classes", verbose_name=_("college"))
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, null=True, blank=True, related_name="classes", verbose_name=_("station")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_classes",
        verbose_name=_("class advisor"),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counselled_classes",
        verbose_name=_("counsellor"),
    )

    class Meta:
        ordering = ["-cohort", "code"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")

    def __str__(self):
        return self.name

    @property
    def english_name(self) -> str:
        """The major's English name and the cohort, with the class number the name ends with
        (计算机科学与技术2024级1班 → "Computer Science and Technology 2024, Class 1")."""
        number = re.search(r"(\d+)班$", self.name)
        name = f"{self.major.english_name} {self.cohort}"
        return f"{name}, Class {int(number.group(1))}" if number else name


class Student(TimeStampedModel):
    """A student's record (学籍). ``status`` changes only through a request that writes
    a ``StatusHistory`` row (students.services.student_status_change).

    Statuses: 在籍 enrolled, 休学 suspended, 退学 withdrawn, 毕业 graduated,
    结业 completed, 肄业 incomplete study.
    """

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Level(models.TextChoices):
        JUNIOR = "junior", _("Junior college (专科)")
        BACHELOR = "bachelor", _("Bachelor (本科)")
        UPGRADE = "upgrade", _("Junior-to-bachelor (专升本)")

    class StudyForm(models.TextChoices):
        FULL_TIME = "full_time", _("Full-time (全日制)")
        CORRESPONDENCE = "correspondence", _("Correspondence (函授)")

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled (在籍)")
        SUSPENDED = "suspended", _("Suspended (休学)")
        WITHDRAWN = "withdrawn", _("Withdrawn (退学)")
        GRADUATED = "graduated", _("Graduated (毕业)")
        COMPLETED = "completed", _("Completed (结业)")
        INCOMPLETE = "incomplete", _("Incomplete study (肄业)")

    class WithdrawalKind(models.TextChoices):
        VOLUNTARY = "voluntary", _("Withdrawal on application (退学)")
        AUTOMATIC = "automatic", _("Automatic withdrawal (自动退学)")

    class PoliticalStatus(models.TextChoices):
        MASSES = "masses", _("Masses (群众)")
        LEAGUE = "league", _("Youth League member (共青团员)")
        PARTY = "party", _("Party member (中共党员)")
        PROBATIONARY = "probationary", _("Probationary party member (中共预备党员)")
        OTHER = "other", _("Other")

    student_number = models.CharField(
        _("student number"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]{6,20}$", _("A student number has 6–20 letters or digits."))],
        error_messages={"unique": _("A student with this student number already exists.")},
    )
    name = models.CharField(_("name"), max_length=32, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    id_number = models.CharField(
        _("ID number"),
        max_length=18,
        unique=True,
        validators=[validate_id_number],
        error_messages={"unique": _("A student with this ID number already exists.")},
    )
    birth_date = models.DateField(_("birth date"))
    ethnicity = models.CharField(_("ethnicity"), max_length=16, default="汉族")
    political_status = models.CharField(
        _("political status"), max_length=16, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    study_form = models.CharField(_("study form"), max_length=16, choices=StudyForm.choices)
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="students", verbose_name=_("college"))
    major = models.ForeignKey(Major, on_delete=models.PROTECT, related_name="students", verbose_name=_("major"))
    klass = models.ForeignKey(Class, on_delete=models.PROTECT, related_name="students", verbose_name=_("class"))
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, null=True, blank=True, related_name="students", verbose_name=_("station")
    )
    enrollment_date = models.DateField(_("enrollment date"))
    expected_graduation = models.DateField(_("expected graduation date"))
    photo = models.ImageField(_("photo"), upload_to="students/photos/", blank=True)
    card_number = models.CharField(_("student ID card number"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ENROLLED, db_index=True
    )
    withdrawal_kind = models.CharField(
        _("kind of withdrawal"), max_length=16, choices=WithdrawalKind.choices, blank=True
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="student",
        verbose_name=_("login"),
    )

    class Meta:
        ordering = ["student_number"]
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_graduation__gt=models.F("enrollment_date")),
                name="student_graduation_after_enrollment",
                violation_error_message=_("The expected graduation date must come after the enrollment date."),
            ),
            models.CheckConstraint(
                condition=Q(study_form="full_time") | Q(station__isnull=False),
                name="student_correspondence_has_station",
                violation_error_message=_("A correspondence student must belong to a station."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.student_number})"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .validators import id_birth_date

        errors = {}
        if self.id_number:
            self.id_number = self.id_number.strip().upper()
            born = id_birth_date(self.id_number)
            if born and self.birth_date and born != self.birth_date:
                errors["birth_date"] = _("The birth date does not match the ID number.")
        if self.klass_id and self.major_id and self.klass.major_id != self.major_id:
            errors["klass"] = _("The class belongs to another major.")
        if self.major_id and self.college_id and self.major.college_id != self.college_id:
            errors["major"] = _("The major belongs to another college.")
        if errors:
            raise ValidationError(errors)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class StatusHistory(AppendOnlyModel):
    """Effective-dated history of a student's record: one row per change, never edited
    (append-only, in the database too).

    ``field`` names what changed (status, class, expected graduation …). A change dated in the
    future waits as a ``ScheduledChange`` and is written here on its date."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="history", verbose_name=_("student"))
    field = models.CharField(_("field"), max_length=32)
    old_value = models.CharField(_("old value"), max_length=128, blank=True)
    new_value = models.CharField(_("new value"), max_length=128, blank=True)
    effective_date = models.DateField(_("effective date"))
    request_type = models.CharField(_("request type"), max_length=32, blank=True)
    request_id = models.PositiveBigIntegerField(_("request id"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("recorded by")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-id"]
        verbose_name = _("record history")
        verbose_name_plural = _("record history")

    def __str__(self):
        return f"{self.student} {self.field}: {self.old_value} → {self.new_value}"


class ScheduledChange(TimeStampedModel):
    """A change of a student's record approved with an effective date still to come. Until then the
    record keeps its value (a 休学 from next March leaves the student 在籍, so 复学 is not offered);
    on the date the beat task ``students.tasks.scheduled_changes_apply`` writes it through
    ``student_record_change``, with its ``StatusHistory`` row dated the effective date.

    States: pending → applied; or pending → superseded, when on the date the record no longer holds
    ``old_value`` (a later change overtook it, e.g. an automatic withdrawal before a suspension began).
    The changes one request schedules for one date are applied together or not at all."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        SUPERSEDED = "superseded", _("Superseded by a later change")

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="scheduled_changes", verbose_name=_("student")
    )
    field = models.CharField(_("field"), max_length=32)
    #: as the history will show them (``str`` of the values), and checked on the date
    old_value = models.CharField(_("old value"), max_length=128, blank=True)
    new_value = models.CharField(_("new value"), max_length=128, blank=True)
    #: the value to store: the field's own form (a class's id, an ISO date …)
    value = models.CharField(_("value to store"), max_length=128, blank=True)
    effective_date = models.DateField(_("effective date"), db_index=True)
    request_type = models.CharField(_("request type"), max_length=32, blank=True)
    request_id = models.PositiveBigIntegerField(_("request id"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    resolved_at = models.DateTimeField(_("applied or superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name = _("scheduled record change")
        verbose_name_plural = _("scheduled record changes")

    def __str__(self):
        return f"{self.student} {self.field}: {self.old_value} → {self.new_value} on {self.effective_date}"


class RoleAssignment(TimeStampedModel):
    """A staff user's role, scoped to the university, a college, a class or a station."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices)
    college = models.ForeignKey(College, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("college"))
    klass = models.ForeignKey(Class, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("class"))
    station = models.ForeignKey(Station, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("station"))

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="university", college__isnull=True, klass__isnull=True, station__isnull=True)
                    | Q(scope="college", college__isnull=False, klass__isnull=True, station__isnull=True)
                    | Q(scope="class", klass__isnull=False, college__isnull=True, station__isnull=True)
                    | Q(scope="station", station__isnull=False, college__isnull=True, klass__isnull=True)
                ),
                name="roleassignment_scope_matches_target",
                violation_error_message=_("Give exactly the college, class or station the scope names."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "scope", "college", "klass", "station"],
                name="roleassignment_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        target = self.college or self.klass or self.station or _("University")
        return f"{self.user} · {self.get_role_display()} · {target}"

    def as_grant(self):
        """The scope check lives in one place: registrar.scopes.Grant."""
        return Grant(self.role, self.scope, self.college_id, self.klass_id, self.station_id)


# --- U6 学生证补办: student ID card reissue -------------------------------------------------

U6 = Chain(
    code="id_card",
    seed_code="U6",
    name=_("Student ID card reissue"),
    description=_("学生证补办: counsellor confirms, finance records the fee, the registrar reissues the card."),
    stages=(
        Stage("counsellor_confirm", _("Counsellor confirms"), ("counsellor",), deadline_days=3),
        Stage(
            "finance_payment",
            _("Fee paid at finance"),
            ("finance",),
            deadline_days=7,
            form="students.forms.FeePaymentForm",
        ),
        Stage(
            "registrar_reissue",
            _("Registrar reissues the card"),
            ("academic_affairs",),
            deadline_days=5,
            form="students.forms.CardReissueForm",
        ),
    ),
    attachments=(
        AttachmentRule("photo", _("1-inch photo"), required=True, images_only=True, max_bytes=2 * 1024 * 1024),
    ),
    on_complete="students.services.idcard_reissue_complete",
    documents=("approval_form",),
)


class IdCardReissueRequest(ApprovalRequest):
    """学生证补办申请 (U6). States: draft → counsellor_confirm → finance_payment →
    registrar_reissue → completed; returned / withdrawn."""

    class Reason(models.TextChoices):
        LOST = "lost", _("Lost")
        DAMAGED = "damaged", _("Damaged")
        STOLEN = "stolen", _("Stolen")
        OTHER = "other", _("Other")

    chain = U6
    state = U6.state_field()
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    reason_detail = models.TextField(_("details"), blank=True, max_length=500)
    old_card_number = models.CharField(_("old card number"), max_length=32, blank=True)
    fee_amount = models.DecimalField(_("fee (yuan)"), max_digits=8, decimal_places=2, null=True, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=32, blank=True)
    new_card_number = models.CharField(_("new card number"), max_length=32, blank=True)

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("ID card reissue request")
        verbose_name_plural = _("ID card reissue requests")


register(U6)
