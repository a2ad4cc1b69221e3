"""U5 through the API: entry → submit → confirm with two users (token auth), per-cell errors."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from grades.models import Grade, Offering
from grades.selectors.records import student_record
from grades.services import entry as services

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_entry_submit_confirm_flow_with_two_users(grades_world):
    w = grades_world
    teacher, office = api(w["instructor"]), api(w["academic_affairs"])
    pk = w["offering"].pk

    listed = teacher.get(reverse("grades-api:offerings"))
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()["results"]] == [pk]
    assert listed.json()["results"][0]["total"] == 5

    sheet = teacher.get(reverse("grades-api:offering", args=[pk])).json()
    assert sheet["sheet_state"] == "entering" and sheet["entry_open"] is True
    assert [c["code"] for c in sheet["components"]] == ["final"]
    assert len(sheet["grades"]) == 5

    rows = {g["student_number"]: {"final": "78"} for g in sheet["grades"]}
    rows[sheet["grades"][0]["student_number"]] = {"final": "缺考"}
    response = teacher.put(reverse("grades-api:offering-grades", args=[pk]), {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["saved"] == 5 and response.json()["sheet"]["entered"] == 5

    assert office.post(reverse("grades-api:offering-confirm", args=[pk])).status_code == 400  # not submitted
    assert teacher.post(reverse("grades-api:offering-submit", args=[pk])).json()["sheet_state"] == "submitted"
    locked = teacher.post(reverse("grades-api:offering-grades", args=[pk]), {"rows": rows}, format="json")
    assert locked.status_code == 400
    assert locked.json()["detail"] == str(
        services.SHEET_LOCKED % {"offering": w["offering"].code, "state": Offering.SheetState.SUBMITTED.label}
    )

    assert teacher.post(reverse("grades-api:offering-confirm", args=[pk])).status_code == 403
    assert student_record(w["students"][1]).grades == []
    confirmed = office.post(reverse("grades-api:offering-confirm", args=[pk]))
    assert confirmed.status_code == 200 and confirmed.json()["sheet_state"] == "confirmed"
    assert [g.score for g in student_record(w["students"][1]).grades] == [78]


def test_bad_cells_answer_400_with_every_cell_and_write_nothing(grades_world):
    w = grades_world
    teacher = api(w["instructor"])
    s = w["students"]
    response = teacher.post(
        reverse("grades-api:offering-grades", args=[w["offering"].pk]),
        {
            "rows": {
                s[0].student_number: {"final": "150"},
                s[1].student_number: {"final": "良好"},
                s[2].student_number: {"final": 88},
            }
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == str(services.ENTRY_REFUSED % {"count": 2})
    assert {(e["student_number"], e["component"]) for e in body["errors"]} == {
        (s[0].student_number, "final"),
        (s[1].student_number, "final"),
    }
    assert not Grade.objects.filter(offering=w["offering"]).exclude(components={}).exists()


def test_return_through_the_api(grades_world):
    w = grades_world
    services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={st.student_number: {"final": "60"} for st in w["students"]}
    )
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    office = api(w["academic_affairs"])
    url = reverse("grades-api:offering-return", args=[w["offering"].pk])
    assert office.post(url, {}, format="json").status_code == 400
    response = office.post(url, {"reason": "请复核"}, format="json")
    assert response.status_code == 200 and response.json()["sheet_state"] == "entering"


def test_api_scope_and_roles(grades_world):
    w = grades_world
    pk = w["offering"].pk
    outsider = api(w["other_instructor"])
    assert outsider.get(reverse("grades-api:offering", args=[pk])).status_code == 404
    assert (
        outsider.put(reverse("grades-api:offering-grades", args=[pk]), {"rows": {}}, format="json").status_code == 404
    )
    assert outsider.get(reverse("grades-api:offerings")).json()["results"] == []
    secretary = api(w["secretary"])
    assert secretary.get(reverse("grades-api:offering", args=[pk])).status_code == 200
    assert (
        secretary.put(
            reverse("grades-api:offering-grades", args=[pk]),
            {"rows": {w["student"].student_number: {"final": "1"}}},
            format="json",
        ).status_code
        == 403
    )
    assert secretary.post(reverse("grades-api:offering-submit", args=[pk])).status_code == 403
    assert api(w["student"].user).get(reverse("grades-api:offerings")).status_code == 403
    assert APIClient().get(reverse("grades-api:offerings")).status_code in (401, 403)


def test_schema_builds(client, grades_world):
    client.force_login(grades_world["academic_affairs"])
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    assert b"/api/grades/offerings/{id}/grades/" in response.content
