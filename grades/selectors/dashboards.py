"""Reads behind the college dashboards: progression flags (C10) and pass rates.

Progression rule (WORKFLOWS.md C10, thresholds are settings):
    * after the term's make-ups, a student failing at least ``REPEAT_YEAR_SHARE`` of the courses
      they took that term (counted attempts) is a 留级 (repeat the year) candidate;
    * after the graduation clearing exam, a student failing at least ``INCOMPLETE_SHARE`` of all
      their courses is a 肄业 (incomplete study) candidate, one failing fewer a 结业 (completion)
      candidate, one failing none graduates (毕业).

Every figure comes from ``records_for``: one query for the students and one for all their
confirmed grades, whatever the size of the college.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from grades.scoring import conf
from grades.selectors.records import CourseResult, StudentRecord, records_for
from students.models import Student

GRADUATE = "graduate"
COMPLETION = "completion"
INCOMPLETE = "incomplete"
CLASSIFICATION_LABELS = {
    GRADUATE: _("Graduates (毕业)"),
    COMPLETION: _("Completion certificate candidate (结业)"),
    INCOMPLETE: _("Incomplete-study candidate (肄业)"),
}


def _share(name: str) -> Fraction:
    return Fraction(conf()[name]).limit_denominator(1000)


def reaches(failed: int, total: int, share: Fraction) -> bool:
    """Whether ``failed`` of ``total`` is at least ``share`` (exact, so 1 of 2 reaches 0.5)."""
    return total > 0 and failed > 0 and Fraction(failed, total) >= share


@dataclass
class RepeatFlag:
    """A 留级 candidate: the term's courses they took and the failed ones that caused the flag."""

    student: Student
    taken: list[CourseResult]
    failed: list[CourseResult]

    @property
    def share(self) -> int:
        return round(100 * len(self.failed) / len(self.taken))


@dataclass
class GraduationRow:
    student: Student
    total: int
    failed: list[CourseResult]
    classification: str

    @property
    def classification_label(self):
        return CLASSIFICATION_LABELS[self.classification]


@dataclass
class PassRate:
    course: object
    students: int = 0
    first_passed: int = 0
    first_decided: int = 0
    passed: int = 0
    decided: int = 0

    @property
    def first_rate(self) -> int | None:
        return round(100 * self.first_passed / self.first_decided) if self.first_decided else None

    @property
    def rate(self) -> int | None:
        return round(100 * self.passed / self.decided) if self.decided else None


@dataclass
class ProgressionData:
    term: object
    year: int
    students: int = 0
    flags: list[RepeatFlag] = field(default_factory=list)
    graduation: list[GraduationRow] = field(default_factory=list)
    pass_rates: list[PassRate] = field(default_factory=list)

    @property
    def graduation_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSIFICATION_LABELS, 0)
        for row in self.graduation:
            counts[row.classification] += 1
        return counts


def term_courses(record: StudentRecord, term) -> list[CourseResult]:
    """The courses the student first sat in ``term`` (with their later make-ups)."""
    return [r for r in record.courses if r.term is not None and r.term.pk == term.pk]


def repeat_flag(record: StudentRecord, term) -> RepeatFlag | None:
    taken = term_courses(record, term)
    failed = [r for r in taken if r.failed]
    if reaches(len(failed), len(taken), _share("REPEAT_YEAR_SHARE")):
        return RepeatFlag(student=record.student, taken=taken, failed=failed)
    return None


def graduation_classification(record: StudentRecord) -> GraduationRow:
    failed = record.open_failures
    total = len(record.courses)
    if not failed:
        kind = GRADUATE
    elif reaches(len(failed), total, _share("INCOMPLETE_SHARE")):
        kind = INCOMPLETE
    else:
        kind = COMPLETION
    return GraduationRow(student=record.student, total=total, failed=failed, classification=kind)


def college_students(*, college_ids=None):
    """Enrolled students of the given colleges (None: every college), with what the pages show."""
    qs = Student.objects.filter(status=Student.Status.ENROLLED).select_related("klass", "college")
    if college_ids is not None:
        qs = qs.filter(college_id__in=list(college_ids))
    return qs.order_by("student_number")


def progression_data(*, term, year: int, college_ids=None) -> ProgressionData:
    """Repeat-year flags for ``term``, the graduation classification of the students expected
    to graduate in ``year`` and the pass rate of each of the term's courses — two queries."""
    students = list(college_students(college_ids=college_ids))
    records = records_for(students)
    data = ProgressionData(term=term, year=year, students=len(students))
    rates: dict[int, PassRate] = {}
    for student in students:
        record = records[student.pk]
        flag = repeat_flag(record, term)
        if flag:
            data.flags.append(flag)
        for r in term_courses(record, term):
            rate = rates.setdefault(r.course.pk, PassRate(course=r.course))
            rate.students += 1
            first = next((g for g in r.attempts if g.kind == "regular" and g.passed is not None), None)
            if first is not None:
                rate.first_decided += 1
                rate.first_passed += bool(first.passed)
            if r.counted is not None:
                rate.decided += 1
                rate.passed += bool(r.counted.passed)
        if student.expected_graduation.year == year:
            data.graduation.append(graduation_classification(record))
    data.flags.sort(key=lambda f: (-len(f.failed), f.student.student_number))
    order = {GRADUATE: 2, COMPLETION: 1, INCOMPLETE: 0}
    data.graduation.sort(key=lambda g: (order[g.classification], g.student.student_number))
    data.pass_rates = sorted(rates.values(), key=lambda p: p.course.code)
    return data


# --- who sees which college ----------------------------------------------------------------------
def scoped_college_ids(user, roles) -> list[int] | None:
    """The colleges whose records pages ``user`` may open holding one of ``roles`` there:
    None for every college (Academic Affairs, university-wide), else the college ids;
    PermissionDenied when the user holds none of the roles."""
    from django.core.exceptions import PermissionDenied

    from grades.permissions import is_academic_affairs
    from registrar.approvals.permissions import grants
    from registrar.roles import Scope

    if is_academic_affairs(user):
        return None
    ids = sorted({g.college_id for g in grants(user) if g.role in roles and g.scope == Scope.COLLEGE})
    if not ids:
        raise PermissionDenied
    return ids


def pick_college(raw, allowed: list[int] | None):
    """The college chosen by the ``college`` query parameter within ``allowed``.

    Every college allowed: the chosen one or None (all). Some allowed: the chosen one, 404 when
    it is not one of them, the first allowed when none is chosen."""
    from django.http import Http404

    from registrar.params import id_or_none
    from students.models import College

    college_id = None
    if raw not in (None, ""):
        college_id = id_or_none(raw)
        if college_id is None:  # not an id (junk, 0, negative, beyond bigint)
            raise Http404
    if college_id is None:
        if allowed is None:
            return None
        college_id = allowed[0]
    if allowed is not None and college_id not in allowed:
        raise Http404
    try:
        return College.objects.get(pk=college_id)
    except College.DoesNotExist:
        raise Http404 from None


def default_term():
    """The latest term that has started (else the earliest there is), or None."""
    from django.utils import timezone

    from grades.models import Term

    today = timezone.localdate()
    return (
        Term.objects.filter(start_date__lte=today).order_by("-start_date").first()
        or Term.objects.order_by("start_date").first()
    )


def progression_xlsx(data: ProgressionData | None) -> bytes:
    """The progression dashboard as an Excel workbook (the shared writer): repeat-year
    candidates, graduation classification and pass rates, one sheet each."""
    from django.utils.translation import gettext
    from openpyxl.styles import Font

    from registrar.spreadsheets import append_row, new_workbook, workbook_bytes

    wb = new_workbook()
    ws = wb.active
    ws.title = gettext("Repeat-year candidates")[:31]
    append_row(
        ws,
        [
            gettext("Student number"),
            gettext("Name"),
            gettext("Class"),
            gettext("Courses taken"),
            gettext("Courses failed"),
            gettext("Share failed"),
            gettext("Courses that caused the flag"),
        ],
    )
    for f in data.flags if data else []:
        append_row(
            ws,
            [
                f.student.student_number,
                f.student.name,
                f.student.klass.name,
                len(f.taken),
                len(f.failed),
                f.share / 100,
                "; ".join(f"{r.course.code} {r.course.name}" for r in f.failed),
            ],
        )
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for cell in row:
            cell.number_format = "0%"
    ws2 = wb.create_sheet(gettext("Graduation")[:31])
    append_row(
        ws2,
        [
            gettext("Student number"),
            gettext("Name"),
            gettext("Class"),
            gettext("Courses"),
            gettext("Failures open"),
            gettext("Classification"),
            gettext("Courses failed"),
        ],
    )
    for g in data.graduation if data else []:
        append_row(
            ws2,
            [
                g.student.student_number,
                g.student.name,
                g.student.klass.name,
                g.total,
                len(g.failed),
                str(g.classification_label),
                "; ".join(f"{r.course.code} {r.course.name}" for r in g.failed),
            ],
        )
    ws3 = wb.create_sheet(gettext("Pass rates")[:31])
    append_row(
        ws3,
        [
            gettext("Course code"),
            gettext("Course"),
            gettext("Students"),
            gettext("Passed at the first attempt"),
            gettext("Passed after make-ups"),
        ],
    )
    for r in data.pass_rates if data else []:
        append_row(
            ws3,
            [
                r.course.code,
                r.course.name,
                r.students,
                r.first_rate / 100 if r.first_rate is not None else None,
                r.rate / 100 if r.rate is not None else None,
            ],
        )
    for row in ws3.iter_rows(min_row=2, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = "0%"
    for sheet in (ws, ws2, ws3):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for letter, width in zip("ABCDEFG", (14, 12, 20, 10, 10, 14, 60), strict=True):
            sheet.column_dimensions[letter].width = width
    return workbook_bytes(wb)
