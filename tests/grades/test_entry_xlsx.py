"""U5: the offering's pre-filled Excel sheet — download, fill in, upload (all or nothing)."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from grades.models import Grade
from grades.services import entry as services
from registrar.exceptions import ApplicationError
from registrar.spreadsheets.base import NOT_XLSX
from tests.grades.factories import make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet(grades_world):
    services.composition_set(
        offering=grades_world["offering"],
        actor=grades_world["secretary"],
        components=[{"code": "regular", "weight": 40, "label": "平时"}, {"code": "final", "weight": 60}],
    )
    return grades_world


def workbook(offering):
    return load_workbook(io.BytesIO(services.gradesheet_xlsx(offering)))


def upload(wb, name="sheet.xlsx"):
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(
        name, buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def rows_by_number(ws):
    return {str(ws.cell(row=r, column=1).value): r for r in range(4, ws.max_row + 1)}


def snapshot(offering):
    return list(Grade.objects.filter(offering=offering).order_by("pk").values_list("components", "score", "mark"))


def test_download_is_prefilled_and_names_the_offering(sheet):
    w = sheet
    services.grades_enter(
        offering=w["offering"],
        actor=w["instructor"],
        rows={w["student"].student_number: {"regular": "90", "final": "缺考"}},
    )
    ws = workbook(w["offering"]).active
    assert ws["B1"].value == w["offering"].code
    assert [c.value for c in ws[2]] == ["student_number", "name", "class", "regular", "final", "grade_id"]
    assert ws.row_dimensions[2].hidden and ws.column_dimensions["F"].hidden and ws.protection.sheet
    assert ws["D3"].value == "平时 (40%)"
    rows = rows_by_number(ws)
    r = rows[w["student"].student_number]
    assert ws.cell(row=r, column=2).value == w["student"].name
    assert ws.cell(row=r, column=4).value == 90 and ws.cell(row=r, column=5).value == "缺考"
    assert ws.cell(row=r, column=6).value == Grade.objects.get(offering=w["offering"], student=w["student"]).pk
    assert len(rows) == 5


def test_upload_round_trip(sheet):
    w = sheet
    wb = workbook(w["offering"])
    ws = wb.active
    for r in rows_by_number(ws).values():
        ws.cell(row=r, column=4, value=80)
        ws.cell(row=r, column=5, value=70.5)
    r = rows_by_number(ws)[w["students"][1].student_number]
    ws.cell(row=r, column=5, value="缓考")
    outcome = services.grades_upload(offering=w["offering"], actor=w["instructor"], file=upload(wb))
    assert outcome.count == 5
    g = Grade.objects.get(offering=w["offering"], student=w["student"])
    assert g.components == {"regular": "80", "final": "70.5"} and g.score == Decimal("74.0")  # 32 + 42.3 = 74.3
    assert Grade.objects.get(offering=w["offering"], student=w["students"][1]).mark == "deferred"


def test_bad_rows_write_nothing_and_every_bad_row_and_column_is_reported(sheet):
    w = sheet
    services.grades_enter(
        offering=w["offering"],
        actor=w["instructor"],
        rows={w["students"][4].student_number: {"regular": "60", "final": "60"}},
    )
    before = snapshot(w["offering"])
    wb = workbook(w["offering"])
    ws = wb.active
    rows = rows_by_number(ws)
    for r in rows.values():
        ws.cell(row=r, column=4, value=88)
        ws.cell(row=r, column=5, value=77)
    s = w["students"]
    ws.cell(row=rows[s[0].student_number], column=4, value=120)  # regular out of range
    ws.cell(row=rows[s[1].student_number], column=5, value="优秀")  # not a score
    ws.cell(row=rows[s[2].student_number], column=4, value="abc")  # two bad cells in one row
    ws.cell(row=rows[s[2].student_number], column=5, value=-3)
    ws.protection.sheet = False
    ws.cell(row=ws.max_row + 1, column=1, value="2099000001")  # not on this sheet
    ws.cell(row=ws.max_row, column=4, value=50)
    ws.cell(row=ws.max_row + 1, column=1, value=None)  # no student number
    ws.cell(row=ws.max_row, column=4, value=50)
    with pytest.raises(ApplicationError) as exc:
        services.grades_upload(offering=w["offering"], actor=w["instructor"], file=upload(wb))
    got = {(e["row"], e["column"]) for e in exc.value.extra["errors"]}
    last = ws.max_row
    assert got == {
        (rows[s[0].student_number], "平时 (40%)"),
        (rows[s[1].student_number], ws["E3"].value),
        (rows[s[2].student_number], ws["D3"].value),
        (rows[s[2].student_number], ws["E3"].value),
        (last - 1, ws["A3"].value),
        (last, ws["A3"].value),
    }
    assert str(exc.value) == str(services.UPLOAD_REFUSED % {"count": 6})
    assert snapshot(w["offering"]) == before


def test_upload_of_another_offerings_sheet_is_refused(sheet):
    w = sheet
    other = make_offering(term=w["term"], classes=[w["klass"]], instructors=[w["instructor"]])
    wb = workbook(other)
    ws = wb.active
    for r in range(4, ws.max_row + 1):
        ws.cell(row=r, column=4, value=99)
    with pytest.raises(ApplicationError) as exc:
        services.grades_upload(offering=w["offering"], actor=w["instructor"], file=upload(wb))
    assert str(exc.value) == str(services.UPLOAD_OTHER_OFFERING % {"found": other.code, "offering": w["offering"].code})
    assert not Grade.objects.filter(offering=w["offering"]).exclude(components={}).exists()


def test_upload_refuses_a_file_that_is_not_a_workbook(sheet):
    w = sheet
    junk = SimpleUploadedFile("x.xlsx", b"not a workbook at all")
    with pytest.raises(ApplicationError) as exc:
        services.grades_upload(offering=w["offering"], actor=w["instructor"], file=junk)
    assert str(exc.value) == str(NOT_XLSX)


def test_upload_page_lists_errors_and_download_works(client, sheet):
    w = sheet
    client.force_login(w["instructor"])
    response = client.get(reverse("grades:offering_xlsx", args=[w["offering"].pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    rows = rows_by_number(ws)
    ws.cell(row=rows[w["student"].student_number], column=5, value=300)
    url = reverse("grades:offering_upload", args=[w["offering"].pk])
    response = client.post(url, {"file": upload(wb)})
    assert response.status_code == 200
    assert [(e["row"], e["student_number"]) for e in response.context["errors"]] == [
        (rows[w["student"].student_number], w["student"].student_number)
    ]
    assert 'id="upload-errors"' in response.content.decode()
    ws.cell(row=rows[w["student"].student_number], column=5, value=95)
    ws.cell(row=rows[w["student"].student_number], column=4, value=85)
    response = client.post(url, {"file": upload(wb)})
    assert response.status_code == 302
    assert Grade.objects.get(offering=w["offering"], student=w["student"]).score == Decimal("91.0")
    client.force_login(w["secretary"])
    assert client.post(url, {"file": upload(wb)}).status_code == 403
