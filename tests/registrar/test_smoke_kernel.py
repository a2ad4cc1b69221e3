import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from registrar.approvals.models import SignOff
from registrar.approvals.services import request_act, request_create
from registrar.exceptions import ApplicationError
from students.models import U6
from tests.factories import photo_upload


def test_u6_happy_path(u6_world):
    w = u6_world
    req = request_create(
        chain=U6,
        student=w["student"],
        applicant=w["student_user"],
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )
    assert req.state == "counsellor_confirm"
    with pytest.raises(Http404):
        request_act(chain=U6, request_id=req.pk, actor=w["other_counsellor"], action="approve")
    with pytest.raises(PermissionDenied):
        request_act(chain=U6, request_id=req.pk, actor=w["finance"], action="approve")
    req = request_act(chain=U6, request_id=req.pk, actor=w["counsellor"], action="approve", opinion="同意")
    assert req.state == "finance_payment"
    with pytest.raises(ApplicationError):
        request_act(chain=U6, request_id=req.pk, actor=w["finance"], action="approve", data={})
    req = request_act(
        chain=U6,
        request_id=req.pk,
        actor=w["finance"],
        action="approve",
        data={"fee_amount": "20.00", "receipt_number": "R2024001"},
    )
    req = request_act(
        chain=U6, request_id=req.pk, actor=w["registrar"], action="approve", data={"new_card_number": "SC-000123"}
    )
    assert req.state == "completed"
    w["student"].refresh_from_db()
    assert w["student"].card_number == "SC-000123"
    assert SignOff.objects.for_object(req).count() == 4
