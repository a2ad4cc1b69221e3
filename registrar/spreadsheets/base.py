"""What every part of the spreadsheet kernel shares: the limits (``REGISTRAR["SPREADSHEETS"]``),
the refusal every reader raises and its messages, and cell-reference arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError

# --- messages (tests import these) -------------------------------------------------------------
FILE_EMPTY = _("The file is empty.")
FILE_TOO_LARGE = _("The file is %(size)s; files up to %(limit)s are accepted.")
NOT_XLSX = _(
    "This file is not an Excel workbook (.xlsx). Open it in Excel or WPS, save it as “Excel Workbook "
    "(*.xlsx)” and upload that file."
)
OLD_XLS = _(
    "This is an old Excel 97–2003 workbook (.xls). Open it in Excel or WPS, save it as “Excel Workbook "
    "(*.xlsx)” and upload that file."
)
ENCRYPTED = _(
    "This workbook is protected by a password (encrypted), so it cannot be read. Remove the password "
    "in Excel (File → Info → Protect Workbook) and upload it again."
)
MACROS = _(
    "This workbook contains macros (.xlsm). Workbooks with macros are refused, not run: save it as “Excel "
    "Workbook (*.xlsx)”, without macros, and upload that file."
)
DAMAGED = _(
    "The workbook is damaged or incomplete: its archive cannot be read (%(detail)s). Open it in Excel, "
    "save it again and upload the new file."
)
TOO_MANY_PARTS = _("The workbook is made of %(count)s parts; at most %(limit)s are accepted.")
UNPACKED_TOO_LARGE = _("The workbook unpacks to %(size)s; at most %(limit)s is accepted.")
COMPRESSION_RATIO = _(
    "The part “%(part)s” of the workbook is compressed %(ratio)s to 1, far more than a spreadsheet "
    "(at most %(limit)s to 1): the file looks like a zip bomb and is refused."
)
NESTED_ARCHIVE = _(
    "The workbook contains embedded archives nested more than %(depth)s deep (“%(part)s”): remove "
    "the embedded files and upload it again."
)
ENCODING = _(
    "The part “%(part)s” of the workbook is not encoded in UTF-8 (%(encoding)s), as Excel always saves "
    "it: open the file in Excel or WPS and save it again as .xlsx."
)
MALFORMED = _(
    "The part “%(part)s” of the workbook is not valid XML (%(detail)s): open the file in Excel or WPS "
    "and save it again as .xlsx."
)
TOO_MANY_ROWS = _(
    "The sheet in “%(part)s” reaches (or declares) row %(row)s; at most %(limit)s rows are "
    "accepted. Delete the empty rows below your data (or split the file) and upload it again."
)
TOO_MANY_COLUMNS = _(
    "The sheet in “%(part)s” reaches (or declares) column %(column)s (column %(number)s); at most "
    "%(limit)s columns are accepted. Delete the empty columns to the right of your data and upload "
    "it again."
)
TOO_MANY_CELLS = _(
    "The sheet “%(sheet)s” spans %(rows)s rows × %(columns)s columns; at most %(limit)s cells are "
    "accepted. Delete the empty rows and columns around your data and upload it again."
)
TOO_MANY_STRINGS = _("The workbook declares %(count)s different texts; at most %(limit)s are accepted.")
NO_SHEET = _("The workbook has no worksheet.")
UNREADABLE = _(
    "The workbook could not be read (%(detail)s). Open it in Excel or WPS, save it again as .xlsx and "
    "upload the new file."
)


class SpreadsheetRefused(ApplicationError):
    """An uploaded spreadsheet was refused before (or while) it was parsed. ``message`` names the
    problem of the file; nothing was read from it and nothing was written."""


def refuse(message, **params) -> SpreadsheetRefused:
    if params:
        message = message % {k: (_short(v) if k in _FROM_THE_FILE else v) for k, v in params.items()}
    return SpreadsheetRefused(message)


#: Message parameters whose text comes from the file itself.
_FROM_THE_FILE = {"part", "detail", "sheet", "encoding"}


def _short(text, limit: int = 60) -> str:
    """Part names and details in messages come from the file: keep them short and printable."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size_text(n: int) -> str:
    return str(filesizeformat(n))


# --- limits --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """``REGISTRAR["SPREADSHEETS"]``: what an uploaded workbook may be (see README, "Spreadsheets")."""

    max_upload_bytes: int
    max_unpacked_bytes: int
    max_ratio: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_parts: int

    @classmethod
    def from_settings(cls) -> Limits:
        conf = settings.REGISTRAR["SPREADSHEETS"]
        return cls(
            max_upload_bytes=int(conf["MAX_UPLOAD_BYTES"]),
            max_unpacked_bytes=int(conf["MAX_UNPACKED_BYTES"]),
            max_ratio=int(conf["MAX_COMPRESSION_RATIO"]),
            max_rows=int(conf["MAX_ROWS"]),
            max_columns=int(conf["MAX_COLUMNS"]),
            max_cells=int(conf["MAX_CELLS"]),
            max_parts=int(conf["MAX_PARTS"]),
        )


# --- cell references, read the way python-calamine (calamine's get_row_column) reads them ----------
_REF = re.compile(rb"([A-Za-z]*)([0-9]*)\Z")


def column_letters(number: int) -> str:
    """1 → A, 26 → Z, 27 → AA, 16384 → XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes | str) -> int:
    """A → 1 … (either case, as calamine reads it); 0 for no letters."""
    number = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.upper().decode("ascii"):
        number = number * 26 + (ord(ch) - 64)
    return number


def parse_ref(value: bytes | str) -> tuple[int, int] | None:
    """A cell reference as (row, column), both 1-based (column 0 when it has no letters), or None
    when calamine would refuse it (it then reports an error instead of placing a cell)."""
    raw = value.encode("utf-8", "replace") if isinstance(value, str) else value
    m = _REF.match(raw)
    if m is None or not m.group(2):
        return None
    row = int(m.group(2)) if len(m.group(2)) <= 15 else 10**15  # calamine's u32 wraps; far out either way
    if row == 0:
        return None
    letters = m.group(1)
    column = column_number(letters) if len(letters) <= 10 else 26**10
    return row, column
