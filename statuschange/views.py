"""The registrar's status-change dashboard and its Excel export (read-only pages).

Applying, signing and viewing single requests use the generic approval UI
(registrar.approvals.views); these views only aggregate."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from registrar import params

from . import selectors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART = {"width": 1000, "height": 260, "left": 36, "bottom": 28, "top": 12}
#: one colour per chain, in the order of all_chains() (colour-blind friendly Okabe–Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


class DashboardFilterForm(forms.Form):
    """The dashboard's filters (shape only)."""

    type = params.ChainField(label=gettext_lazy("Type"), chains=())
    college = forms.ModelChoiceField(
        label=gettext_lazy("College"), required=False, queryset=None, empty_label=gettext_lazy("All colleges")
    )
    date_from = forms.DateField(
        label=gettext_lazy("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from students.models import College

        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", gettext_lazy("All types"))] + [
            (c.code, f"{c.seed_code} · {c.name}") for c in selectors.status_change_chains()
        ]
        self.fields["college"].queryset = College.objects.only("id", "code", "name")

    def filters(self) -> selectors.DashboardFilters:
        if not self.is_valid():
            return selectors.DashboardFilters()
        data = self.cleaned_data
        return selectors.DashboardFilters(
            chain_code=data.get("type") or None,
            college_id=data["college"].pk if data.get("college") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _require_dashboard(user) -> None:
    if not selectors.may_see_dashboard(user):
        raise PermissionDenied


def _chart(data: dict) -> dict:
    """Geometry of an inline SVG stacked bar chart: submissions per month, stacked by type."""
    months = data["months"]
    colours = {row["chain"].code: PALETTE[i % len(PALETTE)] for i, row in enumerate(data["by_type"])}
    totals = [sum(data["per_month"][code][m] for code in data["per_month"]) for m in months]
    peak = max(totals + [1])
    step = max(1, -(-peak // 4))  # four gridlines, integer steps
    top_value = step * 4
    w, h = CHART["width"], CHART["height"]
    plot_h = h - CHART["bottom"] - CHART["top"]
    slot = (w - CHART["left"]) / max(len(months), 1)
    bar_w = slot * 0.62
    bars = []
    for i, month in enumerate(months):
        x = CHART["left"] + i * slot + (slot - bar_w) / 2
        y = h - CHART["bottom"]
        segments = []
        for code, series in data["per_month"].items():
            n = series[month]
            if not n:
                continue
            seg_h = plot_h * n / top_value
            y -= seg_h
            segments.append({"code": code, "count": n, "y": round(y, 1), "h": round(seg_h, 1), "colour": colours[code]})
        bars.append(
            {
                "month": month,
                "label": date_format(month, "Y-m"),
                "short": month.strftime("%m"),
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "cx": round(x + bar_w / 2, 1),
                "total": totals[i],
                "segments": segments,
                "total_y": round(y - 4, 1),
            }
        )
    grid = [{"value": step * k, "y": round(h - CHART["bottom"] - plot_h * k / 4, 1)} for k in range(5)]
    legend = [
        {"code": row["chain"].code, "name": row["chain"].name, "colour": colours[row["chain"].code]}
        for row in data["by_type"]
    ]
    return {
        **CHART,
        "bars": bars,
        "grid": grid,
        "legend": legend,
        "axis_y": h - CHART["bottom"],
        "empty": not any(totals),
    }


@login_required
def dashboard(request):
    """Counts by type, stage and college; open vs completed; overdue requests; a monthly chart."""
    _require_dashboard(request.user)
    form = DashboardFilterForm(request.GET or None)
    data = selectors.dashboard_data(request.user, form.filters())
    return render(
        request,
        "statuschange/dashboard.html",
        {
            "form": form,
            "data": data,
            "chart": _chart(data),
            "query": request.GET.urlencode(),
            "now": timezone.now(),
        },
    )


@login_required
def export_xlsx(request):
    """The requests under the dashboard's filters as an Excel workbook, one row per request."""
    _require_dashboard(request.user)
    form = DashboardFilterForm(request.GET or None)
    response = HttpResponse(selectors.export_xlsx(request.user, form.filters()), content_type=XLSX)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="status-changes-{stamp}.xlsx"'
    return response
