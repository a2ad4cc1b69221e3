"""Every rejection point returns the request to its applicant with the reason, and the applicant can
resubmit it and see it through. Once a stage has changed the student's record (the registrar's stage
of U1, U2 and U3), the request can no longer be returned or sent back."""

import pytest
from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, RETURNED, get_chain
from registrar.approvals.models import SignOff
from registrar.approvals.services import WRONG_STATE
from registrar.documents.models import Document
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification
from statuschange.models import C4, U1, U3, U4
from students.models import StatusHistory
from tests.statuschange.helpers import CHAIN_CODES, open_request, pass_stage, resubmit, sign, subject

REASON = "材料不全，请补充后重新提交"


def _effect_index(chain):
    """Index of the stage whose passing changes the record (None: only completion does)."""
    return next((i for i, s in enumerate(chain.stages) if s.on_pass), None)


def _rejectable(code):
    chain = get_chain(code)
    i = _effect_index(chain)
    return chain.stage_codes if i is None else chain.stage_codes[: i + 1]


def _not_rejectable(code):
    chain = get_chain(code)
    i = _effect_index(chain)
    return () if i is None else chain.stage_codes[i + 1 :]


REJECTABLE = [(c, s) for c in CHAIN_CODES for s in _rejectable(c)]
FINAL = [(c, s) for c in CHAIN_CODES for s in _not_rejectable(c)]


def _advance_to(w, req, stage):
    while req.state != stage:
        req = pass_stage(w, req)
    return req


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize(("code", "stage"), REJECTABLE)
def test_rejection_returns_to_applicant_and_resubmission_works(sc_world, code, stage):
    w = sc_world
    chain = get_chain(code)
    req = _advance_to(w, open_request(w, code), stage)
    roles = chain.signers(stage)
    if len(roles) > 1:  # one signer has already approved this stage when another rejects
        req = sign(w, req, roles[0])
    rejecter = roles[-1]
    before = Notification.objects.filter(user=req.applicant).count()
    req = sign(w, req, rejecter, action="reject", opinion=REASON)

    assert req.state == RETURNED
    assert req.return_reason == REASON
    assert req.stage_due_at is None
    rejection = SignOff.objects.for_object(req).get(decision=SignOff.Decision.REJECT)
    assert (rejection.stage, rejection.role, rejection.opinion) == (stage, rejecter, REASON)
    if req.applicant.pk != rejection.actor_id:
        assert Notification.objects.filter(user=req.applicant).count() == before + 1
    student = subject(w, code)
    assert not StatusHistory.objects.filter(student=student).exists()
    issued_before = [d for s in chain.stage_codes[: chain.stage_codes.index(stage)] for d in chain.stage(s).issues]
    assert sorted(Document.objects.filter(chain=code, request_id=req.pk).values_list("doc_type", flat=True)) == sorted(
        issued_before
    )

    # a rejection needs a reason
    with pytest.raises(ApplicationError):
        sign(w, req, rejecter, action="reject", opinion="")

    req = resubmit(req)
    assert (req.state, req.round, req.return_reason) == (chain.stage_codes[0], 2, "")
    assert req.pending_roles() == list(chain.signers(chain.stage_codes[0]))  # round 1 sign-offs no longer count
    req = pass_stage(w, req)  # the new round moves on
    assert req.state == chain.next_stage_code(chain.stage_codes[0])


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize(
    ("code", "stage"),
    [
        (U1.code, "registrar_issue"),
        (U3.code, "leadership_approval"),
        (U4.code, "leadership_approval"),
        (C4.code, "station_feedback"),
    ],
)
def test_resubmitted_request_completes_and_writes_history_once(sc_world, code, stage):
    w = sc_world
    req = _advance_to(w, open_request(w, code), stage)
    req = sign(w, req, get_chain(code).signers(stage)[0], action="reject", opinion=REASON)
    req = resubmit(req)
    while req.state != COMPLETED:
        req = pass_stage(w, req)
    student = subject(w, code)
    student.refresh_from_db()
    assert student.status == {U3.code: "withdrawn", U4.code: "withdrawn"}.get(code, "suspended")
    assert StatusHistory.objects.filter(student=student, field="status").count() == 1
    issued = list(Document.objects.filter(chain=code, request_id=req.pk).values_list("doc_type", flat=True))
    assert sorted(issued) == sorted(d for s in get_chain(code).stages for d in s.issues)


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize(("code", "stage"), FINAL)
def test_no_return_once_the_record_has_changed(sc_world, code, stage):
    w = sc_world
    req = _advance_to(w, open_request(w, code), stage)
    student = subject(w, code)
    student.refresh_from_db()
    status = student.status
    signoffs = SignOff.objects.for_object(req).count()
    role = get_chain(code).signers(stage)[0]
    for action in ("reject", "send_back"):
        with pytest.raises(ApplicationError) as exc:
            sign(w, req, role, action=action, opinion=REASON)
        assert str(exc.value).startswith(str(WRONG_STATE).split("“")[0])
    req.refresh_from_db()
    student.refresh_from_db()
    assert (req.state, student.status) == (stage, status)
    assert SignOff.objects.for_object(req).count() == signoffs


@freeze_time("2026-03-10 10:00")
def test_rejection_during_clearance_revokes_the_leave_notice(sc_world):
    """U3: the leave-school notice issued before the clearance stops being valid when a department
    returns the request; the approval form stays; approving again issues a new notice."""
    w = sc_world
    req = _advance_to(w, open_request(w, U3.code), "clearance")
    notice = Document.objects.get(chain=U3.code, request_id=req.pk, doc_type="leave_notice")
    assert notice.revoked_at is None
    req = sign(w, req, "library", action="reject", opinion=REASON)
    assert req.state == RETURNED
    notice.refresh_from_db()
    assert notice.revoked_at is not None and notice.revoked_by == w["library"]
    assert REASON in notice.revoke_reason
    assert not Document.objects.filter(
        chain=U3.code, request_id=req.pk, doc_type="approval_form", revoked_at__isnull=False
    ).exists()
    req = resubmit(req)
    req = _advance_to(w, req, "clearance")
    valid = Document.objects.filter(chain=U3.code, request_id=req.pk, doc_type="leave_notice", revoked_at__isnull=True)
    assert valid.count() == 1 and valid.get().pk != notice.pk


@freeze_time("2026-03-10 10:00")
def test_a_notice_issued_again_after_a_send_back_supersedes_the_first(sc_world):
    """U3: a clearance department sends the request back to the registrar's notice stage after finance
    recorded its figures; passing that stage again issues a notice with the new content, which
    supersedes the first, so the request never holds two valid notices (found by the R2 walks).
    Passing it again with nothing changed keeps the same notice."""
    w = sc_world
    req = _advance_to(w, open_request(w, U3.code), "clearance")
    first = Document.objects.get(chain=U3.code, request_id=req.pk, doc_type="leave_notice")
    req = sign(w, req, "finance")
    req = sign(w, req, "library", action="send_back", opinion="离校通知单信息有误")
    assert req.state == "registrar_notice"
    req = sign(w, req, "academic_affairs")
    assert req.state == "clearance"
    notices = list(Document.objects.filter(chain=U3.code, request_id=req.pk, doc_type="leave_notice").order_by("id"))
    assert next(n.pk for n in notices) == first.pk and len(notices) == 2
    old, new = notices
    assert old.revoked_at is not None and old.revoked_by == w["academic_affairs"] and new.serial in old.revoke_reason
    assert new.revoked_at is None
    req = sign(w, req, "library", action="send_back", opinion="再核对一次")
    req = sign(w, req, "academic_affairs")
    valid = Document.objects.filter(chain=U3.code, request_id=req.pk, doc_type="leave_notice", revoked_at__isnull=True)
    assert list(valid.values_list("pk", flat=True)) == [new.pk]  # same content: the same notice
    assert Document.objects.filter(chain=U3.code, request_id=req.pk, doc_type="leave_notice").count() == 2
