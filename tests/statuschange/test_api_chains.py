"""The generic API serves the status-change chains: staff-initiated U4, wrong-status refusals."""

from freezegun import freeze_time
from rest_framework.test import APIClient

from statuschange.models import AutoWithdrawalRequest
from tests.factories import photo_upload


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_counsellor_files_u4_through_the_api_and_leadership_completes_it(sc_world):
    w = sc_world
    resp = client_for(w["counsellor"]).post(
        "/api/requests/auto_withdrawal/",
        {
            "student": w["student"].pk,
            "absent_since": "2026-01-05",
            "evidence": "连续两月未到校",
            "absence_evidence": photo_upload(),
            "submit": "true",
        },
        format="multipart",
    )
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    assert resp.json()["state"] == "college_leadership"
    # college leadership, the Academic Affairs head, the registrar section records receipt, leadership
    for user in (w["secretary"], w["dean"], w["academic_affairs_head"], w["academic_affairs"], w["leadership"]):
        r = client_for(user).post(
            f"/api/requests/auto_withdrawal/{pk}/transitions/", {"action": "approve", "opinion": "同意"}, format="json"
        )
        assert r.status_code == 200, r.content
    w["student"].refresh_from_db()
    assert (w["student"].status, w["student"].withdrawal_kind) == ("withdrawn", "automatic")


def test_student_may_not_file_u4_and_u2_needs_a_suspended_student(sc_world):
    w = sc_world
    student = client_for(w["student"].user)
    resp = student.post(
        "/api/requests/auto_withdrawal/", {"absent_since": "2026-01-05", "evidence": "x"}, format="multipart"
    )
    assert resp.status_code == 403
    resp = student.post("/api/requests/resumption/", {"reason_detail": "复学"}, format="multipart")
    assert resp.status_code == 400
    assert AutoWithdrawalRequest.objects.count() == 0


@freeze_time("2026-07-15 10:00")
def test_c4_outside_the_filing_window_is_refused_at_submit(sc_world):
    w = sc_world
    resp = client_for(w["station"]).post(
        "/api/requests/station_status_change/",
        {
            "student": w["cstudent"].pk,
            "change_type": "suspension",
            "reason_detail": "工作调动",
            "written_application": photo_upload(),
            "submit": "true",
        },
        format="multipart",
    )
    assert resp.status_code == 400
    assert "2026-02-20–2026-04-30" in resp.json()["detail"]  # the message names the windows and their dates
    from statuschange.models import StationStatusChangeRequest

    assert StationStatusChangeRequest.objects.count() == 0
