"""College dashboards of the grades app: progression flags (C10) with the courses that caused
them, the graduation classification after the clearing exam, pass rates per course (chart), and
the Excel export. Read-only pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from registrar import params
from registrar.roles import Role

from ..forms.records import RecordsFilterForm
from ..scoring import conf
from ..selectors.dashboards import (
    CLASSIFICATION_LABELS,
    default_term,
    pick_college,
    progression_data,
    progression_xlsx,
    scoped_college_ids,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROGRESSION_ROLES = {Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}
PAGE_SIZE = 25
BAR = {"width": 720, "left": 190, "right": 48, "top": 8, "row": 22, "bottom": 24}


def _progression(request):
    """(filter form, term, college or None, year, data) within the user's scope (403 / 404)."""
    from students.models import College

    allowed = scoped_college_ids(request.user, PROGRESSION_ROLES)
    colleges = College.objects.all() if allowed is None else College.objects.filter(pk__in=allowed)
    form = RecordsFilterForm(request.GET or None, colleges=colleges)
    college = pick_college(request.GET.get("college"), allowed)
    term = form.value("term") or default_term()
    year = form.value("year") or (term.end_date.year if term else timezone.localdate().year)
    data = None
    if term is not None:
        college_ids = [college.pk] if college else allowed
        data = progression_data(term=term, year=year, college_ids=college_ids)
    return form, term, college, year, data


def pass_rate_chart(rates) -> dict:
    """Geometry of an inline SVG horizontal bar chart: pass rate (after make-ups) per course,
    with a tick at the first-attempt pass rate."""
    b = BAR
    plot_w = b["width"] - b["left"] - b["right"]
    height = b["top"] + b["row"] * max(len(rates), 1) + b["bottom"]
    bars = []
    for i, r in enumerate(rates):
        y = b["top"] + i * b["row"]
        rate = r.rate or 0
        first = r.first_rate
        bars.append(
            {
                "code": r.course.code,
                "label": f"{r.course.code} {r.course.name}"[:22],
                "name": r.course.name,
                "rate": r.rate,
                "first": first,
                "y": y + 4,
                "h": b["row"] - 8,
                "cy": y + b["row"] / 2,
                "w": round(plot_w * rate / 100, 1),
                "end_x": round(b["left"] + plot_w * rate / 100 + 4, 1),
                "first_x": round(b["left"] + plot_w * first / 100, 1) if first is not None else None,
                "low": r.rate is not None and r.rate < 60,
            }
        )
    grid = [{"value": v, "x": round(b["left"] + plot_w * v / 100, 1)} for v in (0, 25, 50, 75, 100)]
    return {
        **b,
        "height": height,
        "bars": bars,
        "grid": grid,
        "axis_y": height - b["bottom"] + 14,
        "plot_bottom": height - b["bottom"],
    }


@login_required
def progression(request):
    """Repeat-year (留级) candidates of a term with the courses that caused them, the graduation
    classification (毕业 / 结业 / 肄业) and pass rates per course."""
    form, term, college, year, data = _progression(request)
    flags = data.flags if data else []
    search = params.search_of(request)
    if search:
        flags = [f for f in flags if search in f.student.name or search in f.student.student_number]
    graduation = data.graduation if data else []
    return render(
        request,
        "grades/dashboard_progression.html",
        {
            "form": form,
            "term": term,
            "college": college,
            "year": year,
            "data": data,
            "page_obj": params.page_of(request, flags, PAGE_SIZE),
            "graduation_page": params.page_of(request, [g for g in graduation if g.failed], PAGE_SIZE, param="gpage"),
            "counts": data.graduation_counts if data else {},
            "labels": CLASSIFICATION_LABELS,
            "chart": pass_rate_chart(data.pass_rates) if data else None,
            "repeat_share": round(conf()["REPEAT_YEAR_SHARE"] * 100),
            "incomplete_share": round(conf()["INCOMPLETE_SHARE"] * 100),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def progression_export(request):
    """The dashboard as an Excel workbook: repeat-year candidates, graduation classification, pass rates."""
    _form, term, college, _year, data = _progression(request)
    response = HttpResponse(progression_xlsx(data), content_type=XLSX)
    name = f"progression-{term.code if term else 'none'}-{college.code if college else 'all'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("progression/", progression, name="progression"),
    path("progression/export.xlsx", progression_export, name="progression_export"),
]
