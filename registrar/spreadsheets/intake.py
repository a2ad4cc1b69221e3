"""The one way an uploaded spreadsheet is read (STYLE §9, "Spreadsheets").

``open_workbook(source)`` / ``read_rows(source)`` check the file, and only then hand it to
python-calamine. Before anything is parsed:

1. the size of the upload (``MAX_UPLOAD_BYTES``); an empty file;
2. what it is: an OLE compound file is an old .xls or a password-protected (encrypted) .xlsx;
   anything that is not a zip archive is not an .xlsx (CSV, text, .docx pictures …);
3. the zip's central directory: the number of parts, duplicate names, encrypted members,
   compression methods, the declared unpacked size of every part and of all of them
   (``MAX_UNPACKED_BYTES``) and each large part's compression ratio (``MAX_COMPRESSION_RATIO``:
   zip bombs); an .xlsx needs ``xl/workbook.xml``; .xlsb, .ods and macro-enabled workbooks
   (``vbaProject.bin``, Excel 4 macro sheets) are refused — macros are refused, never run;
4. every part is then inflated, streamed and never kept, which verifies its CRC and that it is
   no larger than declared (a lying header is "damaged"); embedded archives are opened in turn
   (declared sizes and ratios again, at most ``NESTED_DEPTH`` deep);
5. every part that holds ``sheetData`` is scanned for the positions of its cells and its
   declared ``<dimension>`` (``xmlscan``: ``MAX_ROWS`` and ``MAX_COLUMNS``), parts must be UTF-8
   and without DOCTYPE, the shared-string table's declared size is bounded;
6. after parsing a sheet and before converting it to Python lists, its extent (from A1) is
   checked again against ``MAX_ROWS``, ``MAX_COLUMNS`` and ``MAX_CELLS``.

Every refusal is a ``SpreadsheetRefused`` (an ``ApplicationError``) whose message names the
problem of the file; callers show it the way they show their other errors. python-calamine is
always opened as .xlsx, never by guessing the format (which would also try .xls, .xlsb, .ods).
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass

from .base import (
    COMPRESSION_RATIO,
    DAMAGED,
    ENCRYPTED,
    FILE_EMPTY,
    FILE_TOO_LARGE,
    MACROS,
    NESTED_ARCHIVE,
    NO_SHEET,
    NOT_XLSX,
    OLD_XLS,
    TOO_MANY_CELLS,
    TOO_MANY_PARTS,
    UNPACKED_TOO_LARGE,
    UNREADABLE,
    Limits,
    SpreadsheetRefused,
    refuse,
    size_text,
)
from .xmlscan import PartScanner, check_position, exact_scan

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
CHUNK_BYTES = 4 << 20
#: Parts smaller than this are not judged by their compression ratio (tiny XML compresses well).
RATIO_FLOOR_BYTES = 1 << 20
#: Archives inside the workbook (embedded objects) are opened this deep, no deeper.
NESTED_DEPTH = 2
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    UnicodeDecodeError,
    RuntimeError,
)


@dataclass
class Checked:
    """A file that passed the checks: a path python-calamine can open as .xlsx, or its bytes."""

    path: str | None = None
    data: bytes | None = None


def _norm(name: str) -> str:
    return name.replace("\\", "/").lower()


# --- 1.–2. the upload itself -----------------------------------------------------------------
def _load(source, limits: Limits) -> Checked:
    """The upload as a path (files already stored) or bytes (uploads, file objects), size-checked
    before it is read."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        _check_size(os.path.getsize(path), limits)
        return Checked(path=path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), limits)
        return Checked(data=data)
    size = getattr(source, "size", None)
    if isinstance(size, int):
        _check_size(size, limits)
    temporary = getattr(source, "temporary_file_path", None)
    if callable(temporary):  # a large upload Django already streamed to disk
        return Checked(path=temporary())
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read(limits.max_upload_bytes + 1)
    if hasattr(source, "seek"):
        source.seek(0)
    _check_size(len(data), limits)
    return Checked(data=bytes(data))


def _check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise refuse(FILE_EMPTY)
    if size > limits.max_upload_bytes:
        raise refuse(FILE_TOO_LARGE, size=size_text(size), limit=size_text(limits.max_upload_bytes))


def _open(checked: Checked):
    return open(checked.path, "rb") if checked.path is not None else io.BytesIO(checked.data)


def _check_kind(handle) -> None:
    head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        handle.seek(0)
        if ENCRYPTED_PACKAGE in handle.read():  # an encrypted OOXML package lives in an OLE file
            raise refuse(ENCRYPTED)
        raise refuse(OLD_XLS)
    if not head.startswith(ZIP_MAGIC):
        raise refuse(NOT_XLSX)
    handle.seek(0)


# --- 3.–5. the archive ---------------------------------------------------------------------------
def _check_directory(infos, limits: Limits, *, budget: int) -> int:
    """Declared sizes, ratios, names and methods of one archive's parts; returns their total.
    (The total first: a part declared huge is "too large unpacked", not "compressed too much".)"""
    if len(infos) > limits.max_parts:
        raise refuse(TOO_MANY_PARTS, count=f"{len(infos):,}", limit=f"{limits.max_parts:,}")
    seen: set[str] = set()
    for info in infos:
        name = _norm(info.filename)
        if name in seen:
            raise refuse(DAMAGED, detail=f"two parts named {info.filename}")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise refuse(ENCRYPTED)
        if info.compress_type not in _COMPRESSIONS:
            raise refuse(DAMAGED, detail=f"compression method {info.compress_type}")
    total = sum(info.file_size for info in infos)
    if total > budget:
        shown = total + limits.max_unpacked_bytes - budget  # with what the enclosing archive unpacks to
        raise refuse(UNPACKED_TOO_LARGE, size=size_text(shown), limit=size_text(limits.max_unpacked_bytes))
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise refuse(
                COMPRESSION_RATIO,
                part=info.filename,
                ratio=f"{info.file_size // max(info.compress_size, 1):,}",
                limit=limits.max_ratio,
            )
    return total


def _check_workbook_parts(names: set[str]) -> None:
    if "xl/workbook.xml" not in names or names & {"xl/workbook.bin", "content.xml", "mimetype"}:
        raise refuse(NOT_XLSX)
    if "xl/vbaproject.bin" in names or any(n.startswith("xl/macrosheets/") for n in names):
        raise refuse(MACROS)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, *, depth: int, budget: int) -> bool:
    """Stream one part through the XML scan (or, for an embedded archive, into memory and open it).
    Returns whether the part needs the exact pass."""
    scanner = PartScanner(info.filename, limits)
    nested: bytearray | None = None
    size = 0
    with zf.open(info) as stream:  # zipfile stops at the declared size and checks the CRC at the end
        while chunk := stream.read(CHUNK_BYTES):
            if not size and chunk.startswith(ZIP_MAGIC):
                nested = bytearray()
            size += len(chunk)
            if nested is not None:
                nested += chunk
            else:
                scanner.feed(chunk)
    if size != info.file_size:
        raise refuse(DAMAGED, detail=f"{info.filename} is shorter than declared")
    if nested is not None:
        _check_nested(bytes(nested), info.filename, limits, depth=depth + 1, budget=budget)
        return False
    scanner.close()
    return scanner.needs_exact


def _check_nested(data: bytes, part: str, limits: Limits, *, depth: int, budget: int) -> None:
    """An archive inside the workbook (an embedded object): nothing reads it, but it must not be
    a bomb either: declared sizes and ratios, its own archives in turn."""
    if depth > NESTED_DEPTH:
        raise refuse(NESTED_ARCHIVE, depth=NESTED_DEPTH, part=part)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            infos = [i for i in inner.infolist() if not i.is_dir()]
            used = _check_directory(infos, limits, budget=budget)
            for info in infos:
                with inner.open(info) as stream:
                    is_archive = stream.read(4) == ZIP_MAGIC
                if is_archive:
                    _check_nested(
                        inner.read(info), f"{part}/{info.filename}", limits, depth=depth + 1, budget=budget - used
                    )
    except SpreadsheetRefused:
        raise
    except _ARCHIVE_ERRORS:
        return  # not a readable archive after all: just bytes nobody opens


def check_upload(source, limits: Limits | None = None) -> Checked:
    """Check ``source`` (a path, bytes or a file object such as an upload) without parsing it as a
    spreadsheet; raise ``SpreadsheetRefused`` naming the problem, or return it ready to open."""
    limits = limits or Limits.from_settings()
    checked = _load(source, limits)
    with _open(checked) as handle:
        _check_kind(handle)
        try:
            with zipfile.ZipFile(handle) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
                total = _check_directory(infos, limits, budget=limits.max_unpacked_bytes)
                _check_workbook_parts({_norm(i.filename) for i in infos})
                for info in infos:
                    if _inflate(zf, info, limits, depth=0, budget=limits.max_unpacked_bytes - total):
                        with zf.open(info) as stream:
                            exact_scan(iter(lambda s=stream: s.read(CHUNK_BYTES), b""), info.filename, limits)
        except SpreadsheetRefused:
            raise
        except _ARCHIVE_ERRORS as exc:
            raise refuse(DAMAGED, detail=_detail(exc)) from None
    return checked


def _detail(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:80]


# --- parsing, after the checks ---------------------------------------------------------------------
class Workbook:
    """A checked workbook opened with python-calamine. ``rows(sheet)`` is every row of a sheet from
    A1 (python-calamine's ``to_python(skip_empty_area=False)``: empty cells are ``""``)."""

    def __init__(self, calamine_workbook, limits: Limits):
        self._workbook = calamine_workbook
        self._limits = limits

    @property
    def sheet_names(self) -> list[str]:
        return list(self._workbook.sheet_names)

    def rows(self, sheet: int | str = 0) -> list[list]:
        try:
            if isinstance(sheet, int):
                found = self._workbook.get_sheet_by_index(sheet)
            else:
                found = self._workbook.get_sheet_by_name(sheet)
        except BaseException as exc:  # noqa: BLE001 - calamine raises several types, pyo3 panics included
            _reraise_system(exc)
            raise refuse(UNREADABLE, detail=_detail(exc)) from None
        end = found.end
        if end is None:
            return []
        rows, columns = end[0] + 1, end[1] + 1
        part = found.name
        check_position(rows, columns, part, self._limits)
        if rows * columns > self._limits.max_cells:
            raise refuse(
                TOO_MANY_CELLS,
                sheet=part,
                rows=f"{rows:,}",
                columns=f"{columns:,}",
                limit=f"{self._limits.max_cells:,}",
            )
        try:
            return found.to_python(skip_empty_area=False)
        except BaseException as exc:  # noqa: BLE001
            _reraise_system(exc)
            raise refuse(UNREADABLE, detail=_detail(exc)) from None


def _reraise_system(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
        raise exc


def open_workbook(source, limits: Limits | None = None) -> Workbook:
    """Check ``source`` (``check_upload``), then open it with python-calamine as .xlsx."""
    from python_calamine import CalamineWorkbook

    limits = limits or Limits.from_settings()
    checked = check_upload(source, limits)
    try:
        if checked.path is not None and checked.path.endswith(".xlsx"):
            workbook = CalamineWorkbook.from_path(checked.path)
        else:  # from bytes the format is guessed: it can only be .xlsx now (xls, xlsb, ods were refused)
            data = checked.data
            if data is None:
                with open(checked.path, "rb") as handle:
                    data = handle.read()
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # noqa: BLE001 - calamine raises several types, pyo3 panics included
        _reraise_system(exc)
        raise refuse(UNREADABLE, detail=_detail(exc)) from None
    if not workbook.sheet_names:
        raise refuse(NO_SHEET)
    return Workbook(workbook, limits)


def read_rows(source, sheet: int | str = 0, limits: Limits | None = None) -> list[list]:
    """Every row of one sheet (the first by default) of the checked workbook ``source``."""
    return open_workbook(source, limits).rows(sheet)
