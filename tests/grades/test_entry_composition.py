"""U5 composition: the teaching secretary (or Academic Affairs) sets components and weights."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from grades.models import GradeComponent, Offering
from grades.scoring import WEIGHTS_NOT_100
from grades.services import entry as services
from registrar.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

THIRTY_SEVENTY = [{"code": "regular", "weight": 30, "label": "平时成绩"}, {"code": "final", "weight": 70}]


def components_of(offering):
    return list(GradeComponent.objects.filter(offering=offering).values_list("code", "weight"))


def test_secretary_sets_composition_and_it_is_recorded(grades_world):
    w = grades_world
    offering = services.composition_set(
        offering=w["offering"],
        actor=w["secretary"],
        components=THIRTY_SEVENTY,
        scale=Offering.Scale.FIVE_LEVEL,
        rounding=Offering.Rounding.ONE_DECIMAL,
    )
    offering.refresh_from_db()
    assert components_of(offering) == [("regular", 30), ("final", 70)]
    assert offering.components.get(code="regular").label == "平时成绩"
    assert offering.scale == "five_level" and offering.rounding == "one_decimal"
    assert offering.composition_set_by == w["secretary"] and offering.composition_set_at is not None


def test_academic_affairs_may_set_it_too(grades_world):
    w = grades_world
    services.composition_set(offering=w["offering"], actor=w["academic_affairs"], components=THIRTY_SEVENTY)
    assert components_of(w["offering"]) == [("regular", 30), ("final", 70)]


@pytest.mark.parametrize("weights,total", [((30, 60), 90), ((50, 60), 110)])
def test_weights_not_summing_to_100_are_refused_and_nothing_written(grades_world, weights, total):
    w = grades_world
    before = components_of(w["offering"])
    with pytest.raises(ApplicationError) as exc:
        services.composition_set(
            offering=w["offering"],
            actor=w["secretary"],
            components=[{"code": "regular", "weight": weights[0]}, {"code": "final", "weight": weights[1]}],
        )
    assert str(exc.value) == str(WEIGHTS_NOT_100 % {"total": total})
    w["offering"].refresh_from_db()
    assert components_of(w["offering"]) == before == [("final", 100)]
    assert w["offering"].composition_set_by is None


def test_bad_component_and_weight_are_refused(grades_world):
    w = grades_world
    with pytest.raises(ApplicationError) as exc:
        services.composition_set(
            offering=w["offering"], actor=w["secretary"], components=[{"code": "homework", "weight": 100}]
        )
    assert str(exc.value) == str(services.UNKNOWN_COMPONENT % {"code": "homework"})
    with pytest.raises(ApplicationError) as exc:
        services.composition_set(
            offering=w["offering"],
            actor=w["secretary"],
            components=[{"code": "regular", "weight": 0}, {"code": "final", "weight": 100}],
        )
    assert str(exc.value) == str(services.BAD_WEIGHT % {"component": "regular"})


def test_instructor_is_403_and_other_college_secretary_404(grades_world):
    w = grades_world
    with pytest.raises(PermissionDenied):
        services.composition_set(offering=w["offering"], actor=w["instructor"], components=THIRTY_SEVENTY)
    with pytest.raises(Http404):
        services.composition_set(offering=w["offering"], actor=w["other_secretary"], components=THIRTY_SEVENTY)
    assert components_of(w["offering"]) == [("final", 100)]


def test_refused_once_a_result_is_entered(grades_world):
    w = grades_world
    services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={w["student"].student_number: {"final": "80"}}
    )
    with pytest.raises(ApplicationError) as exc:
        services.composition_set(offering=w["offering"], actor=w["secretary"], components=THIRTY_SEVENTY)
    assert str(exc.value) == str(services.COMPOSITION_AFTER_ENTRY % {"offering": w["offering"].code})
    assert components_of(w["offering"]) == [("final", 100)]


def test_refused_unless_the_sheet_is_entering(grades_world):
    w = grades_world
    services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={s.student_number: {"final": "缓考"} for s in w["students"]}
    )
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    with pytest.raises(ApplicationError) as exc:
        services.composition_set(offering=w["offering"], actor=w["secretary"], components=THIRTY_SEVENTY)
    assert str(exc.value) == str(
        services.COMPOSITION_STATE % {"offering": w["offering"].code, "state": Offering.SheetState.SUBMITTED.label}
    )
    assert components_of(w["offering"]) == [("final", 100)]


# --- the page -------------------------------------------------------------------------------
def test_composition_page_saves_and_reports_the_scoring_message(client, grades_world):
    w = grades_world
    url = reverse("grades:offering_composition", args=[w["offering"].pk])
    client.force_login(w["secretary"])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"scale": "hundred", "rounding": "integer", "weight_regular": "30", "weight_final": "60"}
    )
    assert response.status_code == 200
    assert str(WEIGHTS_NOT_100 % {"total": 90}) in response.content.decode()
    assert components_of(w["offering"]) == [("final", 100)]
    response = client.post(
        url,
        {
            "scale": "hundred",
            "rounding": "integer",
            "weight_regular": "30",
            "weight_final": "70",
            "label_regular": "平时",
        },
    )
    assert response.status_code == 302
    assert components_of(w["offering"]) == [("regular", 30), ("final", 70)]


@pytest.mark.parametrize(
    "who,status",
    [("instructor", 403), ("other_secretary", 404), ("dean", 403), ("academic_affairs", 200), ("secretary", 200)],
)
def test_composition_page_permissions(client, grades_world, who, status):
    client.force_login(grades_world[who])
    url = reverse("grades:offering_composition", args=[grades_world["offering"].pk])
    assert client.get(url).status_code == status
