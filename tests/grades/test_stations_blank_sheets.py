"""C8 blank sheets: term sheets, make-up sheets and the graduating-class summary as PDF and Excel."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from grades.models import Grade, GradeComponent, Offering
from grades.selectors.stations import blank_sheets
from grades.services.results import RESULT_FIELDS, apply_result, evaluate
from grades.services.stations import blank_sheets_html, blank_sheets_pdf, blank_sheets_xlsx
from grades.services.teaching import offering_enrol
from registrar.roles import Role
from students.models import Student
from tests.factories import ClassFactory, StationFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering

URL = "/grades/stations/blank-sheets/"


@pytest.fixture
def sheets_world(db):
    station, other_station = StationFactory(), StationFactory()
    klass = ClassFactory(station=station)
    college = klass.college
    students = [StudentFactory(klass=klass, study_form=Student.StudyForm.CORRESPONDENCE) for _ in range(4)]
    term = TermFactory()
    algebra = make_offering(course=CourseFactory(college=college, name="高等代数"), term=term, classes=[klass])
    GradeComponent.objects.filter(offering=algebra).delete()
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=algebra, code="regular", weight=30, position=0),
            GradeComponent(offering=algebra, code="final", weight=70, position=1),
        ]
    )
    english = make_offering(course=CourseFactory(college=college, name="大学英语"), term=term, classes=[klass])
    makeup = make_offering(
        course=CourseFactory(college=college, name="线性规划"), term=term, kind=Offering.Kind.MAKEUP, college=college
    )
    offering_enrol(offering=makeup, students=students[:2], via=Grade.Source.MAKEUP)
    # an offering of another class, and one of another term: never on this class's sheets
    make_offering(term=term, classes=[ClassFactory()])
    make_offering(
        term=TermFactory(code="2024-2025-2", start_date=dt.date(2025, 2, 20), end_date=dt.date(2025, 7, 10)),
        classes=[klass],
    )
    return {
        "station": station,
        "other_station": other_station,
        "klass": klass,
        "college": college,
        "students": students,
        "term": term,
        "algebra": algebra,
        "english": english,
        "makeup": makeup,
        "station_staff": staff(Role.STATION, station=station, username="station"),
        "other_station_staff": staff(Role.STATION, station=other_station, username="other_station"),
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="secretary"),
        "academic_affairs": staff(Role.ACADEMIC_AFFAIRS, username="aa"),
        "instructor": staff(Role.INSTRUCTOR, college=college, username="instructor"),
    }


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_sheets_list_the_class_students_per_offering(sheets_world):
    w = sheets_world
    [cs] = blank_sheets(term=w["term"], classes=[w["klass"]])
    assert [s.offering for s in cs.term_sheets] == sorted([w["algebra"], w["english"]], key=lambda o: o.course.code)
    assert [s.offering for s in cs.makeup_sheets] == [w["makeup"]]
    algebra = next(s for s in cs.term_sheets if s.offering == w["algebra"])
    assert [c.code for c in algebra.components] == ["regular", "final"]
    assert [s.pk for s in algebra.students] == [s.pk for s in sorted(w["students"], key=lambda s: s.student_number)]
    assert {s.pk for s in cs.makeup_sheets[0].students} == {s.pk for s in w["students"][:2]}
    assert cs.summary is None  # the class graduates in 2028, not this academic year


def test_pdf_holds_every_sheet_with_the_students_names(sheets_world):
    w = sheets_world
    class_sheets = blank_sheets(term=w["term"], classes=[w["klass"]])
    html = blank_sheets_html(term=w["term"], class_sheets=class_sheets)
    assert '<html lang="zh-CN">' in html
    assert html.count('font-family: "Noto Serif CJK SC"') >= 4  # body and the @page margin boxes
    data = blank_sheets_pdf(term=w["term"], class_sheets=class_sheets)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3  # two term sheets and one make-up sheet, each on its own page
    texts = [page.extract_text() for page in reader.pages]
    for student in w["students"]:
        assert student.name in texts[0] and student.student_number in texts[0]
    assert "高等代数" in "".join(texts) and "大学英语" in "".join(texts)
    makeup_page = next(t for t in texts if "线性规划" in t)
    assert w["students"][0].name in makeup_page and w["students"][3].name not in makeup_page


def test_xlsx_has_one_sheet_per_offering_with_the_rows(sheets_world):
    w = sheets_world
    data = blank_sheets_xlsx(term=w["term"], class_sheets=blank_sheets(term=w["term"], classes=[w["klass"]]))
    wb = load_workbook(io.BytesIO(data))
    assert sorted(wb.sheetnames) == sorted([w["algebra"].code, w["english"].code, w["makeup"].code])
    ws = wb[w["algebra"].code]
    header = [c.value for c in ws[2]]
    assert header[:2] == ["Student number", "Name"] or header[:2] == ["学号", "姓名"]
    assert len(header) == 4  # number, name and the two components
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    expected = sorted(w["students"], key=lambda s: s.student_number)
    assert [(r[0], r[1]) for r in rows] == [(s.student_number, s.name) for s in expected]
    assert all(v is None for r in rows for v in r[2:])
    assert ws.max_row - 2 == 4
    assert wb[w["makeup"].code].max_row - 2 == 2


def test_station_filter_lists_only_its_students(sheets_world):
    w = sheets_world
    outsider = StudentFactory(klass=w["klass"], study_form=Student.StudyForm.CORRESPONDENCE, station=w["other_station"])
    offering_enrol(offering=w["english"], students=[outsider])
    [cs] = blank_sheets(term=w["term"], classes=[w["klass"]], station=w["station"])
    assert all(outsider not in s.students for s in cs.sheets)
    [cs] = blank_sheets(term=w["term"], classes=[w["klass"]])
    english = next(s for s in cs.term_sheets if s.offering == w["english"])
    assert outsider in english.students


def test_graduating_class_gets_a_summary_of_confirmed_counted_results(sheets_world):
    w = sheets_world
    klass = w["klass"]
    Student.objects.filter(klass=klass).update(expected_graduation=dt.date(2026, 6, 30))
    # algebra: confirmed, entered for the first student
    grade = Grade.objects.get(offering=w["algebra"], student=w["students"][0])
    stored, result = evaluate(
        scale="hundred",
        rounding="integer",
        kind="regular",
        weights=[("regular", 30), ("final", 70)],
        raw={"regular": 90, "final": 80},
    )
    apply_result(grade, components=stored, result=result, actor=w["secretary"])
    grade.save(update_fields=RESULT_FIELDS)
    Offering.objects.filter(pk=w["algebra"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    [cs] = blank_sheets(term=w["term"], classes=[klass])
    summary = cs.summary
    assert summary is not None and len(summary.rows) == 4
    col = summary.courses.index(w["algebra"].course)
    first = next(r for r in summary.rows if r.student.pk == w["students"][0].pk)
    assert first.cells[col] == "83" and first.credits == Decimal("3.0") and first.failures == 0
    data = blank_sheets_xlsx(term=w["term"], class_sheets=[cs])
    wb = load_workbook(io.BytesIO(data))
    assert len(wb.sheetnames) == 4  # three offerings plus the summary
    text = pdf_text(blank_sheets_pdf(term=w["term"], class_sheets=[cs]))
    assert "83" in text and w["students"][3].name in text


def test_page_downloads_pdf_and_xlsx(client, sheets_world):
    w = sheets_world
    client.force_login(w["secretary"])
    page = client.get(URL)
    assert page.status_code == 200
    params = {"term": w["term"].pk, "classes": [w["klass"].pk], "download": "1"}
    pdf = client.get(URL, {**params, "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert w["students"][0].name in pdf_text(pdf.content)
    xlsx = client.get(URL, {**params, "format": "xlsx"})
    assert xlsx.status_code == 200
    assert len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) == 3


def test_station_staff_print_only_their_classes(client, sheets_world):
    w = sheets_world
    params = {"term": w["term"].pk, "classes": [w["klass"].pk], "download": "1", "format": "xlsx"}
    client.force_login(w["station_staff"])
    ok = client.get(URL, {**params, "station": w["station"].pk})
    assert ok.status_code == 200 and ok["Content-Type"].startswith("application/vnd.openxml")
    client.force_login(w["other_station_staff"])
    refused = client.get(URL, {**params, "station": w["station"].pk})
    assert refused.status_code == 200 and refused["Content-Type"].startswith("text/html")
    assert refused.context["form"].errors.keys() >= {"classes"}


@pytest.mark.parametrize("who,status", [("instructor", 403), ("academic_affairs", 200), ("station_staff", 200)])
def test_blank_sheet_page_roles(client, sheets_world, who, status):
    client.force_login(sheets_world[who])
    assert client.get(URL).status_code == status


def test_queries_do_not_grow_with_classes_and_offerings(sheets_world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = sheets_world
    Student.objects.filter(klass=w["klass"]).update(expected_graduation=dt.date(2026, 6, 30))
    with CaptureQueriesContext(connection) as one:
        blank_sheets(term=w["term"], classes=[w["klass"]])
    more = []
    for _ in range(3):
        k = ClassFactory(station=w["station"], major=w["klass"].major)
        for _ in range(3):
            StudentFactory(
                klass=k, study_form=Student.StudyForm.CORRESPONDENCE, expected_graduation=dt.date(2026, 6, 30)
            )
        for _ in range(2):
            make_offering(term=w["term"], classes=[k])
        more.append(k)
    with django_assert_max_num_queries(len(one)):
        result = blank_sheets(term=w["term"], classes=[w["klass"], *more])
    assert sum(len(cs.sheets) for cs in result) == 3 + 3 * 2
