"""Defect 3 (formula injection): every spreadsheet the app writes stores text that would run as a
formula (``=``, ``+``, ``-``, ``@`` …) as text, through the one writer (registrar.spreadsheets.writer).

One parametrized test over every export path — the pre-filled grade sheet, the station blank sheets,
the import templates, the progression export, the status-change export and the admin's xlsx and
CSV exports — with an imported or entered value such as ``=HYPERLINK("http://x","y")``: reloaded
with openpyxl, the cell is a string (not a formula) with Excel's quote prefix, so it shows as typed
and stays text when edited; in CSV it gets OWASP's leading apostrophe.
"""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from grades.selectors.stations import blank_sheets
from grades.services import entry
from grades.services.imports import workbooks
from grades.services.imports.sheet import Column
from grades.services.stations import blank_sheets_xlsx
from registrar.roles import Role
from registrar.spreadsheets import append_row, csv_safe, new_workbook, workbook_bytes
from statuschange.models import SuspensionRequest
from students.models import Student
from students.resources import StudentResource
from tests.factories import ClassFactory, StationFactory, StudentFactory, UserFactory, staff
from tests.grades.factories import make_offering
from tests.grades.test_records_progression import flagged  # noqa: F401 - a fixture
from tests.statuschange.test_dashboard import make

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3", "=cmd|' /C calc'!A0"]


def _named(student: Student, value: str) -> Student:
    Student.objects.filter(pk=student.pk).update(name=value)
    student.refresh_from_db()
    return student


def grade_sheet(w, value, client):
    _named(w["student"], value)
    entry.composition_set(
        offering=w["offering"],
        actor=w["secretary"],
        components=[{"code": "regular", "weight": 40}, {"code": "final", "weight": 60}],
    )
    client.force_login(w["instructor"])
    return client.get(reverse("grades:offering_xlsx", args=[w["offering"].pk])).content


def station_blank_sheets(w, value, client):
    station = StationFactory()
    klass = ClassFactory(station=station)
    _named(StudentFactory(klass=klass, study_form=Student.StudyForm.CORRESPONDENCE), value)
    make_offering(term=w["term"], classes=[klass])
    return blank_sheets_xlsx(
        term=w["term"], class_sheets=blank_sheets(term=w["term"], classes=[klass], station=station)
    )


def import_template(w, value, client, monkeypatch):
    columns = (*workbooks.COLUMNS["courses"], Column("note", value, value, example=(value,), required=False))
    monkeypatch.setitem(workbooks.COLUMNS, "courses", columns)
    client.force_login(w["academic_affairs"])
    return client.get(reverse("grades:import_template", args=["courses"])).content


def progression(w, value, client):
    _named(w["students"][0], value)  # a repeat-year candidate of the flagged fixture
    client.force_login(w["dean"])
    return client.get(reverse("grades:progression_export") + f"?term={w['term'].pk}").content


def status_changes(w, value, client):
    make(SuspensionRequest, _named(StudentFactory(), value))
    client.force_login(staff(Role.ACADEMIC_AFFAIRS, username="aa_export"))
    return client.get(reverse("statuschange:export")).content


def _admin_export(w, value, client, fmt: str) -> bytes:
    _named(StudentFactory(klass=w["klass"]), value)
    client.force_login(UserFactory(username="root_export", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:students_student_export"),
        {
            "format": fmt,
            "resource": "0",
            "export_items": [],
            **{f"studentresource_{f}": "on" for f in StudentResource._meta.fields},
        },
    )
    assert response.status_code == 200, response.content[:300]
    return response.content


def admin_xlsx(w, value, client):
    return _admin_export(w, value, client, "0")


def admin_csv(w, value, client):
    return _admin_export(w, value, client, "1")


EXPORTS = {
    "grade sheet": grade_sheet,
    "blank sheets": station_blank_sheets,
    "import template": import_template,
    "progression": progression,
    "status changes": status_changes,
    "admin xlsx": admin_xlsx,
    "admin csv": admin_csv,
}


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("export", EXPORTS)
def test_every_export_stores_formula_like_text_as_text(export, value, flagged, client, monkeypatch):
    builder = EXPORTS[export]
    data = (
        builder(flagged, value, client, monkeypatch) if export == "import template" else builder(flagged, value, client)
    )
    if export == "admin csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        cells = [c for row in rows for c in row]
        assert "'" + value in cells and value not in cells
        return
    wb = load_workbook(io.BytesIO(data))
    found = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == value]
    assert found, f"{export}: {value} not in the workbook"
    for c in found:
        assert c.data_type == "s" and c.quotePrefix, (export, c.coordinate, c.data_type, c.quotePrefix)
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_the_writer_keeps_numbers_numeric_and_only_neutralises_text():
    wb = new_workbook()
    ws = wb.active
    day = dt.date(2026, 1, 10)
    append_row(ws, [-5, 3.5, "-5", "=1+1", "+1", "@x", "\t1", "\r1", "＝1", "plain", None, day, "a\x07b"])
    ws["A2"] = "=2+2"  # written another way: workbook_bytes neutralises it too
    ws["B2"] = -7
    row1, row2 = list(load_workbook(io.BytesIO(workbook_bytes(wb))).active.iter_rows(max_row=2))
    assert [(c.value, c.data_type) for c in row1[:2]] == [(-5, "n"), (3.5, "n")]
    for c in row1[2:9]:
        assert c.data_type == "s" and c.quotePrefix, c.coordinate
    assert row1[9].value == "plain" and not row1[9].quotePrefix
    assert row1[11].value.date() == day and row1[12].value == "a\ufffdb"  # a control character cannot be stored
    assert (row2[0].value, row2[0].data_type, row2[0].quotePrefix) == ("=2+2", "s", True)
    assert (row2[1].value, row2[1].data_type) == (-7, "n")
    assert [csv_safe(v) for v in ("=1", "-1", -1, "x", None)] == ["'=1", "'-1", -1, "x", None]
