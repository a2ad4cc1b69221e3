"""Downloadable template workbooks: the header row, example rows, and a second sheet that
explains every column (accepted header names, required or not, accepted values)."""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from registrar.spreadsheets import append_row, new_workbook, workbook_bytes

from ...models import ImportJob
from .bulk_grades import GRADE_COLUMNS
from .sheet import Column
from .teaching import COURSE_COLUMNS, OFFERING_COLUMNS, PLAN_COLUMNS

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportJob.Kind.COURSES: COURSE_COLUMNS,
    ImportJob.Kind.PLANS: PLAN_COLUMNS,
    ImportJob.Kind.OFFERINGS: OFFERING_COLUMNS,
    ImportJob.Kind.GRADES: GRADE_COLUMNS,
}
#: The grade template shows the component columns most sheets use (the others are accepted too).
GRADE_TEMPLATE_KEYS = ("offering", "student", "name", "regular", "final", "score")


def template_columns(kind: str) -> tuple[Column, ...]:
    columns = COLUMNS[kind]
    if kind == ImportJob.Kind.GRADES:
        return tuple(c for c in columns if c.key in GRADE_TEMPLATE_KEYS)
    return columns


def template_filename(kind: str) -> str:
    return f"import-{kind}-template.xlsx"


def template_workbook(kind: str) -> bytes:
    """The template of ``kind`` as xlsx bytes."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = template_columns(kind)
    wb = new_workbook()
    ws = wb.active
    ws.title = _("Data")[:31]
    append_row(ws, [c.header for c in columns])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for cell, column in zip(ws[1], columns, strict=True):
        cell.font = bold
        if column.required:
            cell.fill = fill
    examples = max((len(c.example) for c in columns), default=0)
    for i in range(examples):
        append_row(ws, [c.example[i] if i < len(c.example) else "" for c in columns])
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(
            12, min(40, 4 + 2 * len(column.header) + max((len(str(e)) for e in column.example), default=0))
        )
        ws.cell(row=1, column=i).number_format = "@"
    ws.freeze_panes = "A2"

    notes = wb.create_sheet(_("Instructions")[:31])
    append_row(notes, [_("Column"), _("Required"), _("Also accepted as header"), _("Values")])
    for cell in notes[1]:
        cell.font = bold
    for column in COLUMNS[kind]:
        append_row(
            notes,
            [
                column.header,
                _("yes") if column.required else _("no"),
                "、".join(dict.fromkeys([force_str(column.label), column.key, *column.aliases])),
                force_str(column.help),
            ],
        )
    append_row(notes, [])
    append_row(
        notes,
        [
            _(
                "The first sheet is imported. A file with any bad row is refused as a whole: nothing is "
                "written and every bad row and column is listed. Delete the example rows before importing."
            )
        ],
    )
    for letter, width in zip("ABCD", (16, 10, 48, 70), strict=True):
        notes.column_dimensions[letter].width = width
    return workbook_bytes(wb)
