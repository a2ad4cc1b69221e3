"""Grade entry pages (U5): the grade-sheet list, the entry grid, composition, review and
submit, confirm/return, the offering's Excel sheet and printed PDF, entry windows, reopening,
the confirmation queue and the late-entry dashboard.

Views stay thin: scope (404) through ``selectors.entry.offering_for``, then one service call,
a message and a redirect. Roles and states are checked by the services.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from registrar import params
from registrar.exceptions import ApplicationError

from .. import scoring
from ..forms.entry import CompositionForm, OfferingFilterForm, ReopenForm, ReturnForm, UploadForm, WindowForm
from ..models import Offering
from ..permissions import college_roles, is_academic_affairs, teaches
from ..selectors import entry as selectors
from ..services import entry as services

PAGE_SIZE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CELL_PREFIX = "cell:"


def _require_academic_affairs(user) -> None:
    if not is_academic_affairs(user):
        raise PermissionDenied


def _filename(offering: Offering, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in offering.code)
    return f"gradesheet-{safe}.{suffix}"


# --- the list ---------------------------------------------------------------------------------
@login_required
def offering_list(request):
    """“Grade sheets”: the offerings in the user's scope, filtered, searchable, paginated."""
    if not selectors.may_see_sheets(request.user):
        raise PermissionDenied
    form = OfferingFilterForm(request.GET or None)
    offerings = selectors.offering_list(request.user, **form.filters())
    page_obj = params.page_of(request, offerings, PAGE_SIZE)
    return render(
        request,
        "grades/entry_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "is_academic_affairs": is_academic_affairs(request.user),
        },
    )


# --- the grid -------------------------------------------------------------------------------
def _grid_config(offering: Offering, components) -> dict:
    conf = scoring.conf()
    return {
        "scale": offering.scale,
        "rounding": offering.rounding,
        "kind": offering.kind,
        "weights": [[c.code, c.weight] for c in components],
        "fiveLevels": dict(conf["FIVE_LEVELS"]),
        "fiveBounds": [[low, level] for low, level in conf["FIVE_LEVEL_BOUNDS"]],
        "passFail": list(conf["PASS_FAIL_LEVELS"]),
        "passScore": conf["PASS_SCORE"],
        "makeupCap": conf.get("MAKEUP_SCORE_CAP"),
        "marks": scoring.MARKS,
        "markText": scoring.MARK_TEXT,
        "saveUrl": reverse("grades:offering_detail", args=[offering.pk]),
        "messages": {
            "saved": _("Saved."),
            "saving": _("Saving…"),
            "unsaved": _("Unsaved changes"),
            "failed": _("Not saved"),
            "badCell": _("Not a valid entry for this sheet"),
            "incomplete": _("incomplete"),
            "leave": _("You have unsaved grades. Leave anyway?"),
        },
    }


def _grid_rows(offering: Offering, components, grades, posted: dict | None = None, errors: list | None = None):
    by_cell = {(e.get("student_number"), e.get("component")): e["message"] for e in errors or []}
    by_row = {e.get("student_number"): e["message"] for e in errors or [] if not e.get("component")}
    rows = []
    for i, g in enumerate(grades):
        number = g.student.student_number
        cells = []
        for c in components:
            stored = (g.components or {}).get(c.code, "")
            value = saved = scoring.MARK_TEXT.get(stored, stored)
            if posted is not None and (number, c.code) in posted:
                value = posted[(number, c.code)]
            cells.append(
                {
                    "code": c.code,
                    "label": c.display_label,
                    "value": value,
                    "saved": saved,
                    "name": f"{CELL_PREFIX}{number}:{c.code}",
                    "error": by_cell.get((number, c.code), ""),
                }
            )
        rows.append(
            {
                "grade": g,
                "index": i,
                "number": number,
                "cells": cells,
                "error": by_row.get(number, ""),
                "result": scoring.display(g.score, g.level, g.mark),
            }
        )
    return rows


def _posted_rows(request) -> tuple[dict, dict]:
    """Form POST cells named ``cell:<student number>:<component>`` → rows for the service."""
    rows: dict[str, dict] = {}
    posted: dict[tuple[str, str], str] = {}
    for name, value in request.POST.items():
        if not name.startswith(CELL_PREFIX):
            continue
        number, _sep, code = name[len(CELL_PREFIX) :].rpartition(":")
        if number and code:
            rows.setdefault(number, {})[code] = value
            posted[(number, code)] = value
    return rows, posted


def _entry_status(request, offering: Offering) -> dict:
    """Whether the grid is editable for this user now, and why not."""
    now = timezone.now()
    instructor = teaches(request.user, offering)
    entering = offering.sheet_state == Offering.SheetState.ENTERING
    is_open = selectors.entry_open(offering, now)
    window = selectors.current_window(offering, now)
    reopened = selectors.reopened_until(offering, now)
    reason = ""
    if not entering:
        reason = services.SHEET_LOCKED % {
            "offering": offering.code,
            "state": Offering.SheetState(offering.sheet_state).label,
        }
    elif not is_open:
        upcoming = selectors.next_window(offering, now)
        reason = (
            services.ENTRY_CLOSED_OPENS % {"offering": offering.code, "opens": services.when_text(upcoming.opens_at)}
            if upcoming
            else services.ENTRY_CLOSED % {"offering": offering.code}
        )
    return {
        "instructor": instructor,
        "can_edit": instructor and entering and is_open,
        "entry_open": is_open,
        "window": window,
        "reopened_until": reopened,
        "closed_reason": reason,
    }


def _render_grid(request, offering: Offering, *, posted=None, errors=None, status=200):
    components = list(offering.components.all())
    grades = list(selectors.sheet_grades(offering))
    entry = _entry_status(request, offering)
    summary = selectors.sheet_summary(offering, grades)
    return render(
        request,
        "grades/entry_grid.html",
        {
            "offering": offering,
            "components": components,
            "rows": _grid_rows(offering, components, grades, posted, errors),
            "summary": summary,
            "entry": entry,
            "errors": errors or [],
            "config": _grid_config(offering, components),
            "is_academic_affairs": is_academic_affairs(request.user),
            "can_compose": services.may_compose(request.user, offering),
        },
        status=status,
    )


def _json_rows(grades) -> dict:
    return {
        g.student.student_number: {
            "result": scoring.display(g.score, g.level, g.mark),
            "passed": g.passed,
            "score": None if g.score is None else str(g.score),
            "level": g.level,
            "mark": g.mark,
        }
        for g in grades
    }


@login_required
def offering_detail(request, pk):
    """The entry grid. GET shows it; POST saves (a form POST of the whole sheet, or JSON
    ``{"rows": {student number: {component: value}}}`` of the changed rows from grid.js)."""
    offering = selectors.offering_for(request.user, pk)
    if request.method != "POST":
        return _render_grid(request, offering)
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
            rows = body.get("rows") if isinstance(body, dict) else None
        except ValueError:
            rows = None
        if not isinstance(rows, dict):
            return JsonResponse({"ok": False, "message": str(services.ENTRY_NO_ROWS), "errors": []}, status=400)
        try:
            outcome = services.grades_enter(offering=offering, actor=request.user, rows=rows)
        except ApplicationError as exc:
            return JsonResponse(
                {"ok": False, "message": str(exc.message), "errors": exc.extra.get("errors", [])}, status=400
            )
        except PermissionDenied as exc:
            return JsonResponse({"ok": False, "message": str(exc) or _("Permission denied."), "errors": []}, status=403)
        saved = {g.pk for g in outcome.saved}
        fresh = [g for g in selectors.sheet_grades(offering) if g.pk in saved]
        return JsonResponse(
            {
                "ok": True,
                "saved": outcome.count,
                "message": _("Saved %(count)s row(s).") % {"count": outcome.count},
                "rows": _json_rows(fresh),
            }
        )
    rows, posted = _posted_rows(request)
    try:
        outcome = services.grades_enter(offering=offering, actor=request.user, rows=rows)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _render_grid(request, offering, posted=posted, errors=exc.extra.get("errors", []))
    messages.success(request, _("Saved %(count)s row(s).") % {"count": outcome.count})
    return redirect("grades:offering_detail", pk=offering.pk)


# --- composition ------------------------------------------------------------------------------
@login_required
def offering_composition(request, pk):
    offering = selectors.offering_for(request.user, pk)
    if not (
        is_academic_affairs(request.user) or "teaching_secretary" in college_roles(request.user, offering.college_id)
    ):
        raise PermissionDenied
    form = CompositionForm(request.POST or None, offering=offering)
    if request.method == "POST" and form.is_valid():
        try:
            services.composition_set(
                offering=offering,
                actor=request.user,
                components=form.components(),
                scale=form.cleaned_data["scale"],
                rounding=form.cleaned_data["rounding"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The composition of %(offering)s is saved.") % {"offering": offering.code})
            return redirect("grades:offering_detail", pk=offering.pk)
    return render(request, "grades/entry_composition.html", {"offering": offering, "form": form})


# --- review, submit, confirm, return -----------------------------------------------------------
@login_required
def offering_review(request, pk):
    """Verification before submitting (and Academic Affairs' view before confirming)."""
    offering = selectors.offering_for(request.user, pk)
    grades = list(selectors.sheet_grades(offering))
    summary = selectors.sheet_summary(offering, grades)
    entry = _entry_status(request, offering)
    components = list(offering.components.all())
    return render(
        request,
        "grades/entry_review.html",
        {
            "offering": offering,
            "components": components,
            "rows": _printed_rows(components, grades),
            "summary": summary,
            "dist": _dist_chart(summary),
            "entry": entry,
            # sheet_submit needs what editing needs: the instructor, a sheet being entered, an open window
            "can_submit": entry["can_edit"],
            "is_academic_affairs": is_academic_affairs(request.user),
            "events": offering.events.all(),
            # after confirmation a grade changes only through a correction request (U5C), opened by its instructor
            "can_correct": entry["instructor"] and offering.sheet_state == Offering.SheetState.CONFIRMED,
        },
    )


@login_required
@require_POST
def offering_submit(request, pk):
    offering = selectors.offering_for(request.user, pk)
    try:
        services.sheet_submit(offering=offering, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("grades:offering_review", pk=offering.pk)
    messages.success(request, _("The grade sheet is submitted to Academic Affairs; it is now locked for you."))
    return redirect("grades:offering_detail", pk=offering.pk)


@login_required
def offering_confirm(request, pk):
    offering = selectors.offering_for(request.user, pk)
    if request.method != "POST":
        return redirect("grades:offering_review", pk=offering.pk)
    try:
        services.sheet_confirm(offering=offering, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The grade sheet of %(offering)s is confirmed; students now see the grades.")
            % {"offering": offering.code},
        )
    if request.POST.get("next") == "queue":
        return redirect("grades:confirm_queue")
    return redirect("grades:offering_review", pk=offering.pk)


@login_required
def offering_return(request, pk):
    offering = selectors.offering_for(request.user, pk)
    _require_academic_affairs(request.user)
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sheet_return(offering=offering, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The grade sheet of %(offering)s is returned to the instructor.") % {"offering": offering.code},
            )
            if not selectors.entry_open(offering):
                messages.warning(
                    request,
                    _(
                        "No entry window covers %(offering)s now: reopen it so the instructor "
                        "can correct and resubmit the sheet."
                    )
                    % {"offering": offering.code},
                )
                return redirect("grades:offering_reopen", pk=offering.pk)
            return redirect("grades:confirm_queue")
    return render(request, "grades/entry_return.html", {"offering": offering, "form": form})


@login_required
def offering_reopen(request, pk):
    offering = selectors.offering_for(request.user, pk)
    _require_academic_affairs(request.user)
    default_until = timezone.localtime(timezone.now() + dt.timedelta(days=7)).replace(second=0, microsecond=0)
    form = ReopenForm(request.POST or None, initial={"until": default_until})
    if request.method == "POST" and form.is_valid():
        try:
            services.offering_reopen(
                offering=offering,
                actor=request.user,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Entry for %(offering)s is reopened until %(until)s.")
                % {"offering": offering.code, "until": services.when_text(form.cleaned_data["until"])},
            )
            if request.GET.get("next") == "late":
                return redirect("grades:late_dashboard")
            return redirect("grades:offering_detail", pk=offering.pk)
    return render(
        request,
        "grades/entry_reopen.html",
        {
            "offering": offering,
            "form": form,
            "reopenings": offering.reopenings.select_related("actor")[:10],
        },
    )


# --- the Excel sheet and the printed sheet ----------------------------------------------------
@login_required
def offering_xlsx(request, pk):
    offering = selectors.offering_for(request.user, pk)
    response = HttpResponse(services.gradesheet_xlsx(offering), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(offering, "xlsx")}"'
    return response


@login_required
def offering_upload(request, pk):
    offering = selectors.offering_for(request.user, pk)
    if not teaches(request.user, offering):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: list = []
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.grades_upload(offering=offering, actor=request.user, file=form.cleaned_data["file"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            errors = exc.extra.get("errors", [])
        else:
            messages.success(request, _("Imported: %(count)s row(s) changed.") % {"count": outcome.count})
            return redirect("grades:offering_detail", pk=offering.pk)
    return render(request, "grades/entry_upload.html", {"offering": offering, "form": form, "errors": errors})


def _printed_rows(components, grades) -> list[dict]:
    """Each grade with its component values as printed (marks as 缺考 …) and its result."""
    return [
        {
            "grade": g,
            "cells": [scoring.MARK_TEXT.get(v, v) for v in ((g.components or {}).get(c.code, "") for c in components)],
            "result": scoring.display(g.score, g.level, g.mark),
        }
        for g in grades
    ]


DIST = {"width": 320, "height": 140, "bar_w": 44, "gap": 16, "left": 8, "plot_h": 96, "top": 14}


def _dist_chart(summary) -> dict:
    """Geometry of the small inline SVG histogram of composite scores (lowest band first)."""
    peak = summary.band_peak
    bars = []
    for i, (label, count) in enumerate(reversed(summary.bands)):
        h = round(DIST["plot_h"] * count / peak, 1)
        x = DIST["left"] + i * (DIST["bar_w"] + DIST["gap"])
        y = DIST["top"] + DIST["plot_h"] - h
        bars.append(
            {
                "label": label,
                "count": count,
                "x": x,
                "y": y,
                "h": h,
                "cx": x + DIST["bar_w"] / 2,
                "ty": y - 3,
                "fail": i == 0,
            }
        )
    return {**DIST, "bars": bars, "label_y": DIST["top"] + DIST["plot_h"] + 16}


def gradesheet_html(offering: Offering) -> str:
    """The printed grade sheet (in the UI language of the request)."""
    from registrar.documents.render import css_string

    components = list(offering.components.all())
    grades = list(selectors.sheet_grades(offering))
    summary = selectors.sheet_summary(offering, grades)
    institution = settings.REGISTRAR["INSTITUTION_NAME"]
    printed = timezone.localtime()
    title = _("Grade sheet")
    rows = _printed_rows(components, grades)
    return render_to_string(
        "grades/gradesheet_pdf.html",
        {
            "offering": offering,
            "components": components,
            "rows": rows,
            "summary": summary,
            "institution": institution,
            "title": title,
            "instructors": list(offering.instructors.all()),
            "printed_on": date_format(printed, "Y-m-d"),
            "margin": {
                "header": css_string(f"{institution} · {title}"),
                "footer_left": css_string(
                    f"{offering.code} · {offering.course.name} · "
                    + _("printed %(at)s") % {"at": date_format(printed, "Y-m-d H:i")}
                ),
                "page": css_string(_("Page")),
            },
            "lang": translation.get_language(),
        },
    )


@login_required
def offering_pdf(request, pk):
    """The grade sheet as PDF for the instructor's signature (rendered here, synchronously)."""
    from registrar.documents.render import render_pdf

    offering = selectors.offering_for(request.user, pk)
    pdf = render_pdf(gradesheet_html(offering))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(offering, "pdf")}"'
    return response


# --- Academic Affairs: windows, confirmation queue, late entry --------------------------------
@login_required
def windows(request):
    """Entry windows: the list (anyone who sees grade sheets) and, for Academic Affairs, publishing."""
    if not selectors.may_see_sheets(request.user):
        raise PermissionDenied
    aa = is_academic_affairs(request.user)
    form = WindowForm(request.POST or None) if aa else None
    if request.method == "POST":
        _require_academic_affairs(request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.window_publish(
                    term=d["term"],
                    opens_at=d["opens_at"],
                    closes_at=d["closes_at"],
                    colleges=d["colleges"],
                    offerings=d["offerings"],
                    note=d["note"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The entry window is published."))
                return redirect("grades:windows")
    page_obj = params.page_of(request, selectors.window_list(), PAGE_SIZE)
    return render(request, "grades/entry_windows.html", {"form": form, "page_obj": page_obj, "now": timezone.now()})


@login_required
def confirm_queue(request):
    """Submitted sheets awaiting confirmation; bulk confirm of the selected ones."""
    _require_academic_affairs(request.user)
    if request.method == "POST":
        ids = [i for i in map(params.id_or_none, request.POST.getlist("offerings")) if i is not None]
        try:
            done = services.sheets_confirm(offering_ids=ids, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("%(count)s grade sheet(s) confirmed; students now see the grades.") % {"count": len(done)}
            )
        return redirect(request.get_full_path())
    form = OfferingFilterForm(request.GET or None)
    f = form.filters()
    queue = selectors.confirm_queue(
        search=f.get("search", ""), college_id=f.get("college_id"), term_id=f.get("term_id")
    )
    page_obj = params.page_of(request, queue, PAGE_SIZE)
    return render(request, "grades/entry_confirm_queue.html", {"form": form, "page_obj": page_obj})


CHART = {"width": 640, "bar_h": 22, "gap": 8, "label_w": 180, "top": 4}


def _late_chart(by_college: list[dict]) -> dict:
    """Geometry of the inline SVG horizontal bar chart: late offerings per college."""
    peak = max([r["late"] for r in by_college] + [1])
    plot_w = CHART["width"] - CHART["label_w"] - 50
    bars = []
    for i, r in enumerate(by_college):
        y = CHART["top"] + i * (CHART["bar_h"] + CHART["gap"])
        w = round(plot_w * r["late"] / peak, 1)
        bars.append({**r, "y": y, "w": max(w, 1), "ty": y + CHART["bar_h"] / 2, "tx": CHART["label_w"] + w + 6})
    height = CHART["top"] * 2 + max(len(bars), 1) * (CHART["bar_h"] + CHART["gap"])
    return {**CHART, "bars": bars, "height": height, "label_x": CHART["label_w"] - 8}


@login_required
def late_dashboard(request):
    """Offerings past their entry due date and not yet submitted, by college, with a reopen
    action each. A constant number of queries whatever the number of offerings."""
    _require_academic_affairs(request.user)
    college_id = params.id_or_none(request.GET.get("college"))
    search = params.search_of(request)
    by_college = selectors.late_by_college()
    page_obj = params.page_of(request, selectors.late_offerings(college_id=college_id, search=search), 50)
    return render(
        request,
        "grades/entry_late.html",
        {
            "by_college": by_college,
            "chart": _late_chart(by_college),
            "total_late": sum(r["late"] for r in by_college),
            "page_obj": page_obj,
            "college_id": college_id,
            "today": timezone.localdate(),
            "now": timezone.now(),
            "days": settings.REGISTRAR["GRADES"]["ENTRY_DAYS_AFTER_EXAM"],
        },
    )


urlpatterns = [
    path("sheets/", offering_list, name="offering_list"),
    path("sheets/confirm/", confirm_queue, name="confirm_queue"),
    path("sheets/late/", late_dashboard, name="late_dashboard"),
    path("sheets/windows/", windows, name="windows"),
    path("sheets/<int:pk>/", offering_detail, name="offering_detail"),
    path("sheets/<int:pk>/composition/", offering_composition, name="offering_composition"),
    path("sheets/<int:pk>/review/", offering_review, name="offering_review"),
    path("sheets/<int:pk>/submit/", offering_submit, name="offering_submit"),
    path("sheets/<int:pk>/confirm/", offering_confirm, name="offering_confirm"),
    path("sheets/<int:pk>/return/", offering_return, name="offering_return"),
    path("sheets/<int:pk>/reopen/", offering_reopen, name="offering_reopen"),
    path("sheets/<int:pk>/xlsx/", offering_xlsx, name="offering_xlsx"),
    path("sheets/<int:pk>/upload/", offering_upload, name="offering_upload"),
    path("sheets/<int:pk>/pdf/", offering_pdf, name="offering_pdf"),
]
