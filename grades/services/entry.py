"""Writes for grade entry (U5): the composite-grade composition, entry windows and reopenings,
entering grades (grid, API and the offering's Excel sheet), submit, confirm (认定) and return.

Every service locks the offering (``select_for_update``) before it reads its state, so two
writers never interleave; the sheet's state moves only through the FSM transitions on
``Offering`` (submit, confirm, return_to_instructor). Refusals raise ``ApplicationError`` with
one of the messages below (nothing written); out-of-scope offerings raise ``Http404`` and an
in-scope user without the role ``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from registrar.exceptions import ApplicationError
from registrar.roles import Role, Scope
from registrar.spreadsheets import append_row, new_workbook, read_rows, workbook_bytes

from ..models import Grade, GradeComponent, GradeEntryWindow, Offering, OfferingReopening, SheetEvent
from ..permissions import can_see_offering, college_roles, is_academic_affairs, teaches
from ..scoring import MARK_TEXT, ScoreError, check_weights, parse_entry
from ..selectors.entry import current_window, entry_open, last_window, next_window  # noqa: F401 (re-exported)
from .results import RESULT_FIELDS, apply_result, evaluate
from .work import sheet_work_sync

# --- messages (tests import these) ------------------------------------------------------------
NOT_INSTRUCTOR = _("Only an instructor of this offering may enter and submit its grades.")
NOT_COMPOSER = _("Only the college's teaching secretary or Academic Affairs may set the composition.")
NOT_ACADEMIC_AFFAIRS = _("Only Academic Affairs may do this.")

COMPOSITION_STATE = _("The composition of %(offering)s can no longer change: the sheet is “%(state)s”.")
COMPOSITION_AFTER_ENTRY = _("Results have already been entered on %(offering)s: the composition can no longer change.")
UNKNOWN_COMPONENT = _("“%(code)s” is not a grade component.")
BAD_WEIGHT = _("The weight of “%(component)s” must be a whole number from 1 to 100.")
BAD_SCALE = _("Choose a grading scale and a rounding rule.")

WINDOW_ORDER = _("The window must close after it opens.")
WINDOW_OFFERING_TERM = _("%(offering)s is not an offering of %(term)s.")
REOPEN_PAST = _("Reopen until a time in the future.")
REOPEN_REASON = _("Give the reason for reopening.")
REOPEN_STATE = _("Only a sheet still being entered can be reopened; %(offering)s is “%(state)s”.")

ENTRY_CLOSED = _(
    "Grade entry for %(offering)s is closed: no entry window covers it now. Entry after the window "
    "needs Academic Affairs to reopen it for this offering."
)
ENTRY_CLOSED_OPENS = _("Grade entry for %(offering)s is closed: the next entry window opens on %(opens)s.")
SHEET_LOCKED = _("The grade sheet of %(offering)s is “%(state)s”: it is locked and can no longer be edited here.")
ENTRY_REFUSED = _("Nothing was saved: %(count)s cell(s) need correcting.")
ENTRY_NO_ROWS = _("There is nothing to save.")
NOT_ON_SHEET = _("%(student)s is not on this grade sheet.")
NOT_A_COMPONENT = _("This sheet has no component “%(code)s”.")
ROW_NOT_A_MAPPING = _("Give this student's cells as {component: value}.")

SUBMIT_STATE = _("The grade sheet of %(offering)s is “%(state)s”: only a sheet being entered can be submitted.")
SUBMIT_EMPTY = _("There is no student on the grade sheet of %(offering)s.")
SUBMIT_INCOMPLETE = _(
    "%(count)s student(s) have no result yet (%(students)s): enter a score or a mark (缺考, 缓考, "
    "作弊, 免修) for every student before submitting."
)
CONFIRM_STATE = _("The grade sheet of %(offering)s is “%(state)s”: only a submitted sheet can be confirmed.")
RETURN_STATE = _("The grade sheet of %(offering)s is “%(state)s”: only a submitted sheet can be returned.")
RETURN_REASON = _("Give the reason for returning the sheet to the instructor.")
NONE_SELECTED = _("Select at least one grade sheet.")

UPLOAD_NOT_A_SHEET = _("This workbook is not a grade sheet downloaded from this system (no offering code in cell B1).")
UPLOAD_OTHER_OFFERING = _("This workbook is the grade sheet of %(found)s, not of %(offering)s: nothing was imported.")
UPLOAD_MISSING_COLUMN = _("The column “%(column)s” is missing.")
UPLOAD_REFUSED = _("Nothing was imported: %(count)s problem(s) in the file.")
UPLOAD_NO_NUMBER = _("The student number is empty.")
UPLOAD_DUPLICATE = _("%(student)s appears twice (also on row %(row)s).")
UPLOAD_WRONG_ID = _("This row belongs to another grade sheet.")

#: Keys of the hidden row 2 of the downloaded workbook (the columns the upload reads).
XLSX_KEYS = ("student_number", "name", "class")
XLSX_ID_KEY = "grade_id"
XLSX_FIRST_DATA_ROW = 4  # 1: offering code, 2: hidden keys, 3: headers

ENTERED_Q = Q(score__isnull=False) | Q(level__gt="") | Q(mark__gt="") | ~Q(components={})


# --- helpers --------------------------------------------------------------------------------
def _locked(offering: Offering | int) -> Offering:
    pk = offering.pk if isinstance(offering, Offering) else offering
    try:
        return Offering.objects.select_for_update().get(pk=pk)
    except Offering.DoesNotExist:
        raise Http404 from None


def _state_label(offering: Offering) -> str:
    return str(Offering.SheetState(offering.sheet_state).label)


def _require_instructor(actor, offering: Offering) -> None:
    if not can_see_offering(actor, offering):
        raise Http404
    if not teaches(actor, offering):
        raise PermissionDenied(NOT_INSTRUCTOR)


def may_compose(actor, offering: Offering) -> bool:
    """Whether ``composition_set`` would accept ``actor`` now (the pages offer it only then)."""
    if not (is_academic_affairs(actor) or Role.TEACHING_SECRETARY in college_roles(actor, offering.college_id)):
        return False
    return (
        offering.sheet_state == Offering.SheetState.ENTERING
        and not Grade.objects.filter(offering_id=offering.pk).filter(ENTERED_Q).exists()
    )


def _require_composer(actor, offering: Offering) -> None:
    if not can_see_offering(actor, offering):
        raise Http404
    if is_academic_affairs(actor):
        return
    if Role.TEACHING_SECRETARY not in college_roles(actor, offering.college_id):
        raise PermissionDenied(NOT_COMPOSER)


def _require_academic_affairs(actor, offering: Offering | None = None) -> None:
    if offering is not None and not can_see_offering(actor, offering):
        raise Http404
    if not is_academic_affairs(actor):
        raise PermissionDenied(NOT_ACADEMIC_AFFAIRS)


def sheet_event_record(*, offering: Offering, decision: str, actor, role: str, opinion: str = "") -> SheetEvent:
    """Append one sign-off to the sheet's log (inside the caller's transaction)."""
    return SheetEvent.objects.create(
        offering=offering,
        decision=decision,
        role=role,
        opinion=opinion or "",
        actor=actor,
        actor_label=getattr(actor, "display_name", str(actor))[:64],
    )


def when_text(value: dt.datetime) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i")


def _require_open(offering: Offering, now: dt.datetime) -> None:
    if entry_open(offering, now):
        return
    upcoming = next_window(offering, now)
    if upcoming is not None:
        raise ApplicationError(ENTRY_CLOSED_OPENS % {"offering": offering.code, "opens": when_text(upcoming.opens_at)})
    raise ApplicationError(ENTRY_CLOSED % {"offering": offering.code})


def _require_entering(offering: Offering) -> None:
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(SHEET_LOCKED % {"offering": offering.code, "state": _state_label(offering)})


def _academic_affairs_users():
    from registrar.models import User

    return list(
        User.objects.filter(
            role_assignments__role=Role.ACADEMIC_AFFAIRS, role_assignments__scope=Scope.UNIVERSITY, is_active=True
        ).distinct()
    )


def _notify(users, message: str, offering: Offering) -> None:
    from registrar.notifications.services import notify

    notify(users=list(users), message=message, url=reverse("grades:offering_detail", args=[offering.pk]))


def _head(offering: Offering) -> str:
    return f"{offering.code} {offering.course.name}"


# --- 1. composition ------------------------------------------------------------------------
@transaction.atomic
def composition_set(
    *,
    offering: Offering,
    actor,
    components: list[dict],
    scale: str | None = None,
    rounding: str | None = None,
    now: dt.datetime | None = None,
) -> Offering:
    """Set the composite-grade composition: ``components`` as [{code, label?, weight}] in order,
    weights summing to exactly 100, plus the scale and rounding rule. Only while the sheet is
    being entered and before any result or component score is on it."""
    offering = _locked(offering)
    _require_composer(actor, offering)
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(COMPOSITION_STATE % {"offering": offering.code, "state": _state_label(offering)})
    if Grade.objects.filter(offering_id=offering.pk).filter(ENTERED_Q).exists():
        raise ApplicationError(COMPOSITION_AFTER_ENTRY % {"offering": offering.code})
    scale = scale or offering.scale
    rounding = rounding or offering.rounding
    if scale not in Offering.Scale.values or rounding not in Offering.Rounding.values:
        raise ApplicationError(BAD_SCALE)
    pairs: list[tuple[str, int]] = []
    for c in components:
        code = str(c.get("code", ""))
        if code not in GradeComponent.Code.values:
            raise ApplicationError(UNKNOWN_COMPONENT % {"code": code})
        weight = c.get("weight")
        try:
            weight = int(weight)
        except (TypeError, ValueError):
            raise ApplicationError(BAD_WEIGHT % {"component": code}) from None
        if not 1 <= weight <= 100 or str(c.get("weight")).strip() not in (str(weight), f"{weight}.0"):
            raise ApplicationError(BAD_WEIGHT % {"component": code})
        pairs.append((code, weight))
    try:
        check_weights(pairs)
    except ScoreError as exc:
        raise ApplicationError(str(exc)) from None
    rows = [
        GradeComponent(
            offering=offering,
            code=code,
            weight=weight,
            position=i,
            label=str(components[i].get("label") or "").strip()[:32],
        )
        for i, (code, weight) in enumerate(pairs)
    ]
    for row in rows:
        row.full_clean(exclude=["offering"], validate_unique=False)
    GradeComponent.objects.filter(offering=offering).delete()
    GradeComponent.objects.bulk_create(rows)
    offering.scale = scale
    offering.rounding = rounding
    offering.composition_set_by = actor
    offering.composition_set_at = now or timezone.now()
    offering.full_clean(exclude=["instructors", "classes", "sheet_state"])
    offering.save(update_fields=["scale", "rounding", "composition_set_by", "composition_set_at", "updated_at"])
    summary = " + ".join(f"{row.display_label} {row.weight}%" for row in rows)
    sheet_event_record(
        offering=offering,
        decision=SheetEvent.Decision.COMPOSITION,
        actor=actor,
        opinion=summary,
        role=Role.ACADEMIC_AFFAIRS if is_academic_affairs(actor) else Role.TEACHING_SECRETARY,
    )
    return offering


# --- 2. entry windows and reopening -----------------------------------------------------------
@transaction.atomic
def window_publish(
    *, term, opens_at: dt.datetime, closes_at: dt.datetime, actor, colleges=(), offerings=(), note: str = ""
) -> GradeEntryWindow:
    """Academic Affairs publishes a grade-entry window for a term (every college and offering of
    the term when both lists are empty, else the listed colleges' and the listed offerings)."""
    _require_academic_affairs(actor)
    if closes_at <= opens_at:
        raise ApplicationError(WINDOW_ORDER)
    offerings = list(offerings)
    for o in offerings:
        if o.term_id != term.pk:
            raise ApplicationError(WINDOW_OFFERING_TERM % {"offering": o.code, "term": term})
    window = GradeEntryWindow(
        term=term, opens_at=opens_at, closes_at=closes_at, note=(note or "").strip(), published_by=actor
    )
    window.full_clean()
    window.save()
    window.colleges.set(list(colleges))
    window.offerings.set(offerings)
    return window


@transaction.atomic
def offering_reopen(
    *, offering: Offering, until: dt.datetime, reason: str, actor, now: dt.datetime | None = None
) -> OfferingReopening:
    """Academic Affairs reopens entry for one offering (after its window) until ``until``."""
    now = now or timezone.now()
    offering = _locked(offering)
    _require_academic_affairs(actor, offering)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REOPEN_REASON)
    if until <= now:
        raise ApplicationError(REOPEN_PAST)
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(REOPEN_STATE % {"offering": offering.code, "state": _state_label(offering)})
    reopening = OfferingReopening(offering=offering, until=until, reason=reason, actor=actor)
    reopening.full_clean()
    reopening.save()
    offering.reopened_until = until
    offering.save(update_fields=["reopened_until", "updated_at"])
    sheet_event_record(
        offering=offering,
        decision=SheetEvent.Decision.REOPEN,
        actor=actor,
        role=Role.ACADEMIC_AFFAIRS,
        opinion=f"{reason} ({gettext('until %(until)s') % {'until': when_text(until)}})",
    )
    _notify(
        offering.instructors.all(),
        gettext("Grade entry for %(head)s is reopened until %(until)s: %(reason)s")
        % {"head": _head(offering), "until": when_text(until), "reason": reason},
        offering,
    )
    return reopening


# --- 3. entering grades ----------------------------------------------------------------------
@dataclass
class EntryOutcome:
    """What a save wrote: the rows that changed (unchanged rows are not rewritten)."""

    saved: list[Grade] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.saved)


def cell_error(
    *,
    student_number: str,
    component: str = "",
    column: str = "",
    message,
    row: int | None = None,
) -> dict:
    """One refused cell, as the grid, the upload page and the API report it."""
    error = {
        "student_number": student_number,
        "component": component,
        "column": column or component,
        "message": str(message),
    }
    if row is not None:
        error["row"] = row
    return error


def _sheet(offering: Offering):
    components = list(GradeComponent.objects.filter(offering_id=offering.pk).order_by("position", "id"))
    grades = list(
        Grade.objects.filter(offering_id=offering.pk).select_related("student").order_by("student__student_number")
    )
    return components, grades


def _find(key, by_id: dict, by_number: dict) -> Grade | None:
    if isinstance(key, int) and not isinstance(key, bool):
        return by_id.get(key)
    text = str(key).strip()
    if text in by_number:
        return by_number[text]
    return by_id.get(int(text)) if text.isdigit() else None


def _check_cell(offering: Offering, raw) -> str | None:
    try:
        parse_entry(raw, scale=offering.scale)
    except ScoreError as exc:
        return str(exc)
    return None


def _write(offering: Offering, components, pairs: list[tuple[Grade, dict]], actor, now) -> list[Grade]:
    """Evaluate and store each (grade, typed cells) pair; rows whose stored values do not change
    are left alone. Cells not given keep their stored value."""
    weights = [(c.code, c.weight) for c in components]
    changed = []
    for grade, cells in pairs:
        raw = {**(grade.components or {}), **cells}
        stored, result = evaluate(
            scale=offering.scale, rounding=offering.rounding, kind=offering.kind, weights=weights, raw=raw
        )
        same = (
            stored == (grade.components or {})
            and result.score == grade.score
            and result.level == grade.level
            and result.mark == grade.mark
            and result.passed == grade.passed
            and result.grade_point == grade.grade_point
        )
        if same:
            continue
        apply_result(grade, components=stored, result=result, actor=actor, now=now)
        if not stored:
            grade.entered_by = None
            grade.entered_at = None
        grade.clean_fields(exclude=["offering", "student", "course", "term", "entered_by"])
        changed.append(grade)
    Grade.objects.bulk_update(changed, RESULT_FIELDS, batch_size=500)
    return changed


@transaction.atomic
def grades_enter(*, offering: Offering, actor, rows: dict, now: dt.datetime | None = None) -> EntryOutcome:
    """Enter component scores: ``rows`` = {grade id or student number: {component code: typed value}}
    (the whole sheet or only the changed rows; cells left out keep their value, "" clears one).

    All or nothing: every bad cell is reported (student number, component, message) in
    ``ApplicationError.extra["errors"]`` and nothing is written. Refused outside the entry
    window, once the sheet is submitted, and for anyone but the offering's instructors.
    """
    now = now or timezone.now()
    offering = _locked(offering)
    _require_instructor(actor, offering)
    _require_entering(offering)
    _require_open(offering, now)
    if not isinstance(rows, dict):
        raise ApplicationError(ENTRY_NO_ROWS)
    components, grades = _sheet(offering)
    codes = {c.code: c.display_label for c in components}
    by_id = {g.pk: g for g in grades}
    by_number = {g.student.student_number: g for g in grades}
    errors: list[dict] = []
    pairs: list[tuple[Grade, dict]] = []
    for key, cells in rows.items():
        grade = _find(key, by_id, by_number)
        if grade is None:
            errors.append(cell_error(student_number=str(key), message=NOT_ON_SHEET % {"student": key}))
            continue
        number = grade.student.student_number
        if not isinstance(cells, dict):
            errors.append(cell_error(student_number=number, message=ROW_NOT_A_MAPPING))
            continue
        ok = {}
        for code, raw in cells.items():
            if code not in codes:
                errors.append(
                    cell_error(student_number=number, component=str(code), message=NOT_A_COMPONENT % {"code": code})
                )
                continue
            message = _check_cell(offering, raw)
            if message:
                errors.append(
                    cell_error(student_number=number, component=code, column=str(codes[code]), message=message)
                )
            ok[code] = raw
        pairs.append((grade, ok))
    if errors:
        raise ApplicationError(ENTRY_REFUSED % {"count": len(errors)}, extra={"errors": errors})
    return EntryOutcome(saved=_write(offering, components, pairs, actor, now))


# --- the offering's Excel sheet: download and upload -----------------------------------------
def component_header(component: GradeComponent) -> str:
    return f"{component.display_label} ({component.weight}%)"


def _base_headers() -> list[str]:
    return [gettext("Student number"), gettext("Name"), gettext("Class")]


def gradesheet_xlsx(offering: Offering) -> bytes:
    """The offering's pre-filled workbook: row 1 names the offering (its code in B1), row 2
    (hidden) holds the column keys the upload reads, row 3 the headers, then one row per
    student with the current component values; only the score cells are unlocked (the sheet is
    protected without a password) and the last column (hidden) holds the grade id."""
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter

    components = list(offering.components.all())
    grades = list(
        Grade.objects.filter(offering_id=offering.pk)
        .select_related("student", "student__klass")
        .order_by("student__student_number")
    )
    wb = new_workbook()
    ws = wb.active
    ws.title = "".join("-" if ch in "[]:*?/\\" else ch for ch in offering.code)[:31]
    append_row(
        ws,
        [
            gettext("Offering code"),
            offering.code,
            f"{offering.course.code} {offering.course.name}",
            str(offering.term),
            str(Offering.Scale(offering.scale).label),
        ],
    )
    append_row(ws, [*XLSX_KEYS, *[c.code for c in components], XLSX_ID_KEY])
    append_row(ws, [*_base_headers(), *[component_header(c) for c in components], "ID"])
    for g in grades:
        values = [MARK_TEXT.get(v, v) for v in (g.components.get(c.code, "") for c in components)]
        values = [_excel_value(v) for v in values]
        append_row(
            ws,
            [
                g.student.student_number,
                g.student.name,
                g.student.klass.name if g.student.klass_id else "",
                *values,
                g.pk,
            ],
        )
    ws.row_dimensions[2].hidden = True
    id_col = get_column_letter(len(XLSX_KEYS) + len(components) + 1)
    ws.column_dimensions[id_col].hidden = True
    for cell in ws[1][:2] + ws[3]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF8E1")
    for row in ws.iter_rows(
        min_row=XLSX_FIRST_DATA_ROW, min_col=len(XLSX_KEYS) + 1, max_col=len(XLSX_KEYS) + len(components)
    ):
        for cell in row:
            cell.protection = Protection(locked=False)
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center")
    for row in ws.iter_rows(min_row=XLSX_FIRST_DATA_ROW, max_col=1):
        for cell in row:
            cell.number_format = "@"
    for i, width in enumerate((14, 12, 22, *([14] * len(components))), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"D{XLSX_FIRST_DATA_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    return workbook_bytes(wb)


def _excel_value(value: str):
    """Numbers go to Excel as numbers, anything else (levels, marks) as text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(file) -> list[list]:
    """The first sheet, read through the spreadsheet intake (a refused file raises its
    ``SpreadsheetRefused``, an ``ApplicationError`` naming the problem)."""
    return read_rows(file)


@transaction.atomic
def grades_upload(*, offering: Offering, actor, file, now: dt.datetime | None = None) -> EntryOutcome:
    """Import the offering's workbook (as downloaded, filled in). All or nothing: every bad row
    and column is reported (Excel row number, column header, message) and nothing is written.
    Refuses a workbook of another offering, and everything ``grades_enter`` refuses."""
    now = now or timezone.now()
    offering = _locked(offering)
    _require_instructor(actor, offering)
    _require_entering(offering)
    _require_open(offering, now)
    table = _read_rows(file)
    found = _text(table[0][1]) if table and len(table[0]) > 1 else ""
    if not found:
        raise ApplicationError(UPLOAD_NOT_A_SHEET)
    if found != offering.code:
        raise ApplicationError(UPLOAD_OTHER_OFFERING % {"found": found, "offering": offering.code})
    components, grades = _sheet(offering)
    keys = [_text(v) for v in table[1]] if len(table) > 1 else []
    headers = [_text(v) for v in table[2]] if len(table) > 2 else []
    column_of = {k: i for i, k in enumerate(keys) if k}
    header_of = {c.code: component_header(c) for c in components}
    names = dict(zip(XLSX_KEYS, _base_headers(), strict=True))

    def header(i: int, fallback: str = "") -> str:
        return headers[i] if i < len(headers) and headers[i] else fallback

    errors: list[dict] = []
    for key in ("student_number", *[c.code for c in components]):
        if key not in column_of:
            errors.append(
                cell_error(
                    student_number="",
                    component=key,
                    row=3,
                    column=header_of.get(key) or names.get(key, key),
                    message=UPLOAD_MISSING_COLUMN % {"column": header_of.get(key) or names[key]},
                )
            )
    if errors:
        raise ApplicationError(UPLOAD_REFUSED % {"count": len(errors)}, extra={"errors": errors})
    by_number = {g.student.student_number: g for g in grades}
    number_col = column_of["student_number"]
    id_col = column_of.get(XLSX_ID_KEY)
    seen: dict[str, int] = {}
    pairs: list[tuple[Grade, dict]] = []
    for index, values in enumerate(table[XLSX_FIRST_DATA_ROW - 1 :], start=XLSX_FIRST_DATA_ROW):
        if not any(_text(v) for v in values):
            continue

        def cell(i, values=values):
            return values[i] if i < len(values) else None

        number = _text(cell(number_col))
        number_header = header(number_col, names["student_number"])
        if not number:
            errors.append(cell_error(student_number="", column=number_header, row=index, message=UPLOAD_NO_NUMBER))
            continue
        grade = by_number.get(number)
        if grade is None:
            errors.append(
                cell_error(
                    student_number=number, column=number_header, row=index, message=NOT_ON_SHEET % {"student": number}
                )
            )
            continue
        if number in seen:
            errors.append(
                cell_error(
                    student_number=number,
                    column=number_header,
                    row=index,
                    message=UPLOAD_DUPLICATE % {"student": number, "row": seen[number]},
                )
            )
            continue
        seen[number] = index
        if id_col is not None and _text(cell(id_col)) and _text(cell(id_col)) != str(grade.pk):
            errors.append(
                cell_error(student_number=number, column=header(id_col, "ID"), row=index, message=UPLOAD_WRONG_ID)
            )
            continue
        cells = {}
        for c in components:
            i = column_of[c.code]
            raw = cell(i)
            message = _check_cell(offering, raw)
            if message:
                errors.append(
                    cell_error(
                        student_number=number,
                        component=c.code,
                        row=index,
                        column=header(i, header_of[c.code]),
                        message=message,
                    )
                )
            cells[c.code] = "" if raw is None else raw
        pairs.append((grade, cells))
    if errors:
        raise ApplicationError(UPLOAD_REFUSED % {"count": len(errors)}, extra={"errors": errors})
    return EntryOutcome(saved=_write(offering, components, pairs, actor, now))


# --- 4. submit, confirm, return --------------------------------------------------------------
@transaction.atomic
def sheet_submit(*, offering: Offering, actor, now: dt.datetime | None = None) -> Offering:
    """The instructor verifies and submits: the sheet is locked for them. Refused while any
    student has no result (a deferred exam, 缓考, counts as a result) or outside the entry window."""
    now = now or timezone.now()
    offering = _locked(offering)
    _require_instructor(actor, offering)
    if not can_proceed(offering.submit):
        raise ApplicationError(SUBMIT_STATE % {"offering": offering.code, "state": _state_label(offering)})
    _require_open(offering, now)
    grades = Grade.objects.filter(offering_id=offering.pk)
    if not grades.exists():
        raise ApplicationError(SUBMIT_EMPTY % {"offering": offering.code})
    missing = list(
        grades.filter(score__isnull=True, level="", mark="")
        .order_by("student__student_number")
        .values_list("student__student_number", flat=True)
    )
    if missing:
        shown = "、".join(missing[:10]) + ("…" if len(missing) > 10 else "")
        raise ApplicationError(
            SUBMIT_INCOMPLETE % {"count": len(missing), "students": shown}, extra={"missing": missing}
        )
    offering.submit(by=actor, at=now)
    offering.save(update_fields=["sheet_state", "submitted_by", "submitted_at", "updated_at"])
    sheet_event_record(offering=offering, decision=SheetEvent.Decision.SUBMIT, actor=actor, role=Role.INSTRUCTOR)
    sheet_work_sync(offering=offering)
    _notify(
        [u for u in _academic_affairs_users() if u.pk != actor.pk],
        gettext("Grade sheet %(head)s was submitted and awaits confirmation.") % {"head": _head(offering)},
        offering,
    )
    return offering


@transaction.atomic
def sheet_confirm(*, offering: Offering, actor, now: dt.datetime | None = None) -> Offering:
    """Academic Affairs confirms (认定) a submitted sheet: the grades are published to students."""
    now = now or timezone.now()
    offering = _locked(offering)
    _require_academic_affairs(actor, offering)
    if not can_proceed(offering.confirm):
        raise ApplicationError(CONFIRM_STATE % {"offering": offering.code, "state": _state_label(offering)})
    offering.confirm(by=actor, at=now)
    offering.save(update_fields=["sheet_state", "confirmed_by", "confirmed_at", "updated_at"])
    sheet_event_record(offering=offering, decision=SheetEvent.Decision.CONFIRM, actor=actor, role=Role.ACADEMIC_AFFAIRS)
    sheet_work_sync(offering=offering)
    _notify(
        offering.instructors.all(),
        gettext("Grade sheet %(head)s was confirmed by Academic Affairs; students now see the grades.")
        % {"head": _head(offering)},
        offering,
    )
    return offering


@transaction.atomic
def sheets_confirm(*, offering_ids, actor, now: dt.datetime | None = None) -> list[Offering]:
    """Bulk confirmation from the queue: all the selected sheets or none (the first refusal is raised)."""
    _require_academic_affairs(actor)
    ids = sorted({int(i) for i in offering_ids})
    if not ids:
        raise ApplicationError(NONE_SELECTED)
    found = list(Offering.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    if len(found) != len(ids):
        raise Http404
    now = now or timezone.now()
    return [sheet_confirm(offering=pk, actor=actor, now=now) for pk in ids]


@transaction.atomic
def sheet_return(*, offering: Offering, actor, reason: str) -> Offering:
    """Academic Affairs returns a submitted sheet to the instructor (back to entering) with a reason."""
    offering = _locked(offering)
    _require_academic_affairs(actor, offering)
    if not can_proceed(offering.return_to_instructor):
        raise ApplicationError(RETURN_STATE % {"offering": offering.code, "state": _state_label(offering)})
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(RETURN_REASON)
    offering.return_to_instructor()
    offering.save(update_fields=["sheet_state", "submitted_by", "submitted_at", "updated_at"])
    sheet_event_record(
        offering=offering, decision=SheetEvent.Decision.RETURN, actor=actor, role=Role.ACADEMIC_AFFAIRS, opinion=reason
    )
    sheet_work_sync(offering=offering)
    _notify(
        offering.instructors.all(),
        gettext("Grade sheet %(head)s was returned to you by Academic Affairs: %(reason)s")
        % {"head": _head(offering), "reason": reason},
        offering,
    )
    return offering
