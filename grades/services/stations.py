"""Correspondence stations (C8): blank sheets as PDF and Excel, and station grade submissions.

Submissions
    A station uploads its students' exam results for one offering (the filled blank sheet's Excel,
    or any xlsx with a student-number column and the component columns or one score column). Every
    row is validated; a file with any bad row or column is refused whole and nothing is written.
    The college (teaching secretary of the offering's college, or Academic Affairs) returns it with
    reasons or accepts it; accepting writes the rows into the offering's grades through
    ``services.results``. Every step appends a ``SubmissionReview``. Accepted results are confirmed
    grades (C8): when the last station's results of a correspondence sheet are accepted, the sheet is
    confirmed then and there, without an instructor's submit or a second confirmation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from registrar.exceptions import ApplicationError
from registrar.roles import Role
from registrar.spreadsheets import append_row, new_workbook, open_workbook, workbook_bytes
from students.models import RoleAssignment, Student

from ..models import Grade, GradeComponent, Offering, StationSubmission, SubmissionReview
from ..scoring import ScoreError, parse_entry
from .results import RESULT_FIELDS, apply_result, evaluate, offering_weights
from .work import submission_work_sync

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
HEADER_SEARCH_ROWS = 10

UPLOAD_REFUSED = _("The file was refused and nothing was saved: %(count)s problem(s), listed below by row and column.")
UPLOAD_TOO_BIG = _("The file is %(size)s KB; the limit is %(limit)s KB.")
UPLOAD_EMPTY = _("The file lists no student.")
NO_SHEET_FOR_OFFERING = _(
    "The workbook has several sheets and none is named after %(offering)s: upload that "
    "offering's sheet (as in the blank sheet workbook) or a workbook with one sheet."
)
NO_HEADER = _("No header row with a student number column (学号) in the first %(rows)s rows.")
MISSING_COLUMNS = _(
    "Missing column(s): %(columns)s. Give the component columns of this sheet (%(expected)s) or, "
    "if it has one component, a single score column (成绩)."
)
ROW_NO_NUMBER = _("The student number is empty.")
ROW_UNKNOWN_STUDENT = _("No student has the student number “%(number)s”.")
ROW_OTHER_STATION = _("%(name)s (%(number)s) is not a student of your station.")
ROW_NOT_ON_OFFERING = _("%(name)s (%(number)s) is not on this course's grade sheet.")
ROW_DUPLICATE = _("%(number)s is listed again (first on row %(row)s).")
ROW_NAME_MISMATCH = _("The name “%(given)s” does not match the student number (%(name)s).")
ROW_EMPTY_VALUE = _("Give a score or a mark (缺考, 缓考, 作弊, 免修).")
ROW_NO_RESULT = _("These values give no result.")

NOT_STATION_STAFF = _("Only the staff of this station may submit its results.")
NO_STUDENTS_OF_STATION = _("No student of your station is on %(offering)s.")
ALREADY_OPEN = _("Your station already has an open submission for %(offering)s (#%(id)s): resubmit that one.")
SHEET_NOT_ENTERING = _(
    "The grade sheet of %(offering)s is no longer being entered (it is “%(state)s”): station "
    "results can no longer be written into it."
)
WRONG_STATE = _("This submission is “%(state)s”; “%(action)s” is not possible now.")
REASON_REQUIRED = _("Give the reasons for returning the submission: the station will see them.")
COMPOSITION_CHANGED = _(
    "Row %(row)s no longer fits the sheet's composition (%(error)s): return the submission so "
    "the station can send a file with the current columns."
)
STUDENT_LEFT_SHEET = _("%(number)s is no longer on this course's grade sheet: return the submission.")

#: Header texts accepted for the student-number, name and single-score columns (besides the translations)
NUMBER_HEADERS = {"学号", "student number", "student_number", "student no.", "student no"}
NAME_HEADERS = {"姓名", "name", "student name"}
SCORE_HEADERS = {"成绩", "总评", "总成绩", "score", "result", "composite"}
_WEIGHT_SUFFIX = re.compile(r"\s*[(（]?\s*\d+(\.\d+)?\s*%\s*[)）]?\s*$")
_PAREN_PART = re.compile(r"[(（]([^()（）]+)[)）]")


# --- headers shared by the blank sheet Excel and the upload parser ---------------------------------
def normalize_header(value) -> str:
    text = "" if value is None else str(value)
    text = _WEIGHT_SUFFIX.sub("", text.strip())
    return re.sub(r"\s+", " ", text).strip().casefold()


def component_header(component: GradeComponent) -> str:
    """The column header of a component on the blank sheet Excel: its label and weight."""
    return f"{component.display_label} ({component.weight}%)"


def number_header() -> str:
    return gettext("Student number")


def name_header() -> str:
    return gettext("Name")


def _translations(text) -> set[str]:
    return {normalize_header(t) for t in _in_languages(text)}


def _component_aliases(component: GradeComponent) -> set[str]:
    """Headers accepted for a component: its code, label, code label in every language and the
    Chinese term in parentheses (“Final exam (期末)” → “期末”); a weight suffix is ignored."""
    texts = {
        component.code,
        component.display_label,
        *(
            _in_languages(GradeComponent.Code(component.code).label)
            if component.code in GradeComponent.Code.values
            else ()
        ),
    }
    if component.label:
        texts.add(component.label)
    aliases = set()
    for text in texts:
        aliases.add(normalize_header(text))
        aliases.update(normalize_header(p) for p in _PAREN_PART.findall(text))
    aliases.discard("")
    return aliases


def _in_languages(text) -> set[str]:
    out = set()
    for lang, _name in settings.LANGUAGES:
        with translation.override(lang):
            out.add(str(text))
    return out


def sheet_name(offering: Offering, taken: set[str] | None = None) -> str:
    """The Excel sheet name of an offering (31 characters at most, unique within the workbook)."""
    base = re.sub(r"[\[\]:*?/\\]", "-", offering.code)[:31]
    name, n = base, 2
    while taken is not None and name in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    if taken is not None:
        taken.add(name)
    return name


# --- parsing an upload ---------------------------------------------------------------------------
@dataclass
class ParsedUpload:
    rows: list[dict]
    errors: list[dict]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _error(sheet: str, row: int | None, column: str, message) -> dict:
    return {"sheet": sheet, "row": row, "column": column, "message": str(message)}


def _read_sheets(upload, offering: Offering) -> list[tuple[str, list[list]]]:
    """The sheets of ``upload`` meant for ``offering``, read through the spreadsheet intake (a file it
    refuses raises its ``SpreadsheetRefused``, an ``ApplicationError`` naming the problem)."""
    try:
        workbook = open_workbook(upload)
        names = workbook.sheet_names
        if len(names) > 1:
            base = sheet_name(offering)
            pattern = re.compile(re.escape(base[:24]) + r".*")
            chosen = [n for n in names if n == base or (pattern.fullmatch(n) and re.search(r"\(\d+\)$", n))]
            if not chosen:
                raise ApplicationError(NO_SHEET_FOR_OFFERING % {"offering": offering.code})
        else:
            chosen = names
        return [(n, workbook.rows(n)) for n in chosen]
    finally:
        upload.seek(0)


def parse_upload(*, upload, offering: Offering, station) -> ParsedUpload:
    """Read and validate every row of ``upload`` for ``station``'s students on ``offering``.

    Returns the parsed rows (student, typed values by component, stored components, result) and
    every error as {sheet, row, column, message}; never writes."""
    components = list(offering.components.all())
    weights = offering_weights(offering)
    aliases = {c.code: _component_aliases(c) for c in components}
    number_aliases = NUMBER_HEADERS | _translations(_("Student number"))
    name_aliases = NAME_HEADERS | _translations(_("Name"))
    score_aliases = SCORE_HEADERS | _translations(_("Score"))
    errors: list[dict] = []
    raw_rows: list[tuple[str, int, str, str, dict[str, object]]] = []  # sheet, row, number, name, values
    for sheet, cells in _read_sheets(upload, offering):
        header_at = next(
            (
                i
                for i, row in enumerate(cells[:HEADER_SEARCH_ROWS])
                if any(normalize_header(v) in number_aliases for v in row)
            ),
            None,
        )
        if header_at is None:
            errors.append(_error(sheet, None, "", NO_HEADER % {"rows": HEADER_SEARCH_ROWS}))
            continue
        header = [normalize_header(v) for v in cells[header_at]]
        number_col = next(i for i, h in enumerate(header) if h in number_aliases)
        name_col = next((i for i, h in enumerate(header) if h in name_aliases), None)
        columns: dict[str, int] = {}
        for code, names in aliases.items():
            found = next((i for i, h in enumerate(header) if h in names), None)
            if found is not None:
                columns[code] = found
        if len(components) == 1 and not columns:
            found = next((i for i, h in enumerate(header) if h in score_aliases), None)
            if found is not None:
                columns[components[0].code] = found
        missing = [c for c in components if c.code not in columns]
        if missing:
            errors.append(
                _error(
                    sheet,
                    header_at + 1,
                    "",
                    MISSING_COLUMNS
                    % {
                        "columns": "、".join(c.display_label for c in missing),
                        "expected": "、".join(c.display_label for c in components),
                    },
                )
            )
            continue
        labels = {code: str(cells[header_at][i]).strip() for code, i in columns.items()}
        for offset, row in enumerate(cells[header_at + 1 :], start=header_at + 2):
            row = list(row) + [None] * (len(header) - len(row))
            values = {code: row[i] for code, i in columns.items()}
            number = _cell_text(row[number_col])
            name = _cell_text(row[name_col]) if name_col is not None else ""
            if not number and all(_cell_text(v) == "" for v in values.values()):
                continue  # an empty line (or a blank sheet's unused row)
            raw_rows.append((sheet, offset, number, name, values))
            for code, value in values.items():
                if _cell_text(value) == "":
                    errors.append(_error(sheet, offset, labels[code], ROW_EMPTY_VALUE))
                    continue
                try:
                    parse_entry(value, scale=offering.scale)
                except ScoreError as exc:
                    errors.append(_error(sheet, offset, labels[code], exc))
    number_label = number_header()
    numbers = {r[2] for r in raw_rows if r[2]}
    students = {s.student_number: s for s in Student.objects.filter(student_number__in=numbers)}
    on_sheet = set(offering.grades.filter(student__student_number__in=numbers).values_list("student_id", flat=True))
    seen: dict[str, int] = {}
    parsed: list[dict] = []
    bad_rows = {(e["sheet"], e["row"]) for e in errors}
    for sheet, row_no, number, name, values in raw_rows:
        student = students.get(number)
        problem = None
        if not number:
            problem = ROW_NO_NUMBER
        elif number in seen:
            problem = ROW_DUPLICATE % {"number": number, "row": seen[number]}
        elif student is None:
            problem = ROW_UNKNOWN_STUDENT % {"number": number}
        elif student.station_id != station.pk:
            problem = ROW_OTHER_STATION % {"name": student.name, "number": number}
        elif student.pk not in on_sheet:
            problem = ROW_NOT_ON_OFFERING % {"name": student.name, "number": number}
        if number and number not in seen:
            seen[number] = row_no
        if problem is not None:
            errors.append(_error(sheet, row_no, number_label, problem))
            continue
        if name and name != student.name:
            errors.append(
                _error(sheet, row_no, name_header(), ROW_NAME_MISMATCH % {"given": name, "name": student.name})
            )
            continue
        if (sheet, row_no) in bad_rows:
            continue
        stored, result = evaluate(
            scale=offering.scale, rounding=offering.rounding, kind=offering.kind, weights=weights, raw=values
        )
        if result.passed is None and not result.mark:
            errors.append(_error(sheet, row_no, "", ROW_NO_RESULT))
            continue
        parsed.append(
            {
                "row": row_no,
                "sheet": sheet,
                "student_id": student.pk,
                "student_number": number,
                "name": student.name,
                "values": {k: _cell_text(v) for k, v in values.items()},
                "components": stored,
                "result": _result_text(result),
            }
        )
    if not raw_rows and not errors:
        errors.append(_error("", None, "", UPLOAD_EMPTY))
    errors.sort(key=lambda e: (e["sheet"], e["row"] or 0, e["column"]))
    return ParsedUpload(rows=parsed, errors=errors)


def _result_text(result) -> str:
    from ..scoring import display

    return display(result.score, result.level, result.mark)


def _parse_or_refuse(*, upload, offering: Offering, station) -> list[dict]:
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(UPLOAD_TOO_BIG % {"size": upload.size // 1024, "limit": MAX_UPLOAD_BYTES // 1024})
    parsed = parse_upload(upload=upload, offering=offering, station=station)
    if parsed.errors:
        raise ApplicationError(UPLOAD_REFUSED % {"count": len(parsed.errors)}, extra={"errors": parsed.errors})
    return parsed.rows


# --- scope --------------------------------------------------------------------------------------
def _check_station_staff(actor, station) -> None:
    from ..selectors.stations import station_ids_of

    if not actor.is_superuser and station.pk not in station_ids_of(actor):
        raise PermissionDenied(NOT_STATION_STAFF)


def _lock(submission: StationSubmission, actor) -> StationSubmission:
    """The submission locked for update, if ``actor`` may see it (else 404)."""
    from ..selectors.stations import submission_scope_q

    scope = submission_scope_q(actor)
    if scope is None:
        raise Http404
    try:
        return (
            StationSubmission.objects.select_for_update(of=("self",))
            .select_related("offering", "station")
            .filter(scope)
            .get(pk=submission.pk)
        )
    except StationSubmission.DoesNotExist:
        raise Http404 from None


def _check_reviewer(actor, offering: Offering) -> None:
    from ..selectors.stations import may_review

    if not may_review(actor, offering):
        raise PermissionDenied


def _check_entering(offering: Offering) -> None:
    if offering.sheet_state != Offering.SheetState.ENTERING:
        raise ApplicationError(
            SHEET_NOT_ENTERING % {"offering": offering.code, "state": offering.get_sheet_state_display()}
        )


def _check_transition(submission: StationSubmission, method, action) -> None:
    if not can_proceed(method):
        raise ApplicationError(WRONG_STATE % {"state": submission.get_state_display(), "action": action})


def _review(*, submission: StationSubmission, actor, decision: str, opinion: str = "") -> SubmissionReview:
    label = getattr(actor, "display_name", None) or str(actor)
    return SubmissionReview.objects.create(
        submission=submission,
        actor=actor,
        actor_label=label[:64],
        decision=decision,
        opinion=opinion,
        round=submission.round,
    )


def submission_url(submission: StationSubmission) -> str:
    return reverse("grades:station_submission_detail", args=[submission.pk])


# --- notifications --------------------------------------------------------------------------------
def _station_users(submission: StationSubmission):
    users = [
        a.user
        for a in RoleAssignment.objects.filter(role=Role.STATION, station_id=submission.station_id).select_related(
            "user"
        )
    ]
    return [*users, submission.submitted_by]


def _reviewer_users(submission: StationSubmission):
    return [
        a.user
        for a in RoleAssignment.objects.filter(
            role=Role.TEACHING_SECRETARY, college_id=submission.offering.college_id
        ).select_related("user")
    ]


def _notify(users, message: str, submission: StationSubmission, actor) -> None:
    from registrar.notifications.services import notify

    notify(
        users=[u for u in users if u is not None and u.pk != actor.pk], message=message, url=submission_url(submission)
    )


def _head(submission: StationSubmission) -> str:
    return f"{submission.station.name} · {submission.offering.code} {submission.offering.course.name}"


# --- writes ---------------------------------------------------------------------------------------
@transaction.atomic
def station_submission_create(*, station, offering: Offering, upload, actor) -> StationSubmission:
    """A station submits its students' results for ``offering`` (all rows valid, or nothing written)."""
    _check_station_staff(actor, station)
    offering = Offering.objects.select_for_update().select_related("course").get(pk=offering.pk)
    if not offering.grades.filter(student__station=station).exists():
        raise Http404(NO_STUDENTS_OF_STATION % {"offering": offering.code})
    _check_entering(offering)
    existing = StationSubmission.objects.filter(
        station=station,
        offering=offering,
        state__in=[StationSubmission.State.SUBMITTED, StationSubmission.State.RETURNED],
    ).first()
    if existing is not None:
        raise ApplicationError(ALREADY_OPEN % {"offering": offering.code, "id": existing.pk})
    rows = _parse_or_refuse(upload=upload, offering=offering, station=station)
    submission = StationSubmission(station=station, offering=offering, file=upload, rows=rows, submitted_by=actor)
    submission.full_clean()
    submission.save()
    submission_work_sync(submission=submission)
    _review(submission=submission, actor=actor, decision=SubmissionReview.Decision.SUBMIT)
    _notify(
        _reviewer_users(submission),
        gettext("%(head)s: station results submitted for review.") % {"head": _head(submission)},
        submission,
        actor,
    )
    return submission


@transaction.atomic
def station_submission_resubmit(
    *, submission: StationSubmission, upload, actor, opinion: str = ""
) -> StationSubmission:
    """The station sends a corrected file for a returned submission (round + 1)."""
    submission = _lock(submission, actor)
    _check_station_staff(actor, submission.station)
    _check_transition(submission, submission.resubmit, gettext("Resubmit"))
    offering = Offering.objects.select_for_update().get(pk=submission.offering_id)
    _check_entering(offering)
    rows = _parse_or_refuse(upload=upload, offering=offering, station=submission.station)
    submission.resubmit()
    submission.rows = rows
    submission.file = upload
    submission.submitted_by = actor
    submission.save()
    submission_work_sync(submission=submission)
    _review(submission=submission, actor=actor, decision=SubmissionReview.Decision.SUBMIT, opinion=opinion.strip())
    _notify(
        _reviewer_users(submission),
        gettext("%(head)s: corrected station results resubmitted (round %(round)s).")
        % {"head": _head(submission), "round": submission.round},
        submission,
        actor,
    )
    return submission


@transaction.atomic
def station_submission_return(*, submission: StationSubmission, actor, reason: str) -> StationSubmission:
    """The college returns a submission to the station with reasons."""
    submission = _lock(submission, actor)
    _check_reviewer(actor, submission.offering)
    _check_transition(submission, submission.return_to_station, gettext("Return"))
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REASON_REQUIRED)
    submission.return_to_station()
    submission.save()
    submission_work_sync(submission=submission)
    _review(submission=submission, actor=actor, decision=SubmissionReview.Decision.RETURN, opinion=reason)
    _notify(
        _station_users(submission),
        gettext("%(head)s: returned by the college — %(reason)s") % {"head": _head(submission), "reason": reason},
        submission,
        actor,
    )
    return submission


@transaction.atomic
def station_submission_accept(*, submission: StationSubmission, actor, opinion: str = "") -> StationSubmission:
    """The college accepts a submission: its rows are written into the offering's grades."""
    submission = _lock(submission, actor)
    _check_reviewer(actor, submission.offering)
    _check_transition(submission, submission.accept, gettext("Accept"))
    offering = Offering.objects.select_for_update().get(pk=submission.offering_id)
    _check_entering(offering)
    weights = offering_weights(offering)
    rows = {r["student_id"]: r for r in submission.rows}
    grades = {g.student_id: g for g in offering.grades.select_for_update().filter(student_id__in=list(rows))}
    now = timezone.now()
    changed = []
    for student_id, row in rows.items():
        grade = grades.get(student_id)
        if grade is None:
            raise ApplicationError(STUDENT_LEFT_SHEET % {"number": row["student_number"]})
        raw = {code: row["components"].get(code) for code, _w in weights}
        try:
            stored, result = evaluate(
                scale=offering.scale, rounding=offering.rounding, kind=offering.kind, weights=weights, raw=raw
            )
        except ScoreError as exc:
            raise ApplicationError(COMPOSITION_CHANGED % {"row": row["row"], "error": exc}) from None
        if result.passed is None and not result.mark:
            raise ApplicationError(COMPOSITION_CHANGED % {"row": row["row"], "error": ROW_NO_RESULT})
        changed.append(apply_result(grade, components=stored, result=result, actor=actor, now=now))
    Grade.objects.bulk_update(changed, RESULT_FIELDS, batch_size=500)
    _confirm_when_complete(offering, actor, now)
    submission.accept()
    submission.save()
    submission_work_sync(submission=submission)
    _review(
        submission=submission, actor=actor, decision=SubmissionReview.Decision.ACCEPT, opinion=(opinion or "").strip()
    )
    _notify(
        _station_users(submission),
        gettext("%(head)s: accepted into the records (%(count)s students).")
        % {"head": _head(submission), "count": len(changed)},
        submission,
        actor,
    )
    return submission


def _confirm_when_complete(offering: Offering, actor, now) -> bool:
    """C8: accepted station results become confirmed grades. Once the college has accepted results for
    every student on a correspondence sheet, the sheet is confirmed (认定) there and then, by the
    accepting reviewer: no instructor's submit and no second confirmation. A sheet that also lists
    full-time students, or still waits for another station's results, stays open."""
    from ..models import SheetEvent
    from ..permissions import is_academic_affairs
    from .entry import sheet_event_record

    grades = Grade.objects.filter(offering_id=offering.pk)
    if grades.filter(student__station__isnull=True).exists():
        return False
    if grades.filter(score__isnull=True, level="", mark="").exists():
        return False
    offering.confirm_station_results(by=actor, at=now)
    offering.save(update_fields=["sheet_state", "confirmed_by", "confirmed_at", "updated_at"])
    sheet_event_record(
        offering=offering,
        decision=SheetEvent.Decision.CONFIRM,
        actor=actor,
        role=Role.ACADEMIC_AFFAIRS if is_academic_affairs(actor) else Role.TEACHING_SECRETARY,
        opinion=gettext("Confirmed with the stations' results the college accepted."),
    )
    return True


# --- blank sheets: PDF and Excel ---------------------------------------------------------------
def blank_sheets_html(*, term, class_sheets, station=None) -> str:
    from registrar.documents.render import css_string

    institution = settings.REGISTRAR["INSTITUTION_NAME"]
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return render_to_string(
        "grades/blank_sheets_pdf.html",
        {
            "term": term,
            "class_sheets": [c for c in class_sheets if not c.is_empty],
            "station": station,
            "institution": institution,
            "printed_at": printed,
            "margin": {
                "header": css_string(institution),
                "footer": css_string(gettext("%(term)s · printed %(at)s") % {"term": term, "at": printed}),
                "page": css_string(gettext("Page")),
            },
        },
    )


def blank_sheets_pdf(*, term, class_sheets, station=None) -> bytes:
    from registrar.documents.render import render_pdf

    return render_pdf(blank_sheets_html(term=term, class_sheets=class_sheets, station=station))


def blank_sheets_xlsx(*, term, class_sheets) -> bytes:
    """One worksheet per offering (and class), headed like the upload expects; plus a summary sheet
    for each graduating class."""
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = new_workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cs in class_sheets:
        for sheet in cs.sheets:
            ws = wb.create_sheet(sheet_name(sheet.offering, taken))
            title = (
                gettext("Make-up grade sheet") if sheet.kind == Offering.Kind.MAKEUP else gettext("Term grade sheet")
            )
            append_row(ws, [f"{title} · {term} · {sheet.offering.code} {sheet.offering.course.name} · {cs.klass.name}"])
            ws["A1"].font = Font(bold=True, size=12)
            headers = [number_header(), name_header(), *[component_header(c) for c in sheet.components]]
            append_row(ws, headers)
            for cell in ws[2]:
                cell.font = bold
                cell.border = box
                cell.alignment = Alignment(horizontal="center")
            for student in sheet.students:
                append_row(ws, [student.student_number, student.name, *[None] * len(sheet.components)])
            for row in ws.iter_rows(min_row=3, max_row=ws.max_row, max_col=len(headers)):
                for cell in row:
                    cell.border = box
                row[0].number_format = "@"
            for i, width in enumerate([16, 12, *[16] * len(sheet.components)], start=1):
                ws.column_dimensions[get_column_letter(i)].width = width
            ws.freeze_panes = "C3"
        if cs.summary is not None:
            summary = cs.summary
            ws = wb.create_sheet(sheet_name_for_summary(cs.klass, taken))
            append_row(ws, [f"{gettext('Graduating class grade summary')} · {term} · {cs.klass.name}"])
            ws["A1"].font = Font(bold=True, size=12)
            append_row(
                ws,
                [
                    number_header(),
                    name_header(),
                    *[f"{c.name} ({c.credits})" for c in summary.courses],
                    gettext("Credits earned"),
                    gettext("Failures"),
                ],
            )
            for cell in ws[2]:
                cell.font = bold
            for row in summary.rows:
                append_row(
                    ws, [row.student.student_number, row.student.name, *row.cells, float(row.credits), row.failures]
                )
            ws.freeze_panes = "C3"
    if not wb.sheetnames:
        ws = wb.create_sheet(gettext("No sheets")[:31])
        append_row(ws, [gettext("No student of these classes is on an offering of this term.")])
    return workbook_bytes(wb)


def sheet_name_for_summary(klass, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "-", f"{gettext('Summary')} {klass.code}")[:31]
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name
