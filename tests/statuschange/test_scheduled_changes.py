"""Status takes effect on its effective date, not when it is approved (students.ScheduledChange).

A 休学 approved in December with effective date 2027-03-01 leaves the student 在籍 (复学 not offered)
and shows the pending change on the student page, the student's home and the request page; the
hourly beat task makes it on the date, once, with the history dated the effective date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, get_chain
from registrar.approvals.services import WRONG_STUDENT_STATUS, request_act, request_create
from registrar.exceptions import ApplicationError
from statuschange.models import U1, U2, U4
from students.models import ScheduledChange, StatusHistory, Student
from students.services import scheduled_changes_apply
from students.tasks import scheduled_changes_apply as scheduled_changes_task

from .helpers import advance, open_request

APPROVED_ON = "2026-12-10 10:00"
EFFECTIVE = dt.date(2027, 3, 1)


def _suspension_approved(world, effective: dt.date = EFFECTIVE):
    """A U1 request run to completion, the registrar giving ``effective`` as the effective date."""
    req = open_request(world, U1.code, data={"period_start": "2027-03-01", "period_end": "2027-08-31"})
    req = advance(world, req, until="registrar_issue")
    req = request_act(
        chain=get_chain(U1.code),
        request_id=req.pk,
        actor=world["academic_affairs"],
        action="approve",
        opinion="准予休学",
        data={"effective_date": effective.isoformat()},
        as_role="academic_affairs",
    )
    return advance(world, req)


def _status(student) -> str:
    student.refresh_from_db()
    return student.status


def test_the_hourly_beat_task_is_scheduled():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "students.tasks.scheduled_changes_apply" in tasks


@freeze_time(APPROVED_ON)
def test_a_future_suspension_waits_for_its_date(sc_world, client):
    student = sc_world["student"]
    req = _suspension_approved(sc_world)
    assert req.state == COMPLETED
    assert _status(student) == Student.Status.ENROLLED
    assert not StatusHistory.objects.filter(student=student, field="status").exists()
    pending = ScheduledChange.objects.get(student=student)
    assert (
        pending.field,
        pending.old_value,
        pending.new_value,
        pending.effective_date,
        pending.state,
        pending.request_type,
        pending.request_id,
    ) == ("status", "enrolled", "suspended", EFFECTIVE, "pending", U1.code, req.pk)

    # 复学 is neither offered on the home page nor accepted: the student is not suspended yet
    client.force_login(student.user)
    home = client.get(reverse("home"))
    assert U2.code not in {item["chain"].code for item in home.context["apply"]}
    assert list(home.context["pending_changes"]) == [pending]
    assert 'id="pending-changes"' in home.content.decode() and "2027-03-01" in home.content.decode()
    with pytest.raises(ApplicationError) as refused:
        request_create(
            chain=get_chain(U2.code), student=student, applicant=student.user, data={"reason_detail": "返校"}
        )
    assert refused.value.message == WRONG_STUDENT_STATUS % {
        "chain": get_chain(U2.code).name,
        "status": student.get_status_display(),
    }

    # the request page and the student page show it too
    page = client.get(req.get_absolute_url())
    assert list(page.context["pending_changes"]) == [pending]
    assert "2027-03-01" in page.content.decode()
    client.force_login(sc_world["counsellor"])
    page = client.get(reverse("students:detail", args=[student.pk]))
    assert list(page.context["pending_changes"]) == [pending]
    assert 'id="pending-changes"' in page.content.decode()


def test_the_task_applies_it_on_its_date_once(sc_world):
    student = sc_world["student"]
    with freeze_time(APPROVED_ON):
        _suspension_approved(sc_world)
    with freeze_time("2027-02-28 15:30"):  # 23:30 in Beijing
        assert scheduled_changes_task() == 0
        assert _status(student) == Student.Status.ENROLLED
    with freeze_time("2027-02-28 16:05"):  # 00:05 on 1 March in Beijing
        assert scheduled_changes_task() == 1
        assert scheduled_changes_task() == 0  # idempotent
    with freeze_time("2027-03-02 08:00"):
        assert scheduled_changes_apply() == 0
    assert _status(student) == Student.Status.SUSPENDED
    history = StatusHistory.objects.get(student=student, field="status")
    assert (history.old_value, history.new_value, history.effective_date, history.request_type) == (
        "enrolled",
        "suspended",
        EFFECTIVE,
        U1.code,
    )
    change = ScheduledChange.objects.get(student=student)
    assert change.state == ScheduledChange.State.APPLIED and change.resolved_at is not None


def test_a_late_run_applies_it_dated_the_effective_date_and_then_resumption_is_offered(sc_world, client):
    student = sc_world["student"]
    with freeze_time(APPROVED_ON):
        _suspension_approved(sc_world)
    with freeze_time("2027-03-09 10:00"):  # the worker was down for a week
        assert scheduled_changes_apply() == 1
        assert StatusHistory.objects.get(student=student, field="status").effective_date == EFFECTIVE
        client.force_login(student.user)
        home = client.get(reverse("home"))
        assert U2.code in {item["chain"].code for item in home.context["apply"]}
        assert not home.context["pending_changes"]


@freeze_time(APPROVED_ON)
@pytest.mark.parametrize("effective", [dt.date(2026, 12, 10), dt.date(2026, 11, 1)], ids=["today", "past"])
def test_today_or_a_past_date_applies_at_once(sc_world, effective):
    student = sc_world["student"]
    _suspension_approved(sc_world, effective)
    assert _status(student) == Student.Status.SUSPENDED
    assert StatusHistory.objects.get(student=student, field="status").effective_date == effective
    assert not ScheduledChange.objects.exists()


def test_a_resumption_schedules_status_class_and_graduation_together(sc_world):
    """U2's three effects wait for the date and are made together."""
    student = sc_world["student"]
    new_class = sc_world["receiving_class"]
    with freeze_time(APPROVED_ON):
        req = open_request(sc_world, U2.code)
        req = advance(sc_world, req, until="registrar_issue")
        req = request_act(
            chain=get_chain(U2.code),
            request_id=req.pk,
            actor=sc_world["academic_affairs"],
            action="approve",
            opinion="准予复学",
            as_role="academic_affairs",
            data={"receiving_class": new_class.pk, "effective_date": "2027-02-20"},
        )
        advance(sc_world, req)
        student.refresh_from_db()
        old_class, old_graduation = student.klass, student.expected_graduation
        assert student.status == Student.Status.SUSPENDED
        assert set(ScheduledChange.objects.values_list("field", flat=True)) == {
            "status",
            "klass",
            "expected_graduation",
        }
    with freeze_time("2027-02-20 01:00"):
        assert scheduled_changes_apply() == 3
    student.refresh_from_db()
    assert (student.status, student.klass) == (Student.Status.ENROLLED, new_class)
    assert student.expected_graduation == old_graduation.replace(year=old_graduation.year + 1)
    rows = {
        h.field: (h.old_value, h.new_value, h.effective_date)
        for h in StatusHistory.objects.filter(student=student, request_type=U2.code)
    }
    assert rows["klass"] == (str(old_class), str(new_class), dt.date(2027, 2, 20))
    assert rows["status"] == ("suspended", "enrolled", dt.date(2027, 2, 20))


def test_a_change_overtaken_before_its_date_is_superseded_not_applied(sc_world):
    """An automatic withdrawal (U4) completed before the suspension begins: on the date the
    suspension no longer applies — the student stays withdrawn."""
    student = sc_world["student"]
    with freeze_time(APPROVED_ON):
        _suspension_approved(sc_world)
    with freeze_time("2027-01-15 10:00"):
        auto = advance(sc_world, open_request(sc_world, U4.code))
        assert auto.state == COMPLETED
        assert _status(student) == Student.Status.WITHDRAWN
    with freeze_time("2027-03-01 01:00"):
        assert scheduled_changes_apply() == 0
    assert _status(student) == Student.Status.WITHDRAWN
    assert ScheduledChange.objects.get().state == ScheduledChange.State.SUPERSEDED
    assert list(StatusHistory.objects.filter(student=student, field="status").values_list("new_value", flat=True)) == [
        "withdrawn"
    ]
