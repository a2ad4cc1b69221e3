"""Transcript pages: route (1) batches (file, seal class by class, class prints) and graduates'
transcript copies (C8). Route (2) uses the generic request UI (/requests/transcript_personal/new/).

Thin views: scope (403 wrong role, 404 out of scope), validate, one service, a message, redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from registrar import params
from registrar.exceptions import ApplicationError
from registrar.files import serve_file
from students.selectors import student_list

from ..forms.transcripts import GraduateCopiesForm, SealForm, TranscriptBatchForm
from ..models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint
from ..models.transcripts import SEAL_STAGES
from ..selectors import transcripts as sel
from ..services.transcripts import (
    class_print_retry,
    graduate_transcripts_print,
    may_print_graduate_copies,
    seal_scope_check,
    transcript_batch_file,
    transcript_batch_seal_class,
)

PAGE_SIZE = 20
CLASS_PAGE_SIZE = 10

BATCH_FILED = _("Batch #%(id)s filed: %(count)s transcript requests sent to the colleges.")
CLASS_SEALED = _("%(klass)s: %(count)s transcripts passed “%(stage)s”.")
CLASS_PRINT_REQUEUED = _("The class print of %(klass)s is being produced again.")
COPIES_PRINTED = _(
    "%(count)s transcripts issued for %(students)s graduates: one copy to the archive, one to the student work office."
)


@login_required
def transcript_batches(request):
    """Route (1) batches in the user's scope (searchable, paginated); Student Affairs files new ones."""
    sel.require_batch_viewer(request.user)
    search = params.search_of(request)
    page_obj = params.page_of(request, sel.batch_list(request.user, search=search), PAGE_SIZE)
    return render(
        request,
        "grades/transcript_batches.html",
        {
            "page_obj": page_obj,
            "search": search,
            "can_file": sel.may_file_batches(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transcript_batch_new(request):
    """Student Affairs files a batch: purpose, language, note and students by class or number."""
    if not sel.may_file_batches(request.user):
        raise PermissionDenied
    form = TranscriptBatchForm(
        request.POST or None,
        class_queryset=sel.pickable_classes(request.user),
        student_queryset=student_list(user=request.user),
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            batch = transcript_batch_file(actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            problems = exc.extra.get("problems") or []
            form.add_error(
                None,
                exc.message
                if not problems
                else _("The batch was not filed and nothing was written. These students cannot be included:"),
            )
        else:
            messages.success(request, BATCH_FILED % {"id": batch.pk, "count": batch.requests.count()})
            return redirect("grades:transcript_batch_detail", pk=batch.pk)
    return render(
        request,
        "grades/transcript_batch_form.html",
        {"form": form, "problems": problems},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def transcript_batch_detail(request, pk: int):
    """A batch's classes in scope: counts per stage, seal buttons, class prints, each student's transcripts."""
    batch = sel.batch_get(request.user, pk)
    search = params.search_of(request)
    rows = sel.batch_class_rows(request.user, batch, search=search)
    page_obj = params.page_of(request, rows, CLASS_PAGE_SIZE)
    sel.attach_class_details(batch, list(page_obj.object_list))
    return render(
        request,
        "grades/transcript_batch_detail.html",
        {
            "batch": batch,
            "page_obj": page_obj,
            "search": search,
            "chain": BATCH_TRANSCRIPT,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transcript_batch_seal(request, pk: int, class_id: int, stage: str):
    """GET: confirmation (the students waiting); POST: seal the whole class at ``stage``."""
    if stage not in SEAL_STAGES:
        raise Http404
    batch = sel.batch_get(request.user, pk)
    klass = sel.batch_class(request.user, batch, class_id)
    seal_scope_check(actor=request.user, klass=klass, stage=stage)
    stage_label = BATCH_TRANSCRIPT.state_label(stage)
    back = reverse("grades:transcript_batch_detail", args=[batch.pk]) + f"#class-{klass.pk}"
    form = SealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = transcript_batch_seal_class(
                batch=batch, klass=klass, actor=request.user, stage=stage, opinion=form.cleaned_data["opinion"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if result.sealed:
                messages.success(
                    request, CLASS_SEALED % {"klass": klass.name, "count": result.sealed, "stage": stage_label}
                )
            for refusal in result.refused:
                messages.warning(request, refusal)
        return redirect(back)
    waiting = (
        BatchTranscriptRequest.objects.filter(batch=batch, student__klass=klass, state=stage)
        .select_related("student")
        .order_by("student__student_number")
    )
    return render(
        request,
        "grades/transcript_batch_seal.html",
        {
            "batch": batch,
            "klass": klass,
            "stage": stage,
            "stage_label": stage_label,
            "form": form,
            "waiting": waiting,
            "back": back,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def transcript_class_print(request, pk: int):
    """The class print's status as JSON (the batch page polls it)."""
    cp = sel.class_print_get(request.user, pk)
    return JsonResponse(sel.class_print_status(cp))


@login_required
def transcript_class_print_download(request, pk: int):
    cp = sel.class_print_get(request.user, pk)
    if cp.status != ClassPrint.Status.READY or not cp.file:
        return redirect(reverse("grades:transcript_batch_detail", args=[cp.batch_id]) + f"#class-{cp.klass_id}")
    return serve_file(
        request,
        cp.file,
        content_type="application/pdf",
        as_attachment=request.GET.get("inline") != "1",
        filename=f"transcripts-batch{cp.batch_id}-{cp.klass.code}.pdf",
    )


@login_required
@require_POST
def transcript_class_print_retry(request, pk: int):
    """Produce a failed (or stuck) class print again — those who seal the class."""
    cp = sel.class_print_get(request.user, pk)
    if not sel.seal_stages_for(request.user, cp.klass):
        raise PermissionDenied
    try:
        class_print_retry(class_print=cp)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, CLASS_PRINT_REQUEUED % {"klass": cp.klass.name})
    return redirect(reverse("grades:transcript_batch_detail", args=[cp.batch_id]) + f"#class-{cp.klass_id}")


@login_required
@require_http_methods(["GET", "POST"])
def graduate_copies(request):
    """C8: print each graduate's transcript in two copies (archive, student work office); the list of
    copies recorded in the user's scope."""
    if not may_print_graduate_copies(request.user):
        raise PermissionDenied
    form = GraduateCopiesForm(
        request.POST or None,
        class_queryset=sel.pickable_classes(request.user),
        student_queryset=student_list(user=request.user),
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        students = form.cleaned_data["students"]
        try:
            copies = graduate_transcripts_print(students=students, actor=request.user)
        except ApplicationError as exc:
            problems = exc.extra.get("problems") or []
            form.add_error(
                None,
                exc.message if not problems else _("Nothing was printed. These students cannot receive a transcript:"),
            )
        else:
            messages.success(request, COPIES_PRINTED % {"count": len(copies), "students": len(students)})
            return redirect("grades:graduate_copies")
    search = params.search_of(request)
    page_obj = params.page_of(request, sel.graduate_copy_list(request.user, search=search), PAGE_SIZE)
    return render(
        request,
        "grades/transcript_graduate_copies.html",
        {
            "form": form,
            "problems": problems,
            "page_obj": page_obj,
            "search": search,
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("transcripts/batches/", transcript_batches, name="transcript_batches"),
    path("transcripts/batches/new/", transcript_batch_new, name="transcript_batch_new"),
    path("transcripts/batches/<int:pk>/", transcript_batch_detail, name="transcript_batch_detail"),
    path(
        "transcripts/batches/<int:pk>/classes/<int:class_id>/seal/<slug:stage>/",
        transcript_batch_seal,
        name="transcript_batch_seal",
    ),
    path("transcripts/class-prints/<int:pk>/", transcript_class_print, name="transcript_class_print"),
    path(
        "transcripts/class-prints/<int:pk>/download/",
        transcript_class_print_download,
        name="transcript_class_print_download",
    ),
    path("transcripts/class-prints/<int:pk>/retry/", transcript_class_print_retry, name="transcript_class_print_retry"),
    path("transcripts/graduate-copies/", graduate_copies, name="graduate_copies"),
]
