"""Reads for the registrar's status-change dashboard and its Excel export.

Every figure is aggregated in the database (``values().annotate(Count)``) per chain, so
the number of queries depends on the number of chains, never on the number of requests.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from registrar.approvals import permissions as perms
from registrar.approvals.chains import COMPLETED, DRAFT, WITHDRAWN, Chain, all_chains
from registrar.roles import Role

GROUP = "statuschange"
#: roles that see the dashboard (university-wide or within the scope of their grant)
DASHBOARD_ROLES = (Role.ACADEMIC_AFFAIRS, Role.ACADEMIC_AFFAIRS_HEAD, Role.STUDENT_AFFAIRS, Role.LEADERSHIP)
OVERDUE_LIST_LIMIT = 50
CHART_MONTHS = 12


def status_change_chains() -> list[Chain]:
    """The five status-change chains (U1–U4, C4): every chain of the exclusive group."""
    return [c for c in all_chains() if c.exclusive_group == GROUP]


def may_see_dashboard(user) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or any(g.role in DASHBOARD_ROLES for g in perms.grants(user))


def _scope_q(user) -> Q | None:
    """Students the user oversees through a dashboard role; None: nothing."""
    if user.is_superuser:
        return Q()
    q = None
    for g in perms.grants(user):
        if g.role in DASHBOARD_ROLES:
            part = g.student_q("student__")
            q = part if q is None else q | part
    return q


@dataclass(frozen=True)
class DashboardFilters:
    chain_code: str | None = None
    college_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def status_change_querysets(user, filters: DashboardFilters | None = None):
    """(chain, queryset) of submitted status-change requests the user oversees, filtered.

    Drafts never submitted are not requests yet and are left out; the date range applies to
    the date of (first) submission."""
    filters = filters or DashboardFilters()
    scope = _scope_q(user)
    if scope is None:
        return []
    result = []
    for chain in status_change_chains():
        if filters.chain_code and chain.code != filters.chain_code:
            continue
        qs = chain.model.objects.filter(scope).exclude(state=DRAFT).filter(submitted_at__isnull=False)
        if filters.college_id:
            qs = qs.filter(student__college_id=filters.college_id)
        if filters.date_from:
            qs = qs.filter(submitted_at__gte=_day_start(filters.date_from))
        if filters.date_to:
            qs = qs.filter(submitted_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
        result.append((chain, qs))
    return result


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_back(last: dt.date, n: int) -> list[dt.date]:
    months = []
    year, month = last.year, last.month
    for _i in range(n):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def dashboard_data(user, filters: DashboardFilters | None = None, *, today: dt.date | None = None) -> dict:
    """Counts by type, stage, college and month, open vs completed, and the overdue requests.

    Two aggregate queries and one bounded fetch of overdue rows per chain, plus one for college names."""
    from students.models import College

    today = today or timezone.localdate()
    now = timezone.now()
    months = _months_back(_month_start(today), CHART_MONTHS)
    month_from = _day_start(months[0])
    by_type = []
    by_stage = []
    college_counts: dict[int, dict] = defaultdict(lambda: {"total": 0, "open": 0, "completed": 0})
    per_month: dict[str, dict[dt.date, int]] = {}
    overdue_rows = []
    totals = {"total": 0, "open": 0, "completed": 0, "withdrawn": 0, "overdue": 0}
    for chain, qs in status_change_querysets(user, filters):
        stage_codes = chain.stage_codes
        overdue_q = Q(state__in=stage_codes, stage_due_at__lt=now)
        # 1. state × college, with the overdue count in the same pass
        rows = (
            qs.values("state", "student__college_id")
            .annotate(n=Count("id"), late=Count("id", filter=overdue_q))
            .order_by()
        )
        states: dict[str, int] = defaultdict(int)
        overdue = 0
        for row in rows:
            state, college_id, n = row["state"], row["student__college_id"], row["n"]
            states[state] += n
            overdue += row["late"]
            bucket = college_counts[college_id]
            bucket["total"] += n
            if state == COMPLETED:
                bucket["completed"] += n
            elif state != WITHDRAWN:
                bucket["open"] += n
        total = sum(states.values())
        completed = states.get(COMPLETED, 0)
        withdrawn = states.get(WITHDRAWN, 0)
        open_ = total - completed - withdrawn
        by_type.append(
            {
                "chain": chain,
                "total": total,
                "open": open_,
                "completed": completed,
                "withdrawn": withdrawn,
                "overdue": overdue,
            }
        )
        for key, value in (
            ("total", total),
            ("open", open_),
            ("completed", completed),
            ("withdrawn", withdrawn),
            ("overdue", overdue),
        ):
            totals[key] += value
        by_stage.append(
            {
                "chain": chain,
                "states": [
                    {"code": code, "label": label, "count": states.get(code, 0), "is_stage": code in stage_codes}
                    for code, label in chain.states()
                    if code != DRAFT
                ],
            }
        )
        # 2. submissions per month (last CHART_MONTHS months)
        monthly = (
            qs.filter(submitted_at__gte=month_from)
            .annotate(month=TruncMonth("submitted_at"))
            .values("month")
            .annotate(n=Count("id"))
            .order_by()
        )
        series = dict.fromkeys(months, 0)
        for row in monthly:
            month = row["month"]
            if isinstance(month, dt.datetime):
                month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
            month = _month_start(month)
            if month in series:
                series[month] += row["n"]
        per_month[chain.code] = series
        # 3. the overdue requests themselves (bounded)
        overdue_rows.extend(
            qs.filter(overdue_q)
            .select_related("student", "student__college", "student__klass")
            .order_by("stage_due_at")[:OVERDUE_LIST_LIMIT]
        )
    overdue_rows.sort(key=lambda r: r.stage_due_at)
    names = dict(College.objects.filter(pk__in=[k for k in college_counts if k]).values_list("id", "name"))
    by_college = sorted(
        ({"college_id": k, "name": names.get(k, "—"), **v} for k, v in college_counts.items()),
        key=lambda r: (-r["total"], str(r["name"])),
    )
    return {
        "by_type": by_type,
        "by_stage": by_stage,
        "by_college": by_college,
        "totals": totals,
        "months": months,
        "per_month": per_month,
        "overdue": overdue_rows[:OVERDUE_LIST_LIMIT],
    }


def export_rows(user, filters: DashboardFilters | None = None):
    """Every request under the filters, for the Excel export: one query per chain."""
    rows = []
    for _chain, qs in status_change_querysets(user, filters):
        rows.extend(qs.select_related("student", "student__college", "student__klass"))
    rows.sort(key=lambda r: (r.submitted_at, r.chain.code, r.pk))
    return rows


def export_xlsx(user, filters: DashboardFilters | None = None) -> bytes:
    """``export_rows`` as an Excel workbook (the shared writer), one row per request."""
    from django.utils.translation import gettext
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from registrar.spreadsheets import append_row, new_workbook, workbook_bytes

    wb = new_workbook()
    ws = wb.active
    ws.title = gettext("Status changes")[:31]
    append_row(
        ws,
        [
            gettext("Type"),
            gettext("Number"),
            gettext("Student"),
            gettext("Student number"),
            gettext("College"),
            gettext("Class"),
            gettext("State"),
            gettext("Submitted"),
            gettext("Completed"),
            gettext("Overdue"),
        ],
    )
    for cell in ws[1]:
        cell.font = Font(bold=True)
    yes, no = gettext("Yes"), gettext("No")
    for r in export_rows(user, filters):
        append_row(
            ws,
            [
                str(r.chain.name),
                f"{r.chain.seed_code}-{r.pk}",
                r.student.name,
                r.student.student_number,
                r.student.college.name if r.student.college_id else "",
                str(r.student.klass) if r.student.klass_id else "",
                str(r.get_state_label()),
                timezone.localtime(r.submitted_at).replace(tzinfo=None) if r.submitted_at else None,
                timezone.localtime(r.completed_at).replace(tzinfo=None) if r.completed_at else None,
                yes if r.is_overdue else no,
            ],
        )
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=9):
        for cell in row:
            cell.number_format = "yyyy-mm-dd hh:mm"
    for i, width in enumerate((14, 10, 12, 14, 20, 20, 28, 17, 17, 8), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)
