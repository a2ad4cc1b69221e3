"""Every signer acting out of order (a later stage's signer now), out of scope (another class, college or
station) or twice (same role, same stage) is refused, and a refusal writes nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_fsm import can_proceed
from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, get_chain
from registrar.approvals.models import SignOff
from registrar.exceptions import ApplicationError
from statuschange.models import U2
from tests.statuschange.helpers import CHAIN_CODES, OUT_OF_SCOPE, open_request, sign, signer, subject


def _snapshot(req):
    fresh = type(req).objects.get(pk=req.pk)
    return fresh.state, SignOff.objects.for_object(req).count()


def _refused(w, req, role, exc, *, user=None, action="approve"):
    before = _snapshot(req)
    with pytest.raises(exc):
        sign(w, req, role, user=user, action=action, opinion="越权签署")
    assert _snapshot(req) == before, f"{role} refused but something was written"


def _approvals(req, stage, role):
    return (
        SignOff.objects.for_object(req)
        .filter(stage=stage, role=role, round=req.round, decision=SignOff.Decision.APPROVE)
        .count()
    )


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize("code", CHAIN_CODES)
def test_out_of_order_out_of_scope_and_twice_are_refused(sc_world, code):
    w = sc_world
    chain = get_chain(code)
    req = open_request(w, code)
    codes = chain.stage_codes
    for i, stage in enumerate(codes):
        assert req.state == stage
        here = set(chain.signers(stage))
        later = {r for s in codes[i + 1 :] for r in chain.signers(s)} - here
        # out of order: a later stage's signer may not sign (nor reject) this one
        for role in sorted(later):
            _refused(w, req, role, PermissionDenied)
        # the student never signs a stage of their own request
        _refused(w, req, "advisor", PermissionDenied, user=subject(w, code).user)
        # out of scope: the same role for another class / college / station does not even see it
        for role in sorted(here):
            if role in OUT_OF_SCOPE:
                _refused(w, req, role, Http404, user=w[OUT_OF_SCOPE[role]])
                if can_proceed(req.reject):
                    _refused(w, req, role, Http404, user=w[OUT_OF_SCOPE[role]], action="reject")
        # twice: each role signs exactly once
        roles = chain.signers(stage)
        for role in roles[:-1]:
            req = sign(w, req, role)
            assert req.state == stage
            _refused(w, req, role, PermissionDenied)
            assert _approvals(req, stage, role) == 1
        last = roles[-1]
        req = sign(w, req, last)
        assert req.state == chain.next_stage_code(stage)
        if req.state == COMPLETED:
            _refused(w, req, last, ApplicationError)
        elif last not in chain.signers(req.state):
            _refused(w, req, last, PermissionDenied)
        assert _approvals(req, stage, last) == 1
    assert req.state == COMPLETED
    # one approval per (stage, role) over the whole chain
    rows = SignOff.objects.for_object(req).filter(decision=SignOff.Decision.APPROVE)
    pairs = [(s.stage, s.role) for s in rows]
    assert len(pairs) == len(set(pairs)) == sum(len(chain.signers(s)) for s in codes)


@freeze_time("2026-03-10 10:00")
def test_a_signer_holding_two_roles_of_one_stage_signs_each_role_once(sc_world):
    """U2 college_review needs the advisor and the dean: a dean who is also the class advisor signs twice,
    once per role, and a third attempt is refused."""
    from registrar.roles import Role
    from students.models import RoleAssignment

    w = sc_world
    req = open_request(w, U2.code)
    req = sign(w, req, "advisor")
    assert req.state == "college_review"
    dean = signer(w, "college_dean")
    RoleAssignment.objects.create(user=dean, role=Role.ADVISOR, scope="class", klass=w["student"].klass)
    dean = type(dean).objects.get(pk=dean.pk)  # fresh grants
    req = sign(w, req, "advisor", user=dean)
    req = sign(w, req, "college_dean", user=dean)
    assert req.pending_roles() == ["college_secretary"]
    _refused(w, req, "advisor", PermissionDenied, user=dean)
    req = sign(w, req, "college_secretary")
    assert req.state == "offices_review"
