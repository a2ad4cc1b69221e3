"""A student's academic record: every confirmed attempt, the attempt that counts per course,
credits earned, the credit-weighted GPA and the failures still open.

One query per student (``student_record``) or per set of students (``records_for``), whatever
the number of grades, so the student's grade page and the dashboards stay flat in N.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from grades.models import Grade, Offering
from grades.scoring import conf

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
        rows = [(r.counted.score, r.course.credits) for r in self.courses
                if r.counted is not None and r.counted.score is not None and not r.counted.mark]
        weight = sum((c for _s, c in rows), Decimal(0))
        if not weight:
            return None
        return (sum((s * c for s, c in rows), Decimal(0)) / weight).quantize(Decimal("0.1"), ROUND_HALF_UP)


def attempt_key(grade: Grade):
    return (grade.term.start_date, KIND_ORDER.get(grade.kind, 0), grade.offering.exam_date or grade.term.start_date,
            grade.pk)


def counted_attempt(attempts: list[Grade]) -> Grade | None:
    """The attempt that counts (``COUNTED_ATTEMPT``: "best" or "latest"); attempts without a
    result (缓考, not yet entered) never count."""
    decided = [g for g in attempts if g.passed is not None]
    if not decided:
        return None
    if conf()["COUNTED_ATTEMPT"] == "latest":
        return max(decided, key=attempt_key)
    return max(decided, key=lambda g: (bool(g.passed), g.score if g.score is not None else Decimal(-1),
                                       attempt_key(g)))


def course_results(grades: Iterable[Grade]) -> list[CourseResult]:
    by_course: dict[int, list[Grade]] = defaultdict(list)
    for g in grades:
        by_course[g.course_id].append(g)
    results = []
    for attempts in by_course.values():
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


def student_record(student) -> StudentRecord:
    grades = list(published_grades([student.pk]))
    return _record(student, grades)


def records_for(students) -> dict[int, StudentRecord]:
    """Records of many students in one query (transcript batches, dashboards)."""
    students = list(students)
    by_student: dict[int, list[Grade]] = defaultdict(list)
    for g in published_grades([s.pk for s in students]):
        by_student[g.student_id].append(g)
    return {s.pk: _record(s, by_student.get(s.pk, [])) for s in students}


def _record(student, grades: list[Grade]) -> StudentRecord:
    terms: dict[int, tuple[object, list[Grade]]] = {}
    for g in grades:
        terms.setdefault(g.term_id, (g.term, []))[1].append(g)
    ordered = sorted(terms.values(), key=lambda t: t[0].start_date)
    return StudentRecord(student=student, courses=course_results(grades), grades=grades, terms=ordered)
