"""Deadlines and submission windows of chain stages, and the academic calendar they read.

A stage's deadline is one of:

- ``Days(n)``: n days after the stage is entered (the seed's "within a week");
- ``CalendarDate("key")``: a fixed date of the academic year, term or season, read from the
  academic calendar (``CalendarEntry`` rows Academic Affairs edits per year), e.g. "by 15 March";
- ``Relative("event", ±days)``: relative to an event of the request's subject, read from the
  request through a field or a method the chain names, e.g. exam date − 14 days.

The spec is resolved once, when the stage is entered, into the request's ``stage_due_at``.

A ``Window(label, opens, closes)`` is a calendar range within which a request may be submitted
(on a chain) or a stage acted on (on a stage); outside it the action is refused with a message
naming the window and its dates.

The academic year is named by the calendar year it starts in (2026 = 2026–2027) and starts on
1 September. ``CALENDAR_KEYS`` lists the keys the calendar knows, with the seeds' dates as the
defaults from which a year's entries are generated (``manage.py academic_calendar``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registrar.exceptions import ApplicationError

ACADEMIC_YEAR_START_MONTH = 9

CALENDAR_DATE_MISSING = _(
    "The academic calendar has no date for “%(label)s” in %(year)s: Academic Affairs adds it "
    "under Administration → Academic calendar."
)
OUTSIDE_SUBMIT_WINDOW = _(
    "A “%(what)s” request can be submitted only within its window: %(windows)s. Today (%(today)s) is outside it."
)
OUTSIDE_STAGE_WINDOW = _("“%(what)s” can be done only within its window: %(windows)s. Today (%(today)s) is outside it.")


# --- the academic year ---------------------------------------------------------------------------
def academic_year_of(day: dt.date) -> int:
    """The academic year (named by its first calendar year) that ``day`` falls in."""
    return day.year if day.month >= ACADEMIC_YEAR_START_MONTH else day.year - 1


def academic_year_label(year: int) -> str:
    return f"{year}–{year + 1}"


def date_in_academic_year(year: int, month: int, day: int) -> dt.date:
    """The date with this month and day inside academic ``year`` (September … August)."""
    return dt.date(year if month >= ACADEMIC_YEAR_START_MONTH else year + 1, month, day)


# --- the calendar's keys -------------------------------------------------------------------------
class Period:
    YEAR = "year"
    AUTUMN_TERM = "autumn_term"
    SPRING_TERM = "spring_term"
    SPRING_SEASON = "spring_season"
    AUTUMN_SEASON = "autumn_season"

    choices = [
        (YEAR, _("Academic year")),
        (AUTUMN_TERM, _("Autumn term")),
        (SPRING_TERM, _("Spring term")),
        (SPRING_SEASON, _("Spring graduates")),
        (AUTUMN_SEASON, _("Autumn graduates")),
    ]


@dataclass(frozen=True)
class CalendarKey:
    """A date the academic calendar holds every year; ``month``/``day`` are the seeds' default."""

    key: str
    label: str | Promise
    month: int
    day: int
    period: str = Period.YEAR

    def default_date(self, year: int) -> dt.date:
        return date_in_academic_year(year, self.month, self.day)

    def month_day_text(self) -> str:
        return _("%(day)s %(month)s") % {"day": self.day, "month": force_str(MONTHS[self.month])}


#: the seeds' dates (WORKFLOWS.md) and the C4 filing windows; Academic Affairs edits each year's copy
CALENDAR_KEYS: tuple[CalendarKey, ...] = (
    # C1, C10: before 15 March
    CalendarKey("enrollment_report", _("New students report to their station (C1)"), 3, 15),
    CalendarKey("teaching_plan", _("Teaching plan drawn up or revised (C10)"), 3, 15),
    # C2: 25 March / 15 April / 30 April
    CalendarKey("registration_submit", _("Stations submit new students' registration data (C2)"), 3, 25),
    CalendarKey("student_numbers_returned", _("Student numbers returned to stations (C2)"), 4, 15),
    CalendarKey("online_registration", _("New students registered online with CHSI (C2)"), 4, 30),
    # C7: spring graduates 25 Oct and 25 Nov, autumn graduates 25 Apr and 25 May
    CalendarKey(
        "graduate_registration_spring",
        _("Stations submit spring graduates for credential registration (C7)"),
        10,
        25,
        Period.SPRING_SEASON,
    ),
    CalendarKey(
        "graduate_seal_check_spring",
        _("Spring graduates' data to the province for the seal check (C7)"),
        11,
        25,
        Period.SPRING_SEASON,
    ),
    CalendarKey(
        "graduate_registration_autumn",
        _("Stations submit autumn graduates for credential registration (C7)"),
        4,
        25,
        Period.AUTUMN_SEASON,
    ),
    CalendarKey(
        "graduate_seal_check_autumn",
        _("Autumn graduates' data to the province for the seal check (C7)"),
        5,
        25,
        Period.AUTUMN_SEASON,
    ),
    # C4: the stations' filing windows of each term
    CalendarKey(
        "status_change_filing_autumn_opens",
        _("Station status-change filing opens (autumn term)"),
        9,
        1,
        Period.AUTUMN_TERM,
    ),
    CalendarKey(
        "status_change_filing_autumn_closes",
        _("Station status-change filing closes (autumn term)"),
        11,
        30,
        Period.AUTUMN_TERM,
    ),
    CalendarKey(
        "status_change_filing_spring_opens",
        _("Station status-change filing opens (spring term)"),
        2,
        20,
        Period.SPRING_TERM,
    ),
    CalendarKey(
        "status_change_filing_spring_closes",
        _("Station status-change filing closes (spring term)"),
        4,
        30,
        Period.SPRING_TERM,
    ),
)
_KEYS = {k.key: k for k in CALENDAR_KEYS}


def calendar_key(key: str) -> CalendarKey | None:
    return _KEYS.get(key)


def key_label(key: str) -> str:
    known = _KEYS.get(key)
    return force_str(known.label) if known else key


def calendar_date(key: str, year: int) -> dt.date:
    """The date of ``key`` in academic ``year``; ApplicationError naming both when the calendar lacks it."""
    from .models import CalendarEntry

    date = CalendarEntry.objects.filter(key=key, academic_year=year).values_list("date", flat=True).first()
    if date is None:
        raise ApplicationError(CALENDAR_DATE_MISSING % {"label": key_label(key), "year": academic_year_label(year)})
    return date


def end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


# --- deadline specs ------------------------------------------------------------------------------
class Deadline:
    """A stage's deadline; ``resolve`` gives the due time for a request entering the stage at ``start``."""

    def resolve(self, *, request, start: dt.datetime) -> dt.datetime | None:
        raise NotImplementedError

    def describe(self, model=None) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Days(Deadline):
    days: int

    def resolve(self, *, request, start):
        return start + dt.timedelta(days=self.days) if self.days else None

    def describe(self, model=None):
        text = ngettext("within %(days)s day", "within %(days)s days", self.days) % {"days": self.days}
        return {"kind": "days", "days": self.days, "text": text}


@dataclass(frozen=True)
class CalendarDate(Deadline):
    """A fixed date of the academic calendar; the academic year is the one the stage is entered in,
    or the one the request's ``year`` attribute (a field or a method) names."""

    key: str
    year: str = ""

    def academic_year(self, *, request, start: dt.datetime) -> int:
        if self.year:
            value = getattr(request, self.year)
            value = value() if callable(value) else value
            if value is not None:
                return int(value)
        return academic_year_of(timezone.localdate(start))

    def resolve(self, *, request, start):
        return end_of_day(calendar_date(self.key, self.academic_year(request=request, start=start)))

    def describe(self, model=None):
        known = calendar_key(self.key)
        if known is None:
            text = _("by the academic calendar's “%(key)s”") % {"key": self.key}
        else:
            text = _("by %(date)s of the academic year") % {"date": known.month_day_text()}
        return {"kind": "calendar", "key": self.key, "label": key_label(self.key), "text": force_str(text)}


@dataclass(frozen=True)
class Relative(Deadline):
    """``days`` (negative: before) from an event of the request: a field or a method giving a date or
    a datetime. No due date while the event is not known."""

    event: str
    days: int
    label: str | Promise = ""

    def event_date(self, request) -> dt.date | None:
        value = getattr(request, self.event, None)
        value = value() if callable(value) else value
        if isinstance(value, dt.datetime):
            return timezone.localdate(value) if timezone.is_aware(value) else value.date()
        return value

    def resolve(self, *, request, start):
        day = self.event_date(request)
        return end_of_day(day + dt.timedelta(days=self.days)) if day else None

    def event_label(self, model=None) -> str:
        if self.label:
            return force_str(self.label)
        if model is not None:
            try:
                return force_str(model._meta.get_field(self.event).verbose_name)
            except Exception:  # noqa: BLE001 - a method, not a field
                pass
        return self.event.replace("_", " ")

    def describe(self, model=None):
        sign = "+" if self.days >= 0 else "−"
        text = ngettext("%(event)s %(sign)s %(days)s day", "%(event)s %(sign)s %(days)s days", abs(self.days)) % {
            "event": self.event_label(model),
            "sign": sign,
            "days": abs(self.days),
        }
        return {"kind": "relative", "event": self.event, "offset_days": self.days, "text": text}


# --- windows -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A calendar range (two calendar keys) within which an action is allowed."""

    label: str | Promise
    opens: str
    closes: str

    def dates(self, year: int) -> tuple[dt.date, dt.date]:
        return calendar_date(self.opens, year), calendar_date(self.closes, year)

    def text(self, year: int) -> str:
        opens, closes = self.dates(year)
        return f"{force_str(self.label)} {opens:%Y-%m-%d}–{closes:%Y-%m-%d}"

    def describe(self) -> dict[str, Any]:
        o, c = calendar_key(self.opens), calendar_key(self.closes)
        span = f"{o.month_day_text() if o else self.opens} – {c.month_day_text() if c else self.closes}"
        return {"label": force_str(self.label), "opens": self.opens, "closes": self.closes, "text": span}


def window_spans(windows, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The windows of ``today``'s academic year with their dates and whether each is open now
    (for the application form); a window the calendar lacks has ``missing`` set to the message."""
    today = today or timezone.localdate()
    year = academic_year_of(today)
    spans = []
    for w in windows:
        try:
            opens, closes = w.dates(year)
        except ApplicationError as exc:
            spans.append({"label": force_str(w.label), "missing": force_str(exc.message)})
            continue
        spans.append({"label": force_str(w.label), "opens": opens, "closes": closes, "open": opens <= today <= closes})
    return sorted(spans, key=lambda s: s.get("opens") or dt.date.max)


_WAIVED: contextvars.ContextVar[bool] = contextvars.ContextVar("registrar_windows_waived", default=False)


@contextlib.contextmanager
def windows_waived():
    """Let requests be submitted outside their windows inside this block: for the demo and data
    loads that file requests on a date of their choosing, never for a user's request."""
    token = _WAIVED.set(True)
    try:
        yield
    finally:
        _WAIVED.reset(token)


def check_windows(windows, *, what, message=OUTSIDE_SUBMIT_WINDOW, today: dt.date | None = None) -> None:
    """Refuse (ApplicationError naming the windows and their dates) unless ``today`` lies in one of
    ``windows`` of its academic year; a window missing from the calendar is named as missing."""
    if not windows or _WAIVED.get():
        return
    today = today or timezone.localdate()
    year = academic_year_of(today)
    spans = sorted(((w.dates(year), w) for w in windows), key=lambda pair: pair[0])
    if any(opens <= today <= closes for (opens, closes), _w in spans):
        return
    raise ApplicationError(
        message
        % {
            "what": force_str(what),
            "windows": "、".join(w.text(year) for _d, w in spans),
            "today": f"{today:%Y-%m-%d}",
        }
    )
