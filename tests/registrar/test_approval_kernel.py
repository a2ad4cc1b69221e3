"""Behaviour of the approval kernel (registrar.approvals) at the service level, driven through U6.

Scope and roles: out of scope → Http404, in scope with the wrong role → PermissionDenied,
wrong state → ApplicationError; refused actions write nothing.
"""

import dataclasses
import datetime as dt
import io
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from freezegun import freeze_time

from registrar.approvals import services
from registrar.approvals.chains import AttachmentRule, Chain, Stage
from registrar.approvals.models import Attachment, SignOff, StageConfig
from registrar.approvals.selectors import inbox_querysets
from registrar.approvals.services import (
    ALREADY_OPEN,
    ATTACHMENT_BAD_TYPE,
    ATTACHMENT_MISSING,
    ATTACHMENT_TOO_BIG,
    ATTACHMENT_UNKNOWN_KIND,
    MAY_NOT_INITIATE,
    NOT_EDITABLE,
    OPINION_REQUIRED,
    STAGE_DATA_INVALID,
    UNKNOWN_ACTION,
    attachment_add,
    attachment_validate,
    request_act,
    request_create,
    request_update,
)
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification
from students.models import U6, IdCardReissueRequest, Student
from tests.factories import (
    U6_STAGE_DATA,
    fake_png_upload,
    oversize_png_upload,
    pdf_upload,
    photo_upload,
    png_bytes,
    u6_advance_to,
    u6_submitted,
)

STAGES = ["counsellor_confirm", "finance_payment", "registrar_reissue"]
NEXT = {
    "counsellor_confirm": "finance_payment",
    "finance_payment": "registrar_reissue",
    "registrar_reissue": "completed",
}
PREVIOUS = {"finance_payment": "counsellor_confirm", "registrar_reissue": "finance_payment"}

#: Users of ``u6_people`` and how they relate to the request of ``student``.
USERS = [
    "student_user",
    "other_student",
    "counsellor",
    "class_counsellor",
    "college_counsellor",
    "other_counsellor",
    "advisor",
    "dean",
    "finance",
    "registrar",
    "other_college_registrar",
    "superuser",
]
OUT_OF_SCOPE = {"other_student", "other_counsellor", "advisor", "dean", "other_college_registrar"}
SIGNERS = {
    "counsellor_confirm": {"counsellor", "class_counsellor", "college_counsellor"},
    "finance_payment": {"finance"},
    "registrar_reissue": {"registrar"},
}
SIGNER_ROLE = {
    "counsellor_confirm": "counsellor",
    "finance_payment": "finance",
    "registrar_reissue": "academic_affairs",
}


def expected(who: str, stage: str):
    if who in SIGNERS[stage]:
        return "ok"
    return Http404 if who in OUT_OF_SCOPE else PermissionDenied


def signoffs(req):
    return list(SignOff.objects.for_object(req).order_by("id"))


def fresh(req):
    return IdCardReissueRequest.objects.get(pk=req.pk)


def act(w, who, req, action, **kw):
    return request_act(chain=U6, request_id=req.pk, actor=w[who], action=action, **kw)


def assert_refused(req, exc, call, *, state=None, count=None):
    """``call`` raises ``exc`` and neither the state nor the sign-off log changed."""
    state = state or fresh(req).state
    count = len(signoffs(req)) if count is None else count
    with pytest.raises(exc) as info:
        call()
    assert fresh(req).state == state
    assert len(signoffs(req)) == count
    return info


@pytest.fixture
def two_signers(db):
    """counsellor_confirm needs the counsellor *and* the class advisor (StageConfig override)."""
    return StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", signers=["counsellor", "advisor"])


# --- the permission matrix: every stage × every user × every staff action ------------------
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("who", USERS)
def test_approve_matrix(u6_people, who, stage):
    w = u6_people
    req = u6_advance_to(w, u6_submitted(w), stage)
    call = partial(act, w, who, req, "approve", opinion="同意", data=U6_STAGE_DATA[stage])
    outcome = expected(who, stage)
    if outcome != "ok":
        assert_refused(req, outcome, call)
        return
    before = len(signoffs(req))
    req = call()
    assert req.state == fresh(req).state == NEXT[stage]
    log = signoffs(req)
    assert len(log) == before + 1
    last = log[-1]
    assert (last.actor, last.role, last.decision) == (w[who], SIGNER_ROLE[stage], SignOff.Decision.APPROVE)
    assert (last.stage, last.source_state, last.target_state, last.round) == (stage, stage, NEXT[stage], 1)
    assert last.opinion == "同意"
    assert last.actor_label == w[who].display_name


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("who", USERS)
def test_reject_matrix(u6_people, who, stage):
    w = u6_people
    req = u6_advance_to(w, u6_submitted(w), stage)
    call = partial(act, w, who, req, "reject", opinion="照片不合格")
    outcome = expected(who, stage)
    if outcome != "ok":
        assert_refused(req, outcome, call)
        return
    req = call()
    req = fresh(req)
    assert req.state == "returned"
    assert req.return_reason == "照片不合格"
    assert req.stage_due_at is None
    last = signoffs(req)[-1]
    assert (last.decision, last.stage, last.source_state, last.target_state) == (
        SignOff.Decision.REJECT,
        stage,
        stage,
        "returned",
    )
    assert last.opinion == "照片不合格"


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("who", USERS)
def test_send_back_matrix(u6_people, who, stage):
    w = u6_people
    req = u6_advance_to(w, u6_submitted(w), stage)
    call = partial(act, w, who, req, "send_back", opinion="请重新核对")
    outcome = expected(who, stage)
    if stage == "counsellor_confirm" and outcome is not Http404:
        # Nothing comes before the first stage: a wrong-state error, whoever asks.
        assert_refused(req, ApplicationError, call)
        return
    if outcome != "ok":
        assert_refused(req, outcome, call)
        return
    req = call()
    assert fresh(req).state == PREVIOUS[stage]
    last = signoffs(req)[-1]
    assert (last.decision, last.source_state, last.target_state) == (SignOff.Decision.RETURN, stage, PREVIOUS[stage])


@pytest.mark.parametrize("who", USERS)
def test_submit_matrix(u6_people, who):
    w = u6_people
    req = request_create(
        chain=U6,
        student=w["student"],
        applicant=w["student_user"],
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
    )
    assert req.state == "draft"
    call = partial(act, w, who, req, "submit")
    if who != "student_user":
        assert_refused(req, Http404 if who in OUT_OF_SCOPE else PermissionDenied, call)
        return
    req = call()
    assert fresh(req).state == "counsellor_confirm"
    assert fresh(req).round == 1
    (log,) = signoffs(req)
    assert (log.decision, log.role, log.source_state, log.target_state) == (
        SignOff.Decision.SUBMIT,
        "student",
        "draft",
        "counsellor_confirm",
    )


@pytest.mark.parametrize("who", USERS)
def test_withdraw_matrix(u6_people, who):
    w = u6_people
    req = u6_submitted(w)
    call = partial(act, w, who, req, "withdraw")
    if who != "student_user":
        assert_refused(req, Http404 if who in OUT_OF_SCOPE else PermissionDenied, call)
        return
    call()
    assert fresh(req).state == "withdrawn"
    assert signoffs(req)[-1].decision == SignOff.Decision.WITHDRAW


# --- no stage can be skipped ----------------------------------------------------------------
def test_later_signers_cannot_act_at_the_counsellor_stage(u6_world):
    w = u6_world
    req = u6_submitted(w)
    # The registrar and finance are in scope (university-wide), so they get 403, not 404.
    assert_refused(
        req, PermissionDenied, partial(act, w, "registrar", req, "approve", data=U6_STAGE_DATA["registrar_reissue"])
    )
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    )
    assert_refused(req, PermissionDenied, partial(act, w, "registrar", req, "reject", opinion="x"))
    assert fresh(req).pending_roles() == ["counsellor"]


def test_each_approval_moves_exactly_one_stage(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "completed")
    moves = [(s.source_state, s.target_state, s.decision) for s in signoffs(req)]
    assert moves == [
        ("draft", "counsellor_confirm", "submit"),
        ("counsellor_confirm", "finance_payment", "approve"),
        ("finance_payment", "registrar_reissue", "approve"),
        ("registrar_reissue", "completed", "approve"),
    ]
    req = fresh(req)
    assert req.completed_at is not None and req.stage_due_at is None
    assert (req.fee_amount, req.receipt_number, req.new_card_number) == (20, "R2024001", "SC-000123")
    w["student"].refresh_from_db()
    assert w["student"].card_number == "SC-000123"
    history = w["student"].history.get(field="card_number")
    assert (history.request_type, history.request_id, history.new_value) == (U6.code, req.pk, "SC-000123")
    # Nothing more to do on a completed request.
    assert_refused(
        req, ApplicationError, partial(act, w, "registrar", req, "approve", data=U6_STAGE_DATA["registrar_reissue"])
    )


def test_state_cannot_be_assigned_directly(u6_world):
    req = u6_submitted(u6_world)
    with pytest.raises(AttributeError):
        req.state = "completed"


def test_stage_data_only_fills_the_current_stage_form(u6_world):
    """A tampered payload carrying other stages' fields (or the state) changes nothing else."""
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    act(
        w,
        "finance",
        req,
        "approve",
        data={**U6_STAGE_DATA["finance_payment"], "new_card_number": "HACK", "state": "completed", "round": 9},
    )
    req = fresh(req)
    assert req.state == "registrar_reissue"
    assert req.new_card_number == ""
    assert req.round == 1
    assert signoffs(req)[-1].data == {"fee_amount": "20.00", "receipt_number": "R2024001"}


def test_invalid_stage_data_is_refused_and_writes_nothing(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    info = assert_refused(
        req,
        ApplicationError,
        partial(act, w, "finance", req, "approve", data={"fee_amount": "-1", "receipt_number": "!"}),
    )
    assert info.value.message == STAGE_DATA_INVALID
    assert set(info.value.extra["errors"]) == {"fee_amount", "receipt_number"}
    assert fresh(req).fee_amount is None


def test_unknown_action_and_unknown_request(u6_world):
    w = u6_world
    req = u6_submitted(w)
    info = assert_refused(req, ApplicationError, partial(act, w, "counsellor", req, "complete"))
    assert info.value.message == UNKNOWN_ACTION
    with pytest.raises(Http404):
        request_act(chain=U6, request_id=req.pk + 1000, actor=w["counsellor"], action="approve")


# --- a signer cannot act twice ---------------------------------------------------------------
def test_signer_cannot_approve_again_at_the_next_stage(u6_world):
    w = u6_world
    req = u6_submitted(w)
    req = act(w, "counsellor", req, "approve")
    assert req.state == "finance_payment"
    assert_refused(
        req, PermissionDenied, partial(act, w, "counsellor", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    )
    req = act(w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["registrar_reissue"])
    )
    assert [s.actor for s in signoffs(req) if s.decision == "approve"] == [w["counsellor"], w["finance"]]


def test_signer_cannot_approve_twice_at_the_same_stage(u6_people, two_signers):
    w = u6_people
    req = u6_submitted(w)
    req = act(w, "counsellor", req, "approve")
    assert req.state == "counsellor_confirm"
    assert_refused(req, PermissionDenied, partial(act, w, "counsellor", req, "approve"))
    # Nor may they reject once they have signed; the advisor still may.
    assert_refused(req, PermissionDenied, partial(act, w, "counsellor", req, "reject", opinion="改主意了"))
    approvals = [s for s in signoffs(req) if s.decision == "approve"]
    assert [(s.actor, s.stage) for s in approvals] == [(w["counsellor"], "counsellor_confirm")]


# --- multi-signer stages (StageConfig override) ---------------------------------------------
@pytest.mark.parametrize("order", [("counsellor", "advisor"), ("advisor", "counsellor")])
def test_two_signer_stage_advances_only_when_both_signed(u6_people, two_signers, order):
    w = u6_people
    first, second = order
    req = u6_submitted(w)
    assert set(req.pending_roles()) == {"counsellor", "advisor"}
    assert all(req.pk in qs.values_list("pk", flat=True) for _c, qs in inbox_querysets(w[first], chain_code=U6.code))

    req = act(w, first, req, "approve", opinion="同意")
    assert req.state == fresh(req).state == "counsellor_confirm"
    assert req.pending_roles() == [second]
    last = signoffs(req)[-1]
    assert (last.role, last.source_state, last.target_state) == (first, "counsellor_confirm", "counsellor_confirm")
    # The request left the first signer's inbox and waits in the second's; finance still cannot act.
    assert not any(qs.filter(pk=req.pk).exists() for _c, qs in inbox_querysets(w[first], chain_code=U6.code))
    assert any(qs.filter(pk=req.pk).exists() for _c, qs in inbox_querysets(w[second], chain_code=U6.code))
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    )

    req = act(w, second, req, "approve", opinion="同意")
    assert fresh(req).state == "finance_payment"
    moves = [(s.role, s.target_state) for s in signoffs(req) if s.decision == "approve"]
    assert moves == [(first, "counsellor_confirm"), (second, "finance_payment")]


def test_stage_config_override_replaces_the_seed_signers(u6_people):
    w = u6_people
    StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", signers=["advisor"])
    req = u6_submitted(w)
    assert req.pending_roles() == ["advisor"]
    # The counsellor no longer takes part in U6 at all, so the request is out of their scope.
    assert_refused(req, Http404, partial(act, w, "counsellor", req, "approve"))
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    )
    assert act(w, "advisor", req, "approve").state == "finance_payment"


# --- reject → amend → resubmit -----------------------------------------------------------------
def test_reject_amend_resubmit(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    req = act(w, "finance", req, "reject", opinion="请补交收据")
    assert (req.state, req.return_reason, req.round) == ("returned", "请补交收据", 1)
    # Staff cannot act on a returned request; only the applicant amends it.
    assert_refused(req, ApplicationError, partial(act, w, "counsellor", req, "approve"))
    with pytest.raises(PermissionDenied):
        request_update(request=fresh(req), actor=w["counsellor"], data={"reason": "other"})

    req = request_update(
        request=fresh(req), actor=w["student_user"], data={"reason": "damaged", "reason_detail": "卡片断裂"}
    )
    assert fresh(req).reason == "damaged"
    req = act(w, "student_user", req, "submit")
    req = fresh(req)
    assert (req.state, req.round, req.return_reason) == ("counsellor_confirm", 2, "")
    # Round 1's counsellor approval does not count in round 2.
    assert req.pending_roles() == ["counsellor"]
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"])
    )
    req = u6_advance_to(w, req, "completed")
    assert [(s.round, s.decision) for s in signoffs(req)] == [
        (1, "submit"),
        (1, "approve"),
        (1, "reject"),
        (2, "submit"),
        (2, "approve"),
        (2, "approve"),
        (2, "approve"),
    ]


def test_previous_rounds_signatures_do_not_count(u6_people, two_signers):
    w = u6_people
    req = u6_submitted(w)
    act(w, "counsellor", req, "approve")
    act(w, "advisor", req, "reject", opinion="原因写得不清楚")
    request_update(request=fresh(req), actor=w["student_user"], data={"reason_detail": "在图书馆丢失"})
    act(w, "student_user", req, "submit")
    req = act(w, "advisor", req, "approve")
    assert req.state == "counsellor_confirm"  # the counsellor's round-1 signature is void
    assert req.pending_roles() == ["counsellor"]
    assert act(w, "counsellor", req, "approve").state == "finance_payment"


def test_only_draft_or_returned_requests_can_be_amended(u6_world):
    w = u6_world
    req = u6_submitted(w)
    with pytest.raises(ApplicationError) as info:
        request_update(request=fresh(req), actor=w["student_user"], data={"reason": "other"})
    assert info.value.message == NOT_EDITABLE
    assert fresh(req).reason == "lost"


@pytest.mark.parametrize("action", ["reject", "send_back"])
@pytest.mark.parametrize("opinion", ["", "   \n"])
def test_reject_and_send_back_need_an_opinion(u6_world, action, opinion):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    info = assert_refused(req, ApplicationError, partial(act, w, "finance", req, action, opinion=opinion))
    assert info.value.message == OPINION_REQUIRED


# --- send back ------------------------------------------------------------------------------------
def test_send_back_returns_to_the_previous_stage_whose_signers_sign_again(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    req = act(w, "registrar", req, "send_back", opinion="收据号有误")
    assert (req.state, req.round) == ("finance_payment", 1)
    req = act(w, "finance", req, "send_back", opinion="请辅导员再确认")
    assert fresh(req).state == "counsellor_confirm"
    # The counsellor already approved this stage in this round, but the stage was re-entered.
    assert fresh(req).pending_roles() == ["counsellor"]
    req = act(w, "counsellor", req, "approve", opinion="已再次确认")
    assert req.state == "finance_payment"
    req = act(w, "finance", req, "approve", data={"fee_amount": "20.00", "receipt_number": "R2024002"})
    assert req.state == "registrar_reissue"
    assert fresh(req).receipt_number == "R2024002"
    assert [s.decision for s in signoffs(req)] == [
        "submit",
        "approve",
        "approve",
        "return",
        "return",
        "approve",
        "approve",
    ]


def test_send_back_voids_only_the_reentered_stage_in_a_two_signer_stage(u6_people, two_signers):
    w = u6_people
    req = u6_submitted(w)
    act(w, "counsellor", req, "approve")
    act(w, "advisor", req, "approve")
    act(w, "finance", req, "send_back", opinion="请再确认")
    req = fresh(req)
    assert req.state == "counsellor_confirm"
    assert set(req.pending_roles()) == {"counsellor", "advisor"}
    assert act(w, "advisor", req, "approve").state == "counsellor_confirm"
    assert act(w, "counsellor", req, "approve").state == "finance_payment"


# --- withdraw -------------------------------------------------------------------------------------
def test_withdraw_from_draft(u6_world):
    w = u6_world
    req = request_create(chain=U6, student=w["student"], applicant=w["student_user"], data={"reason": "lost"})
    req = act(w, "student_user", req, "withdraw")
    assert (req.state, fresh(req).state) == ("withdrawn", "withdrawn")
    (log,) = signoffs(req)
    assert (log.decision, log.source_state, log.target_state) == ("withdraw", "draft", "withdrawn")


def test_withdraw_from_returned_and_from_the_first_stage(u6_world):
    w = u6_world
    req = u6_submitted(w)
    act(w, "counsellor", req, "reject", opinion="请当面说明")
    assert act(w, "student_user", req, "withdraw").state == "withdrawn"
    # A withdrawn request is closed: a new one may be opened, and withdrawn from the first stage.
    req2 = u6_submitted(w)
    assert act(w, "student_user", req2, "withdraw").state == "withdrawn"
    assert fresh(req2).stage_due_at is None


@pytest.mark.parametrize("stage", ["finance_payment", "registrar_reissue", "completed"])
def test_no_withdraw_from_later_stages(u6_world, stage):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), stage)
    assert_refused(req, ApplicationError, partial(act, w, "student_user", req, "withdraw"))


def test_nothing_happens_to_a_withdrawn_request(u6_world):
    w = u6_world
    req = u6_submitted(w)
    act(w, "student_user", req, "withdraw")
    for who, action in [("student_user", "submit"), ("student_user", "withdraw"), ("counsellor", "approve")]:
        assert_refused(req, ApplicationError, partial(act, w, who, req, action))
    with pytest.raises(ApplicationError):
        request_update(request=fresh(req), actor=w["student_user"], data={"reason": "other"})


# --- a failing save leaves nothing behind -----------------------------------------------------------
def _boom(**kwargs):
    raise RuntimeError("boom")


def test_failing_completion_hook_rolls_back_state_and_signoff(u6_world, monkeypatch):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    notifications = Notification.objects.count()
    monkeypatch.setattr("students.services.idcard_reissue_complete", _boom)
    assert_refused(
        req, RuntimeError, partial(act, w, "registrar", req, "approve", data=U6_STAGE_DATA["registrar_reissue"])
    )
    req = fresh(req)
    assert req.completed_at is None and req.new_card_number == ""
    w["student"].refresh_from_db()
    assert w["student"].card_number == ""
    assert not w["student"].history.exists()
    assert Notification.objects.count() == notifications


def test_failing_signoff_write_rolls_back_the_state_change(u6_world, monkeypatch):
    w = u6_world
    req = u6_submitted(w)
    monkeypatch.setattr(services, "signoff_record", _boom)
    assert_refused(req, RuntimeError, partial(act, w, "counsellor", req, "approve"), state="counsellor_confirm")


def test_failing_request_save_writes_no_signoff(u6_world, monkeypatch):
    w = u6_world
    req = u6_submitted(w)

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(IdCardReissueRequest, "save", broken_save)
    assert_refused(req, RuntimeError, partial(act, w, "counsellor", req, "approve"), state="counsellor_confirm")


@pytest.mark.django_db(transaction=True)
def test_failing_action_commits_nothing_and_sends_no_mail(u6_world, monkeypatch, mailoutbox):
    """With real transactions: a failure sends no mail; a success mails only after commit."""
    w = u6_world
    req = u6_submitted(w)
    mailoutbox.clear()
    monkeypatch.setattr("registrar.notifications.services.notify_request_moved", _boom)
    assert_refused(req, RuntimeError, partial(act, w, "counsellor", req, "approve"), state="counsellor_confirm")
    assert mailoutbox == []
    monkeypatch.undo()
    act(w, "counsellor", req, "approve")
    assert fresh(req).state == "finance_payment"
    assert {addr for m in mailoutbox for addr in m.to} >= {w["student_user"].email, w["finance"].email}


# --- attachments ----------------------------------------------------------------------------------
def _draft(w):
    return request_create(chain=U6, student=w["student"], applicant=w["student_user"], data={"reason": "lost"})


def _attachments(req):
    return Attachment.objects.filter(object_id=req.pk, content_type__model="idcardreissuerequest")


def test_photo_is_stored_under_a_safe_name_with_its_sniffed_type(u6_world):
    w = u6_world
    req = _draft(w)
    att = attachment_add(request=req, kind="photo", upload=photo_upload("我的照片.PNG"), actor=w["student_user"])
    assert (att.mime_type, att.original_name, att.kind) == ("image/png", "我的照片.PNG", "photo")
    assert att.file.name.endswith(f"{U6.code}-{req.pk}-photo.png")
    assert att.file.read() == png_bytes()


def test_jpeg_photo_is_accepted(u6_world):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (100, 140), (10, 20, 30)).save(buf, format="JPEG")
    req = _draft(u6_world)
    att = attachment_add(
        request=req, kind="photo", upload=SimpleUploadedFile("p.jpg", buf.getvalue()), actor=u6_world["student_user"]
    )
    assert att.mime_type == "image/jpeg"


def _gif_upload():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, format="GIF")
    return SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")


@pytest.mark.parametrize("upload", [fake_png_upload, pdf_upload, _gif_upload], ids=["text-as-png", "pdf", "gif"])
def test_photo_must_really_be_a_jpeg_or_png(u6_world, upload):
    w = u6_world
    req = _draft(w)
    bad = upload()
    with pytest.raises(ApplicationError) as info:
        attachment_add(request=req, kind="photo", upload=bad, actor=w["student_user"])
    assert info.value.message == ATTACHMENT_BAD_TYPE % {"name": bad.name, "pdf": ""}
    assert not _attachments(req).exists()


def test_oversize_photo_is_refused(u6_world):
    w = u6_world
    req = _draft(w)
    limit = U6.attachment_rule("photo").max_bytes
    big = oversize_png_upload(limit)
    assert big.size > limit
    with pytest.raises(ApplicationError) as info:
        attachment_add(request=req, kind="photo", upload=big, actor=w["student_user"])
    assert info.value.message == ATTACHMENT_TOO_BIG % {
        "name": "big.png",
        "size": big.size // 1024,
        "limit": limit // 1024,
    }
    assert not _attachments(req).exists()
    # Exactly at the limit is fine.
    ok = oversize_png_upload(limit - 1)
    assert ok.size == limit
    assert attachment_add(request=req, kind="photo", upload=ok, actor=w["student_user"]).size == limit


def test_unknown_attachment_kind_is_refused(u6_world):
    req = _draft(u6_world)
    with pytest.raises(ApplicationError) as info:
        attachment_add(request=req, kind="diploma", upload=photo_upload(), actor=u6_world["student_user"])
    assert info.value.message == ATTACHMENT_UNKNOWN_KIND % {"kind": "diploma"}


SCAN_CHAIN = Chain(
    code="T1",
    name="test",
    stages=(Stage("only", "only", ("finance",)),),
    attachments=(AttachmentRule("scan", "scan"), AttachmentRule("photo", "photo", images_only=True)),
)


def test_pdf_is_accepted_only_where_the_rule_allows_it(settings):
    assert attachment_validate(chain=SCAN_CHAIN, kind="scan", upload=pdf_upload()) == "application/pdf"
    assert attachment_validate(chain=SCAN_CHAIN, kind="scan", upload=photo_upload()) == "image/png"
    with pytest.raises(ApplicationError):
        attachment_validate(chain=SCAN_CHAIN, kind="photo", upload=pdf_upload())
    with pytest.raises(ApplicationError):
        attachment_validate(chain=SCAN_CHAIN, kind="scan", upload=fake_png_upload("x.pdf"))
    # Without a per-kind limit the site-wide limit applies.
    settings.REGISTRAR = {**settings.REGISTRAR, "ATTACHMENT_MAX_BYTES": 100}
    with pytest.raises(ApplicationError):
        attachment_validate(chain=SCAN_CHAIN, kind="scan", upload=pdf_upload())


def test_pdf_attachment_is_stored_where_the_chain_allows_it(u6_world, monkeypatch):
    w = u6_world
    req = _draft(w)
    chain = dataclasses.replace(U6, attachments=(*U6.attachments, AttachmentRule("scan", "scan")))
    monkeypatch.setattr(IdCardReissueRequest, "chain", chain)
    att = attachment_add(request=req, kind="scan", upload=pdf_upload(), actor=w["student_user"])
    assert (att.mime_type, att.file.name.endswith(".pdf")) == ("application/pdf", True)


def test_missing_required_photo_blocks_submit(u6_world):
    w = u6_world
    req = _draft(w)
    info = assert_refused(req, ApplicationError, partial(act, w, "student_user", req, "submit"))
    assert info.value.message == ATTACHMENT_MISSING % {"kinds": str(U6.attachment_rule("photo").label)}
    assert fresh(req).round == 0 and fresh(req).submitted_at is None
    attachment_add(request=req, kind="photo", upload=photo_upload(), actor=w["student_user"])
    assert act(w, "student_user", req, "submit").state == "counsellor_confirm"


def test_create_and_submit_without_photo_writes_nothing(u6_world):
    w = u6_world
    with pytest.raises(ApplicationError) as info:
        request_create(
            chain=U6, student=w["student"], applicant=w["student_user"], data={"reason": "lost"}, submit=True
        )
    assert info.value.message == ATTACHMENT_MISSING % {"kinds": str(U6.attachment_rule("photo").label)}
    assert not IdCardReissueRequest.objects.exists()
    assert not SignOff.objects.exists()


def test_create_with_a_bad_photo_writes_nothing(u6_world):
    w = u6_world
    with pytest.raises(ApplicationError):
        request_create(
            chain=U6,
            student=w["student"],
            applicant=w["student_user"],
            data={"reason": "lost"},
            attachments={"photo": fake_png_upload()},
            submit=True,
        )
    assert not IdCardReissueRequest.objects.exists()
    assert not Attachment.objects.exists()


# --- opening requests -----------------------------------------------------------------------------
def test_a_second_open_request_for_the_same_student_is_refused(u6_world):
    w = u6_world
    first = u6_submitted(w)
    with pytest.raises(ApplicationError) as info:
        u6_submitted(w)
    assert info.value.message == ALREADY_OPEN % {"chain": U6.name, "id": first.pk}
    # Still refused while the first is returned to the applicant (it is open) …
    act(w, "counsellor", first, "reject", opinion="请重交")
    with pytest.raises(ApplicationError):
        u6_submitted(w)
    assert IdCardReissueRequest.objects.count() == 1
    # … and allowed once it is closed.
    act(w, "student_user", first, "submit")
    u6_advance_to(w, fresh(first), "completed")
    assert u6_submitted(w).state == "counsellor_confirm"


@pytest.mark.parametrize("who", ["other_student", "counsellor", "registrar", "finance"])
def test_only_the_student_opens_their_own_request(u6_people, who):
    w = u6_people
    with pytest.raises(PermissionDenied) as info:
        request_create(
            chain=U6,
            student=w["student"],
            applicant=w[who],
            data={"reason": "lost"},
            attachments={"photo": photo_upload()},
            submit=True,
        )
    assert str(info.value) == str(MAY_NOT_INITIATE)
    assert not IdCardReissueRequest.objects.exists()


def test_invalid_application_data_is_refused(u6_world):
    from django.core.exceptions import ValidationError

    w = u6_world
    with pytest.raises(ValidationError):
        request_create(chain=U6, student=w["student"], applicant=w["student_user"], data={"reason": "eaten"})
    assert not IdCardReissueRequest.objects.exists()


# --- deadlines ------------------------------------------------------------------------------------
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def test_stage_due_at_follows_each_stage_deadline(u6_world):
    w = u6_world
    with freeze_time(T0):
        req = fresh(u6_submitted(w))
        assert (req.submitted_at, req.stage_entered_at) == (T0, T0)
        assert req.stage_due_at == T0 + dt.timedelta(days=3)
    with freeze_time(T0 + dt.timedelta(days=1)):
        req = fresh(act(w, "counsellor", req, "approve"))
        assert req.stage_due_at == T0 + dt.timedelta(days=1 + 7)
    with freeze_time(T0 + dt.timedelta(days=2)):
        req = fresh(act(w, "finance", req, "reject", opinion="金额不对"))
        assert req.stage_due_at is None


def test_stage_config_overrides_the_deadline(u6_world):
    w = u6_world
    StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", deadline_days=10)
    StageConfig.objects.create(chain=U6.code, stage="finance_payment", deadline_days=0)  # 0: no deadline
    StageConfig.objects.create(chain=U6.code, stage="registrar_reissue", signers=["academic_affairs"])  # keeps 5 days
    with freeze_time(T0):
        req = fresh(u6_submitted(w))
        assert req.stage_due_at == T0 + dt.timedelta(days=10)
        req = fresh(act(w, "counsellor", req, "approve"))
        assert req.stage_due_at is None
        req = fresh(act(w, "finance", req, "approve", data=U6_STAGE_DATA["finance_payment"]))
        assert req.stage_due_at == T0 + dt.timedelta(days=5)


def test_removing_the_override_restores_the_seed_deadline(u6_world):
    w = u6_world
    config = StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", deadline_days=10)
    assert U6.deadline("counsellor_confirm") == dt.timedelta(days=10)
    config.delete()
    with freeze_time(T0):
        req = fresh(u6_submitted(w))
    assert req.stage_due_at == T0 + dt.timedelta(days=3)


def test_is_overdue(u6_world):
    w = u6_world
    with freeze_time(T0):
        req = u6_submitted(w)
    with freeze_time(T0 + dt.timedelta(days=3) - dt.timedelta(seconds=1)):
        assert not fresh(req).is_overdue
        assert not any(qs.exists() for _c, qs in inbox_querysets(w["counsellor"], overdue_only=True))
    with freeze_time(T0 + dt.timedelta(days=3, seconds=1)):
        assert fresh(req).is_overdue
        assert any(qs.filter(pk=req.pk).exists() for _c, qs in inbox_querysets(w["counsellor"], overdue_only=True))
        # Passing the stage starts the next stage's clock.
        req = act(w, "counsellor", req, "approve")
        assert not fresh(req).is_overdue
    with freeze_time(T0 + dt.timedelta(days=30)):
        assert fresh(req).is_overdue
        act(w, "finance", req, "reject", opinion="逾期")
        assert not fresh(req).is_overdue  # returned: not waiting on staff


def test_completed_request_is_never_overdue(u6_world):
    w = u6_world
    with freeze_time(T0):
        req = u6_advance_to(w, u6_submitted(w), "completed")
    with freeze_time(T0 + dt.timedelta(days=365)):
        assert not fresh(req).is_overdue


def test_student_model_is_untouched_by_refusals(u6_world):
    """Refused actions at the last stage leave the student's record alone."""
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    assert_refused(
        req, PermissionDenied, partial(act, w, "finance", req, "approve", data=U6_STAGE_DATA["registrar_reissue"])
    )
    assert Student.objects.get(pk=w["student"].pk).card_number == ""
