"""The generic approval UI serves every status-change chain (Django test client)."""

import re

import pytest
from freezegun import freeze_time

from registrar.approvals.forms import ATTACHMENT_REQUIRED, NO_SUCH_STUDENT
from registrar.approvals.models import Attachment, SignOff
from registrar.approvals.services import request_create
from registrar.documents.models import Document
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
from students.models import Student
from tests.factories import photo_upload
from tests.statuschange.helpers import advance

NOW = "2026-03-10 10:00"
pytestmark = pytest.mark.usefixtures("sc_world")


def text(response) -> str:
    return response.content.decode()


def u1_data(**over):
    data = {
        "reason": "personal",
        "reason_detail": "家庭原因",
        "period_start": "2026-03-15",
        "period_end": "2026-09-01",
        "submit": "1",
    }
    data.update(over)
    return data


def suspend(student):
    Student.objects.filter(pk=student.pk).update(status=Student.Status.SUSPENDED)
    student.refresh_from_db()


def field_names(html: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', html))


# --- student applications ---------------------------------------------------------------
@freeze_time(NOW)
def test_u1_apply_page_and_conditional_medical_certificate(client, sc_world):
    s = sc_world["student"]
    client.force_login(s.user)
    page = text(client.get("/requests/suspension/new/"))
    assert {"reason", "reason_detail", "period_start", "period_end", "medical_certificate"} <= field_names(page)
    assert "effective_date" not in field_names(page)  # stage data is not the applicant's
    assert re.search(r'<input type="date" name="period_start"', page)

    # illness without a medical certificate: refused, nothing stored
    response = client.post("/requests/suspension/new/", u1_data(reason="illness"))
    assert response.status_code == 200
    assert str(ATTACHMENT_REQUIRED) in text(response)
    assert not SuspensionRequest.objects.exists()

    response = client.post(
        "/requests/suspension/new/", {**u1_data(reason="illness"), "medical_certificate": photo_upload("med.png")}
    )
    req = SuspensionRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
    assert req.state == "advisor_confirm" and req.reason == "illness"
    assert Attachment.objects.filter(kind="medical_certificate", object_id=req.pk).count() == 1
    detail = text(client.get(req.get_absolute_url()))
    assert "家庭原因" in detail


@freeze_time(NOW)
def test_u1_personal_reason_needs_no_certificate_and_period_limits_are_checked(client, sc_world, settings):
    s = sc_world["student"]
    client.force_login(s.user)
    settings.REGISTRAR = {
        **settings.REGISTRAR,
        "STATUS_CHANGE": {**settings.REGISTRAR["STATUS_CHANGE"], "SUSPENSION_MAX_DAYS": 30},
    }
    response = client.post("/requests/suspension/new/", u1_data(), follow=True)
    assert not SuspensionRequest.objects.filter(state="advisor_confirm").exists()
    assert "30" in text(response)  # the service's limit message is shown
    settings.REGISTRAR = {
        **settings.REGISTRAR,
        "STATUS_CHANGE": {**settings.REGISTRAR["STATUS_CHANGE"], "SUSPENSION_MAX_DAYS": 366},
    }
    response = client.post("/requests/suspension/new/", u1_data())
    assert response.status_code == 302
    assert SuspensionRequest.objects.get().state == "advisor_confirm"


@freeze_time(NOW)
def test_u2_apply_only_when_suspended(client, sc_world):
    s = sc_world["student"]
    client.force_login(s.user)
    response = client.get("/requests/resumption/new/", follow=True)  # enrolled: refused with the reason
    assert response.redirect_chain and response.redirect_chain[-1][0] == "/"
    assert "“" in text(response) and not ResumptionRequest.objects.exists()
    suspend(s)
    page = text(client.get("/requests/resumption/new/"))
    assert {"reason_detail", "medical_clearance"} <= field_names(page)
    assert "receiving_class" not in field_names(page)  # chosen by the registrar
    response = client.post("/requests/resumption/new/", {"reason_detail": "已康复", "submit": "1"})
    assert response.status_code == 302
    assert ResumptionRequest.objects.get().state == "advisor_confirm"


@freeze_time(NOW)
def test_u3_apply(client, sc_world):
    s = sc_world["student"]
    client.force_login(s.user)
    page = text(client.get("/requests/withdrawal/new/"))
    assert {"reason_detail", "supporting_document"} <= field_names(page)
    assert not {"arrears", "refund", "notice_returned"} & field_names(page)
    assert client.post("/requests/withdrawal/new/", {"reason_detail": "出国留学", "submit": "1"}).status_code == 302
    req = WithdrawalRequest.objects.get()
    assert (req.state, req.applicant) == ("advisor_confirm", s.user)
    # one open status change at a time: a U1 now is refused with the open request named
    response = client.post("/requests/suspension/new/", u1_data(), follow=True)
    assert f"#{req.pk}" in text(response)
    assert not SuspensionRequest.objects.exists()


# --- staff-initiated ----------------------------------------------------------------------
@freeze_time(NOW)
def test_u4_counsellor_picks_the_student_by_number(client, sc_world):
    w = sc_world
    s = w["student"]
    client.force_login(s.user)
    assert client.get("/requests/auto_withdrawal/new/").status_code == 403  # the student never acts
    client.force_login(w["counsellor"])
    page = text(client.get("/requests/auto_withdrawal/new/"))
    assert {"student_number", "absent_since", "evidence", "absence_evidence"} <= field_names(page)
    data = {"absent_since": "2026-01-05", "evidence": "连续两月未到校", "submit": "1"}
    response = client.post(
        "/requests/auto_withdrawal/new/",
        {**data, "student_number": w["cstudent"].student_number, "absence_evidence": photo_upload()},
    )
    assert str(NO_SUCH_STUDENT) in text(response)  # another class: out of the counsellor's scope
    response = client.post("/requests/auto_withdrawal/new/", {**data, "student_number": s.student_number})
    assert str(ATTACHMENT_REQUIRED) in text(response)
    response = client.post(
        "/requests/auto_withdrawal/new/",
        {**data, "student_number": s.student_number, "absence_evidence": photo_upload()},
    )
    req = AutoWithdrawalRequest.objects.get()
    assert response["Location"] == req.get_absolute_url()
    assert (req.student, req.applicant, req.state) == (s, w["counsellor"], "college_leadership")


def test_c4_station_staff_file_within_the_window(client, sc_world):
    w = sc_world
    c = w["cstudent"]
    client.force_login(w["advisor"])
    assert client.get("/requests/station_status_change/new/").status_code == 403
    client.force_login(w["station"])
    data = {"student_number": c.student_number, "change_type": "suspension", "reason_detail": "工作调动", "submit": "1"}
    with freeze_time("2026-06-10 10:00"):
        response = client.post("/requests/station_status_change/new/", {**data, "written_application": photo_upload()})
        assert not StationStatusChangeRequest.objects.exists()
        assert f"{StationStatusChangeRequest.chain.windows[1].label} 2026-02-20–2026-04-30" in text(response)
    with freeze_time(NOW):
        page = text(client.get("/requests/station_status_change/new/"))
        assert {"student_number", "change_type", "reason_detail", "written_application"} <= field_names(page)
        assert not {"filed_on", "filing_reference"} & field_names(page)
        response = client.post("/requests/station_status_change/new/", {**data, "written_application": photo_upload()})
        req = StationStatusChangeRequest.objects.get()
        assert response["Location"] == req.get_absolute_url()
        assert (req.student, req.state) == (c, "station_review")


# --- the act page per stage and role ---------------------------------------------------------
@freeze_time(NOW)
def test_u3_clearance_finance_records_amounts_library_signs_plainly(client, sc_world):
    w = sc_world
    s = w["student"]
    req = request_create(chain=U3, student=s, applicant=s.user, submit=True, data={"reason_detail": "出国"})
    req = advance(w, req, until="clearance")
    url = f"/requests/withdrawal/{req.pk}/act/approve/"
    client.force_login(w["finance"])
    assert {"arrears", "refund", "opinion"} <= field_names(text(client.get(url)))
    client.force_login(w["library"])
    library_page = text(client.get(url))
    assert "opinion" in field_names(library_page)
    assert not {"arrears", "refund"} & field_names(library_page)

    client.force_login(w["finance"])
    response = client.post(url, {"opinion": "已结清", "arrears": "-1", "refund": "0"})
    assert response.status_code == 200  # invalid amount: the form is shown again
    assert not SignOff.objects.filter(role="finance").exists()
    response = client.post(url, {"opinion": "已结清", "arrears": "0", "refund": "350.00"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.state, str(req.refund)) == ("clearance", "350.00")
    client.force_login(w["library"])
    assert client.post(url, {"opinion": "无欠书"}).status_code == 302
    assert SignOff.objects.filter(role="library", stage="clearance").count() == 1
    # the request page shows finance's figures and who still has to sign
    client.force_login(w["academic_affairs"])
    detail = text(client.get(req.get_absolute_url()))
    assert "350.00" in detail
    # the registrar's hand-in checkboxes of a later stage are not shown as recorded "False"
    assert "student id card handed in" not in detail.lower() and "False" not in detail


@freeze_time(NOW)
def test_u2_registrar_issue_offers_receiving_class(client, sc_world):
    w = sc_world
    s = w["student"]
    suspend(s)
    req = request_create(chain=U2, student=s, applicant=s.user, submit=True, data={"reason_detail": "康复"})
    req = advance(w, req, until="registrar_issue")
    client.force_login(w["academic_affairs"])
    url = f"/requests/resumption/{req.pk}/act/approve/"
    page = text(client.get(url))
    assert {"receiving_class", "effective_date"} <= field_names(page)
    assert re.search(r'<input type="date" name="effective_date"', page)
    options = re.search(r'<select name="receiving_class".*?</select>', page, re.S).group(0)
    assert f'value="{w["receiving_class"].pk}"' in options
    response = client.post(
        url, {"receiving_class": w["receiving_class"].pk, "effective_date": "2026-03-10", "opinion": "同意"}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == "finance_settlement" and req.receiving_class == w["receiving_class"]


# --- documents and history on the pages ----------------------------------------------------
@freeze_time(NOW)
def test_documents_appear_on_the_request_page_once_issued(client, sc_world):
    w = sc_world
    s = w["student"]
    req = request_create(
        chain=U1,
        student=s,
        applicant=s.user,
        submit=True,
        data={
            "reason": "personal",
            "reason_detail": "家庭原因",
            "period_start": "2026-03-15",
            "period_end": "2026-09-01",
        },
    )
    req = advance(w, req, until="registrar_issue")
    client.force_login(s.user)
    assert 'id="request-documents"' not in text(client.get(req.get_absolute_url()))
    req = advance(w, req, until="finance_receipt")
    slip = Document.objects.get(doc_type="suspension_slip", request_id=req.pk)
    detail = text(client.get(req.get_absolute_url()))
    assert 'id="request-documents"' in detail
    assert slip.serial in detail and f"/documents/{slip.pk}/" in detail


@freeze_time(NOW)
def test_student_record_history_links_to_the_request(client, sc_world):
    w = sc_world
    s = w["student"]
    req = request_create(chain=U3, student=s, applicant=s.user, submit=True, data={"reason_detail": "出国"})
    req = advance(w, req)
    assert req.state == "completed"
    client.force_login(w["academic_affairs"])
    page = text(client.get(f"/students/{s.pk}/"))
    history = re.search(r'id="history-table".*?</table>', page, re.S).group(0)
    assert f'href="{req.get_absolute_url()}"' in history


# --- home page apply buttons ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [
        (Student.Status.ENROLLED, {U1.code, U3.code}, {U2.code, U4.code, C4.code}),
        (Student.Status.SUSPENDED, {U2.code, U3.code}, {U1.code, U4.code, C4.code}),
        (Student.Status.WITHDRAWN, set(), {U1.code, U2.code, U3.code, U4.code, C4.code}),
    ],
)
def test_home_apply_buttons_follow_the_students_status(client, sc_world, status, shown, hidden):
    s = sc_world["student"]
    Student.objects.filter(pk=s.pk).update(status=status)
    client.force_login(s.user)
    html = text(client.get("/"))
    links = set(re.findall(r'href="/requests/(\w+)/new/"', html))
    assert shown <= links
    assert not hidden & links


@freeze_time(NOW)
def test_home_shows_the_open_status_change_instead_of_new_ones(client, sc_world):
    s = sc_world["student"]
    req = request_create(chain=U3, student=s, applicant=s.user, submit=True, data={"reason_detail": "出国"})
    client.force_login(s.user)
    html = text(client.get("/"))
    assert not {U1.code, U3.code} & set(re.findall(r'href="/requests/(\w+)/new/"', html))
    assert html.count(f'href="{req.get_absolute_url()}"') >= 2  # U1's and U3's cards point to it


def test_staff_home_offers_only_chains_they_initiate(client, sc_world):
    client.force_login(sc_world["counsellor"])
    links = set(re.findall(r'href="/requests/(\w+)/new/"', text(client.get("/"))))
    assert U4.code in links and not {U1.code, U2.code, U3.code, C4.code} & links
    client.force_login(sc_world["station"])
    links = set(re.findall(r'href="/requests/(\w+)/new/"', text(client.get("/"))))
    assert C4.code in links and U4.code not in links
