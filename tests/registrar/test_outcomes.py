"""Outcomes beyond approve and reject: send back to a named earlier stage, branches, and the
"everyone has signed" rule enforced by the FSM (the ``advance`` transition's condition)."""

import pytest
from django.urls import reverse
from django_fsm import TransitionNotAllowed, can_proceed

from registrar.approvals import chains as chains_module
from registrar.approvals.chains import COMPLETED, Branch, Chain, Stage
from registrar.approvals.models import SignOff, StageConfig
from registrar.approvals.services import SEND_BACK_TARGET_INVALID, request_act, request_create, send_back_choices
from registrar.exceptions import ApplicationError
from students.models import U6, IdCardReissueRequest
from tests.factories import u6_advance_to, u6_submitted


def act(w, who, req, action, chain=U6, **kw):
    return request_act(chain=chain, request_id=req.pk, actor=w[who], action=action, **kw)


def fresh(req):
    return type(req).objects.get(pk=req.pk)


# --- send back to a named stage ---------------------------------------------------------------
def test_send_back_two_stages_to_a_named_stage(u6_world, client):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    assert send_back_choices(fresh(req)) == ["counsellor_confirm", "finance_payment"]
    req = act(w, "registrar", req, "send_back", opinion="照片与本人不符", to="counsellor_confirm")
    assert fresh(req).state == "counsellor_confirm"
    last = SignOff.objects.for_object(req).order_by("id").last()
    assert (last.decision, last.source_state, last.target_state) == (
        "return",
        "registrar_reissue",
        "counsellor_confirm",
    )
    # Every stage from the one sent back to signs again.
    assert fresh(req).pending_roles() == ["counsellor"]
    req = act(w, "counsellor", req, "approve")
    assert req.state == "finance_payment"
    # The timeline says where it was sent back to.
    client.force_login(w["registrar"])
    html = client.get(req.get_absolute_url()).content.decode()
    assert f"退回至“{U6.state_label('counsellor_confirm')}”" in html  # the Chinese UI: "Sent back to …"


def test_send_back_refuses_a_stage_that_is_not_earlier(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    for to in ("registrar_reissue", "finance_payment", "nowhere"):
        with pytest.raises(ApplicationError) as info:
            act(w, "finance", req, "send_back", opinion="x", to=to)
        assert str(info.value.message) == str(
            SEND_BACK_TARGET_INVALID
            % {"state": fresh(req).get_state_label(), "stages": U6.state_label("counsellor_confirm")}
        )
    assert fresh(req).state == "finance_payment"


def test_send_back_defaults_to_the_previous_stage(u6_world):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    assert act(w, "registrar", req, "send_back", opinion="收据号有误").state == "finance_payment"


def test_the_act_form_and_the_api_choose_the_stage(u6_world, client):
    w = u6_world
    req = u6_advance_to(w, u6_submitted(w), "registrar_reissue")
    client.force_login(w["registrar"])
    url = reverse("approvals:act", args=[U6.code, req.pk, "send_back"])
    page = client.get(url).content.decode()
    assert 'name="to"' in page and 'value="counsellor_confirm"' in page
    client.post(url, {"opinion": "重新确认", "to": "counsellor_confirm"})
    assert fresh(req).state == "counsellor_confirm"
    req = u6_advance_to(w, fresh(req), "registrar_reissue")
    response = client.post(
        reverse("api:transitions", args=[U6.code, req.pk]),
        {"action": "send_back", "opinion": "再看一下", "to": "counsellor_confirm"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert fresh(req).state == "counsellor_confirm"


def test_describe_lists_the_send_back_targets_per_stage(db):
    transitions = [t for t in U6.describe()["transitions"] if t["name"] == "send_back"]
    targets = {t["source"]: t["targets"] for t in transitions}
    assert targets == {
        "finance_payment": ["counsellor_confirm"],
        "registrar_reissue": ["counsellor_confirm", "finance_payment"],
    }


# --- the "everyone has signed" rule is the FSM's -------------------------------------------------
def test_the_fsm_refuses_to_advance_while_a_signer_is_missing(u6_people):
    w = u6_people
    StageConfig.objects.create(chain=U6.code, stage="counsellor_confirm", signers=["counsellor", "advisor"])
    req = u6_submitted(w)
    assert not can_proceed(req.advance)
    with pytest.raises(TransitionNotAllowed):
        req.advance()
    req = act(w, "counsellor", req, "approve")
    assert req.state == "counsellor_confirm"
    req = fresh(req)
    assert not can_proceed(req.advance)
    assert act(w, "advisor", req, "approve").state == "finance_payment"


def test_advance_is_no_user_action(u6_world):
    from registrar.approvals.selectors import available_actions

    w = u6_world
    req = u6_submitted(w)
    assert "advance" not in {a["name"] for a in available_actions(req, w["counsellor"])}


# --- branches -----------------------------------------------------------------------------------
BRANCHING = Chain(
    code="branching_test",
    name="Branching test chain",
    stages=(
        Stage(
            "check",
            "Check",
            ("counsellor",),
            branches=(
                Branch(when="reason==stolen", to="police", label="stolen"),
                Branch(when="reason==other", to=COMPLETED, label="other"),
            ),
        ),
        Stage("finance", "Finance", ("finance",), default=COMPLETED),
        Stage("police", "Police report", ("academic_affairs",)),
    ),
)


class BranchingRequest(IdCardReissueRequest):
    chain = BRANCHING

    class Meta:
        proxy = True
        app_label = "students"


@pytest.fixture
def branching(monkeypatch):
    monkeypatch.setitem(chains_module._REGISTRY, BRANCHING.code, BRANCHING)
    return BRANCHING


def _open(w, reason):
    req = request_create(
        chain=BRANCHING, student=w["student"], applicant=w["student_user"], data={"reason": reason}, submit=True
    )
    assert req.state == "check"
    return req


@pytest.mark.parametrize(
    ("reason", "path"),
    [
        ("lost", ["finance", COMPLETED]),
        ("stolen", ["police", COMPLETED]),
        ("other", [COMPLETED]),
    ],
)
def test_a_branch_chooses_the_next_stage_from_the_data(u6_world, branching, reason, path):
    w = u6_world
    req = _open(w, reason)
    signer = {"check": "counsellor", "finance": "finance", "police": "registrar"}
    seen = []
    while req.state != COMPLETED:
        req = act(w, signer[req.state], req, "approve", chain=BRANCHING)
        seen.append(req.state)
    assert seen == path


def test_send_back_after_a_branch_offers_only_stages_passed(u6_world, branching):
    w = u6_world
    req = _open(w, "stolen")
    req = act(w, "counsellor", req, "approve", chain=BRANCHING)
    assert req.state == "police"
    assert send_back_choices(fresh(req)) == ["check"]  # "finance" was skipped
    with pytest.raises(ApplicationError):
        act(w, "registrar", req, "send_back", chain=BRANCHING, opinion="x", to="finance")


def test_branches_are_in_the_transitions_and_the_description(db, branching):
    desc = BRANCHING.describe()
    advance = {t["source"]: t["targets"] for t in desc["transitions"] if t["name"] == "advance"}
    assert advance == {"check": ["police", COMPLETED, "finance"], "finance": [COMPLETED], "police": [COMPLETED]}
    check = desc["stages"][0]
    assert [b["to"] for b in check["branches"]] == ["police", COMPLETED]
    assert check["next"] == "finance"


def test_the_diagram_draws_branch_edges(db, branching):
    from registrar.templatetags.registrar_ui import workflow_svg

    svg = workflow_svg(BRANCHING.describe())
    assert svg.count('class="wf-branch"') == 3  # two branches of "check", and finance's jump to completed
    assert "stolen" in svg


def test_a_branch_to_an_unknown_stage_is_refused_when_the_chain_is_declared():
    with pytest.raises(ValueError, match="unknown stage"):
        Chain(
            code="bad_test", name="bad", stages=(Stage("a", "A", ("finance",), branches=(Branch("x==1", "nowhere"),)),)
        )


def test_a_branch_condition_may_be_a_dotted_predicate(u6_world):
    w = u6_world
    req = IdCardReissueRequest(student=w["student"], applicant=w["student_user"], reason="lost")
    assert Branch(when="reason!=stolen", to=COMPLETED).holds(req)
    assert Branch(when=f"student.klass_id=={w['student'].klass_id}", to=COMPLETED).holds(req)
    assert Branch(when="tests.registrar.test_outcomes._is_lost", to=COMPLETED).holds(req)


def _is_lost(request) -> bool:
    return request.reason == "lost"
