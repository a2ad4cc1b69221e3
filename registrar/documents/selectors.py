"""Reads of the document pipeline."""

from __future__ import annotations

from django.http import Http404

from registrar.common import mask_name

from . import permissions as perms
from .models import Document


def document_get_visible(user, pk: int) -> Document:
    """The document if ``user`` may see it; Http404 otherwise (scope leaks nothing)."""
    document = Document.objects.select_related("student", "issued_by", "revoked_by").filter(pk=pk).first()
    if document is None or not perms.can_access(user, document):
        raise Http404
    return document


def normalize_code(raw: str) -> str:
    """Accept a code as printed (grouped with dashes, spaces, any case)."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def document_by_code(code: str) -> Document | None:
    """For the public verification page: the document carrying ``code`` (printed form accepted)."""
    code = normalize_code(code)
    if not code:
        return None
    return Document.objects.select_related("student", "reissue_of").filter(code=code).first()


def document_public_facts(document: Document) -> dict:
    """What the public verification page may show, and nothing else: type, title, masked holder,
    serial, issue date, code, valid / revoked (with the date) and the replacement's serial.

    Never the reason for a revocation (on a returned request it is a signer's opinion), the
    content, the request, who issued or revoked it, or a rendering error."""
    from .types import find_doc_type

    doc_type = find_doc_type(document.doc_type)
    replacement = document.reissues.order_by("-issued_at", "-id").only("serial", "issued_at").first()
    return {
        "doc_type_label": doc_type.label if doc_type else document.title,
        "title": document.title,
        "holder": mask_name(document.holder_name),
        "serial": document.serial,
        "issued_at": document.issued_at,
        "code": document.code,
        "display_code": document.display_code,
        "status": document.status,
        "is_valid": document.is_valid,
        "is_revoked": document.is_revoked,
        "revoked_at": document.revoked_at,
        "replacement": {"serial": replacement.serial, "issued_at": replacement.issued_at} if replacement else None,
    }


def documents_of_request(request, doc_type: str | None = None):
    """Documents issued from ``request`` (newest first)."""
    qs = Document.objects.filter(chain=request.chain.code, request_id=request.pk)
    if doc_type:
        qs = qs.filter(doc_type=doc_type)
    return qs.order_by("-issued_at", "-id")


def documents_of_student(student):
    return Document.objects.filter(student=student).order_by("-issued_at", "-id")


def documents_visible_of_student(user, student) -> list[Document]:
    """The documents of ``student`` that ``user`` may see (``permissions.can_access``), newest first."""
    return [d for d in documents_of_student(student).select_related("student") if perms.can_access(user, d)]


def document_status(document: Document) -> dict:
    """The JSON a status page polls: progress and, when ready, where to download."""
    from django.urls import reverse

    return {
        "id": document.pk,
        "serial": document.serial,
        "title": document.title,
        "status": document.status,
        "status_label": str(document.get_status_display()),
        "progress": document.progress,
        "ready": document.is_ready,
        "failed": document.status == Document.Status.FAILED,
        "error": document.error if document.status == Document.Status.FAILED else "",
        "revoked": document.is_revoked,
        "download_url": reverse("documents:download", args=[document.pk]) if document.is_ready else None,
        "detail_url": reverse("documents:detail", args=[document.pk]),
    }
