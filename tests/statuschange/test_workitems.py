"""Issue 9, items 4 and 6: the in-flight table (WorkItem) behind the one inbox, and batch approval.

The kernel keeps one open row per (request, role its stage still awaits); after any sequence of
actions the inbox read from these rows equals the per-chain computation from the requests' own
tables (``inbox_querysets``), and every request's open rows name exactly its pending roles."""

import random

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext
from django_fsm import TransitionNotAllowed

from registrar.approvals.chains import get_chain
from registrar.approvals.models import SignOff, WorkItem
from registrar.approvals.selectors import inbox_items, inbox_page_rows, inbox_querysets
from registrar.approvals.services import (
    BATCH_NEEDS_FORM,
    BATCH_NOT_FOUND,
    BATCH_NOT_YOURS,
    BATCH_WRONG_STAGE,
    request_act,
    requests_batch_approve,
)
from registrar.approvals.workitems import workitems_rebuild
from registrar.exceptions import ApplicationError
from statuschange.models import U1
from students.models import U6
from tests.statuschange.helpers import signer, stage_data
from tests.statuschange.test_inbox_queries import _pending

pytestmark = pytest.mark.django_db

SIGNERS = (
    "advisor",
    "counsellor",
    "secretary",
    "dean",
    "student_affairs",
    "academic_affairs",
    "academic_affairs_head",
    "leadership",
    "finance",
    "library",
    "dorm",
    "apartment",
    "canteen",
    "textbook",
    "other_counsellor",
    "other_dean",
)


def _old_inbox(user) -> set[tuple[str, int]]:
    return {(chain.code, pk) for chain, qs in inbox_querysets(user) for pk in qs.values_list("pk", flat=True)}


def _new_inbox(user) -> set[tuple[str, int]]:
    return set(inbox_items(user).values_list("kind", "object_id"))


def _assert_in_step(world, requests) -> None:
    for req in requests:
        req = req.__class__.objects.get(pk=req.pk)
        ct = ContentType.objects.get_for_model(req.__class__)
        open_roles = set(
            WorkItem.objects.open().filter(content_type=ct, object_id=req.pk).values_list("role", flat=True)
        )
        expected = set(req.pending_roles()) if req.stage else set()
        assert open_roles == expected, f"{req.chain.code}#{req.pk} at {req.state}: rows {open_roles}, awaits {expected}"
        due = set(WorkItem.objects.open().filter(content_type=ct, object_id=req.pk).values_list("due_at", flat=True))
        assert due <= {req.stage_due_at}
    for key in SIGNERS:
        user = world[key]
        assert _new_inbox(user) == _old_inbox(user), key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_work_items_follow_random_actions(sc_world, seed):
    rnd = random.Random(seed)
    requests = _pending(sc_world, 12)
    _assert_in_step(sc_world, requests)
    for _step in range(60):
        req = rnd.choice(requests)
        req = req.__class__.objects.get(pk=req.pk)
        action = rnd.choice(("approve", "approve", "approve", "reject", "send_back", "withdraw", "submit"))
        pending = list(req.pending_roles()) if req.stage else []
        role = rnd.choice(pending) if pending else "counsellor"
        if action in ("submit", "withdraw"):
            actor = req.applicant if rnd.random() < 0.8 else sc_world[rnd.choice(SIGNERS)]
        else:
            actor = signer(sc_world, role) if rnd.random() < 0.8 else sc_world[rnd.choice(SIGNERS)]
        try:
            request_act(
                chain=req.chain,
                request_id=req.pk,
                actor=actor,
                action=action,
                opinion="意见",
                data=stage_data(sc_world, req.chain.code, req.state, role),
                as_role=role,
            )
        except (ApplicationError, PermissionDenied, Http404, TransitionNotAllowed, ValidationError):
            pass
    _assert_in_step(sc_world, requests)


def test_rebuild_gives_the_same_rows(sc_world):
    requests = _pending(sc_world, 6)
    before = set(WorkItem.objects.open().values_list("kind", "object_id", "role", "stage", "due_at"))
    assert workitems_rebuild() == len(before)
    assert set(WorkItem.objects.open().values_list("kind", "object_id", "role", "stage", "due_at")) == before
    _assert_in_step(sc_world, requests)


def test_parallel_stage_keeps_the_other_signers_row(sc_world):
    req = _pending(sc_world, 1)[0]  # U1 at college_review: counsellor, secretary and dean
    ct = ContentType.objects.get_for_model(req.__class__)
    rows = WorkItem.objects.open().filter(content_type=ct, object_id=req.pk)
    assert set(rows.values_list("role", flat=True)) == {"counsellor", "college_secretary", "college_dean"}
    dean_row = rows.get(role="college_dean")
    request_act(chain=U1, request_id=req.pk, actor=sc_world["counsellor"], action="approve", as_role="counsellor")
    assert dean_row.pk in set(rows.values_list("pk", flat=True))  # same row, same waiting-since
    assert set(rows.values_list("role", flat=True)) == {"college_secretary", "college_dean"}
    assert WorkItem.objects.get(content_type=ct, object_id=req.pk, role="counsellor").closed_at is not None


def test_inbox_lists_a_subject_once_for_a_user_holding_two_of_its_roles(sc_world):
    from tests.factories import staff

    req = _pending(sc_world, 1)[0]
    both = staff("counsellor", klass=req.student.klass, username="both")
    from students.models import RoleAssignment

    RoleAssignment.objects.create(user=both, role="college_dean", scope="college", college=req.student.college)
    rows, counts, total = inbox_page_rows(both, offset=0, limit=25)
    assert [r.pk for r in rows] == [req.pk] and total == 1 and counts == {U1.code: 1}


# --- batch approval ------------------------------------------------------------------------------
def _u6_waiting(world, n):
    """``n`` U6 requests at counsellor_confirm (the counsellor signs, no form)."""
    return [r for r in _pending(world, 6 * n) if r.chain.code == U6.code]


def test_batch_approves_each_with_its_own_signoff_and_lists_the_failing_one(sc_world):
    reqs = _u6_waiting(sc_world, 3)
    withdrawn = reqs[1]
    request_act(chain=U6, request_id=withdrawn.pk, actor=withdrawn.applicant, action="withdraw")
    outcome = requests_batch_approve(
        chain=U6,
        ids=[r.pk for r in reqs],
        actor=sc_world["counsellor"],
        opinion="同意（批量）",
        stage="counsellor_confirm",
    )
    assert sorted(r.pk for r in outcome.approved) == sorted([reqs[0].pk, reqs[2].pk])
    assert [pk for pk, _reason in outcome.failed] == [withdrawn.pk]
    assert outcome.failed[0][1] == str(BATCH_WRONG_STAGE % {"state": get_chain(U6.code).state_label("withdrawn")})
    signoffs = SignOff.objects.filter(chain=U6.code, decision="approve", actor=sc_world["counsellor"])
    assert sorted(s.object_id for s in signoffs) == sorted([reqs[0].pk, reqs[2].pk])
    assert {s.opinion for s in signoffs} == {"同意（批量）"}
    assert {s.data["batch"] for s in signoffs} == {outcome.batch}
    for r in (reqs[0], reqs[2]):
        assert U6.model.objects.get(pk=r.pk).state != "counsellor_confirm"


def test_batch_lists_wrong_role_and_out_of_scope_ids(sc_world):
    reqs = _u6_waiting(sc_world, 2)
    u1 = _pending(sc_world, 1)[0]  # U1: not a U6 id at all
    # the dean holds no role U6's counsellor stage awaits: every item refused, nothing signed
    outcome = requests_batch_approve(chain=U6, ids=[r.pk for r in reqs], actor=sc_world["dean"], stage=None)
    assert outcome.approved == []
    assert {reason for _pk, reason in outcome.failed} <= {str(BATCH_NOT_YOURS), str(BATCH_NOT_FOUND)}
    assert len(outcome.failed) == 2
    # another class's counsellor: out of scope, listed as not found (leaks nothing)
    outcome = requests_batch_approve(chain=U6, ids=[reqs[0].pk], actor=sc_world["other_counsellor"])
    assert outcome.failed == [(reqs[0].pk, str(BATCH_NOT_FOUND))]
    # an id that does not exist, beside one that goes through
    missing = max(u1.pk, *(r.pk for r in reqs)) + 1000
    outcome = requests_batch_approve(chain=U6, ids=[missing, reqs[1].pk], actor=sc_world["counsellor"])
    assert outcome.failed == [(missing, str(BATCH_NOT_FOUND))]
    assert [r.pk for r in outcome.approved] == [reqs[1].pk]
    assert not SignOff.objects.filter(actor__in=[sc_world["dean"], sc_world["other_counsellor"]]).exists()


def test_batch_refuses_a_stage_that_needs_a_form(sc_world):
    req = _pending(sc_world, 1)[0]
    from tests.statuschange.helpers import advance

    req = advance(sc_world, req, until="registrar_issue")
    assert req.stage.form_class("academic_affairs") is not None
    outcome = requests_batch_approve(chain=U1, ids=[req.pk], actor=sc_world["academic_affairs"])
    assert outcome.failed == [(req.pk, str(BATCH_NEEDS_FORM))]


def test_batch_page_approves_and_lists_failures(client, sc_world):
    reqs = _u6_waiting(sc_world, 2)
    client.force_login(sc_world["counsellor"])
    inbox = client.get(reverse("approvals:inbox"))
    html = inbox.content.decode()
    assert reverse("approvals:batch_approve") in html and 'name="ids"' in html
    response = client.post(
        reverse("approvals:batch_approve"),
        {"chain": U6.code, "stage": "counsellor_confirm", "ids": [reqs[0].pk, reqs[1].pk, 999999], "opinion": "同意"},
        follow=True,
    )
    text = response.content.decode()
    with translation.override(response.wsgi_request.LANGUAGE_CODE):  # the page's language
        approved = ngettext("%(count)s request approved.", "%(count)s requests approved.", 2) % {"count": 2}
        not_found = str(BATCH_NOT_FOUND)
    assert approved in text
    assert "#999999" in text and not_found in text
    # bad input: a message, nothing written, never a 500
    bad = client.post(reverse("approvals:batch_approve"), {"chain": "nope", "ids": ["x"]})
    assert bad.status_code == 302
    assert client.get(reverse("approvals:batch_approve")).status_code == 405


# --- the inbox's query count ---------------------------------------------------------------------
def test_inbox_query_count_is_the_same_for_more_items(client, sc_world):
    """The same number of queries with 6 and 48 items of five chains, two of them reading WorkItem."""
    _pending(sc_world, 6)
    client.force_login(sc_world["dean"])
    client.get(reverse("approvals:inbox"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("approvals:inbox"))
    _pending(sc_world, 42, start=6)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("approvals:inbox"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.context["rows"]) == 25
    inbox_sql = [q["sql"] for q in many.captured_queries if "approvals_workitem" in q["sql"] or "workitem" in q["sql"]]
    assert len(inbox_sql) == 2  # the counts (one GROUP BY) and the page


@pytest.fixture
def dummy_chains():
    """``add(n, student)``: register ``n`` more chains (U6's model under new codes), each with one open
    work item for the college dean over ``student``; unregistered afterwards."""
    from registrar.approvals.chains import _REGISTRY, Chain, Stage

    added = []

    def add(n, student):
        u6 = get_chain(U6.code)
        ct = ContentType.objects.get_for_model(u6.model)
        for i in range(n):
            code = f"ZZ{len(added):02d}"
            chain = Chain(code=code, name=code, stages=(Stage("review", "Review", ("college_dean",)),))
            object.__setattr__(chain, "model", u6.model)
            _REGISTRY[code] = chain
            added.append(code)
            WorkItem.objects.create(
                content_type=ct,
                object_id=900_000 + i,
                student=student,
                kind=code,
                stage="review",
                role="college_dean",
                college_id=student.college_id,
                klass_id=student.klass_id,
            )

    yield add
    for code in added:
        _REGISTRY.pop(code, None)


def test_inbox_query_count_is_the_same_with_30_chains_as_with_10(client, sc_world, dummy_chains):
    _pending(sc_world, 12)
    client.force_login(sc_world["dean"])
    client.get(reverse("approvals:inbox"))
    with CaptureQueriesContext(connection) as ten:
        before = client.get(reverse("approvals:inbox"))
    dummy_chains(20, sc_world["student"])
    with CaptureQueriesContext(connection) as thirty:
        after = client.get(reverse("approvals:inbox"))
    assert len(thirty.captured_queries) == len(ten.captured_queries)
    assert len(after.context["tabs"]) == len(before.context["tabs"]) + 20
    assert after.context["all_count"] == before.context["all_count"] + 20
