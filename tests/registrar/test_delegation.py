"""Delegation (a signer's substitute signs on their behalf for a period, both recorded) and
reassignment (Academic Affairs names who signs a stuck stage of one request, logged)."""

import datetime as dt
import subprocess

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from freezegun import freeze_time

from registrar.approvals import permissions as perms
from registrar.approvals.models import Delegation, SignOff
from registrar.approvals.selectors import inbox_items, inbox_querysets, visible_requests
from registrar.approvals.services import (
    DELEGATION_NOT_A_SIGNER,
    REASSIGN_ASSIGNEE_INVALID,
    REASSIGN_REASON_REQUIRED,
    delegation_create,
    delegation_revoke,
    request_act,
    request_reassign,
)
from registrar.documents.services import document_issue_for_request
from registrar.exceptions import ApplicationError
from registrar.models import User
from registrar.roles import Role
from students.models import U6
from tests.factories import U6_STAGE_DATA, UserFactory, u6_advance_to, u6_submitted

TODAY = dt.date(2026, 12, 7)


def fresh_user(user):
    """The user as a new request would load it (grants are cached on the user object)."""
    return User.objects.get(pk=user.pk)


def act(user, req, action="approve", **kw):
    return request_act(chain=U6, request_id=req.pk, actor=fresh_user(user), action=action, **kw)


def last_signoff(req):
    return SignOff.objects.for_object(req).order_by("id").last()


@pytest.fixture
def world(u6_world):
    w = dict(u6_world)
    w["counsellor"].full_name = "王辅导"
    w["counsellor"].save()
    w["substitute"] = UserFactory(username="substitute", full_name="赵代签")
    w["other"] = UserFactory(username="other", full_name="钱旁人")
    return w


def _delegate(w, start=TODAY, end=TODAY + dt.timedelta(days=7), principal="counsellor", substitute="substitute"):
    return delegation_create(
        principal=w[principal], substitute=w[substitute], starts_on=start, ends_on=end, reason="出差"
    )


# --- the substitute signs within the period, and both are recorded ---------------------------------
@freeze_time("2026-12-07 10:00")
def test_substitute_signs_on_behalf_of_the_principal_and_both_are_recorded(world, client):
    w = world
    _delegate(w)
    req = u6_submitted(w)
    req = act(w["substitute"], req, opinion="代签：同意")
    assert req.state == "finance_payment"
    s = last_signoff(req)
    assert (s.actor_id, s.role, s.on_behalf_of_id) == (w["substitute"].pk, Role.COUNSELLOR, w["counsellor"].pk)
    assert (s.actor_label, s.on_behalf_of_label) == ("赵代签", "王辅导")
    # the timeline shows both
    client.force_login(w["registrar"])
    html = client.get(req.get_absolute_url()).content.decode()
    assert "赵代签" in html and "代 王辅导 签署" in html  # the Chinese UI: "on behalf of 王辅导"


@freeze_time("2026-12-07 10:00")
def test_the_approval_form_prints_the_substitute_and_the_principal(world, tmp_path, django_capture_on_commit_callbacks):
    w = world
    _delegate(w)
    req = act(w["substitute"], u6_submitted(w), opinion="代签：同意")
    with django_capture_on_commit_callbacks(execute=True):
        doc = document_issue_for_request(doc_type="approval_form", request=req, issued_by=w["registrar"])
    doc.refresh_from_db()
    path = tmp_path / "form.pdf"
    with doc.file.open("rb") as fh:
        path.write_bytes(fh.read())
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    squeezed = "".join(text.split())
    # the approval table prints the substitute as the signer, and the principal they signed for
    table = squeezed[squeezed.index("审批结果") :]
    assert "代签：同意" in table and "赵代签" in table
    assert str(_("for %(principal)s") % {"principal": "王辅导"}).replace(" ", "") in table


@pytest.mark.parametrize("when", ["2026-12-06 12:00", "2026-12-15 00:30"])
def test_substitute_cannot_sign_before_or_after_the_period(world, when):
    w = world
    with freeze_time("2026-12-06 01:00"):
        _delegate(w)
        req = u6_submitted(w)
    with freeze_time(when), pytest.raises((Http404, PermissionDenied)):
        act(w["substitute"], req)
    assert req.__class__.objects.get(pk=req.pk).state == "counsellor_confirm"


@freeze_time("2026-12-07 10:00")
def test_substitute_cannot_sign_after_revocation(world):
    w = world
    d = _delegate(w)
    req = u6_submitted(w)
    with pytest.raises(PermissionDenied):
        delegation_revoke(delegation_id=d.pk, actor=fresh_user(w["substitute"]))
    with pytest.raises(Http404):
        delegation_revoke(delegation_id=d.pk, actor=fresh_user(w["other"]))
    delegation_revoke(delegation_id=d.pk, actor=fresh_user(w["counsellor"]))
    d.refresh_from_db()
    assert d.revoked_by_id == w["counsellor"].pk and d.status() == "revoked"
    with pytest.raises((Http404, PermissionDenied)):
        act(w["substitute"], req)
    with pytest.raises(ApplicationError):
        delegation_revoke(delegation_id=d.pk, actor=fresh_user(w["counsellor"]))


@freeze_time("2026-12-07 10:00")
def test_academic_affairs_revokes_any_delegation(world):
    w = world
    d = _delegate(w)
    delegation_revoke(delegation_id=d.pk, actor=fresh_user(w["registrar"]))
    assert Delegation.objects.get(pk=d.pk).revoked_by_id == w["registrar"].pk


# --- no re-delegation, no self-delegation ------------------------------------------------------
@freeze_time("2026-12-07 10:00")
def test_a_substitute_cannot_pass_on_what_they_hold_by_delegation(world):
    w = world
    _delegate(w)
    with pytest.raises(ApplicationError) as info:
        delegation_create(principal=fresh_user(w["substitute"]), substitute=w["other"], starts_on=TODAY, ends_on=TODAY)
    assert info.value.message == DELEGATION_NOT_A_SIGNER
    assert Delegation.objects.count() == 1


@freeze_time("2026-12-07 10:00")
def test_a_signer_who_also_holds_a_delegation_passes_on_only_their_own_roles(world):
    w = world
    _delegate(w, substitute="finance")  # finance signs for the counsellor …
    _delegate(w, principal="finance", substitute="other")  # … and names their own substitute
    roles = {g.role for g in perms.grants(fresh_user(w["other"]))}
    assert roles == {Role.FINANCE}
    req = u6_submitted(w)
    with pytest.raises((Http404, PermissionDenied)):
        act(w["other"], req)
    req = act(w["finance"], req)  # finance signs the counsellor's stage on their behalf
    assert last_signoff(req).on_behalf_of_id == w["counsellor"].pk
    req = act(w["other"], req, data=U6_STAGE_DATA["finance_payment"])
    assert req.state == "registrar_reissue"
    assert last_signoff(req).on_behalf_of_id == w["finance"].pk


@freeze_time("2026-12-07 10:00")
def test_no_self_delegation_and_no_period_ending_before_it_starts(world):
    w = world
    with pytest.raises(ApplicationError):
        _delegate(w, substitute="counsellor")
    with pytest.raises(ApplicationError):
        _delegate(w, start=TODAY, end=TODAY - dt.timedelta(days=1))
    with pytest.raises(ApplicationError):  # a student is no substitute
        _delegate(w, substitute="student_user")
    assert not Delegation.objects.exists()


@freeze_time("2026-12-07 10:00")
def test_overlapping_periods_are_fine(world):
    w = world
    _delegate(w)
    _delegate(w, substitute="other", start=TODAY + dt.timedelta(days=2))
    assert Delegation.objects.active().count() == 1
    assert Delegation.objects.active(TODAY + dt.timedelta(days=3)).count() == 2


# --- the substitute sees the principal's work -----------------------------------------------------
@freeze_time("2026-12-07 10:00")
def test_the_substitute_sees_the_principals_inbox_and_requests(world):
    w = world
    req = u6_submitted(w)
    sub = fresh_user(w["substitute"])
    assert not inbox_querysets(sub)
    assert not visible_requests(sub, U6).exists()
    _delegate(w)
    sub = fresh_user(w["substitute"])
    ((chain, qs),) = [(c, q) for c, q in inbox_querysets(sub) if q.exists()]
    assert chain is U6 and list(qs) == [req]
    assert list(visible_requests(sub, U6)) == [req]
    assert perms.can_view(sub, req)
    # the inbox of open work items, matched on grants, shows the principal's item to the substitute
    assert [(i.kind, i.object_id) for i in inbox_items(sub)] == [(U6.code, req.pk)]


@freeze_time("2026-12-07 10:00")
def test_the_substitute_opens_no_request_in_the_principals_name(world):
    from statuschange.models import U4

    w = world
    _delegate(w)
    sub = fresh_user(w["substitute"])
    assert Role.COUNSELLOR in U4.initiator_roles and perms.may_initiate(U4, w["counsellor"], w["student"])
    assert not perms.may_initiate(U4, sub, w["student"])


# --- the page -----------------------------------------------------------------------------------
@freeze_time("2026-12-07 10:00")
def test_the_delegations_page(world, client):
    w = world
    url = reverse("approvals:delegations")
    client.force_login(w["student_user"])
    assert client.get(url).status_code == 403
    client.force_login(w["counsellor"])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"substitute": "substitute", "starts_on": "2026-12-07", "ends_on": "2026-12-10", "reason": "出差"}
    )
    assert response.status_code == 302
    d = Delegation.objects.get()
    assert (d.principal_id, d.substitute_id, d.created_by_id) == (
        w["counsellor"].pk,
        w["substitute"].pk,
        w["counsellor"].pk,
    )
    response = client.post(url, {"substitute": "nobody", "starts_on": "2026-12-07", "ends_on": "2026-12-10"})
    assert response.status_code == 200 and Delegation.objects.count() == 1
    # the substitute sees it and cannot revoke it; Academic Affairs sees every delegation
    client.force_login(w["substitute"])
    assert "王辅导" in client.get(url).content.decode()
    assert client.post(reverse("approvals:delegation_revoke", args=[d.pk])).status_code == 403
    client.force_login(w["other"])
    assert client.get(url).status_code == 403
    assert client.post(reverse("approvals:delegation_revoke", args=[d.pk])).status_code == 404
    client.force_login(w["registrar"])
    assert "王辅导" in client.get(url).content.decode()
    client.force_login(w["counsellor"])
    assert client.post(reverse("approvals:delegation_revoke", args=[d.pk])).status_code == 302
    assert Delegation.objects.get().revoked_at is not None


def test_the_admin_lists_delegations_read_only(world, client):
    w = world
    with freeze_time("2026-12-07 10:00"):
        _delegate(w)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(reverse("admin:registrar_delegation_changelist")).status_code == 200
    assert client.get(reverse("admin:registrar_delegation_add")).status_code == 403


# --- reassign -----------------------------------------------------------------------------------
def test_academic_affairs_reassigns_a_stuck_stage_and_the_assignee_signs(world, client):
    w = world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    other = fresh_user(w["other"])
    assert not perms.can_view(other, req)
    request_reassign(chain=U6, request_id=req.pk, actor=w["registrar"], assignee=w["other"], reason="财务处长期病假")
    s = last_signoff(req)
    assert (s.decision, s.actor_id, s.opinion, s.source_state, s.target_state) == (
        "reassign",
        w["registrar"].pk,
        "财务处长期病假",
        "finance_payment",
        "finance_payment",
    )
    assert (s.data["assignee"], s.data["role"]) == (w["other"].pk, Role.FINANCE)
    other = fresh_user(w["other"])
    assert perms.can_view(other, req) and list(visible_requests(other, U6)) == [req]
    assert perms.eligible_roles(req.__class__.objects.get(pk=req.pk), other) == [Role.FINANCE]
    req = act(w["other"], req, data=U6_STAGE_DATA["finance_payment"], opinion="已收费")
    assert req.state == "registrar_reissue"
    s = last_signoff(req)
    assert (s.actor_id, s.role, s.on_behalf_of_id) == (w["other"].pk, Role.FINANCE, None)
    # the assignment was for that stage: the assignee signs nothing else
    assert perms.eligible_roles(req, fresh_user(w["other"])) == []
    client.force_login(w["registrar"])
    html = client.get(req.get_absolute_url()).content.decode()
    assert "财务处长期病假" in html and "钱旁人" in html


def test_only_academic_affairs_reassigns_and_with_a_reason(world):
    w = world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    with pytest.raises(PermissionDenied):
        request_reassign(chain=U6, request_id=req.pk, actor=w["finance"], assignee=w["other"], reason="x")
    with pytest.raises(Http404):
        request_reassign(chain=U6, request_id=req.pk, actor=w["other_counsellor"], assignee=w["other"], reason="x")
    with pytest.raises(ApplicationError) as info:
        request_reassign(chain=U6, request_id=req.pk, actor=w["registrar"], assignee=w["other"], reason="  ")
    assert info.value.message == REASSIGN_REASON_REQUIRED
    with pytest.raises(ApplicationError) as info:
        request_reassign(chain=U6, request_id=req.pk, actor=w["registrar"], assignee=w["student_user"], reason="x")
    assert info.value.message == REASSIGN_ASSIGNEE_INVALID
    with pytest.raises(ApplicationError):
        request_reassign(
            chain=U6, request_id=req.pk, actor=w["registrar"], assignee=w["other"], reason="x", role=Role.COUNSELLOR
        )
    assert not SignOff.objects.for_object(req).filter(decision="reassign").exists()


def test_the_reassign_page(world, client):
    w = world
    req = u6_advance_to(w, u6_submitted(w), "finance_payment")
    url = reverse("approvals:reassign", args=[U6.code, req.pk])
    client.force_login(w["finance"])
    assert client.get(url).status_code == 403
    client.force_login(w["registrar"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"assignee": "other", "reason": ""}).status_code == 200
    assert client.post(url, {"assignee": "other", "reason": "长期病假"}).status_code == 302
    assert last_signoff(req).decision == "reassign"
    # the assignee's inbox shows the item
    ((chain, qs),) = [(c, q) for c, q in inbox_querysets(fresh_user(w["other"])) if q.exists()]
    assert list(qs) == [req]
    (item,) = inbox_items(fresh_user(w["other"]))
    assert (item.object_id, item.role, item.assignee_id) == (req.pk, Role.FINANCE, w["other"].pk)
    client.force_login(w["other"])
    assert f"/{req.pk}/" in client.get(reverse("approvals:inbox")).content.decode()
