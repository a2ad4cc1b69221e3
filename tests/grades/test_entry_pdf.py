"""U5: the grade sheet prints as PDF for the instructor's signature."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from grades.services import entry as services
from grades.views.entry import gradesheet_html

pytestmark = pytest.mark.django_db


def test_gradesheet_pdf_renders_with_names_scores_and_signature_lines(client, grades_world):
    w = grades_world
    services.composition_set(
        offering=w["offering"],
        actor=w["secretary"],
        components=[{"code": "regular", "weight": 30}, {"code": "final", "weight": 70}],
    )
    services.grades_enter(
        offering=w["offering"],
        actor=w["instructor"],
        rows={
            w["students"][0].student_number: {"regular": "85", "final": "58.5"},
            w["students"][1].student_number: {"regular": "90", "final": "缺考"},
        },
    )
    client.force_login(w["instructor"])
    response = client.get(reverse("grades:offering_pdf", args=[w["offering"].pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    compact = "".join(text.split())
    assert w["students"][0].name in compact and w["students"][4].name in compact
    assert w["students"][0].student_number in compact
    assert "66" in compact and "缺考" in compact
    assert w["offering"].code in compact


def test_gradesheet_template_names_the_cjk_font_everywhere(grades_world):
    html = gradesheet_html(grades_world["offering"])
    assert html.count('"Noto Serif CJK SC"') >= 5  # body, html and the three @page margin boxes
    assert '<html lang="zh-CN">' in html


def test_gradesheet_pdf_is_out_of_scope_for_other_colleges(client, grades_world):
    client.force_login(grades_world["other_instructor"])
    assert client.get(reverse("grades:offering_pdf", args=[grades_world["offering"].pk])).status_code == 404
