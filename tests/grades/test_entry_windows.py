"""U5 entry windows: Academic Affairs publishes them; entry outside needs a reopening."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from grades.models import Grade, GradeEntryWindow, OfferingReopening
from grades.selectors.entry import entry_open
from grades.services import entry as services
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification
from tests.factories import ClassFactory
from tests.grades.factories import make_offering, open_window

pytestmark = pytest.mark.django_db


def close_windows(term):
    """Move every window of the term into the past."""
    past = timezone.now() - dt.timedelta(days=2)
    GradeEntryWindow.objects.filter(term=term).update(opens_at=past - dt.timedelta(days=30), closes_at=past)


def test_a_window_covers_the_whole_term_when_it_lists_nothing(grades_world):
    w = grades_world
    assert entry_open(w["offering"])
    other = make_offering(term=w["term"], classes=[w["other_class"]])
    assert entry_open(other)


def test_window_limited_to_colleges_or_offerings(grades_world):
    w = grades_world
    close_windows(w["term"])
    mine = w["offering"]
    other = make_offering(term=w["term"], classes=[w["other_class"]])
    third = make_offering(term=w["term"], classes=[ClassFactory()])
    assert not entry_open(mine) and not entry_open(other)
    window = open_window(w["term"], published_by=w["academic_affairs"])
    window.colleges.set([w["college"]])
    window.offerings.set([third])
    assert entry_open(mine) and entry_open(third)
    assert not entry_open(other)


def test_window_of_another_term_or_in_the_past_or_future_does_not_count(grades_world):
    w = grades_world
    close_windows(w["term"])
    now = timezone.now()
    GradeEntryWindow.objects.create(
        term=w["term"],
        opens_at=now + dt.timedelta(days=3),
        closes_at=now + dt.timedelta(days=9),
        published_by=w["academic_affairs"],
    )
    assert not entry_open(w["offering"])
    assert entry_open(w["offering"], now + dt.timedelta(days=4))
    assert not entry_open(w["offering"], now + dt.timedelta(days=10))


def test_entry_outside_the_window_is_refused_then_allowed_after_reopening(grades_world):
    w = grades_world
    close_windows(w["term"])
    number = w["student"].student_number
    with pytest.raises(ApplicationError) as exc:
        services.grades_enter(offering=w["offering"], actor=w["instructor"], rows={number: {"final": "88"}})
    assert str(exc.value) == str(services.ENTRY_CLOSED % {"offering": w["offering"].code})
    assert not Grade.objects.filter(offering=w["offering"], score__isnull=False).exists()

    until = timezone.now() + dt.timedelta(days=3)
    services.offering_reopen(
        offering=w["offering"], until=until, reason="教师出差，延期录入", actor=w["academic_affairs"]
    )
    assert OfferingReopening.objects.filter(offering=w["offering"], actor=w["academic_affairs"]).count() == 1
    w["offering"].refresh_from_db()
    assert w["offering"].reopened_until == until
    assert Notification.objects.filter(user=w["instructor"]).exists()

    services.grades_enter(offering=w["offering"], actor=w["instructor"], rows={number: {"final": "88"}})
    assert Grade.objects.get(offering=w["offering"], student=w["student"]).score == 88
    # and once the reopening has expired, entry is closed again
    assert not entry_open(w["offering"], until + dt.timedelta(minutes=1))


def test_reopening_rules(grades_world):
    w = grades_world
    close_windows(w["term"])
    soon = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(PermissionDenied):
        services.offering_reopen(offering=w["offering"], until=soon, reason="x", actor=w["secretary"])
    with pytest.raises(ApplicationError) as exc:
        services.offering_reopen(offering=w["offering"], until=soon, reason="  ", actor=w["academic_affairs"])
    assert str(exc.value) == str(services.REOPEN_REASON)
    with pytest.raises(ApplicationError) as exc:
        services.offering_reopen(
            offering=w["offering"],
            until=timezone.now() - dt.timedelta(hours=1),
            reason="x",
            actor=w["academic_affairs"],
        )
    assert str(exc.value) == str(services.REOPEN_PAST)
    assert not OfferingReopening.objects.exists()


def test_closed_entry_message_names_the_next_window(grades_world):
    w = grades_world
    close_windows(w["term"])
    opens = timezone.now() + dt.timedelta(days=2)
    GradeEntryWindow.objects.create(
        term=w["term"], opens_at=opens, closes_at=opens + dt.timedelta(days=5), published_by=w["academic_affairs"]
    )
    with pytest.raises(ApplicationError) as exc:
        services.grades_enter(
            offering=w["offering"], actor=w["instructor"], rows={w["student"].student_number: {"final": "88"}}
        )
    assert str(exc.value) == str(
        services.ENTRY_CLOSED_OPENS % {"offering": w["offering"].code, "opens": services.when_text(opens)}
    )


def test_window_publish_service(grades_world):
    w = grades_world
    now = timezone.now()
    with pytest.raises(PermissionDenied):
        services.window_publish(
            term=w["term"], opens_at=now, closes_at=now + dt.timedelta(days=1), actor=w["secretary"]
        )
    with pytest.raises(ApplicationError) as exc:
        services.window_publish(term=w["term"], opens_at=now, closes_at=now, actor=w["academic_affairs"])
    assert str(exc.value) == str(services.WINDOW_ORDER)
    window = services.window_publish(
        term=w["term"],
        opens_at=now,
        closes_at=now + dt.timedelta(days=7),
        colleges=[w["college"]],
        note="期末",
        actor=w["academic_affairs"],
    )
    assert list(window.colleges.all()) == [w["college"]] and window.published_by == w["academic_affairs"]


def test_windows_page_lists_and_publishes(client, grades_world):
    w = grades_world
    url = reverse("grades:windows")
    client.force_login(w["instructor"])
    response = client.get(url)
    assert response.status_code == 200 and response.context["form"] is None
    assert client.post(url, {}).status_code == 403
    client.force_login(w["academic_affairs"])
    before = GradeEntryWindow.objects.count()
    response = client.post(
        url,
        {
            "term": w["term"].pk,
            "opens_at": "2026-01-10T08:00",
            "closes_at": "2026-01-20T18:00",
            "offering_codes": w["offering"].code,
            "note": "补录",
        },
    )
    assert response.status_code == 302
    assert GradeEntryWindow.objects.count() == before + 1
    window = GradeEntryWindow.objects.latest("created_at")
    assert list(window.offerings.all()) == [w["offering"]]
    response = client.post(
        url,
        {
            "term": w["term"].pk,
            "opens_at": "2026-01-10T08:00",
            "closes_at": "2026-01-20T18:00",
            "offering_codes": "NOPE-1",
        },
    )
    assert response.status_code == 200 and GradeEntryWindow.objects.count() == before + 1


def test_reopen_page_is_academic_affairs_only(client, grades_world):
    w = grades_world
    url = reverse("grades:offering_reopen", args=[w["offering"].pk])
    client.force_login(w["instructor"])
    assert client.get(url).status_code == 403
    client.force_login(w["other_secretary"])
    assert client.get(url).status_code == 404
    client.force_login(w["academic_affairs"])
    assert client.get(url).status_code == 200
    until = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(url, {"until": until.strftime("%Y-%m-%dT%H:%M"), "reason": "病假"})
    assert response.status_code == 302
    assert OfferingReopening.objects.get(offering=w["offering"]).reason == "病假"
