"""The seed corrections of issue 9 (WORKFLOWS.md as corrected in December), one chain test each:
U1 and U2 leadership is two signers, U2's offices stage is the two heads and its last stage adds the
class, U4's registrar section records receipt before leadership, C4 is signed by the correspondence
college's records leader, may change personal data with history, and may be refused by the province."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, RETURNED, get_chain
from registrar.approvals.models import SignOff
from registrar.notifications.models import Notification
from statuschange.models import C4, U1, U2, U4, StationStatusChangeRequest
from students.models import StatusHistory
from tests.factories import make_id_number
from tests.statuschange.helpers import advance, open_request, sign

TWO_SIGNERS = ("party_committee", "vice_president")


@pytest.fixture(autouse=True)
def _within_the_spring_filing_window():
    with freeze_time("2026-03-10 10:00"):
        yield


@pytest.mark.parametrize("chain", [U1, U2], ids=lambda c: c.code)
def test_party_committee_and_vice_president_both_sign_the_leadership_stage(sc_world, chain):
    w = sc_world
    assert chain.signers("leadership_review") == TWO_SIGNERS
    req = advance(w, open_request(w, chain.code), until="leadership_review")
    with pytest.raises((PermissionDenied, Http404)):  # the old single signer no longer signs here
        sign(w, req, "leadership")
    req = sign(w, req, "party_committee")
    assert req.state == "leadership_review"  # one of two: the stage waits for the other
    req = sign(w, req, "vice_president")
    assert req.state == "registrar_issue"
    roles = set(
        SignOff.objects.filter(object_id=req.pk, chain=chain.code, stage="leadership_review").values_list(
            "role", flat=True
        )
    )
    assert roles == set(TWO_SIGNERS)


def test_u2_offices_stage_is_signed_by_the_two_heads(sc_world):
    w = sc_world
    assert U2.signers("offices_review") == ("student_affairs_head", "academic_affairs_head")
    req = advance(w, open_request(w, U2.code), until="offices_review")
    for office in ("student_affairs", "academic_affairs"):
        with pytest.raises((PermissionDenied, Http404)):
            sign(w, req, office)
    req = sign(w, req, "student_affairs_head")
    assert req.state == "offices_review"
    req = sign(w, req, "academic_affairs_head")
    assert req.state == "leadership_review"


def test_u2_last_stage_waits_for_the_class_advisor_to_record_the_return(sc_world):
    w = sc_world
    assert "advisor" in U2.signers("services_restored")
    req = advance(w, open_request(w, U2.code), until="services_restored")
    for role in U2.signers("services_restored"):
        if role != "advisor":
            req = sign(w, req, role)
    assert req.state == "services_restored"  # every service restored, the class not yet told
    req = sign(w, req, "advisor")
    assert req.state == COMPLETED


def test_u4_registrar_records_receipt_before_university_leadership(sc_world):
    w = sc_world
    codes = U4.stage_codes
    assert codes.index("aa_head") + 1 == codes.index("registrar_receipt") == codes.index("leadership_approval") - 1
    req = advance(w, open_request(w, U4.code), until="registrar_receipt")
    with pytest.raises((PermissionDenied, Http404)):
        sign(w, req, "leadership")
    req = sign(w, req, "academic_affairs")
    assert req.state == "leadership_approval"
    req = sign(w, req, "leadership")
    assert req.state == COMPLETED


def test_stage_codes_of_open_requests_stay_valid():
    """Requests already in the database keep their state: no stage a request could stand at went away."""
    before = {
        U1: ("advisor_confirm", "college_review", "offices_review", "leadership_review", "registrar_issue",
             "finance_receipt", "clearance"),
        U2: ("advisor_confirm", "college_review", "offices_review", "leadership_review", "registrar_issue",
             "finance_settlement", "services_restored"),
        U4: ("college_leadership", "aa_head", "leadership_approval"),
        C4: ("station_review", "college_review", "records_leader", "province_filing", "station_feedback"),
    }  # fmt: skip
    for chain, codes in before.items():
        assert set(codes) <= set(get_chain(chain.code).stage_codes), chain.code


# --- C4 --------------------------------------------------------------------------------------
def test_c4_is_signed_by_the_correspondence_colleges_records_leader(sc_world):
    w = sc_world
    assert C4.signers("records_leader") == ("records_leader",)
    req = advance(w, open_request(w, C4.code), until="records_leader")
    with pytest.raises((PermissionDenied, Http404)):
        sign(w, req, "academic_affairs_head")
    with pytest.raises(Http404):  # another college's records leader does not see it
        sign(w, req, "records_leader", user=w["other_records_leader"])
    req = sign(w, req, "records_leader")
    assert req.state == "province_filing"


def _personal(w, **data):
    return open_request(
        w, C4.code, data={"change_type": "personal_data", "reason_detail": "公安机关更正身份证号", **data}
    )


def test_c4_personal_data_change_updates_the_record_with_history(sc_world):
    w = sc_world
    student = w["cstudent"]
    old_name, old_id, old_birth = student.name, student.id_number, student.birth_date
    born = dt.date(2003, 1, 2)
    new_id = make_id_number(4242, born)
    req = _personal(w, new_name="李新名", new_id_number=new_id.lower(), new_birth_date=born)
    req = advance(w, req)
    assert req.state == COMPLETED
    student.refresh_from_db()
    assert (student.name, student.id_number, student.birth_date) == ("李新名", new_id, born)
    rows = {h.field: h for h in StatusHistory.objects.filter(student=student, request_id=req.pk)}
    assert set(rows) == {"name", "id_number", "birth_date"}
    assert (rows["name"].old_value, rows["name"].new_value) == (old_name, "李新名")
    assert (rows["id_number"].old_value, rows["id_number"].new_value) == (old_id, new_id)
    assert (rows["birth_date"].old_value, rows["birth_date"].new_value) == (old_birth.isoformat(), born.isoformat())
    for row in rows.values():
        assert row.request_type == C4.code and row.effective_date == dt.date(2026, 3, 10)
        assert row.note == "浙教备〔2026〕12号"  # the provincial filing's reference
    assert student.status == "enrolled"  # a personal-data change leaves the status alone


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"new_id_number": "330102200301021234"}, "new_id_number"),  # wrong check digit
        ({"new_id_number": make_id_number(7, dt.date(2001, 5, 6))}, "new_id_number"),  # birth date disagrees
        ({}, "new_name"),  # nothing to change
    ],
    ids=["check-digit", "birth-date", "empty"],
)
def test_c4_personal_data_is_validated_and_nothing_is_written(sc_world, data, field):
    with pytest.raises(ValidationError) as exc:
        _personal(sc_world, **data)
    assert field in exc.value.message_dict
    assert not StationStatusChangeRequest.objects.exists()


def test_c4_status_change_gives_no_personal_data(sc_world):
    with pytest.raises(ValidationError) as exc:
        open_request(sc_world, C4.code, data={"new_name": "王五"})
    assert "new_name" in exc.value.message_dict


def test_c4_refused_by_the_province_returns_with_its_reason(sc_world):
    w = sc_world
    student = w["cstudent"]
    req = advance(w, open_request(w, C4.code), until="province_filing")
    reason = "省教育厅不予备案：休学申请材料不全。"
    req = sign(w, req, "academic_affairs", action="reject", opinion=reason)
    assert req.state == RETURNED and req.return_reason == reason
    student.refresh_from_db()
    assert student.status == "enrolled"  # the record is not changed
    assert not StatusHistory.objects.filter(student=student).exists()
    assert Notification.objects.filter(user=w["station"], url=req.get_absolute_url()).exists()  # the station is told


def test_c4_personal_data_history_is_masked_for_whoever_sees_the_data_masked(client, sc_world):
    from django.urls import reverse

    w = sc_world
    born = dt.date(2003, 1, 2)
    new_id = make_id_number(4343, born)
    req = advance(w, _personal(w, new_id_number=new_id, new_birth_date=born))
    assert req.state == COMPLETED
    url = reverse("students:detail", args=[w["cstudent"].pk])
    client.force_login(w["dean"])  # looks the student up, sees personal data masked
    page = client.get(url).content.decode()
    assert new_id not in page and "2003-01-02" not in page
    client.force_login(w["academic_affairs"])
    assert new_id in client.get(url).content.decode()
