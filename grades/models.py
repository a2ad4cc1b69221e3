"""Grades (U5, C8, the exam part of C10): teaching data, grade sheets, make-ups, exemptions,
corrections and transcript certificates.

Teaching data
    ``Term`` → ``Course`` → ``TeachingPlan`` (per major, level and cohort) with ``PlanCourse``
    rows → ``Offering`` (one course taught in one term, its instructors, classes and exam date).
Grade sheets (U5)
    An offering's ``GradeComponent`` rows are its composite-grade composition (weights summing
    to 100 %, set by the college teaching secretary). ``Grade`` is one student's place on an
    offering (created at enrolment) and, once entered, its result. The sheet's state is the
    offering's ``sheet_state``: entering → submitted (locked for the instructor) → confirmed
    (认定; students see the grades). Entry happens inside a ``GradeEntryWindow`` published by
    Academic Affairs, or inside a per-offering reopening.
Attempts (C8, C10)
    A make-up (补考) or graduation clearing exam (毕业清考) is itself an ``Offering`` of kind
    ``makeup`` / ``clearing`` for the same course; every attempt is a ``Grade`` row, and which
    attempt counts is a setting (``REGISTRAR["GRADES"]["COUNTED_ATTEMPT"]``).
Chains on the shared kernel
    ``GradeCorrectionRequest`` (instructor → college → Academic Affairs), ``ExemptionRequest``
    (免修/免试, student or station → college), ``TranscriptRequest`` (route 2, personal) and
    ``BatchTranscriptRequest`` (route 1: one per student of a ``TranscriptBatch`` filed by
    Student Affairs, sealed by the college and then by Academic Affairs class by class).
Stations (C8)
    ``StationSubmission``: a station's exam results for one offering, reviewed by the college
    (returned with reasons, resubmitted, accepted into the records); ``SubmissionReview`` is its
    append-only review log.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from registrar.approvals.chains import AttachmentRule, Chain, Stage, register
from registrar.approvals.models import ApprovalRequest
from registrar.common import AppendOnlyModel, TimeStampedModel
from registrar.roles import Role
from students.models import Student

MB = 1024 * 1024
S = "grades.services."
F = "grades.forms."


def grade_settings() -> dict:
    return settings.REGISTRAR["GRADES"]


# --- teaching data ------------------------------------------------------------------------
class Term(TimeStampedModel):
    """学期 — e.g. 2025-2026-1 (autumn) and 2025-2026-2 (spring)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gt=models.F("start_date")), name="term_dates_ordered")
        ]

    def __str__(self):
        return self.name or self.code


class Course(TimeStampedModel):
    """课程 — code, name, credits, hours, type (必修/选修), assessment (考试/考查)."""

    class Kind(models.TextChoices):
        REQUIRED = "required", _("Required (必修)")
        ELECTIVE = "elective", _("Elective (选修)")

    class Assessment(models.TextChoices):
        EXAM = "exam", _("Examination (考试)")
        CHECK = "check", _("Assessment (考查)")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    credits = models.DecimalField(
        _("credits"), max_digits=4, decimal_places=1, validators=[MinValueValidator(0), MaxValueValidator(30)]
    )
    hours = models.PositiveSmallIntegerField(_("hours"))
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.REQUIRED)
    assessment = models.CharField(_("assessment"), max_length=16, choices=Assessment.choices, default=Assessment.EXAM)
    college = models.ForeignKey(
        "students.College",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("offered by"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self):
        return f"{self.code} {self.name}"


class TeachingPlan(TimeStampedModel):
    """教学计划 — the courses a major's cohort at one level takes, term by term."""

    major = models.ForeignKey(
        "students.Major", on_delete=models.PROTECT, related_name="teaching_plans", verbose_name=_("major")
    )
    level = models.CharField(_("level"), max_length=16, choices=Student.Level.choices)
    cohort = models.PositiveSmallIntegerField(_("cohort year"))
    required_credits = models.DecimalField(_("credits required to graduate"), max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["-cohort", "major__code"]
        verbose_name = _("teaching plan")
        verbose_name_plural = _("teaching plans")
        constraints = [models.UniqueConstraint(fields=["major", "level", "cohort"], name="teachingplan_unique")]

    def __str__(self):
        return f"{self.major} · {self.get_level_display()} · {self.cohort}"


class PlanCourse(models.Model):
    plan = models.ForeignKey(
        TeachingPlan, on_delete=models.CASCADE, related_name="plan_courses", verbose_name=_("teaching plan")
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+", verbose_name=_("course"))
    term_number = models.PositiveSmallIntegerField(
        _("term of study"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    sample_exam = models.BooleanField(_("examined by the college by sample (抽考)"), default=False)

    class Meta:
        ordering = ["term_number", "course__code"]
        verbose_name = _("course of a teaching plan")
        verbose_name_plural = _("courses of teaching plans")
        constraints = [models.UniqueConstraint(fields=["plan", "course"], name="plancourse_unique")]

    def __str__(self):
        return f"{self.plan} · {self.term_number} · {self.course}"


class Offering(FSMModelMixin, TimeStampedModel):
    """开课 / 成绩单 — one course taught (or re-examined) in one term.

    ``sheet_state``: entering → submitted (locked for the instructor) → confirmed (认定: the
    grades are published to students); Academic Affairs may return a submitted sheet to
    entering. Changes after confirmation go through a ``GradeCorrectionRequest``.
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular exam")
        MAKEUP = "makeup", _("Make-up exam (补考)")
        CLEARING = "clearing", _("Graduation clearing exam (毕业清考)")

    class Scale(models.TextChoices):
        HUNDRED = "hundred", _("Hundred-point")
        FIVE_LEVEL = "five_level", _("Five levels (优/良/中/及格/不及格)")
        PASS_FAIL = "pass_fail", _("Pass / fail")

    class Rounding(models.TextChoices):
        INTEGER = "integer", _("Round half up to a whole number")
        ONE_DECIMAL = "one_decimal", _("Round half up to one decimal")

    class SheetState(models.TextChoices):
        ENTERING = "entering", _("Being entered")
        SUBMITTED = "submitted", _("Submitted by the instructor")
        CONFIRMED = "confirmed", _("Confirmed by Academic Affairs")

    code = models.CharField(_("code"), max_length=48, unique=True)
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="offerings", verbose_name=_("term"))
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="offerings", verbose_name=_("course"))
    college = models.ForeignKey(
        "students.College", on_delete=models.PROTECT, related_name="offerings", verbose_name=_("college")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REGULAR, db_index=True)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="taught_offerings", blank=True, verbose_name=_("instructors")
    )
    classes = models.ManyToManyField("students.Class", related_name="offerings", blank=True, verbose_name=_("classes"))
    exam_date = models.DateField(_("exam date"), null=True, blank=True, db_index=True)
    scale = models.CharField(_("grading scale"), max_length=16, choices=Scale.choices, default=Scale.HUNDRED)
    rounding = models.CharField(_("rounding"), max_length=16, choices=Rounding.choices, default=Rounding.INTEGER)
    composition_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("composition set by"),
    )
    composition_set_at = models.DateTimeField(_("composition set at"), null=True, blank=True)
    sheet_state = FSMField(
        _("grade sheet"),
        max_length=16,
        choices=SheetState.choices,
        default=SheetState.ENTERING,
        protected=True,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    reopened_until = models.DateTimeField(_("entry reopened until"), null=True, blank=True)

    class Meta:
        ordering = ["term__start_date", "course__code", "code"]
        verbose_name = _("course offering")
        verbose_name_plural = _("course offerings")
        indexes = [models.Index(fields=["term", "college", "sheet_state"])]

    def __str__(self):
        return f"{self.code} {self.course.name}"

    def refresh_from_db(self, *args, **kwargs):
        # The protected FSM field may be reloaded (services re-read locked rows).
        fields = kwargs.get("fields")
        if fields is None or "sheet_state" in fields:
            self.__dict__.pop("sheet_state", None)
        super().refresh_from_db(*args, **kwargs)

    def clean_fields(self, exclude=None):
        # The protected FSM field is never assigned from outside a transition (full_clean would).
        super().clean_fields(exclude={*(exclude or ()), "sheet_state"})

    @property
    def entry_due(self):
        """Entry is due this many days after the exam (``ENTRY_DAYS_AFTER_EXAM``)."""
        if not self.exam_date:
            return None
        return self.exam_date + timedelta(days=grade_settings()["ENTRY_DAYS_AFTER_EXAM"])

    @property
    def is_locked_for_instructor(self) -> bool:
        return self.sheet_state != self.SheetState.ENTERING

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.components.all())

    # --- sheet transitions (called only by grades.services.entry, on a row locked for update) ---
    @transition(field=sheet_state, source=SheetState.ENTERING, target=SheetState.SUBMITTED)
    def submit(self, *, by, at):
        self.submitted_by = by
        self.submitted_at = at

    @transition(field=sheet_state, source=SheetState.SUBMITTED, target=SheetState.CONFIRMED)
    def confirm(self, *, by, at):
        self.confirmed_by = by
        self.confirmed_at = at

    @transition(field=sheet_state, source=SheetState.SUBMITTED, target=SheetState.ENTERING)
    def return_to_instructor(self):
        self.submitted_by = None
        self.submitted_at = None


class SheetEvent(AppendOnlyModel):
    """Append-only log of a grade sheet's sign-offs: composition set, submitted by the instructor,
    confirmed (认定) or returned by Academic Affairs, entry reopened — who, in which role, when, opinion."""

    class Decision(models.TextChoices):
        COMPOSITION = "composition", _("Composition set")
        SUBMIT = "submit", _("Submitted")
        CONFIRM = "confirm", _("Confirmed (认定)")
        RETURN = "return", _("Returned to the instructor")
        REOPEN = "reopen", _("Entry reopened")

    offering = models.ForeignKey(
        "Offering", on_delete=models.PROTECT, related_name="events", verbose_name=_("offering")
    )
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    actor_label = models.CharField(_("name"), max_length=64)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("grade sheet event")
        verbose_name_plural = _("grade sheet events")

    def __str__(self):
        return f"{self.offering_id} {self.decision} {self.actor_label}"


class GradeComponent(models.Model):
    """One part of an offering's composite grade (平时 30 % + 期末 70 % …)."""

    class Code(models.TextChoices):
        REGULAR = "regular", _("Regular work (平时)")
        MIDTERM = "midterm", _("Mid-term (期中)")
        EXPERIMENT = "experiment", _("Experiment (实验)")
        FINAL = "final", _("Final exam (期末)")
        OTHER = "other", _("Other (其他)")

    offering = models.ForeignKey(
        Offering, on_delete=models.CASCADE, related_name="components", verbose_name=_("offering")
    )
    code = models.CharField(_("component"), max_length=16, choices=Code.choices)
    label = models.CharField(_("label"), max_length=32, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("grade component")
        verbose_name_plural = _("grade components")
        constraints = [models.UniqueConstraint(fields=["offering", "code"], name="gradecomponent_unique")]

    def __str__(self):
        return f"{self.display_label} {self.weight}%"

    @property
    def display_label(self) -> str:
        return self.label or str(self.get_code_display())


class GradeEntryWindow(TimeStampedModel):
    """成绩录入窗口 — published by Academic Affairs for a term; empty college and offering lists
    mean every college / every offering of the term."""

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="entry_windows", verbose_name=_("term"))
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    colleges = models.ManyToManyField("students.College", blank=True, related_name="+", verbose_name=_("colleges"))
    offerings = models.ManyToManyField(Offering, blank=True, related_name="entry_windows", verbose_name=_("offerings"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("published by")
    )

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("grade entry window")
        verbose_name_plural = _("grade entry windows")
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="entrywindow_ordered")
        ]

    def __str__(self):
        return f"{self.term} {self.opens_at:%Y-%m-%d} – {self.closes_at:%Y-%m-%d}"


class OfferingReopening(models.Model):
    """Academic Affairs reopens entry for one offering after its window (append-only record)."""

    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="reopenings", verbose_name=_("offering")
    )
    until = models.DateTimeField(_("open until"))
    reason = models.CharField(_("reason"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reopened by")
    )
    created_at = models.DateTimeField(_("reopened at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("entry reopening")
        verbose_name_plural = _("entry reopenings")

    def __str__(self):
        return f"{self.offering.code} → {self.until:%Y-%m-%d %H:%M}"


class Grade(models.Model):
    """A student on an offering (选课) and, once entered, their result on that attempt.

    ``components`` holds the component scores by code; ``score`` is the composite on the
    hundred-point scale (or the level's equivalent), ``level`` the five-level or pass/fail
    text, ``mark`` a special mark (缺考, 缓考, 作弊, 免修). ``passed`` and ``grade_point`` are
    computed by ``grades.scoring`` whenever the result changes.
    """

    class Mark(models.TextChoices):
        NONE = "", _("—")
        ABSENT = "absent", _("Absent (缺考)")
        DEFERRED = "deferred", _("Deferred (缓考)")
        CHEATING = "cheating", _("Cheating (作弊)")
        EXEMPT = "exempt", _("Exempt (免修)")

    class Source(models.TextChoices):
        CLASS = "class", _("Class enrolment")
        INDIVIDUAL = "individual", _("Individual enrolment")
        MAKEUP = "makeup", _("Listed for the make-up")

    # Indexes: only the unique (offering, student) and (student, course) ones, which also serve
    # lookups by offering and by student. No result column is indexed, so PostgreSQL rewrites a
    # row in place when its result is entered (a HOT update: no index is touched) — what makes
    # entering 100,000 results fast (bench/grade_import.py). See migration 0003 for the fill factor.
    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="grades", verbose_name=_("offering"), db_index=False
    )
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="grades", verbose_name=_("student"), db_index=False
    )
    # denormalised from the offering for the student's record (one query per student)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="+", verbose_name=_("course"), db_index=False
    )
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+", verbose_name=_("term"), db_index=False)
    kind = models.CharField(_("attempt"), max_length=16, choices=Offering.Kind.choices, default=Offering.Kind.REGULAR)
    enrolled_via = models.CharField(_("enrolled via"), max_length=16, choices=Source.choices, default=Source.CLASS)
    components = models.JSONField(_("component scores"), default=dict, blank=True)
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    level = models.CharField(_("level"), max_length=8, blank=True)
    mark = models.CharField(_("special mark"), max_length=16, choices=Mark.choices, default=Mark.NONE, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    grade_point = models.DecimalField(_("grade point"), max_digits=3, decimal_places=2, null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
        db_index=False,
        # no database FK (its check at commit is one trigger call per imported row,
        # ~0.35 s per 100,000): Django's PROTECT still refuses deleting such a user,
        # and the importer is always the authenticated user (bench/README.md)
        db_constraint=False,
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)

    class Meta:
        ordering = ["offering", "student__student_number"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [models.UniqueConstraint(fields=["offering", "student"], name="grade_unique")]
        indexes = [models.Index(fields=["student", "course"])]

    def __str__(self):
        return f"{self.student} · {self.offering.code}: {self.display_result}"

    @property
    def is_entered(self) -> bool:
        return self.score is not None or bool(self.level) or bool(self.mark)

    @property
    def display_result(self) -> str:
        if self.mark:
            return str(self.get_mark_display())
        if self.level:
            return self.level
        if self.score is not None:
            return f"{self.score:.1f}".rstrip("0").rstrip(".")
        return ""


class GradeChange(AppendOnlyModel):
    """Append-only record of a confirmed grade changed by a correction (or any later change)."""

    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="changes", verbose_name=_("grade"))
    old_value = models.CharField(_("old value"), max_length=64)
    new_value = models.CharField(_("new value"), max_length=64)
    reason = models.TextField(_("reason"))
    request_type = models.CharField(_("request type"), max_length=32, blank=True)
    request_id = models.PositiveBigIntegerField(_("request id"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")

    def __str__(self):
        return f"{self.grade_id}: {self.old_value} → {self.new_value}"


# --- U5 grade correction ------------------------------------------------------------------
CORRECTION = Chain(
    code="U5C",
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
        """The application form's ``grade`` lists only the applicant's own confirmed grades (of the student)."""
        from grades.forms_records import limit_correction_grades

        limit_correction_grades(form, user=user, student=student)


# --- C8/C10 exemption ---------------------------------------------------------------------
EXEMPTION = Chain(
    code="C8X",
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


# --- U5 transcript certificates -----------------------------------------------------------
class TranscriptLanguage(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")
    BOTH = "both", _("Chinese and English")


PERSONAL_TRANSCRIPT = Chain(
    code="U5T",
    name=_("Transcript (personal)"),
    description=_(
        "成绩证明 (2): the student applies to the college; the teaching secretary prints the transcript "
        "with the college seal and hands it over."
    ),
    initiator_roles=("student",),
    validate=S + "transcripts.personal_transcript_validate",
    stages=(
        # on_pass issues the language(s) asked for: transcript and/or transcript_en
        Stage(
            "college_print",
            _("Teaching secretary prints with the college seal"),
            ("teaching_secretary",),
            deadline_days=3,
            on_pass=S + "transcripts.personal_transcript_issue",
            seal="college",
        ),
        Stage("handover", _("Handed to the student"), ("teaching_secretary",), deadline_days=7),
    ),
    documents=("approval_form", "transcript", "transcript_en"),
)


class TranscriptRequest(ApprovalRequest):
    """成绩证明申请, route (2). States: draft → college_print → handover → completed."""

    class Purpose(models.TextChoices):
        """What the transcript is for; the English transcript prints the label in English."""

        EMPLOYMENT = "employment", _("Employment")
        FURTHER_STUDY = "further_study", _("Further study")
        STUDY_ABROAD = "study_abroad", _("Study or exchange abroad")
        OTHER = "other", _("Other")

    chain = PERSONAL_TRANSCRIPT
    state = PERSONAL_TRANSCRIPT.state_field()
    purpose_kind = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    purpose = models.CharField(_("purpose in detail"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=TranscriptLanguage.choices, default=TranscriptLanguage.ZH
    )
    copies = models.PositiveSmallIntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("transcript request")
        verbose_name_plural = _("transcript requests")


class TranscriptBatch(TimeStampedModel):
    """Route (1): Student Affairs' written request for transcripts of a list of students
    (graduates, university-wide job fairs). Each student gets a ``BatchTranscriptRequest``."""

    class Purpose(models.TextChoices):
        GRADUATES = "graduates", _("Graduates")
        JOB_FAIR = "job_fair", _("University-wide job fair")

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    language = models.CharField(
        _("language"), max_length=8, choices=TranscriptLanguage.choices, default=TranscriptLanguage.ZH
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transcript batch")
        verbose_name_plural = _("transcript batches")

    def __str__(self):
        return f"{self.get_purpose_display()} #{self.pk}"


BATCH_TRANSCRIPT = Chain(
    code="U5B",
    open_per=("batch",),
    name=_("Transcript (batch, route 1)"),
    description=_(
        "成绩证明 (1): Student Affairs files the list; the college teaching secretary prints with the "
        "college seal; Academic Affairs applies its seal class by class. At most three times per student."
    ),
    initiator_roles=("student_affairs",),
    validate=S + "transcripts.batch_transcript_validate",
    opened_elsewhere=_(
        "Route (1) transcripts are filed by Student Affairs as a batch of students on the "
        "transcript batches page (/grades/transcripts/batches/new/); a single request cannot be "
        "opened on its own."
    ),
    stages=(
        Stage(
            "college_seal",
            _("College teaching secretary prints with the college seal"),
            ("teaching_secretary",),
            deadline_days=5,
            seal="college",
        ),
        # on_pass issues the batch's language(s), bearing both seals
        Stage(
            "academic_affairs_seal",
            _("Academic Affairs applies its seal"),
            ("academic_affairs",),
            deadline_days=5,
            on_pass=S + "transcripts.batch_transcript_issue",
            seal="academic_affairs",
        ),
    ),
    documents=("transcript", "transcript_en"),
)


class BatchTranscriptRequest(ApprovalRequest):
    """One student's transcript in a route (1) batch. States: draft → college_seal →
    academic_affairs_seal → completed."""

    chain = BATCH_TRANSCRIPT
    state = BATCH_TRANSCRIPT.state_field()
    batch = models.ForeignKey(
        TranscriptBatch, on_delete=models.PROTECT, related_name="requests", verbose_name=_("batch"), editable=False
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("batch transcript request")
        verbose_name_plural = _("batch transcript requests")


class ClassPrint(TimeStampedModel):
    """One PDF with every transcript of a class in a batch, for printing (merged from the
    students' rendered, verifiable documents)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being produced")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(
        TranscriptBatch, on_delete=models.PROTECT, related_name="class_prints", verbose_name=_("batch")
    )
    klass = models.ForeignKey("students.Class", on_delete=models.PROTECT, related_name="+", verbose_name=_("class"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to="transcripts/classes/%Y/", blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("class transcript print")
        verbose_name_plural = _("class transcript prints")

    def __str__(self):
        return f"{self.batch} · {self.klass}"


class GraduateTranscriptCopy(AppendOnlyModel):
    """C8: each graduate's transcript prints in two copies — one archived by the college, one
    handed to the student work office. Append-only."""

    class Destination(models.TextChoices):
        ARCHIVE = "archive", _("Archived by the college")
        STUDENT_WORK_OFFICE = "student_work_office", _("Handed to the student work office")

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+", verbose_name=_("student"))
    document = models.ForeignKey(
        "registrar.Document", on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    destination = models.CharField(_("destination"), max_length=24, choices=Destination.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("graduate transcript copy")
        verbose_name_plural = _("graduate transcript copies")

    def __str__(self):
        return f"{self.student} · {self.get_destination_display()}"


# --- C8 station submissions ---------------------------------------------------------------
class StationSubmission(FSMModelMixin, TimeStampedModel):
    """A station's exam results for its students on one offering (C8).

    ``state``: submitted → returned (with reasons) → submitted again … → accepted (the rows are
    written into the records). Every review is a ``SubmissionReview`` row.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned to the station")
        ACCEPTED = "accepted", _("Accepted into the records")

    station = models.ForeignKey(
        "students.Station", on_delete=models.PROTECT, related_name="grade_submissions", verbose_name=_("station")
    )
    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="station_submissions", verbose_name=_("offering")
    )
    file = models.FileField(_("results file"), upload_to="grades/station-submissions/%Y/")
    rows = models.JSONField(_("parsed rows"), default=list, blank=True)
    state = FSMField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED, protected=True, db_index=True
    )
    round = models.PositiveSmallIntegerField(_("submission round"), default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("station grade submission")
        verbose_name_plural = _("station grade submissions")

    def __str__(self):
        return f"{self.station} · {self.offering.code} ({self.get_state_display()})"

    def refresh_from_db(self, *args, **kwargs):
        fields = kwargs.get("fields")
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        super().refresh_from_db(*args, **kwargs)

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude={*(exclude or ()), "state"})

    # Transitions change only in-memory fields; grades.services.stations calls them on a locked row.
    @transition(field=state, source=State.SUBMITTED, target=State.RETURNED)
    def return_to_station(self):
        """The college returns the submission with reasons."""

    @transition(field=state, source=State.RETURNED, target=State.SUBMITTED)
    def resubmit(self):
        """The station sends a corrected file: a new round."""
        self.round += 1

    @transition(field=state, source=State.SUBMITTED, target=State.ACCEPTED)
    def accept(self):
        """The college accepts the results into the records."""


class SubmissionReview(AppendOnlyModel):
    """Append-only log of a station submission: submitted, returned (reasons), accepted."""

    class Decision(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        RETURN = "return", _("Returned")
        ACCEPT = "accept", _("Accepted")

    submission = models.ForeignKey(
        StationSubmission, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("submission")
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    opinion = models.TextField(_("opinion"), blank=True)
    round = models.PositiveSmallIntegerField(_("round"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    actor_label = models.CharField(_("name"), max_length=64)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("submission review")
        verbose_name_plural = _("submission reviews")

    def __str__(self):
        return f"{self.submission_id} {self.decision}"


for _chain in (CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT, BATCH_TRANSCRIPT):
    register(_chain)


# --- Excel imports --------------------------------------------------------------------------
class ImportJob(TimeStampedModel):
    """An Excel import run in the background (teaching data or grades): progress for the UI,
    and either the counts written or every bad row and column — never half of the file."""

    class Kind(models.TextChoices):
        COURSES = "courses", _("Courses")
        PLANS = "plans", _("Teaching plans")
        OFFERINGS = "offerings", _("Course offerings")
        GRADES = "grades", _("Grades")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused: nothing written")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="grades/imports/%Y/")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    written = models.PositiveIntegerField(_("rows written"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"
