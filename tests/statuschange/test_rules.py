"""Rules across the status-change chains: one open request per student, valid starting statuses,
U1 limits and medical certificate, U2 medical clearance and receiving class, C4 filing window and
correspondence-only, U4 initiated only by the student's counsellor."""

import copy
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from freezegun import freeze_time

from registrar.approvals.chains import get_chain
from registrar.approvals.deadlines import CALENDAR_DATE_MISSING, OUTSIDE_SUBMIT_WINDOW, key_label
from registrar.approvals.models import CalendarEntry, SignOff
from registrar.approvals.services import (
    ALREADY_OPEN,
    ATTACHMENT_MISSING,
    MAY_NOT_INITIATE,
    WRONG_STUDENT_STATUS,
    request_act,
    request_create,
)
from registrar.documents.models import Document
from registrar.exceptions import ApplicationError
from statuschange import services as sc
from statuschange.models import (
    C4,
    U1,
    U2,
    U3,
    U4,
    AutoWithdrawalRequest,
    ResumptionRequest,
    StationStatusChangeRequest,
    SuspensionRequest,
    WithdrawalRequest,
)
from students.models import StatusHistory, Student
from tests.factories import ClassFactory, StudentFactory, photo_upload
from tests.statuschange.helpers import CHAIN_CODES, make_suspended, open_request, pass_stage, sign, subject

MODELS = {
    U1.code: SuspensionRequest,
    U2.code: ResumptionRequest,
    U3.code: WithdrawalRequest,
    U4.code: AutoWithdrawalRequest,
    C4.code: StationStatusChangeRequest,
}
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2026-03-10 10:00"):
        yield


def _message(exc_info) -> str:
    return str(exc_info.value.message)


def _all_requests():
    return sum(m.objects.count() for m in MODELS.values())


# --- one open status-change request per student -----------------------------------------------
def test_open_u1_blocks_u3_until_it_is_withdrawn(sc_world):
    w = sc_world
    u1 = open_request(w, U1.code)
    with pytest.raises(ApplicationError) as exc:
        open_request(w, U3.code)
    assert _message(exc) == ALREADY_OPEN % {"chain": get_chain(U1.code).name, "id": u1.pk}
    assert WithdrawalRequest.objects.count() == 0
    # a returned request is still open
    u1 = sign(w, u1, "advisor", action="reject", opinion="请说明原因")
    with pytest.raises(ApplicationError):
        open_request(w, U3.code)
    request_act(chain=get_chain(U1.code), request_id=u1.pk, actor=w["student"].user, action="withdraw")
    assert open_request(w, U3.code).state == "advisor_confirm"


@pytest.mark.parametrize("second", [U1.code, U3.code, U4.code])
def test_a_draft_blocks_every_chain_of_the_group(sc_world, second):
    w = sc_world
    first = open_request(w, U1.code, submit=False)
    assert first.state == "draft"
    with pytest.raises(ApplicationError) as exc:
        open_request(w, second)
    assert _message(exc) == ALREADY_OPEN % {"chain": get_chain(U1.code).name, "id": first.pk}


def test_completed_request_no_longer_blocks(sc_world):
    w = sc_world
    req = open_request(w, U1.code)
    while req.state != "completed":
        req = pass_stage(w, req)
    assert open_request(w, U2.code).state == "advisor_confirm"


# --- valid statuses --------------------------------------------------------------------------
def test_no_resumption_for_an_enrolled_student(sc_world):
    w = sc_world
    with pytest.raises(ApplicationError) as exc:
        request_create(
            chain=get_chain(U2.code),
            student=w["student"],
            applicant=w["student"].user,
            data={"reason_detail": "复学"},
            submit=True,
        )
    assert _message(exc) == WRONG_STUDENT_STATUS % {
        "chain": get_chain(U2.code).name,
        "status": w["student"].get_status_display(),
    }
    assert ResumptionRequest.objects.count() == 0


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_nothing_for_a_withdrawn_student(sc_world, code):
    w = sc_world
    student = subject(w, code)
    Student.objects.filter(pk=student.pk).update(status=Student.Status.WITHDRAWN)
    student.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        open_request(w, code) if code != U2.code else request_create(
            chain=get_chain(U2.code), student=student, applicant=student.user, data={"reason_detail": "x"}, submit=True
        )
    if code == C4.code:
        assert _message(exc) == sc.CHANGE_NOT_POSSIBLE % {
            "change": StationStatusChangeRequest.ChangeType.SUSPENSION.label,
            "status": student.get_status_display(),
        }
    else:
        assert _message(exc) == WRONG_STUDENT_STATUS % {
            "chain": get_chain(code).name,
            "status": student.get_status_display(),
        }
    assert _all_requests() == 0


def test_status_is_checked_again_at_resubmission(sc_world):
    """A returned U1 cannot be resubmitted once the student is no longer enrolled."""
    from tests.statuschange.helpers import resubmit

    w = sc_world
    req = sign(w, open_request(w, U1.code), "advisor", action="reject", opinion="补充材料")
    make_suspended(w["student"])
    with pytest.raises(ApplicationError) as exc:
        resubmit(req)
    assert _message(exc) == WRONG_STUDENT_STATUS % {
        "chain": get_chain(U1.code).name,
        "status": w["student"].get_status_display(),
    }
    req.refresh_from_db()
    assert req.state == "returned"


# --- U1 limits -------------------------------------------------------------------------------
def _u1(w, start, end, **kw):
    return open_request(w, U1.code, data={"period_start": start.isoformat(), "period_end": end.isoformat(), **kw})


def test_single_suspension_over_the_maximum_is_refused_at_submit(sc_world, settings):
    w = sc_world
    registrar = copy.deepcopy(settings.REGISTRAR)
    registrar["STATUS_CHANGE"]["SUSPENSION_MAX_DAYS"] = 200
    settings.REGISTRAR = registrar
    start = dt.date(2026, 3, 15)
    with pytest.raises(ApplicationError) as exc:
        _u1(w, start, start + dt.timedelta(days=201))
    assert _message(exc) == sc.SUSPENSION_TOO_LONG % {"days": 200, "asked": 201}
    assert SuspensionRequest.objects.count() == 0
    assert _u1(w, start, start + dt.timedelta(days=200)).state == "advisor_confirm"


def test_default_single_limit_is_one_year(sc_world):
    w = sc_world
    start = dt.date(2026, 3, 15)
    limit = sc._rules()["SUSPENSION_MAX_DAYS"]
    assert 365 <= limit <= 366
    with pytest.raises(ApplicationError):
        _u1(w, start, start + dt.timedelta(days=limit + 1))


def test_total_over_the_limit_across_completed_suspensions_is_refused(sc_world, settings):
    w = sc_world
    registrar = copy.deepcopy(settings.REGISTRAR)
    registrar["STATUS_CHANGE"]["SUSPENSION_TOTAL_MAX_DAYS"] = 300
    settings.REGISTRAR = registrar
    start = dt.date(2026, 3, 15)
    req = _u1(w, start, start + dt.timedelta(days=170))
    while req.state != "completed":
        req = pass_stage(w, req)
    back = open_request(w, U2.code)
    while back.state != "completed":
        back = pass_stage(w, back)
    later = dt.date(2027, 3, 1)
    with pytest.raises(ApplicationError) as exc:
        _u1(w, later, later + dt.timedelta(days=131))
    assert _message(exc) == sc.SUSPENSION_TOTAL_TOO_LONG % {"days": 300, "total": 301}
    assert SuspensionRequest.objects.count() == 1
    assert _u1(w, later, later + dt.timedelta(days=130)).state == "advisor_confirm"


def test_only_completed_suspensions_count_towards_the_total(sc_world, settings):
    w = sc_world
    registrar = copy.deepcopy(settings.REGISTRAR)
    registrar["STATUS_CHANGE"]["SUSPENSION_TOTAL_MAX_DAYS"] = 300
    settings.REGISTRAR = registrar
    start = dt.date(2026, 3, 15)
    first = _u1(w, start, start + dt.timedelta(days=200))
    request_act(chain=get_chain(U1.code), request_id=first.pk, actor=w["student"].user, action="withdraw")
    assert _u1(w, start, start + dt.timedelta(days=200)).state == "advisor_confirm"


def test_illness_requires_the_medical_certificate(sc_world):
    w = sc_world
    with pytest.raises(ApplicationError) as exc:
        open_request(w, U1.code, data={"reason": "illness"})
    assert _message(exc) == ATTACHMENT_MISSING % {
        "kinds": str(get_chain(U1.code).attachment_rule("medical_certificate").label)
    }
    assert SuspensionRequest.objects.count() == 0
    req = open_request(w, U1.code, data={"reason": "illness"}, attachments={"medical_certificate": photo_upload()})
    assert req.state == "advisor_confirm"


def test_other_reasons_need_no_medical_certificate(sc_world):
    assert open_request(sc_world, U1.code, data={"reason": "military"}).state == "advisor_confirm"


# --- U2 ----------------------------------------------------------------------------------------
def _complete_u1(w, **data):
    req = open_request(
        w,
        U1.code,
        data=data,
        attachments={"medical_certificate": photo_upload()} if data.get("reason") == "illness" else None,
    )
    while req.state != "completed":
        req = pass_stage(w, req)
    return req


def test_resumption_after_illness_requires_medical_clearance(sc_world):
    w = sc_world
    _complete_u1(w, reason="illness")
    with pytest.raises(ApplicationError) as exc:
        open_request(w, U2.code)
    assert _message(exc) == sc.MEDICAL_CLEARANCE_REQUIRED
    assert ResumptionRequest.objects.count() == 0
    req = open_request(w, U2.code, attachments={"medical_clearance": photo_upload()})
    assert req.state == "advisor_confirm"


def test_resumption_after_a_personal_suspension_needs_no_clearance(sc_world):
    w = sc_world
    _complete_u1(w, reason="personal")
    assert open_request(w, U2.code).state == "advisor_confirm"


def test_receiving_class_of_another_major_is_refused_and_nothing_is_written(sc_world):
    w = sc_world
    req = open_request(w, U2.code)
    while req.state != "registrar_issue":
        req = pass_stage(w, req)
    student = w["student"]
    student.refresh_from_db()
    before = (
        student.status,
        student.klass_id,
        student.expected_graduation,
        StatusHistory.objects.count(),
        SignOff.objects.for_object(req).count(),
        Document.objects.count(),
    )
    foreign = ClassFactory(cohort=student.klass.cohort + 1)
    assert foreign.major_id != student.major_id
    with pytest.raises(ApplicationError) as exc:
        request_act(
            chain=get_chain(U2.code),
            request_id=req.pk,
            actor=w["academic_affairs"],
            action="approve",
            opinion="同意",
            data={"receiving_class": foreign.pk, "effective_date": "2026-03-10"},
        )
    assert _message(exc) == sc.RECEIVING_CLASS_OTHER_MAJOR % {"major": student.major}
    student.refresh_from_db()
    req.refresh_from_db()
    assert req.state == "registrar_issue" and req.receiving_class is None
    assert (
        student.status,
        student.klass_id,
        student.expected_graduation,
        StatusHistory.objects.count(),
        SignOff.objects.for_object(req).count(),
        Document.objects.count(),
    ) == before


def test_receiving_class_of_the_same_cohort_keeps_the_graduation_date(sc_world):
    w = sc_world
    student = w["student"]
    same = ClassFactory(major=student.major, cohort=student.klass.cohort)
    req = open_request(w, U2.code)
    while req.state != "registrar_issue":
        req = pass_stage(w, req)
    request_act(
        chain=get_chain(U2.code),
        request_id=req.pk,
        actor=w["academic_affairs"],
        action="approve",
        opinion="同意",
        data={"receiving_class": same.pk, "effective_date": "2026-03-10"},
    )
    student.refresh_from_db()
    assert (student.klass, student.expected_graduation) == (same, dt.date(2028, 6, 30))
    assert set(
        StatusHistory.objects.filter(request_id=req.pk, request_type=U2.code).values_list("field", flat=True)
    ) == {
        "status",
        "klass",
    }


# --- C4 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "ok"),
    [
        ("2026-02-19", False),
        ("2026-02-20", True),
        ("2026-04-30", True),
        ("2026-05-01", False),
        ("2026-07-15", False),
        ("2026-08-31", False),
        ("2026-09-01", True),
        ("2026-11-30", True),
        ("2026-12-01", False),
    ],
)
def test_c4_filing_window(sc_world, day, ok):
    w = sc_world
    with freeze_time(f"{day} 09:00"):
        if ok:
            assert open_request(w, C4.code).state == "station_review"
        else:
            with pytest.raises(ApplicationError) as exc:
                open_request(w, C4.code)
            # the message names the windows of the academic year and their dates (the academic calendar's)
            year = 2025 if day < "2026-09-01" else 2026
            autumn, spring = (str(window.label) for window in get_chain(C4.code).windows)
            assert _message(exc) == OUTSIDE_SUBMIT_WINDOW % {
                "what": str(get_chain(C4.code).name),
                "windows": f"{autumn} {year}-09-01–{year}-11-30、{spring} {year + 1}-02-20–{year + 1}-04-30",
                "today": day,
            }
            assert StationStatusChangeRequest.objects.count() == 0


def test_c4_filing_window_follows_the_academic_calendar(sc_world):
    """Academic Affairs moves a window's dates for one year; the other years keep theirs."""
    w = sc_world
    CalendarEntry.objects.filter(key="status_change_filing_spring_closes", academic_year=2025).update(
        date=dt.date(2026, 5, 15)
    )
    with freeze_time("2026-05-10 09:00"):
        assert open_request(w, C4.code).state == "station_review"
    StationStatusChangeRequest.objects.all().delete()
    with freeze_time("2027-05-10 09:00"), pytest.raises(ApplicationError) as exc:
        open_request(w, C4.code)
    assert "2027-02-20–2027-04-30" in _message(exc)


def test_c4_filing_window_missing_from_the_calendar_is_named(sc_world):
    w = sc_world
    CalendarEntry.objects.filter(key="status_change_filing_spring_opens", academic_year=2025).delete()
    with freeze_time("2026-03-10 09:00"), pytest.raises(ApplicationError) as exc:
        open_request(w, C4.code)
    assert _message(exc) == CALENDAR_DATE_MISSING % {
        "label": key_label("status_change_filing_spring_opens"),
        "year": "2025–2026",
    }
    assert StationStatusChangeRequest.objects.count() == 0


def test_c4_for_a_full_time_student_is_refused(sc_world):
    w = sc_world
    full_time = StudentFactory(klass=w["cstudent"].klass, station=w["cstudent"].station, study_form="full_time")
    with pytest.raises(ApplicationError) as exc:
        request_create(
            chain=get_chain(C4.code),
            student=full_time,
            applicant=w["station"],
            data={"change_type": "suspension", "reason_detail": "x"},
            attachments={"written_application": photo_upload()},
            submit=True,
        )
    assert _message(exc) == sc.NOT_CORRESPONDENCE
    assert StationStatusChangeRequest.objects.count() == 0


def test_c4_only_by_the_students_station(sc_world):
    w = sc_world
    for user in (w["other_station"], w["cstudent"].user, w["counsellor"]):
        with pytest.raises(PermissionDenied):
            request_create(
                chain=get_chain(C4.code),
                student=w["cstudent"],
                applicant=user,
                data={"change_type": "suspension", "reason_detail": "x"},
                submit=True,
            )
    assert StationStatusChangeRequest.objects.count() == 0


def test_c4_requires_the_written_application(sc_world):
    with pytest.raises(ApplicationError):
        open_request(sc_world, C4.code, attachments={})
    assert StationStatusChangeRequest.objects.count() == 0


# --- U4 ----------------------------------------------------------------------------------------
def test_only_the_students_counsellor_may_open_u4(sc_world):
    w = sc_world
    for who in ("student", "other_counsellor", "advisor", "college_dean", "academic_affairs"):
        user = w["student"].user if who == "student" else w["dean" if who == "college_dean" else who]
        with pytest.raises(PermissionDenied) as exc:
            request_create(
                chain=get_chain(U4.code),
                student=w["student"],
                applicant=user,
                data={"absent_since": "2026-01-05", "evidence": "x"},
                attachments={"absence_evidence": photo_upload()},
                submit=True,
            )
        assert str(exc.value) == str(MAY_NOT_INITIATE), who
    assert AutoWithdrawalRequest.objects.count() == 0
    assert open_request(w, U4.code).applicant == w["counsellor"]


def test_u4_requires_evidence_of_absence(sc_world):
    with pytest.raises(ApplicationError):
        open_request(sc_world, U4.code, attachments={})
    assert AutoWithdrawalRequest.objects.count() == 0
