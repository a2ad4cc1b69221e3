"""The transcript document types: content from the student's record, the PDFs (Chinese and
English), seals, page count for 60 courses, and the 自动退学 ban."""

from __future__ import annotations

import math

import pytest
from pypdf import PdfReader

from grades.documents import seal_geometry, transcript_snapshot
from registrar.documents.models import Document
from registrar.documents.services import document_issue, document_render
from registrar.documents.types import AUTO_WITHDRAWN_REFUSED, find_doc_type, get_doc_type
from registrar.exceptions import ApplicationError
from students.models import Student
from tests.factories import StudentFactory, UserFactory
from tests.grades.test_transcripts_support import build_record, pdf_text, transcript_world


@pytest.fixture
def tx_world(db):
    return transcript_world()


def _render(student, code, seals=("college",), **kw):
    context = transcript_snapshot(
        student, language="en" if code == "transcript_en" else "zh", seals=seals, route="batch", **kw
    )
    doc = document_issue(doc_type=code, student=student, context=context, issued_by=UserFactory())
    doc = document_render(document_id=doc.pk)
    assert doc.status == Document.Status.READY, doc.error
    return doc


def test_both_types_are_registered_with_request_context_builders():
    for code in ("transcript", "transcript_en"):
        doc_type = find_doc_type(code)
        assert doc_type is not None and doc_type.context_builder
        assert doc_type.template.startswith("grades/transcript_")


def test_snapshot_lists_courses_by_term_with_the_counted_result_and_totals(tx_world):
    student = tx_world["student"]
    snap = transcript_snapshot(student, language="zh", seals=("college",), route="personal")
    assert [t["code"] for t in snap["terms"]] == ["2024-2025-1", "2024-2025-2"]
    courses = [c for t in snap["terms"] for c in t["courses"]]
    assert len(courses) == 6  # the failed first attempt and its make-up are one course
    maths = next(c for c in courses if c["name"] == "高等数学")
    assert maths["result"] == "60" and maths["attempt"] == "makeup" and maths["passed"] is True
    assert snap["terms"][0]["courses"][0]["name"] == "高等数学"  # listed in the term it was first taken
    assert {c["kind"] for c in courses} == {"required", "elective"}
    assert {c["assessment"] for c in courses} == {"exam", "check"}
    assert snap["totals"]["courses"] == 6
    assert snap["totals"]["credits_earned"] == "16"  # 2 × 3.0 + 4 × 2.5
    assert snap["totals"]["gpa"] and snap["totals"]["average"]
    assert snap["student"]["student_number"] == student.student_number
    assert snap["student"]["enrollment_date"] == "2024-09-01"
    assert [s["code"] for s in snap["seals"]] == ["college"]
    assert student.college.name in snap["seals"][0]["name"]


def test_unconfirmed_grades_stay_off_the_transcript(tx_world):
    from grades.models import Offering

    student = tx_world["student"]
    Offering.objects.filter(course__name="课程05").update(sheet_state=Offering.SheetState.SUBMITTED)
    snap = transcript_snapshot(student, language="zh", seals=("college",), route="personal")
    names = [c["name"] for t in snap["terms"] for c in t["courses"]]
    assert "课程05" not in names and len(names) == 5


def test_chinese_pdf_contains_the_student_and_a_course_in_the_cjk_font(tx_world):
    student = tx_world["student"]
    doc = _render(student, "transcript", seals=("college", "academic_affairs"))
    text, pages = pdf_text(doc)
    assert student.name in text and student.student_number in text
    assert "高等数学" in text
    assert doc.serial in text
    with doc.file.open("rb") as fh:
        reader = PdfReader(fh)
        fonts = {
            str(f.get_object()["/BaseFont"]).replace("-", "")
            for p in reader.pages
            for f in p["/Resources"]["/Font"].values()
        }
    assert any("NotoSerifCJK" in f for f in fonts), fonts
    assert pages == 1


def test_english_pdf_uses_english_course_names_and_labels(tx_world):
    student = tx_world["student"]
    doc = _render(student, "transcript_en")
    text, _pages = pdf_text(doc)
    assert "ACADEMIC TRANSCRIPT" in text and "Credits earned" in text
    assert "Course 00" in text and "Course 05" in text  # name_en of 高等数学 and 课程05
    assert "高等数学" not in text
    assert student.name in text


def test_english_name_falls_back_to_the_chinese_name(tx_world):
    from grades.models import Course

    Course.objects.filter(name="课程02").update(name_en="")
    doc = _render(tx_world["student"], "transcript_en")
    assert "课程02" in pdf_text(doc)[0]


@pytest.mark.parametrize("code", ["transcript", "transcript_en"])
def test_sixty_courses_fit_on_at_most_two_pages(db, code):
    student = StudentFactory(name="欧阳明月")
    build_record([student], courses=60, terms=8)
    doc = _render(student, code, seals=("college", "academic_affairs"))
    text, pages = pdf_text(doc)
    assert pages <= 2
    assert doc.context["totals"]["courses"] == 60
    assert "课程59" in text or "Course 59" in text  # the last course is printed


def test_seal_geometry_puts_every_character_on_the_ring():
    name = "示范大学计算机与信息工程学院"
    geo = seal_geometry(name)
    assert "".join(c["ch"] for c in geo["chars"]) == name
    for c in geo["chars"]:
        distance = math.hypot(c["x"] - geo["centre"], c["y"] - geo["centre"])
        assert abs(distance - geo["size"] * 0.355) < 0.05
    angles = [c["rot"] for c in geo["chars"]]
    assert angles == sorted(angles) and angles[0] == -angles[-1]  # symmetric over the top
    assert len(geo["star"].split()) == 10  # a five-pointed star


@pytest.mark.parametrize("code", ["transcript", "transcript_en"])
def test_auto_withdrawn_student_gets_no_transcript(tx_world, code):
    student = tx_world["student"]
    Student.objects.filter(pk=student.pk).update(
        status=Student.Status.WITHDRAWN, withdrawal_kind=Student.WithdrawalKind.AUTOMATIC
    )
    student.refresh_from_db()
    context = transcript_snapshot(student, language="zh", seals=("college",), route="personal")
    with pytest.raises(ApplicationError) as exc:
        document_issue(doc_type=code, student=student, context=context, issued_by=UserFactory())
    assert str(exc.value.message) == str(
        AUTO_WITHDRAWN_REFUSED % {"type": get_doc_type(code).label, "name": student.name}
    )
    assert not Document.objects.exists()
