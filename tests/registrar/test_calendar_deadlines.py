"""Calendar deadlines, submission windows, the academic calendar, overdue reminders and the
calendar page (issue 9, item 2)."""

import dataclasses
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation
from freezegun import freeze_time

from registrar.approvals.deadlines import (
    CALENDAR_DATE_MISSING,
    OUTSIDE_STAGE_WINDOW,
    OUTSIDE_SUBMIT_WINDOW,
    CalendarDate,
    Days,
    Relative,
    Window,
    academic_year_of,
    key_label,
)
from registrar.approvals.models import CalendarEntry, StageConfig
from registrar.approvals.services import academic_calendar_generate, request_act, request_create
from registrar.approvals.tasks import flag_overdue_requests
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification
from registrar.roles import Role
from students.models import U6
from tests.factories import ClassFactory, StationFactory, StudentFactory, photo_upload, staff

STAGE = U6.stages[0].code  # the counsellor's confirmation


@pytest.fixture
def patch_u6():
    """Give U6 other deadlines or windows for one test (the chain is a frozen dataclass)."""
    saved = {"stages": U6.stages, "windows": U6.windows}

    def patch(*, due=None, window=None, windows=()):
        first = dataclasses.replace(U6.stages[0], due=due, deadline_days=None, window=window)
        object.__setattr__(U6, "stages", (first, *U6.stages[1:]))
        object.__setattr__(U6, "windows", windows)

    yield patch
    for name, value in saved.items():
        object.__setattr__(U6, name, value)


def _open(w):
    return request_create(
        chain=U6,
        student=w["student"],
        applicant=w["student_user"],
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )


def _message(exc_info) -> str:
    return str(exc_info.value.message)


# --- the academic year and the calendar's entries ---------------------------------------------------
def test_academic_year_starts_on_1_september():
    assert academic_year_of(dt.date(2026, 8, 31)) == 2025
    assert academic_year_of(dt.date(2026, 9, 1)) == 2026


def test_generating_a_year_keeps_what_academic_affairs_edited(db):
    academic_calendar_generate(year=2030)
    entry = CalendarEntry.objects.get(key="registration_submit", academic_year=2030)
    assert entry.date == dt.date(2031, 3, 25)  # C2: by 25 March, in the spring of the academic year
    assert CalendarEntry.objects.get(key="graduate_registration_spring", academic_year=2030).date == dt.date(
        2030, 10, 25
    )
    CalendarEntry.objects.filter(pk=entry.pk).update(date=dt.date(2031, 3, 20))
    assert academic_calendar_generate(year=2030) == []
    assert CalendarEntry.objects.get(pk=entry.pk).date == dt.date(2031, 3, 20)


def test_academic_calendar_command_seeds_the_current_and_next_year(db):
    CalendarEntry.objects.all().delete()
    with freeze_time("2026-12-06 10:00"):
        out = StringIO()
        call_command("academic_calendar", stdout=out)
    assert set(CalendarEntry.objects.values_list("academic_year", flat=True)) == {2026, 2027}
    assert "2026–2027" in out.getvalue()


def test_an_entry_outside_its_academic_year_is_refused(db):
    entry = CalendarEntry(key="registration_submit", academic_year=2026, date=dt.date(2026, 3, 25))
    with pytest.raises(Exception, match="2026–2027"):
        entry.full_clean()


# --- deadlines ----------------------------------------------------------------------------------------
def test_days_deadline_and_its_stageconfig_override_still_hold(u6_world):
    with freeze_time("2026-03-02 09:00"):
        assert _open(u6_world).stage_due_at.date() == dt.date(2026, 3, 5)
    StageConfig.objects.create(chain=U6.code, stage=STAGE, deadline_days=10)
    assert U6.deadline_spec(STAGE) == Days(10)


def test_calendar_date_is_resolved_per_academic_year(u6_world, patch_u6, academic_calendar):
    patch_u6(due=CalendarDate("registration_submit"))
    with freeze_time("2026-03-02 09:00"):  # academic year 2025–2026
        first = _open(u6_world)
    assert first.stage_due_at.date() == dt.date(2026, 3, 25)
    request_act(chain=U6, request_id=first.pk, actor=u6_world["student_user"], action="withdraw")
    CalendarEntry.objects.filter(key="registration_submit", academic_year=2026).update(date=dt.date(2027, 3, 20))
    with freeze_time("2026-10-01 09:00"):  # academic year 2026–2027, its date moved by Academic Affairs
        second = _open(u6_world)
    assert second.stage_due_at.date() == dt.date(2027, 3, 20)
    assert second.stage_due_at.hour == 23  # due at the end of the day


def test_calendar_date_missing_for_the_year_is_a_clear_message(u6_world, patch_u6):
    patch_u6(due=CalendarDate("registration_submit"))
    CalendarEntry.objects.filter(academic_year=2031).delete()
    with freeze_time("2031-10-01 09:00"), pytest.raises(ApplicationError) as exc:
        _open(u6_world)
    assert _message(exc) == CALENDAR_DATE_MISSING % {
        "label": key_label("registration_submit"),
        "year": "2031–2032",
    }
    assert not U6.model.objects.exists()  # nothing half-written


def test_relative_deadline_is_resolved_from_the_requests_event(u6_world, patch_u6, monkeypatch):
    patch_u6(due=Relative("exam_day", -14, label="exam date"))
    monkeypatch.setattr(U6.model, "exam_day", lambda self: dt.date(2026, 6, 20), raising=False)
    with freeze_time("2026-03-02 09:00"):
        req = _open(u6_world)
    assert req.stage_due_at.date() == dt.date(2026, 6, 6)  # exam date − 14 days
    request_act(chain=U6, request_id=req.pk, actor=u6_world["student_user"], action="withdraw")
    monkeypatch.setattr(U6.model, "exam_day", lambda self: None, raising=False)
    with freeze_time("2026-03-02 09:00"):
        assert _open(u6_world).stage_due_at is None  # the event is not known yet: no due date


# --- windows ------------------------------------------------------------------------------------------
def test_submitting_outside_the_window_is_refused_naming_it(u6_world, patch_u6, academic_calendar):
    patch_u6(windows=(Window("Reissue window", "enrollment_report", "online_registration"),))
    with freeze_time("2026-05-02 09:00"), pytest.raises(ApplicationError) as exc:
        _open(u6_world)
    assert _message(exc) == OUTSIDE_SUBMIT_WINDOW % {
        "what": str(U6.name),
        "windows": "Reissue window 2026-03-15–2026-04-30",
        "today": "2026-05-02",
    }
    assert not U6.model.objects.exists()
    with freeze_time("2026-04-30 23:00+08:00"):  # the last day, local time
        assert _open(u6_world).state == STAGE


def test_approving_outside_the_stages_window_is_refused(u6_world, patch_u6, academic_calendar):
    patch_u6(due=Days(3), window=Window("Confirmation window", "enrollment_report", "registration_submit"))
    w = u6_world
    with freeze_time("2026-03-02 09:00"):
        req = _open(w)
        with pytest.raises(ApplicationError) as exc:
            request_act(chain=U6, request_id=req.pk, actor=w["counsellor"], action="approve")
    assert _message(exc) == OUTSIDE_STAGE_WINDOW % {
        "what": str(U6.stages[0].label),
        "windows": "Confirmation window 2026-03-15–2026-03-25",
        "today": "2026-03-02",
    }
    with freeze_time("2026-03-20 09:00"):
        assert request_act(chain=U6, request_id=req.pk, actor=w["counsellor"], action="approve").state != STAGE


# --- overdue reminders --------------------------------------------------------------------------------
def test_an_overdue_request_is_reminded_at_most_once_a_calendar_day(u6_world):
    with freeze_time("2026-03-02 09:00"):
        req = _open(u6_world)
    Notification.objects.all().delete()
    with freeze_time("2026-03-07 00:10+08:00"):
        assert flag_overdue_requests() == 1
    with freeze_time("2026-03-07 23:50+08:00"):  # more than 23 hours later, the same day: no second reminder
        assert flag_overdue_requests() == 0
    with freeze_time("2026-03-08 00:05+08:00"):
        assert flag_overdue_requests() == 1
    assert Notification.objects.filter(user=u6_world["counsellor"]).count() == 2
    req.refresh_from_db()
    assert req.reminded_at is not None


# --- describe(), manage.py workflows, /api/workflows/, /workflows/ -------------------------------
@translation.override("en")
def test_describe_gives_each_deadline_and_window_in_words(db, patch_u6):
    patch_u6(
        due=Relative("exam_day", -14, label="exam date"),
        windows=(Window("Reissue window", "enrollment_report", "online_registration"),),
    )
    desc = U6.describe()
    assert desc["stages"][0]["deadline"] == {
        "kind": "relative",
        "event": "exam_day",
        "offset_days": -14,
        "text": "exam date − 14 days",
    }
    assert desc["stages"][0]["deadline_days"] is None
    assert desc["stages"][1]["deadline"]["text"].startswith("within ")
    assert desc["windows"] == [
        {
            "label": "Reissue window",
            "opens": "enrollment_report",
            "closes": "online_registration",
            "text": "15 March – 30 April",
        }
    ]
    patch_u6(due=CalendarDate("registration_submit"))
    assert U6.describe()["stages"][0]["deadline"] == {
        "kind": "calendar",
        "key": "registration_submit",
        "label": "Stations submit new students' registration data (C2)",
        "text": "by 25 March of the academic year",
    }
    assert Relative("photo_collected_on", 40).describe()["text"] == "photo collected on + 40 days"


@translation.override("en")
def test_workflows_command_api_and_page_show_deadlines_and_windows(client, u6_world, patch_u6):
    from statuschange.models import C4

    patch_u6(due=Relative("exam_day", -14, label="exam date"))
    out = StringIO()
    call_command("workflows", U6.code, C4.code, stdout=out)
    described = {c["code"]: c for c in json.loads(out.getvalue())}
    assert described[U6.code]["stages"][0]["deadline"]["text"] == "exam date − 14 days"
    assert [w["text"] for w in described[C4.code]["windows"]] == ["1 September – 30 November", "20 February – 30 April"]
    client.force_login(u6_world["registrar"])
    client.cookies["django_language"] = "en"
    api = {c["code"]: c for c in client.get("/api/workflows/", HTTP_ACCEPT_LANGUAGE="en").json()}
    assert api[U6.code]["stages"][0]["deadline"]["text"] == "exam date − 14 days"
    page = client.get("/workflows/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "exam date − 14 days" in page
    assert "Autumn term filing window (1 September – 30 November)" in page


# --- the calendar page ----------------------------------------------------------------------------
@pytest.fixture
def calendar_world(db, academic_calendar):
    """Two stations, each with a correspondence student of its own college and a status change (C4)
    filed on 2 March 2026, due at the station's review five days later; their staff."""
    from registrar.approvals.deadlines import windows_waived
    from statuschange.models import C4

    station_a, station_b = StationFactory(name="函授站甲"), StationFactory(name="函授站乙")
    ka, kb = ClassFactory(station=station_a), ClassFactory(station=station_b)
    a = StudentFactory(klass=ka, station=station_a, name="甲学生", study_form="correspondence")
    b = StudentFactory(klass=kb, station=station_b, name="乙学生", study_form="correspondence")
    w = {
        "a": a,
        "b": b,
        "station_a": staff(Role.STATION, station=station_a, username="sa"),
        "station_b": staff(Role.STATION, station=station_b, username="sb"),
        "dean_a": staff(Role.COLLEGE_DEAN, college=ka.college, username="dean_a"),
        "counsellor_a": staff(Role.COUNSELLOR, klass=ka, username="ca"),
        "registrar": staff(Role.ACADEMIC_AFFAIRS, username="aa"),
    }
    with freeze_time("2026-03-02 09:00"), windows_waived():
        for s, filer in ((a, w["station_a"]), (b, w["station_b"])):
            request_create(
                chain=C4,
                student=s,
                applicant=filer,
                data={"change_type": "suspension", "reason_detail": "工作调动"},
                attachments={"written_application": photo_upload()},
                submit=True,
            )
    return w


def _calendar(client, user, query="?month=2026-03"):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(f"/calendar/{query}", HTTP_ACCEPT_LANGUAGE="en")


def test_calendar_page_shows_each_role_its_scope(client, calendar_world):
    w = calendar_world
    page = _calendar(client, w["station_a"]).content.decode()
    assert "甲学生" in page and "乙学生" not in page  # a station sees only its station
    assert "函授站甲" in page and "函授站乙" not in page
    assert "2026-03-07" in page  # due five days after filing
    assert "registration data (C2)" in page  # the academic calendar's 25 March
    both = _calendar(client, w["registrar"]).content.decode()
    assert "甲学生" in both and "乙学生" in both  # Academic Affairs sees everything
    only_b = _calendar(client, w["registrar"], f"?month=2026-03&station={w['b'].station_id}").content.decode()
    assert "甲学生" not in only_b and "乙学生" in only_b
    dean = _calendar(client, w["dean_a"]).content.decode()
    assert "甲学生" in dean and "乙学生" not in dean  # a college role sees its college
    counsellor = _calendar(client, w["counsellor_a"]).content.decode()
    assert "甲学生" not in counsellor  # takes no part in C4
    april = _calendar(client, w["registrar"], "?month=2026-04").content.decode()
    assert "甲学生" not in april and "Student numbers returned" in april


def test_calendar_page_is_for_staff_and_takes_junk_parameters(client, calendar_world):
    w = calendar_world
    assert _calendar(client, w["a"].user).status_code == 403
    for junk in ("?month=2026-13", "?month=x", "?month=9999-01", "?college=-1&station=99999999999999999999999"):
        assert _calendar(client, w["registrar"], junk).status_code == 200


def test_calendar_ics_export(client, calendar_world):
    response = _calendar(client, calendar_world["registrar"], "ics/?month=2026-03")
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR") and "DTSTART;VALUE=DATE:20260307" in body
    assert "DTSTART;VALUE=DATE:20260325" in body  # the calendar's own date


def test_calendar_page_shows_grade_sheets_due_after_the_exam(client, calendar_world):
    from tests.grades.factories import make_offering

    w = calendar_world
    ka = w["a"].klass
    instructor = staff(Role.INSTRUCTOR, college=ka.college, username="teacher")
    make_offering(classes=[ka], instructors=[instructor], exam_date=dt.date(2026, 3, 10), code="R-A-1")
    make_offering(classes=[w["b"].klass], exam_date=dt.date(2026, 3, 12), code="R-B-1")
    aa = _calendar(client, w["registrar"]).content.decode()
    assert "R-A-1" in aa and "2026-03-17" in aa and "R-B-1" in aa  # due seven days after the exam
    dean = _calendar(client, w["dean_a"]).content.decode()
    assert "R-A-1" in dean and "R-B-1" not in dean  # the college's sheets only
    assert "R-A-1" not in _calendar(client, w["station_a"]).content.decode()


def test_an_overdue_request_is_highlighted_on_its_page(client, u6_world):
    with freeze_time("2026-03-02 09:00"):
        req = _open(u6_world)
    client.force_login(u6_world["counsellor"])
    client.cookies["django_language"] = "en"
    with freeze_time("2026-03-04 09:00"):
        assert "text-overdue" not in client.get(req.get_absolute_url()).content.decode()
    with freeze_time("2026-03-06 09:00"):
        page = client.get(req.get_absolute_url()).content.decode()
    assert "text-overdue" in page and "Overdue" in page


def test_admin_edits_the_calendar_and_generates_the_next_year(admin_client):
    academic_calendar_generate(year=2040)
    page = admin_client.get("/admin/registrar/calendarentry/?academic_year=2040")
    assert page.status_code == 200
    entry = CalendarEntry.objects.get(key="registration_submit", academic_year=2040)
    assert admin_client.get(f"/admin/registrar/calendarentry/{entry.pk}/change/").status_code == 200
    response = admin_client.post(
        "/admin/registrar/calendarentry/",
        {"action": "generate_next_year", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    assert (
        CalendarEntry.objects.filter(academic_year=2041).count()
        == CalendarEntry.objects.filter(academic_year=2040).count()
    )


def test_the_application_form_names_the_windows_and_whether_they_are_open(client, academic_calendar):
    from statuschange.models import C4

    station = StationFactory()
    filer = staff(Role.STATION, station=station, username="filer")
    client.force_login(filer)
    client.cookies["django_language"] = "en"
    with freeze_time("2026-03-10 10:00"):
        page = client.get(f"/requests/{C4.code}/new/").content.decode()
    assert "2025-09-01 – 2025-11-30" in page and "2026-02-20 – 2026-04-30" in page
    assert page.count("open now") == 1
