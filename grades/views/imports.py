"""Excel imports (teaching data and bulk grades): the upload page with the user's past imports,
a job page with a progress bar that polls a small JSON status view and then shows the counts or
the error table, and the template workbooks.

Academic Affairs imports every kind; a college's teaching secretary imports offerings and grades
of their own college (other colleges' rows are reported as errors). Anyone else: 403. A job of
someone else (unless Academic Affairs): 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from registrar import params
from registrar.exceptions import ApplicationError
from registrar.files import serve_file

from ..forms.imports import ImportForm
from ..models import ImportJob
from ..services import imports as services
from ..services.imports.workbooks import template_columns

PAGE_SIZE = 20
ERRORS_PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_QUEUED = gettext_lazy("The file was uploaded; the import runs in the background.")


def _kinds_or_403(user) -> list[str]:
    kinds = services.import_kinds(user)
    if not kinds:
        raise PermissionDenied
    return kinds


@login_required
def import_page(request):
    """Upload a file (POST) and list the imports the user can see (searchable by file name,
    filtered by kind and status, paginated)."""
    kinds = _kinds_or_403(request.user)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        kinds=kinds,
        initial={"kind": request.GET.get("kind") if request.GET.get("kind") in kinds else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                kind=form.cleaned_data["kind"], file=form.cleaned_data["file"], actor=request.user
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, JOB_QUEUED)
            return redirect("grades:import_job", pk=job.pk)
    jobs = services.visible_jobs(request.user)
    search = params.search_of(request)
    kind = request.GET.get("k") if request.GET.get("k") in ImportJob.Kind.values else ""
    status = request.GET.get("status") if request.GET.get("status") in ImportJob.Status.values else ""
    if search:
        jobs = jobs.filter(file__icontains=search)
    if kind:
        jobs = jobs.filter(kind=kind)
    if status:
        jobs = jobs.filter(status=status)
    page_obj = params.page_of(request, jobs.order_by("-created_at", "-pk"), PAGE_SIZE)
    labels = dict(ImportJob.Kind.choices)
    return render(
        request,
        "grades/import_upload.html",
        {
            "form": form,
            "page_obj": page_obj,
            "filters": {"q": search, "k": kind, "status": status},
            "kinds": [(k, labels[k]) for k in kinds],
            "all_kinds": ImportJob.Kind.choices,
            "statuses": ImportJob.Status.choices,
            "columns": {k: template_columns(k) for k in kinds},
        },
        status=400 if request.method == "POST" else 200,
    )


def _job_or_404(user, pk) -> ImportJob:
    _kinds_or_403(user)
    return get_object_or_404(services.visible_jobs(user), pk=pk)


@login_required
def import_job(request, pk):
    """The job's progress (polled), then the counts or every error (row, column, message)."""
    job = _job_or_404(request.user, pk)
    status = services.job_status(job)
    page_obj = params.page_of(request, job.errors, ERRORS_PAGE_SIZE) if job.errors else None
    return render(request, "grades/import_job.html", {"job": job, "status": status, "page_obj": page_obj})


@login_required
def import_job_status(request, pk):
    """Small JSON for the progress bar."""
    return JsonResponse(services.job_status(_job_or_404(request.user, pk)))


@login_required
def import_job_file(request, pk):
    """The workbook uploaded for a job the user may see (stored files have no public URL)."""
    job = _job_or_404(request.user, pk)
    return serve_file(request, job.file, content_type=XLSX if job.file.name.lower().endswith(".xlsx") else None)


@login_required
@require_POST
def import_job_rerun(request, pk):
    """Run a failed import again (a new job with the same file); the page of the new job."""
    job = _job_or_404(request.user, pk)
    try:
        new = services.import_job_rerun(job=job, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("grades:import_job", pk=job.pk)
    messages.success(request, JOB_QUEUED)
    return redirect("grades:import_job", pk=new.pk)


@login_required
def import_template(request, kind):
    """The template workbook of ``kind`` with example rows and a sheet of instructions."""
    if kind not in ImportJob.Kind.values:
        raise Http404
    if kind not in _kinds_or_403(request.user):
        raise PermissionDenied
    response = HttpResponse(services.template_workbook(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{services.template_filename(kind)}"'
    return response


urlpatterns = [
    path("imports/", import_page, name="imports"),
    path("imports/<int:pk>/", import_job, name="import_job"),
    path("imports/<int:pk>/status/", import_job_status, name="import_job_status"),
    path("imports/<int:pk>/file/", import_job_file, name="import_job_file"),
    path("imports/<int:pk>/rerun/", import_job_rerun, name="import_job_rerun"),
    path("imports/templates/<str:kind>.xlsx", import_template, name="import_template"),
]
