"""The document pipeline: issue → render (Celery, eager here) → store → download → verify → revoke/reissue."""

import hashlib
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed
from freezegun import freeze_time
from pypdf import PdfReader

from registrar.approvals.services import signoff_record
from registrar.documents import services as doc_services
from registrar.documents import types as doc_types
from registrar.documents.models import Document, DocumentSequence
from registrar.documents.render import build_html, render_pdf
from registrar.documents.services import (
    ALREADY_REVOKED,
    CODE_ALPHABET,
    document_issue,
    document_issue_for_request,
    document_reissue,
    document_revoke,
)
from registrar.exceptions import ApplicationError
from registrar.roles import Role
from students.models import U6, Student
from tests.factories import IdCardReissueRequestFactory, StudentFactory, UserFactory

HOLDER = "欧阳小明"


# --- helpers ------------------------------------------------------------------------------
def act(req, action, actor, role, opinion="", **data):
    """Drive the request's FSM the way the kernel does (transition, save, sign-off), without
    the notification side effects, so these tests depend only on the kernel's state machine."""
    source = req.state
    method = getattr(req, action)
    kwargs = {"actor": actor}
    if action == "approve":
        kwargs.update(role=role, data=data)
    elif action in ("reject", "send_back"):
        kwargs.update(reason=opinion)
    method(**kwargs)
    if action == "approve" and can_proceed(req.advance):
        req.advance(actor=actor)  # the kernel leaves the stage once every signer has signed
    req.save()
    decision = {"submit": "submit", "approve": "approve", "reject": "reject", "send_back": "return"}[action]
    signoff_record(request=req, actor=actor, role=role, decision=decision, source=source, opinion=opinion, data=data)
    return req


@pytest.fixture
def world(u6_world):
    w = dict(u6_world)
    Student.objects.filter(pk=w["student"].pk).update(name=HOLDER)
    w["student"].refresh_from_db()
    w["counsellor"].full_name = "李辅导"
    w["counsellor"].save()
    req = IdCardReissueRequestFactory(student=w["student"], reason="lost", reason_detail="在食堂遗失")
    act(req, "submit", w["student_user"], Role.STUDENT)
    act(req, "approve", w["counsellor"], Role.COUNSELLOR, opinion="情况属实，同意补办")
    w["request"] = req
    return w


def issue_form(w, capture, user=None):
    with capture(execute=True):
        doc = document_issue_for_request(
            doc_type="approval_form", request=w["request"], issued_by=user or w["student_user"]
        )
    doc.refresh_from_db()
    return doc


def pdf_bytes(doc) -> bytes:
    with doc.file.open("rb") as fh:
        return fh.read()


def pdf_text(reader) -> str:
    """All text of the PDF with whitespace removed (table cells wrap CJK text anywhere)."""
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def embedded_fonts(reader) -> set[str]:
    """Base names (subset tag and separators stripped) of fonts whose file is embedded in the PDF."""
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for d in descendants:
                descriptor = d["/FontDescriptor"].get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(font["/BaseFont"]).split("+")[-1].replace("-", "").replace(" ", ""))
    return names


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def restore_registry():
    saved = dict(doc_types._REGISTRY)
    yield
    doc_types._REGISTRY.clear()
    doc_types._REGISTRY.update(saved)


def refuse_withdrawn(doc_type, student):
    if student.status == Student.Status.WITHDRAWN:
        raise ApplicationError("withdrawn students get no " + doc_type.code)


# --- rendering ------------------------------------------------------------------------------
def test_approval_form_pdf_embeds_cjk_font_and_prints_holder_and_opinions(world, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)

    assert doc.status == Document.Status.READY
    assert doc.progress == 100
    data = pdf_bytes(doc)
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == doc.sha256
    reader = PdfReader(io.BytesIO(data))
    text = pdf_text(reader)
    assert HOLDER in text
    assert "情况属实，同意补办" in text  # the counsellor's opinion
    assert "李辅导" in text  # … and the signer's name
    assert doc.serial in text
    assert any("NotoSerifCJK" in name for name in embedded_fonts(reader)), embedded_fonts(reader)


def test_pdf_html_names_the_cjk_font_in_body_and_margin_boxes_and_points_qr_to_verify(world, settings):
    settings.REGISTRAR = {
        **settings.REGISTRAR,
        "PUBLIC_URL": "https://xj.example.edu.cn",
        "INSTITUTION_NAME": "示范理工大学",
    }
    doc = document_issue_for_request(
        doc_type="approval_form", request=world["request"], issued_by=world["student_user"]
    )
    html = build_html(doc)
    assert '<html lang="zh-CN">' in html
    assert "size: A4" in html
    style = html.split("</style>")[0]
    margin_boxes = re.findall(r"@(?:top|bottom)-[a-z]+ \{[^}]*\}", style)
    assert len(margin_boxes) == 3
    assert all('font-family: "Noto Serif CJK SC"' in box for box in margin_boxes)
    assert re.search(r'body \{[^}]*font-family: "Noto Serif CJK SC"', style)
    assert "示范理工大学" in style  # header
    assert doc.serial in style and doc.display_code in style  # footer
    assert "counter(pages)" in style
    assert f"https://xj.example.edu.cn/verify/{doc.code}/" in html
    assert "data:image/svg+xml" in html  # the QR code


def test_render_failure_marks_document_failed_with_error(world, django_capture_on_commit_callbacks, monkeypatch):
    def boom(html, **kw):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr("registrar.documents.render.render_pdf", boom)
    doc = issue_form(world, django_capture_on_commit_callbacks)
    assert doc.status == Document.Status.FAILED
    assert "no fonts today" in doc.error
    assert not doc.file and not doc.sha256


def test_rendering_reports_progress_in_steps(world, monkeypatch):
    doc = document_issue_for_request(doc_type="approval_form", request=world["request"], issued_by=world["registrar"])
    seen = []
    real = doc_services._progress

    def spy(document_id, value, **fields):
        seen.append(value)
        real(document_id, value, **fields)

    monkeypatch.setattr(doc_services, "_progress", spy)
    doc_services.document_render(document_id=doc.pk)
    doc.refresh_from_db()
    assert seen == [0, 30, 90]
    assert (doc.status, doc.progress) == (Document.Status.READY, 100)


def test_render_pdf_is_bare_weasyprint():
    pdf = render_pdf('<html lang="zh-CN"><body style="font-family: \'Noto Serif CJK SC\'">学籍</body></html>')
    assert pdf.startswith(b"%PDF-")
    assert "学籍" in pdf_text(PdfReader(io.BytesIO(pdf)))


def test_rerendering_a_ready_document_keeps_the_stored_bytes(world, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    first, name = pdf_bytes(doc), doc.file.name
    doc_services.document_render(document_id=doc.pk)
    doc.refresh_from_db()
    assert doc.file.name == name and pdf_bytes(doc) == first


# --- numbering and codes ----------------------------------------------------------------------
def test_serials_are_sequential_per_prefix_and_year_and_codes_unique(world, restore_registry):
    doc_types.register(
        doc_types.DocType(code="test_cert", label="Test", template="documents/approval_form.html", serial_prefix="TC")
    )
    student, user = world["student"], world["registrar"]
    year = timezone.localdate().year
    u6 = [
        document_issue(doc_type="approval_form", student=student, context={"n": i}, issued_by=user, chain=U6.code)
        for i in range(3)
    ]
    tc = document_issue(doc_type="test_cert", student=student, context={}, issued_by=user)
    assert [d.serial for d in u6] == [f"U6-{year}-{n:06d}" for n in (1, 2, 3)]
    assert tc.serial == f"TC-{year}-000001"
    codes = [d.code for d in [*u6, tc]]
    assert len(set(codes)) == 4
    assert all(len(c) == 16 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01IO") & set(CODE_ALPHABET)
    assert all(d.holder_name == HOLDER and d.status == Document.Status.PENDING for d in u6)
    with freeze_time(f"{year + 1}-01-02 10:00:00"):
        nxt = document_issue(doc_type="approval_form", student=student, context={}, issued_by=user, chain=U6.code)
    assert nxt.serial == f"U6-{year + 1}-000001"


def test_printing_twice_reuses_the_document_until_something_is_signed(world, django_capture_on_commit_callbacks):
    w = world
    first = issue_form(w, django_capture_on_commit_callbacks)
    again = issue_form(w, django_capture_on_commit_callbacks, user=w["counsellor"])
    assert again.pk == first.pk
    act(
        w["request"],
        "approve",
        w["finance"],
        Role.FINANCE,
        opinion="已缴费",
        fee_amount="20.00",
        receipt_number="R2026001",
    )
    after_signing = issue_form(w, django_capture_on_commit_callbacks)
    assert after_signing.pk != first.pk and after_signing.serial != first.serial
    assert "已缴费" in pdf_text(PdfReader(io.BytesIO(pdf_bytes(after_signing))))
    document_revoke(document=after_signing, actor=w["registrar"], reason="打印错误")
    after_revoking = issue_form(w, django_capture_on_commit_callbacks)
    assert after_revoking.pk not in (first.pk, after_signing.pk)


def test_documents_are_never_deleted(world):
    doc = document_issue_for_request(doc_type="approval_form", request=world["request"], issued_by=world["registrar"])
    with pytest.raises(ValidationError):
        doc.delete()
    with pytest.raises(ValidationError):
        Document.objects.filter(pk=doc.pk).delete()
    assert Document.objects.filter(pk=doc.pk).exists()


# --- guards ---------------------------------------------------------------------------------
def test_a_guard_refusing_issuance_writes_nothing(world, restore_registry, django_capture_on_commit_callbacks):
    w = world
    doc_types.add_guard("approval_form", refuse_withdrawn)
    Student.objects.filter(pk=w["student"].pk).update(status=Student.Status.WITHDRAWN)
    w["request"].student.refresh_from_db()
    before = (Document.objects.count(), list(DocumentSequence.objects.values_list("prefix", "last")))
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ApplicationError, match="withdrawn students get no approval_form"):
            document_issue_for_request(doc_type="approval_form", request=w["request"], issued_by=w["registrar"])
        with pytest.raises(ApplicationError):
            # the guard holds for callers passing the type object too, and for the bare entry point
            document_issue(
                doc_type=doc_types.APPROVAL_FORM,
                student=w["request"].student,
                context={},
                issued_by=w["registrar"],
                chain=U6.code,
            )
    assert callbacks == []
    assert (Document.objects.count(), list(DocumentSequence.objects.values_list("prefix", "last"))) == before


def test_a_guard_also_refuses_reissue(world, restore_registry):
    w = world
    doc = document_issue_for_request(doc_type="approval_form", request=w["request"], issued_by=w["registrar"])
    doc_types.add_guard("approval_form", refuse_withdrawn)
    Student.objects.filter(pk=w["student"].pk).update(status=Student.Status.WITHDRAWN)
    with pytest.raises(ApplicationError):
        document_reissue(document=doc, actor=w["registrar"])
    doc.refresh_from_db()
    assert not doc.is_revoked
    assert Document.objects.count() == 1


# --- revocation and reissue ------------------------------------------------------------------
def test_revoked_document_is_never_reissued_under_the_same_code(world, django_capture_on_commit_callbacks):
    w = world
    doc = issue_form(w, django_capture_on_commit_callbacks)
    document_revoke(document=doc, actor=w["registrar"], reason="信息有误")
    with pytest.raises(ApplicationError) as exc:
        document_revoke(document=doc, actor=w["registrar"], reason="again")
    assert str(exc.value) == str(ALREADY_REVOKED) % {"date": timezone.localdate().isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        new = document_reissue(document=doc, actor=w["registrar"])
    new.refresh_from_db()
    doc.refresh_from_db()
    assert new.code != doc.code and new.serial != doc.serial
    assert new.reissue_of_id == doc.pk and new.context == doc.context
    assert new.status == Document.Status.READY and not new.is_revoked
    assert doc.is_revoked and doc.revoke_reason == "信息有误"  # the first reason stands
    assert Document.objects.filter(code=doc.code).count() == 1


def test_reissuing_a_valid_document_revokes_it_as_superseded(world):
    w = world
    doc = document_issue_for_request(doc_type="approval_form", request=w["request"], issued_by=w["registrar"])
    new = document_reissue(document=doc, actor=w["registrar"])
    doc.refresh_from_db()
    assert doc.is_revoked and new.serial in doc.revoke_reason
    assert not new.is_revoked


def test_revoke_needs_a_reason_and_academic_affairs(world):
    w = world
    doc = document_issue_for_request(doc_type="approval_form", request=w["request"], issued_by=w["registrar"])
    with pytest.raises(ApplicationError):
        document_revoke(document=doc, actor=w["registrar"], reason="  ")
    with pytest.raises(PermissionDenied):
        document_revoke(document=doc, actor=w["counsellor"], reason="x")
    with pytest.raises(Http404):
        document_revoke(document=doc, actor=w["other_counsellor"], reason="x")
    with pytest.raises(PermissionDenied):
        document_reissue(document=doc, actor=w["student_user"])
    doc.refresh_from_db()
    assert not doc.is_revoked


# --- public verification ----------------------------------------------------------------------
def test_verification_page_valid(world, client, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    response = client.get(f"/verify/{doc.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "verify-valid" in html and "verify-revoked" not in html
    assert "欧**明" in html and HOLDER not in html
    assert doc.serial in html
    assert doc.issued_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in html
    assert str(doc_types.APPROVAL_FORM.label) in html or "审批表" in html


def test_verification_page_revoked_shows_date_but_not_the_reason(world, client, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    document_revoke(document=doc, actor=world["registrar"], reason="学生信息填写错误")
    response = client.get(reverse("verify", args=[doc.code]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "verify-revoked" in html and "verify-valid" not in html
    assert "学生信息填写错误" not in html  # the reason stays internal (issue 8)
    assert timezone.localdate().isoformat() in html


def test_verification_unknown_code_is_not_found_and_printed_form_is_accepted(world, client):
    doc = document_issue_for_request(doc_type="approval_form", request=world["request"], issued_by=world["registrar"])
    response = client.get("/verify/ABCDEFGHJKLMNPQR/")
    assert response.status_code == 404
    assert "verify-notfound" in response.content.decode()
    printed = doc.display_code.lower()
    response = client.get(f"/verify/{printed}/")
    assert response.status_code == 302 and response["Location"] == f"/verify/{doc.code}/"
    response = client.get("/verify/", {"code": printed})
    assert response.status_code == 302


# --- download, status, permissions -------------------------------------------------------------
def test_download_is_byte_identical_and_matches_sha256(world, client, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    client.force_login(world["student_user"])
    url = reverse("documents:download", args=[doc.pk])
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    a, b = body(first), body(second)
    assert a == b == pdf_bytes(doc)
    assert hashlib.sha256(a).hexdigest() == doc.sha256 == first["X-Document-SHA256"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("student_user", 200),  # holder
        ("counsellor", 200),  # role in scope (class)
        ("finance", 200),  # university-scoped role
        ("registrar", 200),
        ("other_counsellor", 404),  # counsellor of another class
        ("other_student", 404),  # another student of the same class
        ("nobody", 404),  # staff user without any role
    ],
)
def test_download_scope(world, client, django_capture_on_commit_callbacks, who, status):
    world["other_student"] = StudentFactory(klass=world["student"].klass).user
    world["nobody"] = UserFactory(username="nobody")
    doc = issue_form(world, django_capture_on_commit_callbacks)
    client.force_login(world[who])
    assert client.get(reverse("documents:download", args=[doc.pk])).status_code == status
    assert client.get(reverse("documents:detail", args=[doc.pk])).status_code == status


def test_download_by_request_viewer_outside_role_scope(world, client, django_capture_on_commit_callbacks):
    """A staff member who applied on the student's behalf sees the request, hence its documents."""
    w = world
    applicant = UserFactory(username="applicant_staff")
    req = w["request"]
    type(req).objects.filter(pk=req.pk).update(applicant=applicant)
    doc = issue_form(w, django_capture_on_commit_callbacks)
    client.force_login(applicant)
    assert client.get(reverse("documents:download", args=[doc.pk])).status_code == 200


def test_anonymous_download_is_refused(world, client, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    response = client.get(reverse("documents:download", args=[doc.pk]))
    assert response.status_code in (302, 404) and response.get("Content-Type") != "application/pdf"


def test_status_json_reports_progress(world, client, django_capture_on_commit_callbacks):
    client.force_login(world["student_user"])
    pending = document_issue_for_request(
        doc_type="approval_form", request=world["request"], issued_by=world["student_user"]
    )  # on_commit not run: still queued
    data = client.get(reverse("documents:detail", args=[pending.pk]), {"format": "json"}).json()
    assert data["status"] == "pending" and data["progress"] == 0 and data["download_url"] is None
    assert client.get(reverse("documents:download", args=[pending.pk])).status_code == 302
    # Printing again returns the same document and queues its rendering again (a lost job heals).
    doc = issue_form(world, django_capture_on_commit_callbacks)
    assert doc.pk == pending.pk and doc.status == Document.Status.READY
    data = client.get(reverse("documents:detail", args=[pending.pk]), HTTP_ACCEPT="application/json").json()
    assert data["status"] == "ready" and data["progress"] == 100
    assert data["download_url"] == reverse("documents:download", args=[pending.pk])


def test_revoke_view_roles(world, client, django_capture_on_commit_callbacks):
    doc = issue_form(world, django_capture_on_commit_callbacks)
    url = reverse("documents:revoke", args=[doc.pk])
    client.force_login(world["counsellor"])
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(world["other_counsellor"])
    assert client.post(url, {"reason": "x"}).status_code == 404
    client.force_login(world["registrar"])
    assert client.get(url).status_code == 200  # confirmation page, nothing changed
    doc.refresh_from_db()
    assert not doc.is_revoked
    response = client.post(url, {"reason": "盖章错误"})
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.is_revoked and doc.revoke_reason == "盖章错误" and doc.revoked_by == world["registrar"]


def test_staff_issued_documents_for_other_students_stay_separate(world, django_capture_on_commit_callbacks):
    other = StudentFactory(klass=world["student"].klass)
    other_req = IdCardReissueRequestFactory(student=other)
    doc = issue_form(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        other_doc = document_issue_for_request(
            doc_type="approval_form", request=other_req, issued_by=world["registrar"]
        )
    assert other_doc.pk != doc.pk and other_doc.holder_name == other.name
