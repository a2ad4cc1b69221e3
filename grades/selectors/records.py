"""A student's academic record: every confirmed attempt, the attempt that counts per course,
credits earned, the credit-weighted GPA and the failures still open.

One query per student (``student_record``) or a constant four per set of students
(``records_for``: the grades, then the courses, terms and offerings they share), whatever the
number of grades, so the student's grade page and the dashboards stay flat in N.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from grades.models import Course, Grade, Offering, TeachingPlan, Term
from grades.scoring import conf
from registrar.approvals.permissions import grants
from registrar.roles import Role
from students.models import Student

KIND_ORDER = {Offering.Kind.REGULAR: 0, Offering.Kind.MAKEUP: 1, Offering.Kind.CLEARING: 2}


@dataclass
class CourseResult:
    """All attempts of one course by one student, and the one that counts."""

    course: object
    attempts: list[Grade]
    counted: Grade | None

    @property
    def passed(self) -> bool | None:
        return self.counted.passed if self.counted else None

    @property
    def failed(self) -> bool:
        return self.counted is not None and self.counted.passed is False

    @property
    def exempt(self) -> bool:
        return bool(self.counted and self.counted.mark == Grade.Mark.EXEMPT)

    @property
    def term(self):
        return self.attempts[0].term if self.attempts else None


@dataclass
class StudentRecord:
    student: object
    courses: list[CourseResult]
    grades: list[Grade]
    terms: list[tuple[object, list[Grade]]] = field(default_factory=list)

    @property
    def credits_earned(self) -> Decimal:
        return sum((r.course.credits for r in self.courses if r.passed), Decimal(0))

    @property
    def credits_attempted(self) -> Decimal:
        return sum((r.course.credits for r in self.courses if r.counted is not None), Decimal(0))

    @property
    def gpa(self) -> Decimal | None:
        return gpa(self.courses)

    @property
    def open_failures(self) -> list[CourseResult]:
        return [r for r in self.courses if r.failed]

    @property
    def average_score(self) -> Decimal | None:
        rows = [
            (r.counted.score, r.course.credits)
            for r in self.courses
            if r.counted is not None and r.counted.score is not None and not r.counted.mark
        ]
        weight = sum((c for _s, c in rows), Decimal(0))
        if not weight:
            return None
        return (sum((s * c for s, c in rows), Decimal(0)) / weight).quantize(Decimal("0.1"), ROUND_HALF_UP)


def attempt_key(grade: Grade):
    return (
        grade.term.start_date,
        KIND_ORDER.get(grade.kind, 0),
        grade.offering.exam_date or grade.term.start_date,
        grade.pk,
    )


def counted_attempt(attempts: list[Grade]) -> Grade | None:
    """The attempt that counts (``COUNTED_ATTEMPT``: "best" or "latest"); attempts without a
    result (缓考, not yet entered) never count."""
    decided = [g for g in attempts if g.passed is not None]
    if len(decided) < 2:
        return decided[0] if decided else None
    if conf()["COUNTED_ATTEMPT"] == "latest":
        return max(decided, key=attempt_key)
    return max(decided, key=lambda g: (bool(g.passed), g.score if g.score is not None else Decimal(-1), attempt_key(g)))


def course_results(grades: Iterable[Grade]) -> list[CourseResult]:
    by_course: dict[int, list[Grade]] = defaultdict(list)
    for g in grades:
        by_course[g.course_id].append(g)
    results = []
    for attempts in by_course.values():
        if len(attempts) > 1:
            attempts.sort(key=attempt_key)
        results.append(CourseResult(course=attempts[0].course, attempts=attempts, counted=counted_attempt(attempts)))
    results.sort(key=lambda r: (attempt_key(r.attempts[0]), r.course.code))
    return results


def gpa(results: Iterable[CourseResult]) -> Decimal | None:
    """Credit-weighted mean grade point of the counted attempts (exemptions and, unless
    ``PASS_FAIL_IN_GPA``, pass/fail courses are left out)."""
    include_pf = conf().get("PASS_FAIL_IN_GPA", False)
    points = Decimal(0)
    credits = Decimal(0)
    for r in results:
        g = r.counted
        if g is None or g.mark == Grade.Mark.EXEMPT:
            continue
        if g.grade_point is None:
            if not (include_pf and g.passed is not None):
                continue
            point = Decimal("1.00") if g.passed else Decimal(0)
        else:
            point = g.grade_point
        points += point * r.course.credits
        credits += r.course.credits
    if not credits:
        return None
    return (points / credits).quantize(Decimal("0.01"), ROUND_HALF_UP)


def published_grades(student_ids):
    """Confirmed grades only: students never see a sheet before Academic Affairs confirms it."""
    return (
        Grade.objects.filter(student_id__in=list(student_ids), offering__sheet_state=Offering.SheetState.CONFIRMED)
        .select_related("course", "term", "offering")
        .order_by("term__start_date", "course__code", "id")
    )


#: what ``records_for`` leaves out of each grade row (unused by records; loaded on access)
RECORDS_DEFERRED = ("components", "entered_at")


def shared_published_grades(student_ids) -> list[Grade]:
    """Many students' confirmed grades: the grade rows in one query, then each course, term and
    offering they refer to loaded once and shared by every grade (three small queries) instead
    of being joined into every row — several times faster for a college of students."""
    grades = list(
        Grade.objects.filter(student_id__in=list(student_ids), offering__sheet_state=Offering.SheetState.CONFIRMED)
        .defer(*RECORDS_DEFERRED)
        .order_by("term__start_date", "course__code", "id")
    )
    for name, model in (("course", Course), ("term", Term), ("offering", Offering)):
        field = Grade._meta.get_field(name)
        objects = model.objects.in_bulk({getattr(g, field.attname) for g in grades})
        for g in grades:
            field.set_cached_value(g, objects[getattr(g, field.attname)])
    return grades


def student_record(student) -> StudentRecord:
    grades = list(published_grades([student.pk]))
    return _record(student, grades)


def records_for(students) -> dict[int, StudentRecord]:
    """Records of many students: one query for all their grades, plus one each for the courses,
    terms and offerings they share (transcript batches, dashboards). The grades' ``components``
    and ``entered_at`` are deferred (``RECORDS_DEFERRED``)."""
    students = list(students)
    by_student: dict[int, list[Grade]] = defaultdict(list)
    for g in shared_published_grades([s.pk for s in students]):
        by_student[g.student_id].append(g)
    return {s.pk: _record(s, by_student.get(s.pk, [])) for s in students}


def _record(student, grades: list[Grade]) -> StudentRecord:
    terms: dict[int, tuple[object, list[Grade]]] = {}
    for g in grades:
        terms.setdefault(g.term_id, (g.term, []))[1].append(g)
    ordered = sorted(terms.values(), key=lambda t: t[0].start_date)
    return StudentRecord(student=student, courses=course_results(grades), grades=grades, terms=ordered)


# --- pages built on the record (my grades, a student's grades, the API) -----------------------
#: How each attempt is labelled on the record (正考 / 补考 / 清考)
ATTEMPT_LABELS = {
    Offering.Kind.REGULAR: _("Regular (正考)"),
    Offering.Kind.MAKEUP: _("Make-up (补考)"),
    Offering.Kind.CLEARING: _("Clearing (清考)"),
}

#: Roles that may read a student's grade record (in their scope): counsellors, class advisors,
#: teaching secretaries, deans and Academic Affairs.
RECORD_VIEWER_ROLES = frozenset(
    {Role.COUNSELLOR, Role.ADVISOR, Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}
)


@dataclass
class TermSummary:
    """The courses first taken in one term (with every attempt), the term's GPA and credits."""

    term: object
    courses: list[CourseResult]

    @property
    def gpa(self) -> Decimal | None:
        return gpa(self.courses)

    @property
    def credits_earned(self) -> Decimal:
        return sum((r.course.credits for r in self.courses if r.passed), Decimal(0))

    @property
    def failures(self) -> int:
        return sum(1 for r in self.courses if r.failed)


def term_summaries(record: StudentRecord) -> list[TermSummary]:
    """The record's courses grouped by the term of their first attempt, in term order."""
    terms: dict[int, TermSummary] = {}
    for r in record.courses:
        term = r.term
        terms.setdefault(term.pk, TermSummary(term=term, courses=[])).courses.append(r)
    return sorted(terms.values(), key=lambda t: t.term.start_date)


def teaching_plan_for(student) -> TeachingPlan | None:
    """The plan of the student's major, level and cohort (their class's), or None (one query)."""
    if not student.klass_id:
        return None
    return TeachingPlan.objects.filter(
        major_id=student.major_id, level=student.level, cohort=student.klass.cohort
    ).first()


def record_student(pk) -> Student:
    """A student with what the record pages show about them (404 if there is none)."""
    try:
        return Student.objects.select_related("college", "major", "klass").get(pk=int(pk))
    except (Student.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def record_visible_student(user, pk) -> Student:
    """The student whose record ``user`` may read as staff.

    A role that may read records at all, held over this student (``Grant.covers``) → the
    student; such a role held elsewhere only → 404 (the student does not exist for them);
    no such role → 403.
    """
    student = record_student(pk)
    if user.is_superuser:
        return student
    mine = [g for g in grants(user) if g.role in RECORD_VIEWER_ROLES]
    if not mine:
        raise PermissionDenied
    if not any(g.covers(student) for g in mine):
        raise Http404
    return student


@dataclass
class RecordPage:
    """Everything the grade page (and the API) shows about one student's confirmed record."""

    student: object
    record: StudentRecord
    terms: list[TermSummary]
    plan: TeachingPlan | None

    @property
    def required_credits(self) -> Decimal | None:
        return self.plan.required_credits if self.plan else None

    @property
    def credits_share(self) -> int | None:
        """Credits earned as a whole percentage of the plan's required credits (capped at 100)."""
        if not self.plan or not self.plan.required_credits:
            return None
        return min(100, int(self.record.credits_earned * 100 / self.plan.required_credits))


def record_page(student) -> RecordPage:
    """Two queries whatever the number of grades: the confirmed grades and the teaching plan."""
    record = student_record(student)
    return RecordPage(student=student, record=record, terms=term_summaries(record), plan=teaching_plan_for(student))
