"""Reads of the document pipeline."""

from __future__ import annotations

from django.http import Http404

from . import permissions as perms
from .models import Document


def document_get_visible(user, pk: int) -> Document:
    """The document if ``user`` may see it; Http404 otherwise (scope leaks nothing)."""
    document = Document.objects.select_related("student", "issued_by", "revoked_by").filter(pk=pk).first()
    if document is None or not perms.can_access(user, document):
        raise Http404
    return document


def document_by_code(code: str) -> Document | None:
    """For the public verification page: the document carrying ``code`` (printed form accepted)."""
    from .services import normalize_code

    code = normalize_code(code)
    if not code:
        return None
    return Document.objects.select_related("student", "reissue_of").filter(code=code).first()


def documents_of_request(request, doc_type: str | None = None):
    """Documents issued from ``request`` (newest first)."""
    qs = Document.objects.filter(chain=request.chain.code, request_id=request.pk)
    if doc_type:
        qs = qs.filter(doc_type=doc_type)
    return qs.order_by("-issued_at", "-id")


def documents_of_student(student):
    return Document.objects.filter(student=student).order_by("-issued_at", "-id")


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
