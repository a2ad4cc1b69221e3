"""The document pipeline: issue (numbered, verifiable, guarded), render in Celery, revoke, reissue.

Issuing writes a ``pending`` Document and, once the transaction commits, enqueues
``render_document``; the task renders the template to PDF with WeasyPrint and stores the
bytes once (downloads serve that file as is, so they are byte-identical). Revocation is
recorded, never a deletion, and a verification code is never reused: reissuing makes a new
document with a new serial and a new code.

Callers check who may *ask* for a document (e.g. ``approvals.permissions.can_view`` before
printing an approval form); revocation and reissue check the actor here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError

from . import permissions as perms
from .models import Document, DocumentSequence
from .types import DocType, document_language, document_queue, get_doc_type  # document_language: re-exported

logger = logging.getLogger(__name__)

ALREADY_REVOKED = _("This document was already revoked on %(date)s.")
REVOKE_REASON_REQUIRED = _(
    "Give the reason for revoking the document: it is kept on record (the public "
    "verification page shows only that and when the document was revoked)."
)
CONTEXT_NOT_JSON = _("The document content cannot be stored: %(error)s")
SUPERSEDED = _("Superseded by the reissued document %(serial)s.")

#: Verification-code alphabet: upper-case base32 without the look-alikes 0/O and 1/I.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16


def new_verification_code() -> str:
    """80 random bits (16 × 5) from ``secrets``; unguessable and unambiguous to read aloud."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _next_serial(prefix: str, year: int) -> str:
    seq, _created = DocumentSequence.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"{prefix}-{year}-{seq.last:06d}"


def _unused_code() -> str:
    while True:
        code = new_verification_code()
        if not Document.objects.filter(code=code).exists():
            return code


def _jsonable(context: dict) -> dict:
    try:
        return json.loads(json.dumps(context, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise ApplicationError(CONTEXT_NOT_JSON % {"error": exc}) from exc


def fingerprint(context: dict) -> str:
    body = {k: v for k, v in context.items() if k != "fingerprint"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _enqueue_render(document_id: int) -> None:
    """Queue the rendering (``REGISTRAR["DOCUMENT_QUEUE"]`` names a dedicated queue, if any).

    Runs after commit: if the broker is unreachable the document stays ``pending`` (its row is
    committed) and printing it again queues it again, so it is logged, not raised."""
    from registrar.background import enqueue

    try:
        enqueue("registrar.documents.tasks.render_document", args=[document_id], queue=document_queue())
    except Exception:
        logger.exception("could not queue the rendering of document %s", document_id)


@transaction.atomic
def document_issue(
    *,
    doc_type: str | DocType,
    student,
    title: str | None = None,
    context: dict,
    issued_by,
    chain: str = "",
    request_id: int | None = None,
    reissue_of: Document | None = None,
) -> Document:
    """Issue a document: run the type's guards, number it, give it a code, queue the rendering.

    A guard's refusal (``ApplicationError``) leaves nothing written.
    """
    doc_type = get_doc_type(doc_type)
    doc_type.check(student)
    with translation.override(document_language()):
        title = force_str(title or doc_type.label)
    context = _jsonable(context)
    context.setdefault("fingerprint", fingerprint(context))
    year = timezone.localdate().year
    document = Document(
        doc_type=doc_type.code,
        serial=_next_serial(doc_type.prefix_for(chain), year),
        code=_unused_code(),
        student=student,
        holder_name=student.name,
        title=title[:128],
        chain=chain or "",
        request_id=request_id,
        context=context,
        status=Document.Status.PENDING,
        progress=0,
        issued_by=issued_by,
        reissue_of=reissue_of,
    )
    document.full_clean()
    document.save()
    transaction.on_commit(lambda: _enqueue_render(document.pk))
    return document


@transaction.atomic
def document_issue_for_request(*, doc_type: str | DocType, request, issued_by) -> Document:
    """Issue ``doc_type`` from an approval request (the approval form, a chain's certificate …).

    Idempotent: when the newest document of this type for this request that is not revoked was
    built from exactly the same snapshot — nothing signed or changed since — that document is
    returned instead of a new one, so printing twice gives the same serial; if it had failed, it is
    produced again (``document_retry``), still under its serial.

    A request holds at most one valid certificate of each type: a new one (a stage passed again
    after a send-back, with changed content) supersedes the older. Approval forms are the
    exception — each print is a dated record of the sign-offs so far, and stays valid.
    """
    doc_type = get_doc_type(doc_type)
    doc_type.check(request.student)
    # Serialise concurrent prints of one request (PostgreSQL row lock) so they share one document.
    list(type(request).objects.select_for_update().filter(pk=request.pk).values_list("pk", flat=True))
    with translation.override(document_language()):
        context = _jsonable(doc_type.build_context(request))
        title = force_str(doc_type.label)
        if doc_type.code == "approval_form":
            title = force_str(_("%(chain)s — approval form")) % {"chain": force_str(request.chain.name)}
    context["fingerprint"] = fingerprint(context)
    latest = (
        Document.objects.select_for_update()
        .filter(doc_type=doc_type.code, chain=request.chain.code, request_id=request.pk, revoked_at__isnull=True)
        .order_by("-issued_at", "-id")
        .first()
    )
    if latest is not None and latest.context.get("fingerprint") == context["fingerprint"]:
        if latest.status == Document.Status.FAILED:
            return document_retry(document=latest)
        if latest.status == Document.Status.PENDING:
            # Not rendered yet (or its job was lost): queue it again; rendering is idempotent.
            transaction.on_commit(lambda: _enqueue_render(latest.pk))
        return latest
    document = document_issue(
        doc_type=doc_type,
        student=request.student,
        title=title,
        context=context,
        issued_by=issued_by,
        chain=request.chain.code,
        request_id=request.pk,
    )
    if doc_type.code != "approval_form":
        with translation.override(document_language()):
            reason = force_str(SUPERSEDED) % {"serial": document.serial}
        (
            Document.objects.filter(
                doc_type=doc_type.code, chain=request.chain.code, request_id=request.pk, revoked_at__isnull=True
            )
            .exclude(pk=document.pk)
            .update(revoked_at=timezone.now(), revoked_by=issued_by, revoke_reason=reason[:255])
        )
    return document


@transaction.atomic
def document_revoke(*, document: Document, actor, reason: str) -> Document:
    """Record that ``document`` is no longer valid (never deletes). Academic Affairs only."""
    document = Document.objects.select_for_update().select_related("student").get(pk=document.pk)
    _check_may_revoke(actor, document)
    if document.is_revoked:
        raise ApplicationError(ALREADY_REVOKED % {"date": timezone.localtime(document.revoked_at).date().isoformat()})
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REVOKE_REASON_REQUIRED)
    document.revoked_at = timezone.now()
    document.revoked_by = actor
    document.revoke_reason = reason[:255]
    document.full_clean()
    document.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return document


RETURNED_TO_APPLICANT = _("The request was returned to the applicant: %(reason)s")


@transaction.atomic
def documents_revoke_for_returned_request(*, request, actor, reason: str) -> int:
    """A request returned to its applicant (rejected) did not complete: the documents its stages
    issued (a leave-school notice …) stop being valid — all but its approval form, which records the
    return itself. Part of the sign-off, so no separate revoking permission is needed. Returns how
    many were revoked; approving the request again issues new ones."""
    with translation.override(document_language()):
        text = force_str(RETURNED_TO_APPLICANT) % {"reason": reason}
    return (
        Document.objects.filter(chain=request.chain.code, request_id=request.pk, revoked_at__isnull=True)
        .exclude(doc_type="approval_form")
        .update(revoked_at=timezone.now(), revoked_by=actor, revoke_reason=text[:255])
    )


@transaction.atomic
def document_reissue(*, document: Document, actor) -> Document:
    """A NEW document (new serial, new code) with the same content as ``document``.

    The old one stays on record; if it was still valid it is revoked as superseded, so one
    content never has two valid copies. Its code is never reused.
    """
    document = Document.objects.select_for_update().select_related("student").get(pk=document.pk)
    _check_may_revoke(actor, document)
    context = {k: v for k, v in document.context.items() if k != "fingerprint"}
    new = document_issue(
        doc_type=document.doc_type,
        student=document.student,
        title=document.title,
        context=context,
        issued_by=actor,
        chain=document.chain,
        request_id=document.request_id,
        reissue_of=document,
    )
    if not document.is_revoked:
        with translation.override(document_language()):
            reason = force_str(SUPERSEDED) % {"serial": new.serial}
        document_revoke(document=document, actor=actor, reason=reason)
    return new


def _check_may_revoke(actor, document: Document) -> None:
    if not perms.can_access(actor, document):
        raise Http404
    if not perms.can_revoke(actor, document):
        raise PermissionDenied


@transaction.atomic
def document_retry(*, document: Document) -> Document:
    """Produce a failed document again: the same document (serial, code), back to ``pending`` with its
    rendering queued. A document that has not failed, or was revoked, is returned as it is. Callers check
    who may ask."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status != Document.Status.FAILED or document.is_revoked:
        return document
    document.status = Document.Status.PENDING
    document.progress = 0
    document.error = ""
    document.render_attempts = 0
    document.heartbeat_at = timezone.now()
    document.save(update_fields=["status", "progress", "error", "render_attempts", "heartbeat_at"])
    transaction.on_commit(lambda: _enqueue_render(document.pk))
    return document


# --- rendering (runs in the Celery task) ---------------------------------------------------
RENDER_GAVE_UP = _("The document could not be produced: its rendering was started %(count)s times without finishing.")


def _progress(document_id: int, value: int, **fields) -> None:
    """Record progress; it is also the job's sign of life for the sweeper (registrar/background.py)."""
    Document.objects.filter(pk=document_id).update(progress=value, heartbeat_at=timezone.now(), **fields)


def render_attempt_limit() -> int:
    """Starts of one document's rendering before it is given up: its retries after lock errors and
    a few redeliveries after a worker died, so a document that kills its worker does not loop."""
    from registrar.background import job_settings

    return job_settings()["retries"] + 5


def document_render(*, document_id: int, final: bool = True) -> Document:
    """Render ``document`` to PDF and store it once; progress 0 → 30 → 90 → 100.

    Already rendered documents are left alone (a redelivered task does nothing), so the
    stored bytes never change. A failure marks the document ``failed`` with the error — except a
    transient database error (a lock …) before the ``final`` attempt: it is raised for the task to
    retry (registrar.background) and the document stays ``pending``.
    """
    from registrar.background import is_transient

    from .render import build_html, render_pdf

    document = Document.objects.select_related("student").get(pk=document_id)
    if document.status == Document.Status.READY:
        return document
    try:
        # The policies hold at render time too: a queued job for a since-banned holder fails.
        get_doc_type(document.doc_type).check(document.student)
        if document.render_attempts >= render_attempt_limit():
            raise ApplicationError(RENDER_GAVE_UP % {"count": document.render_attempts})
        _progress(document_id, 0, status=Document.Status.PENDING, error="", render_attempts=F("render_attempts") + 1)
        html = build_html(document)
        _progress(document_id, 30)
        pdf = render_pdf(html)
        _progress(document_id, 90)
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=document_id)
            if document.status == Document.Status.READY:
                return document
            document.file.save(f"{document.serial}-{secrets.token_hex(6)}.pdf", ContentFile(pdf), save=False)
            document.sha256 = hashlib.sha256(pdf).hexdigest()
            document.status = Document.Status.READY
            document.progress = 100
            document.error = ""
            document.heartbeat_at = timezone.now()
            document.save(update_fields=["file", "sha256", "status", "progress", "error", "heartbeat_at"])
        return document
    except Exception as exc:
        if not final and is_transient(exc):
            raise
        logger.exception("rendering document %s failed", document_id)
        _progress(document_id, 100, status=Document.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        document.refresh_from_db()
        return document
