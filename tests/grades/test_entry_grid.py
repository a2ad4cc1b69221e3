"""U5 entry: the grades_enter service and the grid page (form POST and JSON autosave)."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from grades.models import Grade, Offering
from grades.services import entry as services
from registrar.exceptions import ApplicationError
from tests.grades.factories import make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet(grades_world):
    """grades_world with a 30/70 composition."""
    services.composition_set(
        offering=grades_world["offering"],
        actor=grades_world["secretary"],
        components=[{"code": "regular", "weight": 30}, {"code": "final", "weight": 70}],
    )
    return grades_world


def grade_of(w, student):
    return Grade.objects.get(offering=w["offering"], student=student)


def results(w):
    return list(
        Grade.objects.filter(offering=w["offering"])
        .order_by("pk")
        .values_list("components", "score", "level", "mark", "passed")
    )


def test_enter_computes_the_composite(sheet):
    w = sheet
    s0, s1, s2, s3 = w["students"][:4]
    outcome = services.grades_enter(
        offering=w["offering"],
        actor=w["instructor"],
        rows={
            s0.student_number: {"regular": "85", "final": "58.5"},  # 25.5 + 40.95 = 66.45 → 66
            s1.student_number: {"regular": "90", "final": "缺考"},
            grade_of(w, s2).pk: {"regular": "70"},  # by grade id; final still missing
            str(grade_of(w, s3).pk): {"regular": "60", "final": "缓考"},
        },
    )
    assert outcome.count == 4
    g0, g1, g2, g3 = (grade_of(w, s) for s in (s0, s1, s2, s3))
    assert g0.score == Decimal("66.0") and g0.passed is True and g0.grade_point == Decimal("1.50")
    assert g0.components == {"regular": "85", "final": "58.5"}
    assert g0.entered_by == w["instructor"] and g0.entered_at is not None
    assert g1.mark == Grade.Mark.ABSENT and g1.passed is False
    assert g2.components == {"regular": "70"} and g2.score is None and not g2.is_entered
    assert g3.mark == Grade.Mark.DEFERRED and g3.passed is None


def test_partial_rows_merge_and_unchanged_rows_are_not_rewritten(sheet):
    w = sheet
    number = w["student"].student_number
    services.grades_enter(offering=w["offering"], actor=w["instructor"], rows={number: {"regular": "80"}})
    services.grades_enter(offering=w["offering"], actor=w["instructor"], rows={number: {"final": "90"}})
    g = grade_of(w, w["student"])
    assert g.components == {"regular": "80", "final": "90"} and g.score == Decimal("87.0")
    again = services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={number: {"regular": "80", "final": "90"}}
    )
    assert again.count == 0
    cleared = services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={number: {"regular": "", "final": ""}}
    )
    g.refresh_from_db()
    assert cleared.count == 1 and g.components == {} and g.score is None and g.entered_by is None


def test_every_bad_cell_is_reported_and_nothing_is_written(sheet):
    w = sheet
    s = w["students"]
    services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={s[4].student_number: {"regular": "50", "final": "50"}}
    )
    before = results(w)
    with pytest.raises(ApplicationError) as exc:
        services.grades_enter(
            offering=w["offering"],
            actor=w["instructor"],
            rows={
                s[0].student_number: {"regular": "85", "final": "101"},
                s[1].student_number: {"regular": "abc", "final": "72.55"},
                s[2].student_number: {"regular": "88", "final": "90"},  # a good row: not written either
                s[4].student_number: {"homework": "10"},
                "9999999999": {"final": "60"},
            },
        )
    errors = exc.value.extra["errors"]
    cells = {(e["student_number"], e["component"]) for e in errors}
    assert cells == {
        (s[0].student_number, "final"),
        (s[1].student_number, "regular"),
        (s[1].student_number, "final"),
        (s[4].student_number, "homework"),
        ("9999999999", ""),
    }
    assert str(exc.value) == str(services.ENTRY_REFUSED % {"count": 5})
    assert all(e["message"] for e in errors)
    assert results(w) == before


def test_special_marks_and_scales(grades_world):
    w = grades_world
    five = make_offering(
        term=w["term"], classes=[w["klass"]], instructors=[w["instructor"]], scale=Offering.Scale.FIVE_LEVEL
    )
    s0, s1, s2 = w["students"][:3]
    services.grades_enter(
        offering=five,
        actor=w["instructor"],
        rows={
            s0.student_number: {"final": "良"},
            s1.student_number: {"final": "作弊"},
            s2.student_number: {"final": "免修"},
        },
    )
    got = {g.student_id: g for g in Grade.objects.filter(offering=five)}
    assert got[s0.pk].level == "良" and got[s0.pk].passed is True
    assert got[s1.pk].mark == "cheating" and got[s1.pk].passed is False
    assert got[s2.pk].mark == "exempt" and got[s2.pk].passed is True
    pf = make_offering(
        term=w["term"], classes=[w["klass"]], instructors=[w["instructor"]], scale=Offering.Scale.PASS_FAIL
    )
    with pytest.raises(ApplicationError) as exc:
        services.grades_enter(offering=pf, actor=w["instructor"], rows={s0.student_number: {"final": "80"}})
    assert exc.value.extra["errors"][0]["component"] == "final"
    services.grades_enter(offering=pf, actor=w["instructor"], rows={s0.student_number: {"final": "不合格"}})
    assert Grade.objects.get(offering=pf, student=s0).passed is False


def test_only_the_offerings_instructor_enters(sheet):
    w = sheet
    rows = {w["student"].student_number: {"regular": "80", "final": "80"}}
    for who in ("secretary", "academic_affairs", "dean"):
        with pytest.raises(PermissionDenied):
            services.grades_enter(offering=w["offering"], actor=w[who], rows=rows)
    with pytest.raises(Http404):
        services.grades_enter(offering=w["offering"], actor=w["other_instructor"], rows=rows)
    assert not grade_of(w, w["student"]).is_entered


# --- the page -------------------------------------------------------------------------------
def test_grid_renders_stable_hooks(client, sheet):
    w = sheet
    client.force_login(w["instructor"])
    response = client.get(reverse("grades:offering_detail", args=[w["offering"].pk]))
    html = response.content.decode()
    assert response.status_code == 200 and response.context["entry"]["can_edit"]
    number = w["student"].student_number
    assert f'name="cell:{number}:regular"' in html and f'data-student="{number}"' in html
    assert 'id="save-grades"' in html and 'id="grid-config"' in html and "grades/grid.js" in html


def test_grid_is_read_only_for_others_and_404_out_of_scope(client, sheet):
    w = sheet
    url = reverse("grades:offering_detail", args=[w["offering"].pk])
    client.force_login(w["secretary"])
    response = client.get(url)
    assert response.status_code == 200 and not response.context["entry"]["can_edit"]
    assert 'class="form-control form-control-sm grade-cell' not in response.content.decode()
    number = w["student"].student_number
    assert client.post(url, {f"cell:{number}:final": "80"}).status_code == 403
    client.force_login(w["other_instructor"])
    assert client.get(url).status_code == 404


def test_grid_form_post_saves_or_shows_every_error(client, sheet):
    w = sheet
    url = reverse("grades:offering_detail", args=[w["offering"].pk])
    client.force_login(w["instructor"])
    n0, n1 = w["students"][0].student_number, w["students"][1].student_number
    response = client.post(
        url,
        {f"cell:{n0}:regular": "80", f"cell:{n0}:final": "90", f"cell:{n1}:regular": "x", f"cell:{n1}:final": "200"},
    )
    assert response.status_code == 200
    assert len(response.context["errors"]) == 2
    assert 'value="x"' in response.content.decode()  # the typed value is kept for correcting
    assert not grade_of(w, w["students"][0]).is_entered
    response = client.post(url, {f"cell:{n0}:regular": "80", f"cell:{n0}:final": "90"})
    assert response.status_code == 302
    assert grade_of(w, w["students"][0]).score == Decimal("87.0")


def test_grid_json_autosave(client, sheet):
    w = sheet
    url = reverse("grades:offering_detail", args=[w["offering"].pk])
    client.force_login(w["instructor"])
    n0 = w["student"].student_number
    response = client.post(
        url, json.dumps({"rows": {n0: {"regular": "100", "final": "缺考"}}}), content_type="application/json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] and data["saved"] == 1 and data["rows"][n0]["result"] == "缺考"
    response = client.post(url, json.dumps({"rows": {n0: {"regular": "101"}}}), content_type="application/json")
    assert response.status_code == 400
    data = response.json()
    assert not data["ok"] and data["errors"][0]["student_number"] == n0
    assert data["errors"][0]["component"] == "regular"
    assert grade_of(w, w["student"]).components == {"regular": "100", "final": "absent"}
    client.force_login(w["secretary"])
    response = client.post(url, json.dumps({"rows": {n0: {"regular": "1"}}}), content_type="application/json")
    assert response.status_code == 403 and response.json()["ok"] is False
