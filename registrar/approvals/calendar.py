"""What falls due, month by month: the academic calendar's dates, open requests' stage due dates,
and what apps register (the grades app: grade sheets due a week after the exam).

The kernel knows no app: an app registers a source ``f(user, first, last) -> list[DueItem]`` once
(in its ``AppConfig.ready``); each source scopes its items to the user as its own lists do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import permissions as perms
from .chains import all_chains
from .deadlines import academic_year_label


@dataclass(frozen=True)
class DueItem:
    date: dt.date
    kind: str  # "calendar", "request", or a source's own ("sheet" …)
    title: str
    detail: str = ""
    url: str = ""
    college_id: int | None = None
    college: str = ""
    station_id: int | None = None
    station: str = ""
    overdue: bool = False


KIND_LABELS = {"calendar": _("Academic calendar"), "request": _("Request"), "sheet": _("Grade sheet")}

Source = Callable[[object, dt.date, dt.date], list[DueItem]]
_SOURCES: list[Source] = []


def register(source: Source) -> Source:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def may_see_calendar(user) -> bool:
    """Staff: a scoped role, or the superuser. Students have their own requests' due dates."""
    return bool(user and user.is_authenticated and (user.is_superuser or perms.grants(user)))


def _calendar_items(first: dt.date, last: dt.date) -> list[DueItem]:
    from .models import CalendarEntry

    return [
        DueItem(
            date=e.date,
            kind="calendar",
            title=e.display_label,
            detail=f"{academic_year_label(e.academic_year)} · {e.get_period_display()}",
        )
        for e in CalendarEntry.objects.filter(date__gte=first, date__lte=last)
    ]


def _request_items(user, first: dt.date, last: dt.date) -> list[DueItem]:
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    now = timezone.now()
    items = []
    for chain in all_chains():
        qs = (
            chain.model.objects.filter(perms.visible_q(user, chain))
            .filter(state__in=chain.stage_codes, stage_due_at__gte=start, stage_due_at__lt=end)
            .select_related("student", "student__college", "student__station")
        )
        for req in qs:
            student = req.student
            items.append(
                DueItem(
                    date=timezone.localdate(req.stage_due_at),
                    kind="request",
                    title=f"{chain.name} #{req.pk} · {student.name}",
                    detail=str(req.get_state_label()),
                    url=req.get_absolute_url(),
                    college_id=student.college_id,
                    college=student.college.name if student.college_id else "",
                    station_id=student.station_id,
                    station=student.station.name if student.station_id else "",
                    overdue=req.stage_due_at < now,
                )
            )
    return items


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def due_items(user, first: dt.date, last: dt.date, *, college_id=None, station_id=None) -> list[DueItem]:
    """Everything due from ``first`` to ``last`` that ``user`` may see, by date. The calendar's own
    dates concern everyone and stay when a college or station is chosen."""
    scoped = _request_items(user, first, last)
    for source in _SOURCES:
        scoped.extend(source(user, first, last))
    items = sorted(_calendar_items(first, last) + scoped, key=lambda i: (i.date, i.kind != "calendar", i.title))
    return narrow(items, college_id=college_id, station_id=station_id)


def narrow(items: list[DueItem], *, college_id=None, station_id=None) -> list[DueItem]:
    """``items`` of one college or station; the calendar's own dates concern everyone and stay."""
    return [
        i
        for i in items
        if i.kind == "calendar"
        or ((not college_id or i.college_id == college_id) and (not station_id or i.station_id == station_id))
    ]


def group_items(items: list[DueItem]) -> list[dict]:
    """Items grouped for the page: the calendar's dates first, then per college, then per station."""
    groups: dict[tuple, dict] = {}
    for item in items:
        if item.kind == "calendar":
            key, label = ("0",), str(_("Academic calendar"))
        elif item.station_id:
            key, label = ("2", item.station), item.station
        elif item.college_id:
            key, label = ("1", item.college), item.college
        else:
            key, label = ("3",), str(_("Other"))
        groups.setdefault(key, {"label": label, "kind": key[0], "items": []})["items"].append(item)
    return [groups[k] for k in sorted(groups)]


def scope_choices(items: list[DueItem]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The colleges and stations the user's items come from (the page's filter choices)."""
    colleges = sorted({(i.college_id, i.college) for i in items if i.college_id}, key=lambda c: c[1])
    stations = sorted({(i.station_id, i.station) for i in items if i.station_id}, key=lambda s: s[1])
    return colleges, stations
