"""Make-ups (补考) and graduation clearing exams (毕业清考) — C8, C10.

A make-up or clearing exam is an ``Offering`` of kind ``makeup`` / ``clearing`` for the same
course, without classes: its candidates are enrolled one by one (``Grade.Source.MAKEUP``).
Every attempt stays its own ``Grade`` row; which one counts is ``COUNTED_ATTEMPT`` ("best" or
"latest", see grades.selectors.records.counted_attempt) and a passed make-up is capped at
``MAKEUP_SCORE_CAP`` by grades.scoring.compute, from the offering's kind.

Candidates
    * term make-up: students whose counted attempt of a course from the term's confirmed regular
      sheets failed, or who were deferred (缓考) and have no decided attempt yet;
    * clearing exam: students expected to graduate in a given year who still have an open
      failure (or an undecided deferral) in the course, whatever the term.
Only students currently enrolled (在籍) are candidates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError
from registrar.roles import Role
from students.models import Student

from ..models import Course, Grade, Offering
from ..permissions import college_roles, is_academic_affairs
from ..selectors.records import counted_attempt, records_for
from .teaching import offering_create, offering_enrol

RETAKE_KINDS = (Offering.Kind.MAKEUP, Offering.Kind.CLEARING)

NOT_A_RETAKE_KIND = _("A make-up sheet is either a term make-up exam (补考) or a graduation clearing exam (毕业清考).")
RETAKE_EXISTS = _("%(kind)s of %(course)s in %(term)s already exists for this college (%(code)s).")
NO_CANDIDATES = _("Nobody needs %(kind)s of %(course)s in %(term)s: no student failed it or was deferred.")
NO_GRADUATION_YEAR = _("Give the graduation year whose students sit the clearing exam.")
MAY_NOT_CREATE = _("Only the college's teaching secretary or Academic Affairs may create make-up sheets.")

#: Why a student is a candidate
FAILED = "failed"
DEFERRED = "deferred"
REASON_LABELS = {FAILED: _("Failed"), DEFERRED: _("Deferred (缓考)")}

#: Offering code suffix per kind (补考 BK, 清考 QK)
CODE_SUFFIX = {Offering.Kind.MAKEUP: "BK", Offering.Kind.CLEARING: "QK"}


@dataclass
class Candidate:
    student: Student
    reason: str
    counted: Grade | None = None

    @property
    def reason_label(self):
        return REASON_LABELS[self.reason]


@dataclass
class CourseCandidates:
    """The candidates for the make-up (or clearing exam) of one course, in one college."""

    course: Course
    college: object
    kind: str
    candidates: list[Candidate] = field(default_factory=list)
    existing: Offering | None = None
    #: a regular sheet of the course (scale, rounding and instructors of the make-up default to it)
    source: Offering | None = None

    @property
    def failed_count(self) -> int:
        return sum(1 for c in self.candidates if c.reason == FAILED)

    @property
    def deferred_count(self) -> int:
        return sum(1 for c in self.candidates if c.reason == DEFERRED)

    @property
    def students(self) -> list[Student]:
        return [c.student for c in self.candidates]


def _reason(attempts: list[Grade]) -> tuple[str | None, Grade | None]:
    """(why the student must sit again or None, the counted attempt) from their confirmed attempts."""
    counted = counted_attempt(attempts)
    if counted is not None:
        return (FAILED if counted.passed is False else None), counted
    if any(g.mark == Grade.Mark.DEFERRED for g in attempts):
        return DEFERRED, None
    return None, None


def _sort(groups) -> list[CourseCandidates]:
    out = [g for g in groups if g.candidates]
    for g in out:
        g.candidates.sort(key=lambda c: c.student.student_number)
    out.sort(key=lambda g: (g.course.code, g.college.code))
    return out


def _attach_existing(groups: dict, *, term, kind: str) -> None:
    if not groups:
        return
    course_ids = {c for c, _college in groups}
    existing = Offering.objects.filter(term=term, kind=kind, course_id__in=course_ids).order_by("pk")
    for o in existing:
        group = groups.get((o.course_id, o.college_id))
        if group is not None and group.existing is None:
            group.existing = o


def makeup_candidates(*, term, college=None) -> list[CourseCandidates]:
    """Candidates for the term make-up, grouped by course (and the college of the regular sheet).

    Two queries for the grades whatever the number of students: the term's confirmed regular
    grades, then every confirmed attempt of those students at those courses.
    """
    regular = Grade.objects.filter(
        term=term,
        kind=Offering.Kind.REGULAR,
        offering__sheet_state=Offering.SheetState.CONFIRMED,
        student__status=Student.Status.ENROLLED,
    )
    if college is not None:
        regular = regular.filter(offering__college=college)
    regular = list(regular.select_related("student", "course", "offering", "offering__college"))
    if not regular:
        return []
    attempts: dict[tuple[int, int], list[Grade]] = defaultdict(list)
    for g in Grade.objects.filter(
        offering__sheet_state=Offering.SheetState.CONFIRMED,
        student_id__in={g.student_id for g in regular},
        course_id__in={g.course_id for g in regular},
    ).select_related("term", "offering"):
        attempts[(g.student_id, g.course_id)].append(g)
    groups: dict[tuple[int, int], CourseCandidates] = {}
    seen: set[tuple[int, int]] = set()
    for g in regular:
        key = (g.course_id, g.offering.college_id)
        group = groups.setdefault(
            key,
            CourseCandidates(course=g.course, college=g.offering.college, kind=Offering.Kind.MAKEUP, source=g.offering),
        )
        if (g.student_id, g.course_id) in seen:
            continue
        seen.add((g.student_id, g.course_id))
        reason, counted = _reason(attempts[(g.student_id, g.course_id)])
        if reason:
            group.candidates.append(Candidate(student=g.student, reason=reason, counted=counted))
    _attach_existing(groups, term=term, kind=Offering.Kind.MAKEUP)
    return _sort(groups.values())


def clearing_candidates(*, year: int, college=None, term=None) -> list[CourseCandidates]:
    """Candidates for the graduation clearing exam: enrolled students expected to graduate in
    ``year`` (of ``college``, if given) with an open failure or undecided deferral, by course and
    the student's college. With ``term``, the clearing sheets already created in it are attached."""
    students = Student.objects.filter(expected_graduation__year=year, status=Student.Status.ENROLLED)
    if college is not None:
        students = students.filter(college=college)
    students = list(students.select_related("college"))
    groups: dict[tuple[int, int], CourseCandidates] = {}
    for record in records_for(students).values():
        student = record.student
        for r in record.courses:
            reason, counted = _reason(r.attempts)
            if not reason:
                continue
            group = groups.setdefault(
                (r.course.pk, student.college_id),
                CourseCandidates(
                    course=r.course, college=student.college, kind=Offering.Kind.CLEARING, source=r.attempts[0].offering
                ),
            )
            group.candidates.append(Candidate(student=student, reason=reason, counted=counted))
    if term is not None:
        _attach_existing(groups, term=term, kind=Offering.Kind.CLEARING)
    return _sort(groups.values())


def _may_create(actor, college) -> bool:
    return is_academic_affairs(actor) or Role.TEACHING_SECRETARY in college_roles(actor, college.pk)


def _code(*, term, course, college, kind) -> str:
    base = f"{term.code}-{course.code}-{CODE_SUFFIX[kind]}-{college.code}"[:44]
    code, n = base, 1
    while Offering.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


@transaction.atomic
def makeup_offering_create(
    *,
    term,
    course,
    college,
    kind: str = Offering.Kind.MAKEUP,
    exam_date=None,
    instructors=(),
    actor,
    graduation_year: int | None = None,
) -> Offering:
    """Create the make-up (or clearing-exam) sheet of ``course`` for ``college`` in ``term`` and
    enrol its candidates; refused when one already exists or nobody needs it.

    A clearing exam takes the students expected to graduate in ``graduation_year`` (default: the
    year the term ends)."""
    if kind not in RETAKE_KINDS:
        raise ApplicationError(NOT_A_RETAKE_KIND)
    if not _may_create(actor, college):
        raise PermissionDenied(MAY_NOT_CREATE)
    # One creator at a time per course: the existence check below cannot race.
    Course.objects.select_for_update().filter(pk=course.pk).first()
    kind_label = Offering.Kind(kind).label
    existing = Offering.objects.filter(term=term, course=course, college=college, kind=kind).first()
    if existing is not None:
        raise ApplicationError(
            RETAKE_EXISTS % {"kind": kind_label, "course": course, "term": term, "code": existing.code}
        )
    if kind == Offering.Kind.MAKEUP:
        groups = makeup_candidates(term=term, college=college)
    else:
        year = graduation_year or term.end_date.year
        groups = clearing_candidates(year=year, college=college)
    group = next((g for g in groups if g.course.pk == course.pk and g.college.pk == college.pk), None)
    if group is None or not group.candidates:
        raise ApplicationError(NO_CANDIDATES % {"kind": kind_label, "course": course, "term": term})
    source = group.source
    offering = offering_create(
        code=_code(term=term, course=course, college=college, kind=kind),
        term=term,
        course=course,
        college=college,
        kind=kind,
        instructors=instructors,
        classes=(),
        exam_date=exam_date,
        scale=source.scale if source else Offering.Scale.HUNDRED,
        rounding=source.rounding if source else Offering.Rounding.INTEGER,
    )
    offering_enrol(offering=offering, students=group.students, via=Grade.Source.MAKEUP)
    return offering
