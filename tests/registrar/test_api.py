"""The U6 chain end to end through the REST API, with four users, and the API's error mapping."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registrar.approvals.models import SignOff
from registrar.approvals.services import OPINION_REQUIRED
from students.models import U6, IdCardReissueRequest
from tests.factories import StudentFactory, photo_upload


def client_for(user, token=False):
    client = APIClient()
    if token:
        t, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {t.key}")
    else:
        client.force_authenticate(user)
    return client


def act(user, pk, action, **body):
    return client_for(user).post(f"/api/requests/id_card/{pk}/transitions/", {"action": action, **body}, format="json")


@pytest.fixture
def submitted(u6_world):
    resp = client_for(u6_world["student_user"], token=True).post(
        "/api/requests/id_card/",
        {"reason": "lost", "reason_detail": "丢失于图书馆", "photo": photo_upload(), "submit": "true"},
        format="multipart",
    )
    assert resp.status_code == 201, resp.content
    return resp.json()["id"]


def test_full_u6_flow_through_the_api_with_four_users(u6_world, submitted):
    w = u6_world
    pk = submitted
    assert (
        client_for(w["counsellor"])
        .get(f"/api/requests/id_card/{pk}/transitions/")
        .json()["available_actions"][0]["name"]
        == "approve"
    )
    assert act(w["counsellor"], pk, "approve", opinion="情况属实，同意补办").status_code == 200
    bad = act(w["finance"], pk, "approve", data={"fee_amount": "-5", "receipt_number": "x"})
    assert bad.status_code == 400
    assert "errors" in bad.json()
    assert (
        act(w["finance"], pk, "approve", data={"fee_amount": "20.00", "receipt_number": "FIN-0001"}).status_code == 200
    )
    resp = act(w["registrar"], pk, "approve", data={"new_card_number": "SC-2024-0001"}, opinion="已补办")
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "completed"
    detail = client_for(w["student_user"]).get(f"/api/requests/id_card/{pk}/").json()
    assert [s["decision"] for s in detail["signoffs"]] == ["submit", "approve", "approve", "approve"]
    assert detail["signoffs"][1]["opinion"] == "情况属实，同意补办"
    assert detail["fee_amount"] == "20.00"
    w["student"].refresh_from_db()
    assert w["student"].card_number == "SC-2024-0001"


def test_scope_and_role_errors(u6_world, submitted):
    w = u6_world
    pk = submitted
    assert client_for(w["other_counsellor"]).get(f"/api/requests/id_card/{pk}/").status_code == 404
    assert act(w["other_counsellor"], pk, "approve").status_code == 404
    assert act(w["finance"], pk, "approve", data={"fee_amount": "20", "receipt_number": "FIN-1"}).status_code == 403
    assert act(w["registrar"], pk, "approve", data={"new_card_number": "SC-1"}).status_code == 403
    other_student = StudentFactory()
    assert client_for(other_student.user).get(f"/api/requests/id_card/{pk}/").status_code == 404
    assert SignOff.objects.count() == 1  # only the submission


def test_wrong_state_and_bad_action(u6_world, submitted):
    w = u6_world
    pk = submitted
    assert act(w["counsellor"], pk, "approve").status_code == 200
    again = act(w["counsellor"], pk, "approve")
    assert again.status_code in (403, 400)
    assert act(w["student_user"], pk, "submit").status_code == 400
    assert act(w["counsellor"], pk, "explode").status_code == 400
    reject = act(w["finance"], pk, "reject")
    assert reject.status_code == 400
    assert reject.json()["detail"] == str(OPINION_REQUIRED)
    assert SignOff.objects.count() == 2


def test_reject_then_amend_and_resubmit(u6_world, submitted):
    w = u6_world
    pk = submitted
    assert act(w["counsellor"], pk, "reject", opinion="照片不符合要求").json()["state"] == "returned"
    student = client_for(w["student_user"])
    assert (
        student.patch(f"/api/requests/id_card/{pk}/", {"reason_detail": "已重新拍照"}, format="json").status_code == 200
    )
    assert act(w["student_user"], pk, "submit").json()["state"] == "counsellor_confirm"
    assert IdCardReissueRequest.objects.get(pk=pk).round == 2


def test_bad_uploads_write_nothing(u6_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(u6_world["student_user"])
    fake = SimpleUploadedFile("photo.png", b"not an image at all", content_type="image/png")
    resp = client.post(
        "/api/requests/id_card/", {"reason": "lost", "photo": fake, "submit": "true"}, format="multipart"
    )
    assert resp.status_code == 400
    resp = client.post("/api/requests/id_card/", {"reason": "nonsense"}, format="multipart")
    assert resp.status_code == 400 and "reason" in resp.json()
    assert IdCardReissueRequest.objects.count() == 0


def test_workflows_endpoint_and_schema(u6_world):
    client = client_for(u6_world["registrar"])
    chains = client.get("/api/workflows/").json()
    u6 = next(c for c in chains if c["code"] == U6.code)
    assert [s["code"] for s in u6["stages"]] == ["counsellor_confirm", "finance_payment", "registrar_reissue"]
    assert client.get("/api/schema/").status_code == 200


def test_anonymous_refused(db):
    assert APIClient().get("/api/requests/id_card/").status_code in (401, 403)
