"""Views of the document pipeline: status (polled), download, revoke, reissue, public verification."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from registrar.exceptions import ApplicationError
from registrar.files import serve_file

from . import permissions as perms
from .selectors import document_by_code, document_get_visible, document_public_facts, document_status, normalize_code
from .services import document_reissue, document_retry, document_revoke
from .types import find_doc_type

REVOKED_OK = _("Document %(serial)s has been revoked.")
REISSUED_OK = _("Document %(serial)s has been issued in place of %(old)s.")
RETRY_QUEUED = _("Document %(serial)s is being produced again.")


def _wants_json(request) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")


@login_required
def document_detail(request, pk: int):
    """Status page (HTML) or status JSON (``?format=json`` / ``Accept: application/json``) for polling."""
    document = document_get_visible(request.user, pk)
    status = document_status(document)
    if _wants_json(request):
        return JsonResponse(status)
    return render(
        request,
        "documents/document_detail.html",
        {
            "document": document,
            "status": status,
            "doc_type": find_doc_type(document.doc_type),
            "can_revoke": perms.can_revoke(request.user, document),
        },
    )


@login_required
def document_download(request, pk: int):
    """The stored PDF exactly as rendered (byte-identical on every download)."""
    document = document_get_visible(request.user, pk)
    if not document.is_ready or not document.file:
        if _wants_json(request):
            return JsonResponse(document_status(document), status=409)
        return redirect(document.get_absolute_url())
    response = serve_file(
        request,
        document.file,
        content_type="application/pdf",
        as_attachment=request.GET.get("inline") != "1",
        filename=f"{document.serial}.pdf",
    )
    response["X-Document-SHA256"] = document.sha256
    return response


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}))


def _document_for_staff_action(request, pk: int):
    document = document_get_visible(request.user, pk)
    if not perms.can_revoke(request.user, document):
        raise PermissionDenied
    return document


@login_required
@require_http_methods(["GET", "POST"])
def document_revoke_view(request, pk: int):
    """GET: confirmation page; POST: revoke (Academic Affairs only)."""
    document = _document_for_staff_action(request, pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = document_revoke(document=document, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, REVOKED_OK % {"serial": document.serial})
        return redirect(document.get_absolute_url())
    return render(
        request,
        "documents/document_revoke.html",
        {"document": document, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_reissue_view(request, pk: int):
    """GET: confirmation page; POST: issue a new document (new serial and code) with the same content."""
    document = _document_for_staff_action(request, pk)
    if request.method == "POST":
        try:
            new = document_reissue(document=document, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(document.get_absolute_url())
        messages.success(request, REISSUED_OK % {"serial": new.serial, "old": document.serial})
        return redirect(new.get_absolute_url())
    return render(request, "documents/document_reissue.html", {"document": document})


@login_required
@require_POST
def document_retry_view(request, pk: int):
    """Produce a failed document again: the same document and serial (whoever may see it may ask)."""
    document = document_retry(document=document_get_visible(request.user, pk))
    messages.success(request, RETRY_QUEUED % {"serial": document.serial})
    return redirect(document.get_absolute_url())


# --- public ---------------------------------------------------------------------------
def verify(request, code: str):
    """Public verification page (no login): type, masked holder, serial, issue date, valid / revoked
    and when — only the facts of ``document_public_facts``, nothing internal (no reason, no opinion)."""
    document = document_by_code(code)
    if document is None:
        return render(request, "documents/verify.html", {"document": None, "code": code}, status=404)
    if normalize_code(code) != code:
        return redirect("verify", code=document.code)
    facts = document_public_facts(document)
    return render(request, "documents/verify.html", {"document": facts, "code": facts["code"]})


def verify_lookup(request):
    """The form behind the printed "verify at …" line: type a code, land on its page."""
    code = normalize_code(request.GET.get("code", ""))
    if code:
        return redirect("verify", code=code)
    return render(request, "documents/verify.html", {"document": None, "code": "", "lookup": True})
