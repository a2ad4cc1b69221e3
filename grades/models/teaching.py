"""Teaching data: terms, courses, teaching plans and offerings (one course taught, or re-examined, in one term)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from registrar.common import TimeStampedModel
from students.models import Student


def grade_settings() -> dict:
    return settings.REGISTRAR["GRADES"]


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

    @transition(field=sheet_state, source=SheetState.ENTERING, target=SheetState.CONFIRMED)
    def confirm_station_results(self, *, by, at):
        """C8: the college accepted the stations' results for every student on the sheet; they are the
        confirmed grades, with no instructor's submit and no second confirmation in between."""
        self.confirmed_by = by
        self.confirmed_at = at

    @transition(field=sheet_state, source=SheetState.SUBMITTED, target=SheetState.ENTERING)
    def return_to_instructor(self):
        self.submitted_by = None
        self.submitted_at = None
