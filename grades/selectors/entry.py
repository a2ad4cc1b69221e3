"""Reads for grade entry (U5): which sheets a user sees, the entry window, a sheet's rows and
summary, the confirmation queue and the late-entry dashboard.

Every list here is a single annotated query (entered/total counts come from ``Count`` with a
filter, instructors from one ``prefetch_related``), so pages stay flat in the number of offerings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from registrar.approvals.permissions import grants
from registrar.models import User
from registrar.roles import Role, Scope

from ..models import Grade, GradeEntryWindow, Offering, OfferingReopening, grade_settings
from ..permissions import is_academic_affairs

#: Roles that see every offering of their college (besides Academic Affairs, who sees all).
COLLEGE_ROLES = {Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}

ENTERED = Q(grades__score__isnull=False) | Q(grades__level__gt="") | Q(grades__mark__gt="")


# --- the entry window ---------------------------------------------------------------------
def _covers(offering: Offering) -> Q:
    """A window with neither colleges nor offerings listed covers its whole term; otherwise it
    covers the listed colleges' offerings and the listed offerings."""
    through_c = GradeEntryWindow.colleges.through
    through_o = GradeEntryWindow.offerings.through
    has_colleges = Exists(through_c.objects.filter(gradeentrywindow_id=OuterRef("pk")))
    has_offerings = Exists(through_o.objects.filter(gradeentrywindow_id=OuterRef("pk")))
    names_college = Exists(through_c.objects.filter(gradeentrywindow_id=OuterRef("pk"), college_id=offering.college_id))
    names_offering = Exists(through_o.objects.filter(gradeentrywindow_id=OuterRef("pk"), offering_id=offering.pk))
    return (~has_colleges & ~has_offerings) | names_college | names_offering


def windows_covering(offering: Offering, now: dt.datetime | None = None) -> QuerySet[GradeEntryWindow]:
    """Windows of the offering's term open at ``now`` that cover the offering."""
    now = now or timezone.now()
    return GradeEntryWindow.objects.filter(
        _covers(offering), term_id=offering.term_id, opens_at__lte=now, closes_at__gt=now
    )


def reopened_until(offering: Offering, now: dt.datetime | None = None) -> dt.datetime | None:
    """The end of the offering's current reopening by Academic Affairs, if any
    (``Offering.reopened_until``, or the latest ``OfferingReopening`` still running)."""
    now = now or timezone.now()
    if offering.reopened_until and offering.reopened_until > now:
        return offering.reopened_until
    return (
        OfferingReopening.objects.filter(offering_id=offering.pk, until__gt=now)
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def entry_open(offering: Offering, now: dt.datetime | None = None) -> bool:
    """May grades of ``offering`` be entered at ``now``? Inside a window of its term that covers
    it, or inside a reopening by Academic Affairs that has not expired."""
    now = now or timezone.now()
    return reopened_until(offering, now) is not None or windows_covering(offering, now).exists()


def current_window(offering: Offering, now: dt.datetime | None = None) -> GradeEntryWindow | None:
    """The open window covering the offering that closes last."""
    return windows_covering(offering, now).order_by("closes_at").last()


def next_window(offering: Offering, now: dt.datetime | None = None) -> GradeEntryWindow | None:
    """The next window of the offering's term that will cover it (for the "opens on" message)."""
    now = now or timezone.now()
    return (
        GradeEntryWindow.objects.filter(_covers(offering), term_id=offering.term_id, opens_at__gt=now)
        .order_by("opens_at")
        .first()
    )


def last_window(offering: Offering, now: dt.datetime | None = None) -> GradeEntryWindow | None:
    """The most recent window that covered the offering and has closed."""
    now = now or timezone.now()
    return (
        GradeEntryWindow.objects.filter(_covers(offering), term_id=offering.term_id, closes_at__lte=now)
        .order_by("-closes_at")
        .first()
    )


def window_list(*, term_id: int | None = None) -> QuerySet[GradeEntryWindow]:
    qs = (
        GradeEntryWindow.objects.select_related("term", "published_by")
        .prefetch_related("colleges", Prefetch("offerings", queryset=Offering.objects.only("id", "code")))
        .order_by("-opens_at")
    )
    if term_id:
        qs = qs.filter(term_id=term_id)
    return qs


# --- scope ------------------------------------------------------------------------------------
def offerings_visible(user) -> QuerySet[Offering]:
    """Offerings ``user`` may see: Academic Affairs all; a teaching secretary or dean their
    college's; an instructor the ones they teach. No join on instructors (no duplicates)."""
    if is_academic_affairs(user):
        return Offering.objects.all()
    colleges = {g.college_id for g in grants(user) if g.scope == Scope.COLLEGE and g.role in COLLEGE_ROLES}
    taught = Offering.instructors.through.objects.filter(user_id=user.pk).values("offering_id")
    return Offering.objects.filter(Q(pk__in=taught) | Q(college_id__in=colleges))


def may_see_sheets(user) -> bool:
    """Whether the "Grade sheets" list means anything to ``user`` (a staff role around grades)."""
    if is_academic_affairs(user):
        return True
    roles = {g.role for g in grants(user)}
    return (
        bool(roles & (COLLEGE_ROLES | {Role.INSTRUCTOR}))
        or Offering.instructors.through.objects.filter(user_id=user.pk).exists()
    )


def _due_cutoff(today: dt.date | None = None) -> dt.date:
    """An offering whose exam was before this date is past its entry due date."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=grade_settings()["ENTRY_DAYS_AFTER_EXAM"])


def late_q(today: dt.date | None = None) -> Q:
    return Q(sheet_state=Offering.SheetState.ENTERING, exam_date__lt=_due_cutoff(today))


def _grade_count(condition: Q | None = None):
    """A correlated ``COUNT`` of the offering's grades (evaluated only for the rows returned, so a
    paginated list pays for its page and not for every offering that matches)."""
    grades = Grade.objects.filter(offering_id=OuterRef("pk"))
    if condition is not None:
        grades = grades.filter(condition)
    counted = grades.order_by().values("offering_id").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


GRADE_ENTERED = Q(score__isnull=False) | Q(level__gt="") | Q(mark__gt="")


def with_counts(qs: QuerySet[Offering], today: dt.date | None = None) -> QuerySet[Offering]:
    """Annotate ``total`` (students on the sheet), ``entered`` (students with a result) and
    ``is_late`` (still being entered after the due date)."""
    return qs.annotate(
        total=_grade_count(),
        entered=_grade_count(GRADE_ENTERED),
        is_late=Case(When(late_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()),
    )


def _instructors_prefetch() -> Prefetch:
    return Prefetch("instructors", queryset=User.objects.only("id", "username", "full_name").order_by("full_name"))


def _search(qs: QuerySet[Offering], search: str) -> QuerySet[Offering]:
    search = (search or "").strip()
    if not search:
        return qs
    return qs.filter(Q(code__icontains=search) | Q(course__code__icontains=search) | Q(course__name__icontains=search))


def offering_list(
    user,
    *,
    term_id: int | None = None,
    college_id: int | None = None,
    state: str | None = None,
    late: bool = False,
    search: str = "",
    today: dt.date | None = None,
) -> QuerySet[Offering]:
    """The "Grade sheets" list: scoped, filtered, annotated; instructors prefetched."""
    qs = offerings_visible(user)
    if term_id:
        qs = qs.filter(term_id=term_id)
    if college_id:
        qs = qs.filter(college_id=college_id)
    if state:
        qs = qs.filter(sheet_state=state)
    if late:
        qs = qs.filter(late_q(today))
    qs = _search(qs, search)
    return (
        with_counts(qs, today)
        .select_related("term", "course", "college")
        .prefetch_related(_instructors_prefetch())
        .order_by("-term__start_date", "course__code", "code")
    )


def sheets_to_enter(user, today: dt.date | None = None) -> list[Offering]:
    """The sheets ``user`` teaches that await their results: still being entered and either late
    (past the due date, ``late_q``) or open for entry now; most overdue first. Annotated like the
    lists (``total``, ``entered``, ``is_late``)."""
    taught = Offering.instructors.through.objects.filter(user_id=user.pk).values("offering_id")
    qs = (
        with_counts(Offering.objects.filter(pk__in=taught, sheet_state=Offering.SheetState.ENTERING), today)
        .select_related("term", "course")
        .order_by("exam_date", "code")
    )
    return [o for o in qs if o.is_late or entry_open(o)]


def offering_for(user, pk: int) -> Offering:
    """One offering in ``user``'s scope (else 404), with its components prefetched and annotated
    like the lists (``total``, ``entered``, ``is_late``)."""
    from django.shortcuts import get_object_or_404

    qs = with_counts(offerings_visible(user)).select_related(
        "term", "course", "college", "submitted_by", "confirmed_by", "composition_set_by"
    )
    return get_object_or_404(qs.prefetch_related("components", _instructors_prefetch()), pk=pk)


# --- one sheet -----------------------------------------------------------------------------
def sheet_grades(offering: Offering) -> QuerySet[Grade]:
    return (
        Grade.objects.filter(offering_id=offering.pk)
        .select_related("student", "student__klass")
        .order_by("student__student_number")
    )


BANDS = ((90, "90–100"), (80, "80–89"), (70, "70–79"), (60, "60–69"), (0, "0–59"))


@dataclass
class SheetSummary:
    total: int = 0
    entered: int = 0
    passed: int = 0
    failed: int = 0
    deferred: int = 0
    incomplete: list[Grade] = field(default_factory=list)
    failures: list[Grade] = field(default_factory=list)
    marks: dict[str, int] = field(default_factory=dict)
    bands: list[tuple[str, int]] = field(default_factory=list)
    levels: list[tuple[str, int]] = field(default_factory=list)
    average: Decimal | None = None
    highest: Decimal | None = None
    lowest: Decimal | None = None

    @property
    def pass_rate(self) -> Decimal | None:
        decided = self.passed + self.failed
        if not decided:
            return None
        return (Decimal(self.passed * 100) / decided).quantize(Decimal("0.1"))

    @property
    def complete(self) -> bool:
        return self.total > 0 and not self.incomplete

    @property
    def band_peak(self) -> int:
        return max([n for _b, n in self.bands] + [1])


def sheet_summary(offering: Offering, grades: list[Grade]) -> SheetSummary:
    """Counts for the review page and the printed sheet: entered, incomplete rows, failures,
    special marks, the score distribution (or the level distribution on level scales)."""
    s = SheetSummary(total=len(grades))
    marks: Counter = Counter()
    bands: Counter = Counter()
    levels: Counter = Counter()
    scores = []
    for g in grades:
        if not g.is_entered:
            s.incomplete.append(g)
            continue
        s.entered += 1
        if g.mark:
            marks[g.mark] += 1
        if g.passed is True:
            s.passed += 1
        elif g.passed is False:
            s.failed += 1
            s.failures.append(g)
        elif g.mark == Grade.Mark.DEFERRED:
            s.deferred += 1
        if g.level:
            levels[g.level] += 1
        if g.score is not None and not g.mark:
            scores.append(g.score)
            bands[next(label for low, label in BANDS if g.score >= low)] += 1
    s.marks = {str(Grade.Mark(m).label): n for m, n in marks.items()}
    s.bands = [(label, bands[label]) for _low, label in BANDS]
    if offering.scale != Offering.Scale.HUNDRED:
        order = (
            [name for name, _v in grade_settings()["FIVE_LEVELS"]]
            if offering.scale == Offering.Scale.FIVE_LEVEL
            else list(grade_settings()["PASS_FAIL_LEVELS"])
        )
        s.levels = [(name, levels[name]) for name in order]
    if scores:
        s.average = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1"))
        s.highest, s.lowest = max(scores), min(scores)
    return s


# --- Academic Affairs' pages -----------------------------------------------------------------
def confirm_queue(*, search: str = "", college_id: int | None = None, term_id: int | None = None) -> QuerySet[Offering]:
    """Submitted sheets awaiting confirmation (认定), oldest submission first."""
    qs = Offering.objects.filter(sheet_state=Offering.SheetState.SUBMITTED)
    if college_id:
        qs = qs.filter(college_id=college_id)
    if term_id:
        qs = qs.filter(term_id=term_id)
    qs = _search(qs, search)
    return (
        with_counts(qs)
        .select_related("term", "course", "college", "submitted_by")
        .prefetch_related(_instructors_prefetch())
        .order_by("submitted_at", "code")
    )


def late_offerings(
    *, college_id: int | None = None, search: str = "", today: dt.date | None = None
) -> QuerySet[Offering]:
    """Offerings past their entry due date whose sheet is not yet submitted, most overdue first."""
    qs = Offering.objects.filter(late_q(today))
    if college_id:
        qs = qs.filter(college_id=college_id)
    qs = _search(qs, search)
    return (
        with_counts(qs, today)
        .select_related("term", "course", "college")
        .prefetch_related(_instructors_prefetch())
        .order_by("exam_date", "code")
    )


def late_by_college(today: dt.date | None = None) -> list[dict]:
    """Late offerings per college, largest first: [{college_id, name, late, students, missing}]
    (one grouped query)."""
    rows = (
        Offering.objects.filter(late_q(today))
        .values("college_id", "college__name")
        .annotate(late=Count("id", distinct=True), students=Count("grades"), entered=Count("grades", filter=ENTERED))
        .order_by("-late", "college__name")
    )
    return [
        {
            "college_id": r["college_id"],
            "name": r["college__name"],
            "late": r["late"],
            "students": r["students"],
            "missing": r["students"] - r["entered"],
        }
        for r in rows
    ]
