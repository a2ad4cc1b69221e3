"""Grade sheets (U5): an offering's composition, entry windows and reopenings, each student's ``Grade`` and the append-only logs of sheet sign-offs and grade changes."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from registrar.common import AppendOnlyModel, TimeStampedModel
from registrar.roles import Role
from students.models import Student

from .teaching import Course, Offering, Term


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
