"""The one writer of every xlsx the app produces (grade sheets, blank sheets, import templates,
the progression and status-change exports, the admin's exports).

Text that a spreadsheet program would run as a formula — starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (OWASP "CSV injection"), or their full-width forms — is
stored as a text cell with Excel's quote prefix: it shows exactly as entered and stays text
when the cell is edited. openpyxl alone turns any string starting with ``=`` into a live
formula. Numbers stay numbers (``-5`` is a number, ``"-5"`` is text); only strings are touched.
Characters XML cannot hold (control characters an import may have brought in) are replaced by
U+FFFD instead of failing the export.

Use ``new_workbook()``, ``append_row(ws, values)`` (instead of ``ws.append``) and
``workbook_bytes(wb)`` (instead of ``wb.save``); ``workbook_bytes`` also neutralises any cell
written another way, so nothing leaves as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

#: First characters that make a spreadsheet program read text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _clean(value):
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def as_text(cell) -> None:
    """Store ``cell``'s string as text, never as a formula."""
    cell.data_type = "s"
    cell.quotePrefix = True


def new_workbook():
    from openpyxl import Workbook

    return Workbook()


def append_row(ws, values: Iterable) -> None:
    """``ws.append(values)``, with formula-like text kept as text."""
    values = [_clean(v) for v in values]
    ws.append(values)
    row = ws.max_row
    for column, value in enumerate(values, start=1):
        if formula_like(value):
            as_text(ws.cell(row=row, column=column))


def neutralise(wb) -> None:
    """Every string cell of ``wb`` that would run as a formula becomes text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if (cell.data_type == "f" and isinstance(value, str)) or formula_like(value):
                    as_text(cell)


def workbook_bytes(wb) -> bytes:
    """The workbook as .xlsx bytes, after ``neutralise``."""
    neutralise(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_safe(value):
    """A CSV cell: formula-like text gets a leading apostrophe (OWASP), anything else is unchanged."""
    return "'" + value if formula_like(value) else value
