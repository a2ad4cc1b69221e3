"""Issue 9, item 4: grade sheets and station submissions are in the one inbox (the kernel's
in-flight table), with links to their pages, and leave it when their work is done."""

import pytest
from django.urls import reverse

from grades.models import Offering
from grades.services import entry as services
from grades.services.stations import (
    station_submission_accept,
    station_submission_create,
    station_submission_resubmit,
    station_submission_return,
)
from grades.services.work import SHEET_KIND, SUBMISSION_KIND
from registrar.approvals.models import WorkItem
from registrar.approvals.selectors import inbox_page_rows
from registrar.approvals.workitems import workitems_rebuild
from tests.grades.test_sheet_events import fill
from tests.grades.test_stations_submissions import filled_blank_sheet, sw  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _keys(user):
    rows, counts, _total = inbox_page_rows(user, offset=0, limit=25)
    return {(r.kind, r.pk) for r in rows}, counts


def test_a_submitted_sheet_awaits_academic_affairs_until_confirmed(client, grades_world):
    w = grades_world
    offering = w["offering"]
    fill(w)
    services.sheet_submit(offering=offering, actor=w["instructor"])
    key = (SHEET_KIND.code, offering.pk)
    keys, counts = _keys(w["academic_affairs"])
    assert key in keys and counts[SHEET_KIND.code] == 1
    assert key not in _keys(w["instructor"])[0]

    client.force_login(w["academic_affairs"])
    page = client.get(reverse("approvals:inbox"))
    html = page.content.decode()
    assert reverse("grades:offering_detail", args=[offering.pk]) in html
    assert offering.course.name in html
    assert any(t["code"] == SHEET_KIND.code and t["count"] == 1 for t in page.context["tabs"])
    assert client.get(reverse("approvals:inbox"), {"type": SHEET_KIND.code}).context["all_count"] == 1
    api = client.get(reverse("api:inbox")).json()
    assert {"kind": SHEET_KIND.code, "id": offering.pk}.items() <= api["results"][0].items()

    services.sheet_return(offering=offering, actor=w["academic_affairs"], reason="重新核对")
    assert key not in _keys(w["academic_affairs"])[0]
    services.sheet_submit(offering=offering, actor=w["instructor"])
    assert key in _keys(w["academic_affairs"])[0]
    services.sheet_confirm(offering=offering, actor=w["academic_affairs"])
    assert key not in _keys(w["academic_affairs"])[0]
    assert not WorkItem.objects.open().filter(kind=SHEET_KIND.code).exists()


def test_station_results_await_the_college_then_the_station(sw):
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 50], s3: [60, 70]}),
        actor=w["station_staff"],
    )
    key = (SUBMISSION_KIND.code, sub.pk)
    assert key in _keys(w["secretary"])[0]
    assert key in _keys(w["academic_affairs"])[0]
    assert key not in _keys(w["other_secretary"])[0]
    assert key not in _keys(w["station_staff"])[0]

    station_submission_return(submission=sub, actor=w["secretary"], reason="学生2有误")
    assert key not in _keys(w["secretary"])[0]
    assert key in _keys(w["station_staff"])[0]
    assert key not in _keys(w["other_station_staff"])[0]

    before = set(WorkItem.objects.open().values_list("kind", "object_id", "role", "stage"))
    workitems_rebuild()  # the backfill gives the same rows
    assert set(WorkItem.objects.open().values_list("kind", "object_id", "role", "stage")) == before

    sub = station_submission_resubmit(
        submission=sub,
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 70]}),
        actor=w["station_staff"],
    )
    assert key in _keys(w["secretary"])[0]
    station_submission_accept(submission=sub, actor=w["secretary"])
    assert not WorkItem.objects.open().filter(kind=SUBMISSION_KIND.code).exists()
    assert Offering.objects.get(pk=w["offering"].pk).sheet_state == Offering.SheetState.ENTERING


def test_academic_affairs_home_lists_the_submitted_sheet(client, grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    client.force_login(w["academic_affairs"])
    page = client.get(reverse("home"))
    html = page.content.decode()
    assert any(r.kind == SHEET_KIND.code for r in page.context["inbox_rows"])
    assert f'href="{reverse("grades:offering_detail", args=[w["offering"].pk])}"' in html
    assert w["offering"].course.name in html
