"""自动退学 (U4): once a student is withdrawn automatically, no 肄业证明书, 退学证明 or transcript is issued
through any door of the document pipeline — services, reissue, the render task, the web and the admin —
and a refusal writes nothing."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from freezegun import freeze_time

from registrar.documents import services as docs
from registrar.documents.models import Document, DocumentSequence
from registrar.documents.tasks import render_document
from registrar.documents.types import AUTO_WITHDRAWN_REFUSED, DocType, find_doc_type, get_doc_type, register, unregister
from registrar.exceptions import ApplicationError
from statuschange.models import U3, U4
from tests.factories import UserFactory
from tests.statuschange.helpers import open_request, pass_stage

BANNED = ("withdrawal_certificate", "transcript", "incomplete_certificate")


@pytest.fixture
def banned_types():
    """Register the transcript and 肄业证明书 types for the test if no app has registered them yet."""
    added = []
    for code, prefix in (("transcript", "TTR"), ("incomplete_certificate", "TYY")):
        if find_doc_type(code) is None:
            register(
                DocType(
                    code=code,
                    label=code,
                    template="statuschange/certificate_pdf.html",
                    serial_prefix=prefix,
                    context_builder="statuschange.documents.status_document_context",
                )
            )
            added.append(code)
    yield
    for code in added:
        unregister(code)


@pytest.fixture
def frozen():
    with freeze_time("2026-03-10 10:00"):
        yield


def _issue(student, code, actor):
    return docs.document_issue(doc_type=code, student=student, context={"statement": "测试"}, issued_by=actor)


def _written():
    return (
        Document.objects.count(),
        list(DocumentSequence.objects.values_list("prefix", "last")),
        list(Document.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True)),
    )


def _refusal(student, code):
    return str(AUTO_WITHDRAWN_REFUSED % {"type": get_doc_type(code).label, "name": student.name})


@pytest.fixture
def auto_withdrawn(sc_world, banned_types, frozen):
    """The student holds pending and ready documents of each banned type issued before U4, then U4 completes."""
    w = sc_world
    student = w["student"]
    aa = w["academic_affairs"]
    before = {code: _issue(student, code, aa) for code in BANNED}
    ready = _issue(student, "transcript", aa)
    Document.objects.filter(pk=ready.pk).update(status=Document.Status.READY, progress=100)
    req = open_request(w, U4.code)
    while req.state != "completed":
        req = pass_stage(w, req)
    student.refresh_from_db()
    assert (student.status, student.withdrawal_kind) == ("withdrawn", "automatic")
    return {
        "w": w,
        "student": student,
        "aa": aa,
        "request": req,
        "pending": before,
        "ready": Document.objects.get(pk=ready.pk),
    }


@pytest.mark.parametrize("code", BANNED)
def test_document_issue_refuses(auto_withdrawn, code):
    a = auto_withdrawn
    written = _written()
    with pytest.raises(ApplicationError) as exc:
        _issue(a["student"], code, a["aa"])
    assert str(exc.value.message) == _refusal(a["student"], code)
    assert _written() == written


@pytest.mark.parametrize("code", BANNED)
def test_document_issue_for_request_refuses(auto_withdrawn, code):
    a = auto_withdrawn
    written = _written()
    with pytest.raises(ApplicationError):
        docs.document_issue_for_request(doc_type=code, request=a["request"], issued_by=a["aa"])
    assert _written() == written


@pytest.mark.parametrize("code", BANNED)
def test_reissue_of_a_document_issued_before_the_withdrawal_refuses(auto_withdrawn, code):
    a = auto_withdrawn
    old = a["pending"][code]
    written = _written()
    with pytest.raises(ApplicationError):
        docs.document_reissue(document=old, actor=a["aa"])
    assert _written() == written
    old.refresh_from_db()
    assert not old.is_revoked  # the refusal does not revoke the old one either


@pytest.mark.parametrize("code", BANNED)
def test_render_task_fails_a_pending_document_of_a_since_banned_holder(auto_withdrawn, code):
    a = auto_withdrawn
    doc = a["pending"][code]
    assert doc.status == Document.Status.PENDING
    assert render_document.apply(args=[doc.pk]).get() == Document.Status.FAILED
    doc.refresh_from_db()
    assert doc.status == Document.Status.FAILED and not doc.file and not doc.sha256
    assert "ApplicationError" in doc.error


def test_web_reissue_refuses_and_writes_nothing(auto_withdrawn, client):
    a = auto_withdrawn
    old = a["ready"]
    client.force_login(a["aa"])
    written = _written()
    resp = client.post(reverse("documents:reissue", args=[old.pk]))
    assert resp.status_code == 302 and resp.url == old.get_absolute_url()
    assert _written() == written
    assert _refusal(a["student"], "transcript") in [str(m) for m in get_messages(resp.wsgi_request)]


def test_admin_offers_no_issuing_action_and_revoking_issues_nothing(auto_withdrawn, client):
    from django.contrib import admin

    a = auto_withdrawn
    model_admin = admin.site._registry[Document]
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    changelist = reverse(f"admin:{Document._meta.app_label}_{Document._meta.model_name}_changelist")
    request = client.get(changelist).wsgi_request
    actions = set(model_admin.get_actions(request))
    assert not {name for name in actions if "issue" in name}, actions
    assert not model_admin.has_add_permission(request)
    count = Document.objects.count()
    resp = client.post(changelist, {"action": "revoke", "_selected_action": [a["ready"].pk], "reason": "作废"})
    assert resp.status_code == 302
    assert Document.objects.count() == count
    a["ready"].refresh_from_db()
    assert a["ready"].is_revoked  # revoking is still possible: it issues nothing


def test_documents_outside_the_ban_are_still_issued(auto_withdrawn):
    a = auto_withdrawn
    form = docs.document_issue_for_request(doc_type="approval_form", request=a["request"], issued_by=a["aa"])
    assert form.pk and form.student == a["student"]


def test_a_voluntarily_withdrawn_student_gets_the_certificate(sc_world, banned_types, frozen):
    w = sc_world
    req = open_request(w, U3.code)
    while req.state != "completed":
        req = pass_stage(w, req)
    student = req.student
    assert student.withdrawal_kind == "voluntary"
    assert Document.objects.filter(chain=U3.code, request_id=req.pk, doc_type="withdrawal_certificate").count() == 1
    assert _issue(student, "transcript", w["academic_affairs"]).pk
