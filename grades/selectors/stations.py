"""Reads for the correspondence stations (C8): who may print and review what, the blank sheets of
a term per class, and the station submissions a user may see.

Scope
    Academic Affairs (and superusers) see everything; a college's teaching secretary the classes
    and submissions of that college; station staff the classes and submissions of their station.
    Outside that scope an object does not exist for the user (404).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from registrar.approvals.permissions import grants
from registrar.roles import Role, Scope
from students.models import Class, Station, Student

from ..models import Course, Grade, GradeComponent, Offering, StationSubmission, TeachingPlan, Term
from ..permissions import college_roles, is_academic_affairs
from ..scoring import display
from .records import records_for

REVIEWER_ROLES = {Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS}


# --- who -----------------------------------------------------------------------------------
def station_ids_of(user) -> set[int]:
    """The stations ``user`` works for (station-scoped ``station`` role)."""
    return {g.station_id for g in grants(user) if g.role == Role.STATION and g.scope == Scope.STATION}


def reviewer_college_ids(user) -> set[int] | None:
    """Colleges whose station submissions ``user`` reviews; ``None`` means every college."""
    if user.is_superuser or is_academic_affairs(user):
        return None
    ids: set[int] = set()
    for g in grants(user):
        if g.role in REVIEWER_ROLES:
            if g.scope == Scope.UNIVERSITY:
                return None
            if g.scope == Scope.COLLEGE:
                ids.add(g.college_id)
    return ids


def may_review(user, offering) -> bool:
    """The teaching secretary of the offering's college, or Academic Affairs."""
    return (
        user.is_superuser
        or is_academic_affairs(user)
        or bool(college_roles(user, offering.college_id) & REVIEWER_ROLES)
    )


def is_reviewer(user) -> bool:
    colleges = reviewer_college_ids(user)
    return colleges is None or bool(colleges)


def may_use_stations(user) -> bool:
    """Blank sheets and submissions: Academic Affairs, teaching secretaries, station staff."""
    return user.is_authenticated and (is_reviewer(user) or bool(station_ids_of(user)))


# --- classes for the blank sheets ------------------------------------------------------------
def printable_classes(user) -> QuerySet[Class]:
    """Classes whose blank sheets ``user`` may print."""
    qs = Class.objects.select_related("college", "major", "station").order_by("-cohort", "code")
    colleges = reviewer_college_ids(user)
    if colleges is None:
        return qs
    q = Q(college_id__in=colleges) if colleges else None
    stations = station_ids_of(user)
    if stations:
        part = Q(station_id__in=stations) | Q(pk__in=Student.objects.filter(station_id__in=stations).values("klass_id"))
        q = part if q is None else q | part
    return qs.filter(q) if q is not None else qs.none()


def printable_stations(user) -> QuerySet[Station]:
    colleges = reviewer_college_ids(user)
    if colleges is None:
        return Station.objects.order_by("code")
    ids = set(station_ids_of(user))
    if colleges:
        ids |= set(
            Class.objects.filter(college_id__in=colleges, station__isnull=False).values_list("station_id", flat=True)
        )
    return Station.objects.filter(pk__in=ids).order_by("code")


# --- blank sheets ------------------------------------------------------------------------------
@dataclass
class BlankSheet:
    """One blank grade sheet: an offering, the class, the class's students on it."""

    kind: str  # "regular" or "makeup"
    klass: Class
    offering: Offering
    components: list[GradeComponent]
    students: list[Student]
    station: Station | None = None


@dataclass
class SummaryRow:
    student: Student
    cells: list[str]
    credits: Decimal
    failures: int
    gpa: Decimal | None


@dataclass
class GraduationSummary:
    """The graduating class's grade summary: one row per student, one column per course."""

    klass: Class
    courses: list[Course]
    rows: list[SummaryRow]
    required_credits: Decimal | None
    station: Station | None = None


@dataclass
class ClassSheets:
    klass: Class
    term_sheets: list[BlankSheet] = field(default_factory=list)
    makeup_sheets: list[BlankSheet] = field(default_factory=list)
    summary: GraduationSummary | None = None

    @property
    def sheets(self) -> list[BlankSheet]:
        return self.term_sheets + self.makeup_sheets

    @property
    def is_empty(self) -> bool:
        return not self.term_sheets and not self.makeup_sheets and self.summary is None


def graduation_year(term: Term) -> int:
    """Students graduating in the academic year of ``term`` graduate in the year its last term ends."""
    return term.end_date.year


def blank_sheets(*, term: Term, classes, station: Station | None = None) -> list[ClassSheets]:
    """The blank term sheets, make-up sheets and (for graduating classes) grade summary of each class.

    A sheet lists the class's enrolled students that are on the offering (their ``Grade`` row), so
    individual enrolments and make-up lists are exact; with ``station`` only that station's students.
    A constant number of queries whatever the number of classes and offerings."""
    classes = list(classes)
    by_class = {k.pk: ClassSheets(klass=k) for k in classes}
    grades = (
        Grade.objects.filter(
            term=term,
            student__klass__in=[k.pk for k in classes],
            offering__kind__in=[Offering.Kind.REGULAR, Offering.Kind.MAKEUP],
            student__status=Student.Status.ENROLLED,
        )
        .select_related("student", "offering__course", "offering__college")
        .order_by("offering__course__code", "offering__code", "student__student_number")
    )
    if station is not None:
        grades = grades.filter(student__station=station)
    grouped: dict[tuple[int, int], list[Grade]] = defaultdict(list)
    offerings: dict[int, Offering] = {}
    for g in grades:
        grouped[(g.student.klass_id, g.offering_id)].append(g)
        offerings[g.offering_id] = g.offering
    components: dict[int, list[GradeComponent]] = defaultdict(list)
    for c in GradeComponent.objects.filter(offering_id__in=list(offerings)).order_by("position", "id"):
        components[c.offering_id].append(c)
    for (klass_id, offering_id), rows in grouped.items():
        offering = offerings[offering_id]
        sheet = BlankSheet(
            kind=offering.kind,
            klass=by_class[klass_id].klass,
            offering=offering,
            components=components[offering_id],
            students=[g.student for g in rows],
            station=station,
        )
        target = (
            by_class[klass_id].term_sheets
            if offering.kind == Offering.Kind.REGULAR
            else by_class[klass_id].makeup_sheets
        )
        target.append(sheet)
    for summary in graduation_summaries(term=term, classes=classes, station=station):
        by_class[summary.klass.pk].summary = summary
    return [by_class[k.pk] for k in classes]


def graduation_summaries(*, term: Term, classes, station: Station | None = None) -> list[GraduationSummary]:
    """Summaries of the classes among ``classes`` with students graduating in the term's academic year."""
    classes = {k.pk: k for k in classes}
    students = Student.objects.filter(
        klass_id__in=list(classes), status=Student.Status.ENROLLED, expected_graduation__year=graduation_year(term)
    ).order_by("student_number")
    if station is not None:
        students = students.filter(station=station)
    students = list(students)
    if not students:
        return []
    records = records_for(students)
    by_class: dict[int, list[Student]] = defaultdict(list)
    for s in students:
        by_class[s.klass_id].append(s)
    plans = TeachingPlan.objects.filter(
        Q(*[Q(major_id=classes[k].major_id, cohort=classes[k].cohort) for k in by_class], _connector=Q.OR)
    ).prefetch_related("plan_courses__course")
    plans_by_key: dict[tuple[int, int], list[TeachingPlan]] = defaultdict(list)
    for p in plans:
        plans_by_key[(p.major_id, p.cohort)].append(p)
    summaries = []
    for klass_id, members in by_class.items():
        klass = classes[klass_id]
        levels = {s.level for s in members}
        class_plans = [p for p in plans_by_key[(klass.major_id, klass.cohort)] if p.level in levels]
        courses: dict[int, Course] = {}
        for plan in class_plans:
            for pc in plan.plan_courses.all():
                courses.setdefault(pc.course_id, pc.course)
        extra: dict[int, Course] = {}
        for s in members:
            for r in records[s.pk].courses:
                if r.course.pk not in courses:
                    extra.setdefault(r.course.pk, r.course)
        columns = list(courses.values()) + sorted(extra.values(), key=lambda c: c.code)
        rows = []
        for s in members:
            record = records[s.pk]
            counted = {r.course.pk: r for r in record.courses}
            cells = []
            for course in columns:
                r = counted.get(course.pk)
                cells.append(display(r.counted.score, r.counted.level, r.counted.mark) if r and r.counted else "")
            rows.append(
                SummaryRow(
                    student=s,
                    cells=cells,
                    credits=record.credits_earned,
                    failures=len(record.open_failures),
                    gpa=record.gpa,
                )
            )
        required = max((p.required_credits for p in class_plans), default=None)
        summaries.append(
            GraduationSummary(klass=klass, courses=columns, rows=rows, required_credits=required, station=station)
        )
    return summaries


# --- station submissions --------------------------------------------------------------------
def submission_scope_q(user) -> Q | None:
    """A Q over StationSubmission for what ``user`` may see; ``None``: nothing."""
    if not user.is_authenticated:
        return None
    colleges = reviewer_college_ids(user)
    if colleges is None:
        return Q()
    q = Q(offering__college_id__in=colleges) if colleges else None
    stations = station_ids_of(user)
    if stations:
        q = Q(station_id__in=stations) if q is None else q | Q(station_id__in=stations)
    return q


def submission_list(
    *, user, state: str = "", station_id: int | None = None, term_id: int | None = None, search: str = ""
) -> QuerySet[StationSubmission]:
    qs = StationSubmission.objects.select_related(
        "station", "offering__course", "offering__term", "offering__college", "submitted_by"
    )
    scope = submission_scope_q(user)
    if scope is None:
        return qs.none()
    qs = qs.filter(scope)
    if state:
        qs = qs.filter(state=state)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if term_id:
        qs = qs.filter(offering__term_id=term_id)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(offering__code__icontains=search)
            | Q(offering__course__name__icontains=search)
            | Q(offering__course__code__icontains=search)
            | Q(station__name__icontains=search)
        )
    return qs.order_by("-updated_at", "-id")


def submission_get_visible(user, pk) -> StationSubmission:
    try:
        return submission_list(user=user).get(pk=pk)
    except (StationSubmission.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def submission_timeline(submission: StationSubmission):
    return list(submission.reviews.select_related("actor").order_by("created_at", "id"))


def offerings_for_station(station: Station) -> QuerySet[Offering]:
    """Offerings with students of ``station`` whose sheet is still being entered (what it may submit)."""
    return (
        Offering.objects.filter(
            sheet_state=Offering.SheetState.ENTERING,
            pk__in=Grade.objects.filter(student__station=station).values("offering_id"),
        )
        .select_related("course", "term")
        .order_by("-term__start_date", "course__code", "code")
    )
