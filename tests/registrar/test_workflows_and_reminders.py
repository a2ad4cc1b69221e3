import datetime as dt
import json
from io import StringIO

from django.core import mail
from django.core.management import call_command
from freezegun import freeze_time

from registrar.approvals.services import request_create
from registrar.approvals.tasks import flag_overdue_requests
from registrar.notifications.models import Notification
from students.models import U6
from tests.factories import photo_upload


def test_workflows_command_prints_u6_stage_by_stage(db):
    out = StringIO()
    call_command("workflows", U6.code, stdout=out)
    (u6,) = json.loads(out.getvalue())
    assert u6["code"] == U6.code
    assert [(s["code"], [r["role"] for r in s["signers"]]) for s in u6["stages"]] == [
        ("counsellor_confirm", ["counsellor"]),
        ("finance_payment", ["finance"]),
        ("registrar_reissue", ["academic_affairs"]),
    ]
    names = {t["name"] for t in u6["transitions"]}
    assert {"submit", "approve", "reject", "send_back", "withdraw"} <= names
    assert u6["stages"][0]["deadline_days"] == 3


def test_overdue_stage_reminds_the_awaited_signer_once_a_day(u6_world, django_capture_on_commit_callbacks):
    w = u6_world
    with freeze_time("2026-03-02 09:00"):
        req = request_create(
            chain=U6,
            student=w["student"],
            applicant=w["student_user"],
            data={"reason": "lost"},
            attachments={"photo": photo_upload()},
            submit=True,
        )
    assert req.stage_due_at.date() == dt.date(2026, 3, 5)
    Notification.objects.all().delete()
    with freeze_time("2026-03-04 09:00"):
        assert flag_overdue_requests() == 0
    with freeze_time("2026-03-06 09:00"), django_capture_on_commit_callbacks(execute=True):
        assert flag_overdue_requests() == 1
        assert flag_overdue_requests() == 0  # not twice the same day
    reminded = Notification.objects.filter(user=w["counsellor"])
    assert reminded.count() == 1
    assert not Notification.objects.filter(user=w["other_counsellor"]).exists()
    assert any(w["counsellor"].email in m.to for m in mail.outbox)
    with freeze_time("2026-03-07 10:00"):
        assert flag_overdue_requests() == 1
