"""Concurrent sign-offs on PostgreSQL: real threads, each with its own database connection.

request_act locks the request row (SELECT … FOR UPDATE), so concurrent actions on one request
run one after the other; the later one sees the earlier one's result and is refused (or,
in a several-signer stage, completes the stage exactly once).
"""

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from registrar.approvals import services
from registrar.approvals.models import SignOff, StageConfig
from registrar.approvals.services import request_act
from registrar.exceptions import ApplicationError
from students.models import U6, Class, IdCardReissueRequest
from tests.factories import U6_STAGE_DATA, UserFactory, u6_advance_to, u6_submitted

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

REFUSED = (ApplicationError, PermissionDenied)


def run_together(*calls, hold: float = 0.0, monkeypatch=None):
    """Run ``calls`` in threads released at once by a barrier; return ("ok", result) or ("error", exc) each.

    ``hold`` keeps each action's transaction open a little longer after it has changed the
    request (before its sign-off is written), so the others really queue on the row lock."""
    if hold and monkeypatch is not None:
        original = services.signoff_record

        def slow_signoff_record(**kwargs):
            time.sleep(hold)
            return original(**kwargs)

        monkeypatch.setattr(services, "signoff_record", slow_signoff_record)
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results


def approve(actor, req, data=None):
    return lambda: request_act(
        chain=U6, request_id=req.pk, actor=actor, action="approve", opinion="同意", data=data or {}
    )


def log_of(req):
    return list(SignOff.objects.for_object(req).order_by("id"))


def split(results):
    ok = [r for kind, r in results if kind == "ok"]
    errors = [e for kind, e in results if kind == "error"]
    return ok, errors


@pytest.fixture
def second_counsellor(u6_world):
    """Another counsellor of the same class (through the class's counsellor field)."""
    user = UserFactory(username="class_counsellor")
    Class.objects.filter(pk=u6_world["student"].klass_id).update(counsellor=user)
    return user


@pytest.mark.parametrize("attempt", range(3))
def test_two_counsellors_at_once_leave_exactly_one_signoff(u6_world, second_counsellor, monkeypatch, attempt):
    w = u6_world
    req = u6_submitted(w)
    results = run_together(
        approve(w["counsellor"], req), approve(second_counsellor, req), hold=0.2, monkeypatch=monkeypatch
    )
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], REFUSED), errors
    assert IdCardReissueRequest.objects.get(pk=req.pk).state == "finance_payment"
    approvals = [s for s in log_of(req) if s.decision == SignOff.Decision.APPROVE]
    assert len(approvals) == 1
    assert (approvals[0].stage, approvals[0].target_state) == ("counsellor_confirm", "finance_payment")


def test_same_approver_twice_at_once(u6_world, monkeypatch):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    data = U6_STAGE_DATA["finance_payment"]
    results = run_together(
        approve(w["finance"], req, data), approve(w["finance"], req, data), hold=0.2, monkeypatch=monkeypatch
    )
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], REFUSED), errors
    assert IdCardReissueRequest.objects.get(pk=req.pk).state == "registrar_reissue"
    at_stage = [s for s in log_of(req) if s.stage == "finance_payment"]
    assert len(at_stage) == 1


def test_two_roles_of_a_two_signer_stage_at_once(u6_world, monkeypatch):
    """Both signatures are recorded and the stage advances exactly once."""
    w = u6_world
    advisor = UserFactory(username="advisor")
    Class.objects.filter(pk=w["student"].klass_id).update(advisor=advisor)
    StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", signers=["counsellor", "advisor"])
    req = u6_submitted(w)
    results = run_together(approve(w["counsellor"], req), approve(advisor, req), hold=0.2, monkeypatch=monkeypatch)
    ok, errors = split(results)
    assert errors == [] and len(ok) == 2, results
    req = IdCardReissueRequest.objects.get(pk=req.pk)
    assert req.state == "finance_payment"
    approvals = [s for s in log_of(req) if s.decision == SignOff.Decision.APPROVE]
    assert sorted(s.role for s in approvals) == ["advisor", "counsellor"]
    # Exactly one of them moved the request on; the other signed without moving it.
    assert sorted(s.target_state for s in approvals) == ["counsellor_confirm", "finance_payment"]
    assert approvals[-1].target_state == "finance_payment"
    assert req.pending_roles() == ["finance"]


def test_approve_and_withdraw_at_once(u6_world, monkeypatch):
    """The applicant withdraws while the counsellor approves: one wins, the log matches the state."""
    w = u6_world
    req = u6_submitted(w)

    def withdraw():
        return request_act(chain=U6, request_id=req.pk, actor=w["student_user"], action="withdraw")

    results = run_together(approve(w["counsellor"], req), withdraw, hold=0.2, monkeypatch=monkeypatch)
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], REFUSED), errors
    state = IdCardReissueRequest.objects.get(pk=req.pk).state
    assert state in ("finance_payment", "withdrawn")
    log = log_of(req)
    assert len(log) == 2
    assert log[-1].target_state == state


def test_two_creates_at_once_open_only_one_request(u6_world, monkeypatch):
    """A double-clicked "apply" must not open two requests for the same student."""
    from registrar.approvals.services import request_create
    from tests.factories import photo_upload

    w = u6_world
    original = services.attachment_add

    def slow_attachment_add(**kwargs):
        time.sleep(0.2)
        return original(**kwargs)

    monkeypatch.setattr(services, "attachment_add", slow_attachment_add)

    def create():
        return request_create(
            chain=U6,
            student=w["student"],
            applicant=w["student_user"],
            data={"reason": "lost"},
            attachments={"photo": photo_upload()},
            submit=True,
        )

    ok, errors = split(run_together(create, create))
    assert len(ok) == 1 and len(errors) == 1, (ok, errors)
    assert isinstance(errors[0], ApplicationError), errors
    assert IdCardReissueRequest.objects.filter(student=w["student"]).count() == 1
    assert SignOff.objects.count() == 1
