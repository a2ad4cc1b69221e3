"""Correspondence station pages (C8): blank sheets to print, and station grade submissions with
the college's review. Views are thin: check the role, validate the form, call one service,
message, redirect. Objects outside the user's scope answer 404, a wrong role 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from registrar import params
from registrar.exceptions import ApplicationError
from registrar.files import serve_file
from students.models import Station

from ..forms.stations import (
    AcceptForm,
    BlankSheetForm,
    ResubmitForm,
    ReturnForm,
    SubmissionCreateForm,
    SubmissionFilterForm,
)
from ..models import StationSubmission
from ..selectors import stations as sel
from ..services import stations as services

PAGE_SIZE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_station_pages(user) -> None:
    if not sel.may_use_stations(user):
        raise PermissionDenied


# --- blank sheets ------------------------------------------------------------------------------
@login_required
def blank_sheets(request):
    """Pick term, station and classes; download their blank sheets as one PDF or one workbook."""
    _require_station_pages(request.user)
    form = BlankSheetForm(request.GET or None, user=request.user)
    if request.GET.get("download") and form.is_valid():
        term, station = form.cleaned_data["term"], form.cleaned_data["station"]
        class_sheets = sel.blank_sheets(term=term, classes=form.cleaned_data["classes"], station=station)
        stem = f"blank-sheets-{term.code}" + (f"-{station.code}" if station else "")
        if form.cleaned_data["format"] == "xlsx":
            response = HttpResponse(services.blank_sheets_xlsx(term=term, class_sheets=class_sheets), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        else:
            response = HttpResponse(
                services.blank_sheets_pdf(term=term, class_sheets=class_sheets, station=station),
                content_type="application/pdf",
            )
            response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        return response
    return render(request, "grades/station_blank_sheets.html", {"form": form})


# --- submissions --------------------------------------------------------------------------------
@login_required
def submission_list(request):
    _require_station_pages(request.user)
    form = SubmissionFilterForm(request.GET or None, user=request.user)
    qs = sel.submission_list(user=request.user, **form.filters())
    page = params.page_of(request, qs, PAGE_SIZE)
    return render(
        request,
        "grades/station_submission_list.html",
        {
            "form": form,
            "page_obj": page,
            "may_submit": bool(sel.station_ids_of(request.user)),
        },
    )


def _my_stations(user):
    ids = sel.station_ids_of(user)
    if not ids:
        raise PermissionDenied
    return Station.objects.filter(pk__in=ids).order_by("code")


def _upload_errors(exc: ApplicationError) -> list[dict]:
    return exc.extra.get("errors", [])


@login_required
def submission_create(request):
    """Station staff upload their students' results for one offering."""
    stations = _my_stations(request.user)
    errors: list[dict] = []
    if request.method == "POST":
        form = SubmissionCreateForm(request.POST, request.FILES, stations=stations)
        if form.is_valid():
            try:
                submission = services.station_submission_create(
                    station=form.cleaned_data["station"],
                    offering=form.cleaned_data["offering"],
                    upload=form.cleaned_data["file"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
                errors = _upload_errors(exc)
            else:
                messages.success(request, _("Submitted: the college will review the results."))
                return redirect("grades:station_submission_detail", submission.pk)
    else:
        form = SubmissionCreateForm(stations=stations, initial={"offering": request.GET.get("offering")})
    return render(request, "grades/station_submission_form.html", {"form": form, "errors": errors})


def _detail_context(request, submission, **extra) -> dict:
    offering = submission.offering
    components = list(offering.components.all())
    is_station = submission.station_id in sel.station_ids_of(request.user)
    is_reviewer = sel.may_review(request.user, offering)
    rows = [{**r, "cells": [r["values"].get(c.code, "") for c in components]} for r in submission.rows]
    context = {
        "submission": submission,
        "offering": offering,
        "components": components,
        "rows": rows,
        "reviews": sel.submission_timeline(submission),
        "can_review": is_reviewer and submission.state == StationSubmission.State.SUBMITTED,
        "can_resubmit": is_station and submission.state == StationSubmission.State.RETURNED,
        "sheet_open": offering.sheet_state == offering.SheetState.ENTERING,
        "return_form": ReturnForm(),
        "accept_form": AcceptForm(),
        "resubmit_form": ResubmitForm(),
        "errors": [],
    }
    context.update(extra)
    return context


def _require_reviewer(user, submission) -> None:
    """403 before the form is read: a wrong role gets no form errors and no re-rendered page."""
    if not sel.may_review(user, submission.offering):
        raise PermissionDenied


def _require_station_staff(user, submission) -> None:
    if not (user.is_superuser or submission.station_id in sel.station_ids_of(user)):
        raise PermissionDenied


@login_required
def submission_detail(request, pk):
    submission = sel.submission_get_visible(request.user, pk)
    return render(request, "grades/station_submission_detail.html", _detail_context(request, submission))


@login_required
def submission_file(request, pk):
    submission = sel.submission_get_visible(request.user, pk)
    name = f"station-{submission.station.code}-{submission.offering.code}-r{submission.round}.xlsx"
    return serve_file(request, submission.file, filename=name, content_type=XLSX)


@login_required
@require_POST
def submission_return(request, pk):
    submission = sel.submission_get_visible(request.user, pk)
    _require_reviewer(request.user, submission)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "grades/station_submission_detail.html",
            _detail_context(request, submission, return_form=form),
            status=400,
        )
    try:
        services.station_submission_return(
            submission=submission, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Returned to the station with your reasons."))
    return redirect("grades:station_submission_detail", submission.pk)


@login_required
@require_POST
def submission_accept(request, pk):
    submission = sel.submission_get_visible(request.user, pk)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            services.station_submission_accept(
                submission=submission, actor=request.user, opinion=form.cleaned_data["opinion"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Accepted: the results are written into the grade sheet."))
    return redirect("grades:station_submission_detail", submission.pk)


@login_required
@require_POST
def submission_resubmit(request, pk):
    submission = sel.submission_get_visible(request.user, pk)
    _require_station_staff(request.user, submission)
    form = ResubmitForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.station_submission_resubmit(
                submission=submission,
                upload=form.cleaned_data["file"],
                actor=request.user,
                opinion=form.cleaned_data["opinion"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "grades/station_submission_detail.html",
                _detail_context(request, submission, resubmit_form=form, errors=_upload_errors(exc)),
                status=400,
            )
        messages.success(request, _("Resubmitted: the college will review the corrected results."))
        return redirect("grades:station_submission_detail", submission.pk)
    return render(
        request,
        "grades/station_submission_detail.html",
        _detail_context(request, submission, resubmit_form=form),
        status=400,
    )


urlpatterns = [
    path("stations/blank-sheets/", blank_sheets, name="blank_sheets"),
    path("stations/submissions/", submission_list, name="station_submissions"),
    path("stations/submissions/new/", submission_create, name="station_submission_create"),
    path("stations/submissions/<int:pk>/", submission_detail, name="station_submission_detail"),
    path("stations/submissions/<int:pk>/file/", submission_file, name="station_submission_file"),
    path("stations/submissions/<int:pk>/return/", submission_return, name="station_submission_return"),
    path("stations/submissions/<int:pk>/accept/", submission_accept, name="station_submission_accept"),
    path("stations/submissions/<int:pk>/resubmit/", submission_resubmit, name="station_submission_resubmit"),
]
