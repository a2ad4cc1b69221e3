"""The spreadsheet intake (registrar.spreadsheets): what it accepts, the limits as settings, the
sources it reads. The hostile corpus through every door is R4 (tests/reliability/
test_r4_hostile_spreadsheets.py); the writer is tested over every export in
tests/grades/test_exports_formula_injection.py."""

import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from registrar.spreadsheets import SpreadsheetRefused, check_upload, open_workbook, read_rows
from registrar.spreadsheets import base as msg
from registrar.spreadsheets.importexport import CSV_NOT_UTF8
from tests.factories import UserFactory
from tests.hostile_sheets import NS, package, sheet_xml


def benchmark_sized(rows: int = 100_000) -> bytes:
    """The shape of bench/grade_import.py's file: a header and ``rows`` rows of six columns."""
    body = [
        '<row r="1">'
        + "".join(
            f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
            for c, h in zip("ABCDEF", ("开课代码", "学号", "姓名", "平时", "期中", "期末"), strict=True)
        )
        + "</row>"
    ]
    for i in range(2, rows + 2):
        body.append(
            f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>2025-2026-1-BC{i % 200:04d}-{i // 100:04d}</t>'
            f'</is></c><c r="B{i}" t="inlineStr"><is><t>2024{i:06d}</t></is></c><c r="C{i}" t="inlineStr">'
            f'<is><t>测试</t></is></c><c r="D{i}"><v>{40 + i % 61}</v></c><c r="F{i}"><v>{100 - i % 61}</v>'
            "</c></row>"
        )
    return package(
        [
            (
                "成绩",
                f'<worksheet xmlns="{NS}"><dimension ref="A1:F{rows + 1}"/><sheetData>{"".join(body)}'
                "</sheetData></worksheet>",
            )
        ]
    )


def test_a_file_the_size_of_the_100000_row_grade_import_is_accepted(settings):
    data = benchmark_sized()
    rows = read_rows(data)
    assert len(rows) == 100_001 and rows[1][1] == "2024000002" and rows[-1][5] == 100 - 100_001 % 61


@pytest.fixture
def small_limits(settings):
    settings.REGISTRAR = {
        **settings.REGISTRAR,
        "SPREADSHEETS": {
            **settings.REGISTRAR["SPREADSHEETS"],
            "MAX_ROWS": 10,
            "MAX_COLUMNS": 3,
            "MAX_CELLS": 20,
            "MAX_UPLOAD_BYTES": 50_000,
        },
    }


def test_the_limits_are_settings(small_limits):
    assert read_rows(package([("S", sheet_xml([[1, 2, 3]] * 6))]))  # 18 cells
    for rows, message in (
        ([[1]] * 11, msg.TOO_MANY_ROWS),
        ([[1, 2, 3, 4]], msg.TOO_MANY_COLUMNS),
        ([[1, 2, 3]] * 7, msg.TOO_MANY_CELLS),
    ):
        with pytest.raises(SpreadsheetRefused) as exc:
            read_rows(package([("S", sheet_xml(rows))]))
        assert exc.value.message.startswith(str(message).split("“")[0].split("%")[0]), exc.value.message
    with pytest.raises(SpreadsheetRefused) as exc:
        check_upload(b"PK\x03\x04" + bytes(60_000))
    assert exc.value.message == msg.FILE_TOO_LARGE % {"size": "58.6\xa0KB", "limit": "48.8\xa0KB"}


def test_paths_uploads_and_file_objects_are_read_alike(tmp_path):
    data = package([("S", sheet_xml([["学号", "期末"], ["2024000001", 80]]))])
    expected = [["学号", "期末"], ["2024000001", 80.0]]
    (tmp_path / "a.xlsx").write_bytes(data)
    (tmp_path / "a.XLSX").write_bytes(data)
    assert read_rows(tmp_path / "a.xlsx") == read_rows(str(tmp_path / "a.XLSX")) == expected
    upload = SimpleUploadedFile("a.xlsx", data)
    upload.read(5)
    assert read_rows(upload) == expected and upload.tell() == 0  # read from the start, left at the start
    big = TemporaryUploadedFile("a.xlsx", "application/octet-stream", len(data), None)
    big.write(data)
    big.seek(0)
    assert os.path.exists(big.temporary_file_path()) and read_rows(big) == expected
    workbook = open_workbook(io.BytesIO(data))
    assert workbook.sheet_names == ["S"] and workbook.rows("S") == expected


def test_a_workbook_whose_cells_lack_references_is_placed_like_calamine_places_them():
    xml = (
        f'<worksheet xmlns="{NS}"><sheetData><row><c><v>1</v></c><c><v>2</v></c></row><row r="4"><c r="B4">'
        "<v>3</v></c><c><v>4</v></c></row></sheetData></worksheet>"
    )
    assert read_rows(package([("S", xml)])) == [[1.0, 2.0, ""], ["", "", ""], ["", "", ""], ["", 3.0, 4.0]]


@pytest.mark.django_db
def test_the_admin_refuses_a_csv_that_is_not_utf8(client):
    client.force_login(UserFactory(username="root_csv", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:students_college_import"),
        {
            "format": "1",
            "resource": "0",
            "import_file": SimpleUploadedFile(
                "c.csv", "code,name\nX1,张三学院\n".encode("gbk"), content_type="text/csv"
            ),
        },
    )
    assert response.status_code == 200 and response.context.get("confirm_form") is None
    with translation.override(settings.LANGUAGE_CODE):  # the language the admin page was rendered in
        assert escape(str(CSV_NOT_UTF8)) in response.content.decode()
