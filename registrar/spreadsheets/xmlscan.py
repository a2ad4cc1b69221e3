"""Where the cells of a worksheet are, found before python-calamine reads it.

calamine places each cell at the reference in its ``r`` attribute, or, when a ``<c>`` has no
``r``, right of the previous cell (rows likewise from ``<row r>`` or by counting); it then
allocates the rectangle from the first to the last non-empty cell, and python-calamine's
``to_python(skip_empty_area=False)`` the rectangle from A1. One cell at XFD1048576 (or two
cells far apart) is enough to ask for hundreds of GiB and abort the process. So every part of
the archive that holds ``sheetData`` is scanned here, streamed in chunks, and refused when a
cell (or the declared ``<dimension>``, or any ``r``/``ref`` reference) lies beyond the limits.

Two passes, the second only when the first cannot vouch for the file:

* **fast** (every file Excel, WPS, LibreOffice or openpyxl writes): each ``<c`` starts with a
  canonical ``r="…"`` whose reference is within the limits (one regular expression with a
  look-ahead built from the limits), no other attribute named ``r`` appears, and no element is
  namespace-prefixed. Cells are then exactly where their ``r`` says.
* **exact** (anything else: cells without ``r``, prefixed elements, odd spelling): an expat
  parse that counts positions the way calamine does, cell by cell. Malformed XML is refused.

The cost is a few regular-expression passes over the inflated XML (about 0.15 s of CPU for the
100,000-row import benchmark's 27 MB sheet).
"""

from __future__ import annotations

import re
from functools import lru_cache
from xml.parsers import expat

from .base import (
    ENCODING,
    MALFORMED,
    TOO_MANY_COLUMNS,
    TOO_MANY_ROWS,
    TOO_MANY_STRINGS,
    Limits,
    column_letters,
    parse_ref,
    refuse,
)

#: A tag (from its ``<``) longer than this is refused: it would only hide something.
MAX_TAG_BYTES = 1 << 20

_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00<", b"<\x00")
_XML_DECL = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']{0,40})[\"']")
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_UNIQUE_COUNT = re.compile(rb"uniqueCount\s*=\s*[\"']\s*\+?([0-9]+)")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']{0,200})[\"']")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([^\"']{0,200})[\"']")
_CANONICAL_CELL = re.compile(rb'<c r="([A-Za-z]*[0-9]*)"')
#: a namespace-prefixed cell (``<x:c``): left to the exact pass
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
#: an attribute named ``r`` that is not the first (canonical) attribute of ``<c`` or ``<row``: a
#: second ``r`` in a cell, or one spelled with spaces or quotes another way
_OTHER_R = re.compile(rb"r(?<=[\s\"']r)\s*=(?<!<c r=)(?<!<row r=)")


def _not_above(limit: int) -> bytes:
    """A regular expression for the whole numbers 1 … ``limit`` written without leading zeros."""
    s = str(limit)
    n = len(s)
    alternatives = []
    if n > 1:
        alternatives.append(b"[1-9][0-9]{0,%d}" % (n - 2))
    for i, ch in enumerate(s):
        low = 1 if i == 0 else 0
        top = int(ch) - 1
        if top >= low:
            alternatives.append(
                s[:i].encode() + b"[%d-%d]" % (low, top) + (b"[0-9]{%d}" % (n - i - 1) if n - i - 1 else b"")
            )
    alternatives.append(s.encode())
    return b"(?:" + b"|".join(alternatives) + b")"


def _letters_not_above(limit: int) -> bytes:
    """A regular expression for the column letters A … ``column_letters(limit)``, either case."""
    s = column_letters(limit)
    m = len(s)

    def either(ch: str) -> bytes:
        return b"[" + ch.encode() + ch.lower().encode() + b"]"

    alternatives = []
    if m > 1:
        alternatives.append(b"[A-Za-z]{1,%d}" % (m - 1))
    for i, ch in enumerate(s):
        if ch > "A":
            top = chr(ord(ch) - 1).encode()
            lower = b"[A-%sa-%s]" % (top, top.lower())
            rest = b"[A-Za-z]{%d}" % (m - i - 1) if m - i - 1 else b""
            alternatives.append(b"".join(either(c) for c in s[:i]) + lower + rest)
    alternatives.append(b"".join(either(c) for c in s))
    return b"(?:" + b"|".join(alternatives) + b")"


@lru_cache(maxsize=8)
def _flagged_cells(max_rows: int, max_columns: int) -> re.Pattern:
    """``<c`` tags that are not ``<c r="REF"`` with REF inside the limits."""
    allowed = _letters_not_above(max_columns) + _not_above(max_rows)
    return re.compile(rb'<c(?! r="' + allowed + rb'")[\s/>]')


def check_position(row: int, column: int, part: str, limits: Limits) -> None:
    if row > limits.max_rows:
        raise refuse(TOO_MANY_ROWS, part=part, row=f"{row:,}", limit=f"{limits.max_rows:,}")
    if column > limits.max_columns:
        raise refuse(
            TOO_MANY_COLUMNS,
            part=part,
            column=column_letters(min(column, 10**6)),
            number=f"{column:,}",
            limit=f"{limits.max_columns:,}",
        )


def check_reference_text(value: bytes | str, part: str, limits: Limits) -> None:
    """Every reference of an ``r``/``ref`` value ("B2", "A1:XFD1048576"), as far as it reads as one."""
    raw = value.encode("utf-8", "replace") if isinstance(value, str) else value
    for piece in re.split(rb"[:\s]+", raw.strip()):
        ref = parse_ref(piece.replace(b"$", b""))
        if ref is not None:
            check_position(ref[0], ref[1], part, limits)


def check_prolog(head: bytes, part: str) -> None:
    """A part encoded otherwise than UTF-8 (UTF-16 with or without its byte-order mark, or a
    declared GBK …) is refused: calamine would decode it, the scan here would not see it."""
    if head.startswith(_BOMS):
        raise refuse(ENCODING, part=part, encoding="UTF-16/32")
    m = _XML_DECL.match(head[:512])
    if m and m.group(1).strip().lower() not in _UTF8_NAMES:
        raise refuse(ENCODING, part=part, encoding=m.group(1).decode("ascii", "replace"))


def check_unique_count(count: bytes | str, limits: Limits) -> None:
    digits = count.strip().lstrip(b"+" if isinstance(count, bytes) else "+")
    if digits and (len(digits) > 12 or int(digits) > limits.max_cells):
        raise refuse(TOO_MANY_STRINGS, count=f"{int(digits[:12]):,}", limit=f"{limits.max_cells:,}")


class PartScanner:
    """The fast pass over one archive part, fed chunk by chunk. After ``close()``,
    ``needs_exact`` says whether the exact pass must run over the part."""

    def __init__(self, part: str, limits: Limits):
        self.part = part
        self.limits = limits
        self.strings = part.replace("\\", "/").lower().endswith("sharedstrings.xml")
        self.flagged = _flagged_cells(limits.max_rows, limits.max_columns)
        self.tail = b""
        self.started = False
        self.in_sheet = False
        self.needs_exact = False

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        """Scan ``chunk`` (after the tag carried over from the previous one). The last tag of a
        chunk that is not ``final`` may be cut: it is judged with the next chunk."""
        buf = self.tail + chunk if self.tail else chunk
        if not self.started:
            self.started = True
            check_prolog(buf[:512], self.part)
        if b"<!" in buf and (b"<!DOCTYPE" in buf or b"<!ENTITY" in buf):
            raise refuse(MALFORMED, part=self.part, detail="DOCTYPE")
        if self.strings and b"uniqueCount" in buf:  # calamine reserves room for that many texts
            for m in _UNIQUE_COUNT.finditer(buf):
                check_unique_count(m.group(1), self.limits)
        if not self.in_sheet:
            at = buf.find(b"sheetData")
            for m in _DIMENSION.finditer(buf, 0, at if at >= 0 else len(buf)):
                check_reference_text(m.group(1), self.part, self.limits)
            self.in_sheet = at >= 0
        cut = len(buf) if final else buf.rfind(b"<")
        if self.in_sheet and not self.needs_exact:
            self._cells(buf, max(cut, 0))
        if self.in_sheet and b"mergeCell" in buf:  # a merged range is a declared extent too
            for m in _MERGE.finditer(buf):
                check_reference_text(m.group(1), self.part, self.limits)
        if not final:
            self._carry(buf, cut)

    def close(self) -> None:
        """The end of the part: its last tag was scanned with the last chunk."""
        if self.tail:
            tail, self.tail = self.tail, b""
            self.feed(tail, final=True)

    def _cells(self, buf: bytes, upto: int) -> None:
        """Judge the cells starting before ``upto`` (a tag after it may be cut in two)."""
        pos = 0
        while True:
            m = self.flagged.search(buf, pos)
            if m is None or m.start() >= upto:
                break
            pos = m.end()
            cell = _CANONICAL_CELL.match(buf, m.start())
            ref = parse_ref(cell.group(1)) if cell else None
            if ref is None or ref[1] == 0:  # no r, or spelled otherwise: only the exact pass can place it
                self.needs_exact = True
                return
            check_position(ref[0], ref[1], self.part, self.limits)  # a canonical reference beyond the limits
        if _PREFIXED_CELL.search(buf) or _OTHER_R.search(buf):
            self.needs_exact = True

    def _carry(self, buf: bytes, at: int) -> None:
        """Keep the last tag (from its ``<``) for the next chunk, so no tag is judged cut in two."""
        if at < 0:
            self.tail = b""
            return
        if len(buf) - at > MAX_TAG_BYTES:
            raise refuse(MALFORMED, part=self.part, detail="tag longer than 1 MB")
        self.tail = buf[at:]


class _Positions:
    """calamine's cell cursor: the row from ``<row r>`` (else counted), the column from ``<c r>``
    (else one right of the previous cell)."""

    def __init__(self, part: str, limits: Limits):
        self.part, self.limits = part, limits
        self.row = 0  # 0-based, like calamine
        self.column = 0

    def start(self, name: str, attrs: dict) -> None:
        local = name.rpartition(":")[2]
        for key, value in attrs.items():
            if key.rpartition(":")[2] in ("r", "ref"):
                check_reference_text(value, self.part, self.limits)
        if local == "sst" and "uniqueCount" in attrs:
            check_unique_count(attrs["uniqueCount"], self.limits)
        r = attrs.get("r")
        if local == "row" and r is not None:
            ref = parse_ref(r)
            if ref is not None:
                self.row = ref[0] - 1
        elif local == "c":
            if r is not None:
                ref = parse_ref(r)
                if ref is None or ref[1] == 0:
                    return  # calamine refuses the workbook at this cell
                self.column = ref[1] - 1
                check_position(ref[0], ref[1], self.part, self.limits)
            else:
                check_position(self.row + 1, self.column + 1, self.part, self.limits)
            self.column += 1

    def end(self, name: str) -> None:
        if name.rpartition(":")[2] == "row":
            self.row += 1
            self.column = 0


def exact_scan(chunks, part: str, limits: Limits) -> None:
    """The exact pass: parse the part with expat and place every cell as calamine would."""
    positions = _Positions(part, limits)
    parser = expat.ParserCreate()

    def no_doctype(*_args):
        raise refuse(MALFORMED, part=part, detail="DOCTYPE")

    def declaration(_version, encoding, _standalone):
        if encoding and encoding.strip().lower().encode() not in _UTF8_NAMES:
            raise refuse(ENCODING, part=part, encoding=encoding)

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    parser.XmlDeclHandler = declaration
    parser.StartElementHandler = positions.start
    parser.EndElementHandler = positions.end
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise refuse(MALFORMED, part=part, detail=expat.ErrorString(exc.code)) from None
