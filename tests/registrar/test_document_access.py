"""Issue 8, defects 5 and 6: a document is seen by exactly those who see what it documents, and the public
verification page says only whether and when a document was revoked.

- A document issued from a request: the holder, Academic Affairs in scope and whoever may see the request
  (``approvals.permissions.can_view``) — not "any role whose scope covers the holder" (the canteen, the
  textbook centre, an instructor or a supervisor never read a suspension slip, which prints the reason).
- A document issued without a request (a graduate's transcript copy): the holder, Academic Affairs and
  whom its type's ``viewers`` names (the college's teaching secretary for transcripts).
- ``/verify/<code>/`` never shows the reason for a revocation (on a returned request it is the signer's
  opinion) nor anything else internal.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from freezegun import freeze_time

from registrar.approvals import permissions as approval_perms
from registrar.approvals.chains import get_chain
from registrar.documents import permissions as doc_perms
from registrar.documents.models import Document
from registrar.documents.services import document_issue, document_issue_for_request, document_reissue, document_revoke
from registrar.models import User
from registrar.roles import Role
from statuschange.models import C4, U1, U3
from students.models import Student
from tests.factories import UserFactory, staff
from tests.statuschange.conftest import sc_world  # noqa: F401  (the status-change world fixture)
from tests.statuschange.helpers import open_request, pass_stage, sign

SENTINEL = "SENTINEL-该生因抑郁症住院-7f3a"
#: roles that take no part in U1 (suspension): they used to download its slip through their scope
NOT_U1 = (
    "canteen",
    "textbook",
    "instructor",
    "supervisor",
    "apartment",
    "teaching_secretary",
    "youth_league",
    "leadership",
)


@pytest.fixture
def doc_world(sc_world):
    w = dict(sc_world)
    college = w["student"].college
    w["instructor"] = staff(Role.INSTRUCTOR, college=college, username="instructor")
    w["supervisor"] = staff(Role.SUPERVISOR, college=college, username="supervisor")
    w["nobody"] = UserFactory(username="nobody")
    w["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    return w


def _users(w) -> list[User]:
    users = {v.pk: v for v in w.values() if isinstance(v, User)}
    users.update({s.user_id: s.user for s in Student.objects.select_related("user") if s.user_id})
    return [User.objects.get(pk=pk) for pk in users]


@freeze_time("2026-03-10 10:00")
def test_a_suspension_slip_is_seen_by_exactly_those_who_see_the_suspension(doc_world, client):
    w = doc_world
    req = open_request(w, U1.code)
    while req.state != "finance_receipt":
        req = pass_stage(w, req)
    slip = Document.objects.get(chain=U1.code, request_id=req.pk, doc_type="suspension_slip")
    for user in _users(w):
        expected = (
            user.is_superuser
            or user.pk == w["student"].user_id
            or Role.ACADEMIC_AFFAIRS in approval_perms.roles_covering(user, w["student"])
            or approval_perms.can_view(user, req)
        )
        assert doc_perms.can_access(user, slip) == expected, user.username
    for who in NOT_U1:
        client.force_login(w[who])
        assert client.get(req.get_absolute_url()).status_code == 404, who
        assert client.get(reverse("documents:detail", args=[slip.pk])).status_code == 404, who
        assert client.get(reverse("documents:download", args=[slip.pk])).status_code == 404, who
        # nor listed on the student's page (where the role may look the student up at all)
        page = client.get(reverse("students:detail", args=[w["student"].pk]))
        assert slip.serial not in page.content.decode(), who
    for who in ("counsellor", "dean", "student_affairs", "academic_affairs", "party_committee", "library"):
        client.force_login(w[who])
        assert client.get(reverse("documents:detail", args=[slip.pk])).status_code == 200, who
    client.force_login(w["student"].user)
    assert client.get(reverse("documents:detail", args=[slip.pk])).status_code == 200


def test_a_document_without_request_is_seen_by_whom_its_type_names(doc_world, client):
    """A graduate's transcript copy (no request): holder, Academic Affairs, the college's teaching secretary."""
    w = doc_world
    student = w["student"]
    copy = document_issue(
        doc_type="transcript", student=student, context={"copy": "archive"}, issued_by=w["teaching_secretary"]
    )
    allowed = {"teaching_secretary", "academic_affairs", "superuser"}
    for who in (
        "teaching_secretary",
        "academic_affairs",
        "superuser",
        "counsellor",
        "advisor",
        "dean",
        "canteen",
        "library",
        "student_affairs",
        "instructor",
        "other_teaching_secretary",
        "nobody",
    ):
        client.force_login(w[who])
        status = client.get(reverse("documents:detail", args=[copy.pk])).status_code
        assert status == (200 if who in allowed else 404), who
    client.force_login(student.user)
    assert client.get(reverse("documents:detail", args=[copy.pk])).status_code == 200
    # a type that names nobody: holder and Academic Affairs only
    form = document_issue(doc_type="approval_form", student=student, context={}, issued_by=w["academic_affairs"])
    assert not doc_perms.can_access(User.objects.get(pk=w["teaching_secretary"].pk), form)
    assert doc_perms.can_access(User.objects.get(pk=w["academic_affairs"].pk), form)


@freeze_time("2026-03-10 10:00")
def test_the_public_page_of_a_document_revoked_on_return_shows_no_opinion(doc_world, client):
    """U3: the leave-school notice is issued, then the library returns the request with an opinion that
    becomes the notice's revocation reason. Anyone holding the code sees only "revoked" and the date."""
    w = doc_world
    req = open_request(w, U3.code)
    while req.state != "clearance":
        req = pass_stage(w, req)
    notice = Document.objects.get(chain=U3.code, request_id=req.pk, doc_type="leave_notice")
    sign(w, req, "library", action="reject", opinion=SENTINEL)
    notice.refresh_from_db()
    assert notice.is_revoked and SENTINEL in notice.revoke_reason  # kept internally
    response = client.get(reverse("verify", args=[notice.code]))
    html = response.content.decode()
    assert response.status_code == 200 and "verify-revoked" in html
    assert "2026-03-10" in html
    assert SENTINEL not in html and "抑郁" not in html
    for internal in (notice.revoke_reason, w["student"].name, w["student"].student_number):
        assert internal not in html, internal
    # staff who may see the document read the reason on its own page
    client.force_login(w["academic_affairs"])
    assert SENTINEL in client.get(reverse("documents:detail", args=[notice.pk])).content.decode()


def test_the_public_page_names_the_replacement_but_not_why(doc_world, client):
    w = doc_world
    doc = document_issue(doc_type="approval_form", student=w["student"], context={}, issued_by=w["academic_affairs"])
    document_revoke(document=doc, actor=w["academic_affairs"], reason=SENTINEL)
    new = document_reissue(document=doc, actor=w["academic_affairs"])
    html = client.get(reverse("verify", args=[doc.code])).content.decode()
    assert "verify-revoked" in html and new.serial in html
    assert SENTINEL not in html
    # superseded: the automatic reason names the new serial; the page shows the serial, not the reason
    other = document_issue(doc_type="approval_form", student=w["student"], context={}, issued_by=w["academic_affairs"])
    replacement = document_reissue(document=other, actor=w["academic_affairs"])
    other.refresh_from_db()
    html = client.get(reverse("verify", args=[other.code])).content.decode()
    assert replacement.serial in html and other.revoke_reason not in html


def test_verify_page_context_holds_only_public_facts(doc_world, client):
    w = doc_world
    doc = document_issue(
        doc_type="approval_form", student=w["student"], context={"opinion": SENTINEL}, issued_by=w["academic_affairs"]
    )
    document_revoke(document=doc, actor=w["academic_affairs"], reason=SENTINEL)
    response = client.get(reverse("verify", args=[doc.code]))
    facts = response.context["document"]
    assert isinstance(facts, dict) and not isinstance(facts, Document)
    assert set(facts) == {
        "doc_type_label",
        "title",
        "holder",
        "serial",
        "issued_at",
        "code",
        "display_code",
        "status",
        "is_valid",
        "is_revoked",
        "revoked_at",
        "replacement",
    }
    assert SENTINEL not in response.content.decode()


def test_request_documents_follow_the_request_in_every_chain(doc_world):
    """For every document issued from a request, ``can_access`` is the request's ``can_view`` (plus holder/AA)."""
    w = doc_world
    with freeze_time("2026-03-10 10:00"):
        u1 = open_request(w, U1.code)
        while u1.state != "finance_receipt":
            u1 = pass_stage(w, u1)
        c4 = open_request(w, C4.code)
        while c4.state in get_chain(C4.code).stage_codes:
            c4 = pass_stage(w, c4)
        for req in (u1, c4):
            document_issue_for_request(doc_type="approval_form", request=req, issued_by=w["academic_affairs"])
    docs = list(Document.objects.exclude(chain="").select_related("student"))
    assert {d.chain for d in docs} == {U1.code, C4.code} and len(docs) >= 3
    for user in _users(w):
        for doc in docs:
            req = get_chain(doc.chain).model.objects.get(pk=doc.request_id)
            expected = (
                user.is_superuser
                or user.pk == doc.student.user_id
                or Role.ACADEMIC_AFFAIRS in approval_perms.roles_covering(user, doc.student)
                or approval_perms.can_view(user, req)
            )
            assert doc_perms.can_access(user, doc) == expected, (user.username, doc.doc_type)
