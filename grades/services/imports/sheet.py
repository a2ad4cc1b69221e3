"""Reading an import workbook: python-calamine (fast, read-only), header detection with
Chinese and English names, cell converters, and the error list every importer fills.

An error names the spreadsheet row as the user sees it (the header is usually row 1, so the
first data row is row 2) and the column by the header written in the file. Files are
all-or-nothing: an importer collects every error it can find and then raises ``ImportRefused``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from registrar import spreadsheets
from registrar.exceptions import ApplicationError

#: How many errors a refused file keeps (the rest are counted, not listed).
ERRORS_KEPT = 1000
#: How many rows from the top may come before the header row (a title, notes).
HEADER_SEARCH_ROWS = 10

FILE_EMPTY = _("The first sheet of the file is empty.")
FILE_NO_ROWS = _("The sheet has a header row but no data rows.")
COLUMN_MISSING = _("The sheet has no column “%(header)s” (accepted headers: %(aliases)s).")
COLUMN_TWICE = _("Two columns mean “%(header)s”: “%(first)s” and “%(second)s”.")
REQUIRED = _("This cell is required.")
NOT_A_NUMBER = _("“%(value)s” is not a number.")
NOT_A_WHOLE_NUMBER = _("“%(value)s” is not a whole number.")
NOT_A_DATE = _("“%(value)s” is not a date; write it as YYYY-MM-DD.")
NOT_A_FLAG = _("“%(value)s” is neither yes (是) nor no (否).")
NOT_A_CHOICE = _("“%(value)s” is not one of: %(choices)s.")
MORE_ERRORS = _("… and %(count)d more errors not listed.")
REFUSED = _("Nothing was imported: %(count)d errors in the file.")


def normalise(header) -> str:
    """A header as compared: lower case, without spaces, punctuation and brackets."""
    return re.sub(r"[\s_\-.·:：()（）\[\]【】*/、]+", "", force_str(header)).lower()


@dataclass(frozen=True)
class Column:
    """One column an importer understands: its key, the header written in templates, the
    accepted header names (Chinese and English) and whether the file must have it."""

    key: str
    header: str
    label: Promise
    aliases: tuple[str, ...] = ()
    required: bool = True
    help: Promise | str = ""
    example: tuple = ()

    def names(self) -> set[str]:
        return {normalise(n) for n in (self.header, self.key, force_str(self.label), *self.aliases)}


class ImportRefused(ApplicationError):
    """The file was refused and nothing was written; ``errors`` lists every problem found
    (at most ``ERRORS_KEPT``), ``error_count`` counts them all."""

    def __init__(self, errors: list[dict], *, error_count: int | None = None, total_rows: int = 0):
        self.errors = errors
        self.error_count = len(errors) if error_count is None else error_count
        self.total_rows = total_rows
        super().__init__(REFUSED % {"count": self.error_count})


@dataclass
class Errors:
    """The errors of one file, in the order found (capped at ``ERRORS_KEPT``)."""

    items: list[dict] = field(default_factory=list)
    count: int = 0

    def add(self, row: int | None, column: str, message) -> None:
        self.count += 1
        if len(self.items) < ERRORS_KEPT:
            self.items.append({"row": row, "column": force_str(column), "message": force_str(message)})

    def __bool__(self) -> bool:
        return self.count > 0

    def refuse(self, *, total_rows: int = 0) -> ImportRefused:
        return ImportRefused(sorted(self.items, key=_error_order), error_count=self.count, total_rows=total_rows)


def _error_order(e: dict):
    return (e["row"] is not None, e["row"] or 0)


@dataclass(frozen=True)
class Summary:
    """What an import wrote."""

    total_rows: int
    created: int = 0
    updated: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


Progress = Callable[[int], None] | None


# --- reading -------------------------------------------------------------------------------------
def read_rows(file) -> list[list]:
    """Every row of the first worksheet as Python values (empty cells are ``""``). ``file`` is a
    path or a binary file object. Row ``i`` of the result is spreadsheet row ``i + 1``. The file
    goes through the spreadsheet intake first; a file it refuses is refused with its message."""
    try:
        return spreadsheets.read_rows(file)
    except spreadsheets.SpreadsheetRefused as exc:
        raise ImportRefused([{"row": None, "column": "", "message": force_str(exc.message)}]) from None


@dataclass
class Layout:
    """Where the header is and which column (0-based) holds each key; ``headers`` are the
    header texts as written, by key."""

    header_row: int
    index: dict[str, int]
    headers: dict[str, str]

    def has(self, key: str) -> bool:
        return key in self.index


def locate_header(rows: list[list], columns: Sequence[Column], errors: Errors) -> Layout | None:
    """Find the header row among the first rows (the one naming most known columns), map its
    cells to column keys and report required columns that are missing or named twice."""
    if not rows or not any(_filled(r) for r in rows):
        errors.add(None, "", FILE_EMPTY)
        return None
    names = {c.key: c.names() for c in columns}
    best, best_hits = 0, -1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = {normalise(v) for v in row if v not in ("", None)}
        hits = sum(1 for n in names.values() if n & cells)
        if hits > best_hits:
            best, best_hits = i, hits
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    for j, value in enumerate(rows[best]):
        if value in ("", None):
            continue
        norm = normalise(value)
        for column in columns:
            if norm in names[column.key]:
                if column.key in index:
                    errors.add(
                        best + 1,
                        force_str(value),
                        COLUMN_TWICE
                        % {"header": column.header, "first": headers[column.key], "second": force_str(value).strip()},
                    )
                else:
                    index[column.key] = j
                    headers[column.key] = force_str(value).strip()
                break
    for column in columns:
        if column.required and column.key not in index:
            errors.add(
                best + 1,
                column.header,
                COLUMN_MISSING % {"header": column.header, "aliases": "、".join(_shown_aliases(column))},
            )
    return Layout(header_row=best, index=index, headers=headers)


def _shown_aliases(column: Column) -> list[str]:
    seen, shown = set(), []
    for name in (column.header, force_str(column.label), *column.aliases):
        if normalise(name) not in seen:
            seen.add(normalise(name))
            shown.append(name)
    return shown


def _filled(row) -> bool:
    return any(v != "" and v is not None and not (isinstance(v, str) and not v.strip()) for v in row)


def data_rows(rows: list[list], layout: Layout) -> Iterator[tuple[int, list]]:
    """(spreadsheet row number, cells) of each non-blank row below the header; short rows are
    padded so every mapped column can be indexed."""
    width = max(layout.index.values(), default=0) + 1
    for i in range(layout.header_row + 1, len(rows)):
        row = rows[i]
        if not _filled(row):
            continue
        if len(row) < width:
            row = list(row) + [""] * (width - len(row))
        yield i + 1, row


# --- cells -----------------------------------------------------------------------------------------
def text(value) -> str:
    """A cell as trimmed text; spreadsheet numbers lose a ``.0`` (2024001.0 → "2024001")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return force_str(value).strip()


class CellError(ValueError):
    """A cell that cannot be converted; ``str()`` is the message."""


def decimal(value) -> Decimal | None:
    if value in ("", None) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(force_str(NOT_A_NUMBER % {"value": value}))
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    try:
        number = Decimal(text(value))
    except InvalidOperation:
        raise CellError(force_str(NOT_A_NUMBER % {"value": text(value)})) from None
    if not number.is_finite():
        raise CellError(force_str(NOT_A_NUMBER % {"value": text(value)}))
    return number


def integer(value) -> int | None:
    number = decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError(force_str(NOT_A_WHOLE_NUMBER % {"value": text(value)}))
    return int(number)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def date(value) -> dt.date | None:
    if value in ("", None):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))  # a date cell stored as a plain number
    raw = text(value)
    if not raw:
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise CellError(force_str(NOT_A_DATE % {"value": raw}))


YES = {"是", "y", "yes", "true", "1", "√", "✓", "t", "抽考"}
NO = {"否", "n", "no", "false", "0", "×", "f", ""}


def flag(value) -> bool:
    raw = text(value).lower()
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError(force_str(NOT_A_FLAG % {"value": text(value)}))


def choice(value, mapping: dict[str, str], shown: Sequence[str]) -> str | None:
    """Map typed text onto a choice value (``mapping`` keys are normalised); None when blank."""
    raw = text(value)
    if not raw:
        return None
    found = mapping.get(normalise(raw))
    if found is None:
        raise CellError(force_str(NOT_A_CHOICE % {"value": raw, "choices": "、".join(shown)}))
    return found


LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_list(value) -> list[str]:
    """ "张三、李四, wangwu" → ["张三", "李四", "wangwu"] (order kept, repeats dropped)."""
    out: list[str] = []
    for part in LIST_SEPARATORS.split(text(value)):
        if part and part not in out:
            out.append(part)
    return out
