"""Builders shared by the transcript tests (no tests here): confirmed records, the transcript world,
and small drivers for the two routes."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from grades.models import Course, Grade, Offering
from grades.scoring import grade_point_for
from registrar.roles import Role
from tests.factories import ClassFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering

TERM_NAMES = ("第一学期", "第二学期")


def term(i: int):
    """The i-th term of study from autumn 2024 (0 → 2024-2025-1, 1 → 2024-2025-2, …)."""
    year = 2024 + i // 2
    if i % 2 == 0:
        start, end = dt.date(year, 9, 1), dt.date(year + 1, 1, 20)
    else:
        start, end = dt.date(year + 1, 2, 20), dt.date(year + 1, 7, 10)
    code = f"{year}-{year + 1}-{i % 2 + 1}"
    return TermFactory(code=code, name=f"{year}-{year + 1}学年{TERM_NAMES[i % 2]}", start_date=start, end_date=end)


def _grade(offering, student, score) -> Grade:
    score = Decimal(str(score))
    return Grade(
        offering=offering,
        student=student,
        course_id=offering.course_id,
        term_id=offering.term_id,
        kind=offering.kind,
        score=score,
        passed=score >= 60,
        grade_point=grade_point_for(score),
    )


def build_record(
    students,
    *,
    courses: int = 6,
    terms: int = 2,
    college=None,
    makeup: bool = True,
    first_course_name: str = "高等数学",
) -> list[Course]:
    """Confirmed grades for ``students``: ``courses`` courses over ``terms`` terms; with ``makeup``
    the first course is failed (45) in its term and passed at the make-up (补考) in the next."""
    students = list(students)
    college = college or students[0].college
    made = []
    for i in range(courses):
        t = term(i % terms)
        course = CourseFactory(
            college=college,
            name=first_course_name if i == 0 else f"课程{i:02d}",
            name_en=f"Course {i:02d}",
            credits=Decimal("2.5") if i % 3 else Decimal("3.0"),
            kind=Course.Kind.ELECTIVE if i % 5 == 4 else Course.Kind.REQUIRED,
            assessment=Course.Assessment.CHECK if i % 4 == 3 else Course.Assessment.EXAM,
        )
        made.append(course)
        offering = make_offering(course=course, term=t, college=college)
        first_score = 45 if (makeup and i == 0) else 70 + (i * 7) % 28
        Grade.objects.bulk_create([_grade(offering, s, first_score) for s in students])
        if makeup and i == 0:
            retake = make_offering(
                course=course, term=term(1 if terms > 1 else 0), college=college, kind=Offering.Kind.MAKEUP
            )
            Grade.objects.bulk_create([_grade(retake, s, 60) for s in students])
    Offering.objects.filter(course__in=made).update(sheet_state=Offering.SheetState.CONFIRMED)
    return made


def pdf_text(document) -> tuple[str, int]:
    """(text of every page, number of pages) of a rendered document's stored PDF."""
    from pypdf import PdfReader

    with document.file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    return "".join(page.extract_text() for page in reader.pages), len(reader.pages)


def transcript_world() -> dict:
    """A class of three students with a confirmed record (a make-up included); the class's
    college teaching secretary, Academic Affairs, Student Affairs; another college's class and
    teaching secretary."""
    klass = ClassFactory()
    students = [StudentFactory(klass=klass, name=name) for name in ("李明", "王芳", "张伟")]
    build_record(students)
    other_class = ClassFactory()
    other_students = [StudentFactory(klass=other_class) for _ in range(2)]
    return {
        "klass": klass,
        "students": students,
        "student": students[0],
        "college": klass.college,
        "secretary": staff(Role.TEACHING_SECRETARY, college=klass.college, username="tx_secretary"),
        "academic_affairs": staff(Role.ACADEMIC_AFFAIRS, username="tx_aa"),
        "student_affairs": staff(Role.STUDENT_AFFAIRS, username="tx_sa"),
        "other_class": other_class,
        "other_students": other_students,
        "other_secretary": staff(Role.TEACHING_SECRETARY, college=other_class.college, username="tx_other_secretary"),
        "instructor": staff(Role.INSTRUCTOR, college=klass.college, username="tx_instructor"),
    }
