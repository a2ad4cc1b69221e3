"""R4: a generated corpus of hostile spreadsheets (nothing binary is committed).

``corpus(base)`` returns more than 200 ``Hostile`` files for one upload door. ``base`` is a valid
workbook for that door (its rows); many files are that valid workbook plus one hostile change, so
the refusal is due to the change. Two families:

* **structural** files (``expect`` is the intake's message constant): not a zip at all (random
  bytes, CSV and text in several encodings, HTML, PDF, .docx, .ods, .xlsb …), old .xls and
  password-protected (OLE) files, truncated and corrupted archives, lying sizes, odd compression,
  macros, zip bombs (compression ratio, declared sizes, overlapping entries, nested archives),
  cells and dimensions far out (XFD1048576 in a dozen spellings, 1,000,000 rows declared, a real
  file just over the row limit), wrong encodings, DOCTYPE and entities, damaged XML;
* **content** files (``expect`` is None: the door's own row-and-column errors): wrong types in the
  cells the door checks (text, booleans, dates, error cells, formulas, huge numbers …), merged
  cells, formulas, missing / duplicated / misplaced headers, empty sheets and workbooks,
  duplicate rows. Each also has one row whose identifier cell is empty (``orphan``), so it is
  malformed for every door, free-text ones included; the hostile cells still go through each
  door's parsing.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import random
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

from registrar.spreadsheets import base as msg

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}"><fonts count="1"><font/></fonts>'
    '<fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/>'
    '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
    "</styleSheet>"
)
EPOCH = dt.date(1899, 12, 30)


@dataclass
class Hostile:
    name: str
    kind: str
    data: bytes
    expect: object = None  # the intake's message (structural files) or None (the door's own errors)


@dataclass(frozen=True)
class Error:
    """An error cell (t="e")."""

    code: str


@dataclass(frozen=True)
class Formula:
    """A formula cell with an optional cached value."""

    text: str
    cached: object = None


@dataclass
class Base:
    """A valid workbook for one door: ``rows`` (header rows first), where the data starts, the
    identifier column and the columns whose type the door checks."""

    rows: list[list]
    first_data: int
    key: int
    typed: list[int] = field(default_factory=list)
    sheet_name: str = "Sheet1"
    orphan: int | None = None  # the column the orphan row fills (default: the first after the key)

    @property
    def header(self) -> list[list]:
        return self.rows[: self.first_data]

    @property
    def data(self) -> list[list]:
        return self.rows[self.first_data :]


# --- a minimal, fully controllable .xlsx writer --------------------------------------------------
def col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Formula):
        cached = "" if value.cached is None else f"<v>{escape(str(value.cached))}</v>"
        kind = ' t="str"' if isinstance(value.cached, str) else ""
        return f'<c r="{ref}"{kind}><f>{escape(value.text)}</f>{cached}</c>'
    if isinstance(value, Error):
        return f'<c r="{ref}" t="e"><v>{escape(value.code)}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="1"><v>{(value - EPOCH).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def sheet_xml(rows, *, dimension: str | None = None, merges=(), extra: str = "", head: str = "", tail: str = "") -> str:
    body = []
    for i, row in enumerate(rows, start=1):
        cells = "".join(cell(f"{col(j)}{i}", v) for j, v in enumerate(row, start=1))
        body.append(f'<row r="{i}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    merge = (
        (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>")
        if merges
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" '
        f'xmlns:r="{REL_NS}">{head}{dim}<sheetData>{"".join(body)}{extra}</sheetData>{merge}{tail}</worksheet>'
    )


def package(
    sheets,
    *,
    parts: dict | None = None,
    strings: str | None = None,
    states=None,
    omit=(),
    workbook_xml: str | None = None,
    compression=zipfile.ZIP_DEFLATED,
) -> bytes:
    """An .xlsx from ``sheets`` = [(name, xml str or bytes)], plus other ``parts``."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_CT}"/>'
        for i in range(1, len(sheets) + 1)
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    states = states or {}
    sheet_tags = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"'
        + (f' state="{states[i - 1]}"' if i - 1 in states else "")
        + "/>"
        for i, (name, _xml) in enumerate(sheets, start=1)
    )
    workbook = workbook_xml or (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
        f"<sheets>{sheet_tags}</sheets></workbook>"
    )
    wb_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    wb_rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
    if strings is not None:
        wb_rels += f'<Relationship Id="rId{len(sheets) + 2}" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
    files = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": rels,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f"{wb_rels}</Relationships>",
        "xl/styles.xml": STYLES,
    }
    for i, (_name, xml) in enumerate(sheets, start=1):
        files[f"xl/worksheets/sheet{i}.xml"] = xml
    if strings is not None:
        files["xl/sharedStrings.xml"] = strings
    files.update(parts or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in files.items():
            if name not in omit:
                zf.writestr(name, data)
    return buffer.getvalue()


def from_rows(base: Base, rows=None, **kwargs) -> bytes:
    sheet_kwargs = {k: kwargs.pop(k) for k in ("dimension", "merges", "extra", "head", "tail") if k in kwargs}
    return package([(base.sheet_name, sheet_xml(base.rows if rows is None else rows, **sheet_kwargs))], **kwargs)


def zip_of(parts: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def zeros_member(size: int) -> bytes:
    """A zip holding ``size`` zero bytes as one member (compressed about 1000 to 1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.bin", "w", force_zip64=True) as f:
        block = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    return buffer.getvalue()


def patch_size(data: bytes, member: str, *, declared: int) -> bytes:
    """Rewrite the declared uncompressed size of ``member`` (local header and central directory)."""
    out = bytearray(data)
    name = member.encode()
    at = 0
    while (at := out.find(b"PK\x03\x04", at)) >= 0:
        n, m = struct.unpack_from("<HH", out, at + 26)
        if bytes(out[at + 30 : at + 30 + n]) == name:
            struct.pack_into("<I", out, at + 22, declared)
        at += 4
    at = 0
    while (at := out.find(b"PK\x01\x02", at)) >= 0:
        n = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46 : at + 46 + n]) == name:
            struct.pack_into("<I", out, at + 24, declared)
        at += 4
    return bytes(out)


def patch_field(data: bytes, signature: bytes, offset: int, fmt: str, value) -> bytes:
    """Set one field of every record with ``signature`` (e.g. the method of each entry)."""
    out = bytearray(data)
    at = 0
    while (at := out.find(signature, at)) >= 0:
        struct.pack_into(fmt, out, at + offset, value)
        at += 4
    return bytes(out)


def ole(stream_names: list[str], size: int = 4096) -> bytes:
    """Enough of an OLE compound file to be recognised (magic, then directory names in UTF-16)."""
    body = b"".join(n.encode("utf-16-le") + b"\0\0" for n in stream_names)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + body + b"\0" * max(0, size - len(body) - 512)


# --- the corpus --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _door_independent() -> tuple[Hostile, ...]:
    """Files that no door's data can make valid (built once per test session)."""
    rng = random.Random(8)
    out: list[Hostile] = []

    def add(name, kind, data, expect):
        out.append(Hostile(name, kind, data, expect))

    add("empty", "not an xlsx", b"", msg.FILE_EMPTY)
    for size in (1, 2, 7, 100, 513, 4096, 65536, 1 << 20, 3 << 20):
        add(f"random-{size}", "not an xlsx", rng.randbytes(size), msg.NOT_XLSX)
    for seed in range(3):
        add(
            f"random-after-zip-magic-{seed}",
            "not an xlsx",
            b"PK\x03\x04" + random.Random(seed).randbytes(3000),
            msg.DAMAGED,
        )
    csv_text = "学号,姓名,期末\n2024000001,张三,80\n2024000002,李四,=1+1\n"
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-be", "big5", "latin-1"):
        data = csv_text.encode(encoding, "replace")
        add(f"csv-{encoding}", "not an xlsx (CSV, wrong encoding)", data, msg.NOT_XLSX)
    add("tsv", "not an xlsx", csv_text.replace(",", "\t").encode(), msg.NOT_XLSX)
    add("json", "not an xlsx", b'[{"student": "2024000001", "final": 80}]', msg.NOT_XLSX)
    add("html-table", "not an xlsx", "<html><table><tr><td>学号</td></tr></table></html>".encode(), msg.NOT_XLSX)
    add(
        "spreadsheetml-2003",
        "not an xlsx",
        b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:'
        b'office:spreadsheet"><Worksheet ss:Name="S"><Table/></Worksheet></Workbook>',
        msg.NOT_XLSX,
    )
    add("pdf", "not an xlsx", b"%PDF-1.7\n" + b"0" * 2000, msg.NOT_XLSX)
    add("png", "not an xlsx", b"\x89PNG\r\n\x1a\n" + bytes(2000), msg.NOT_XLSX)
    add("gif", "not an xlsx", b"GIF89a" + bytes(500), msg.NOT_XLSX)
    add("rtf", "not an xlsx", rb"{\rtf1\ansi 2024000001 80}", msg.NOT_XLSX)
    add("xml-text", "not an xlsx", b'<?xml version="1.0"?><rows><row>2024000001</row></rows>', msg.NOT_XLSX)
    add("yaml", "not an xlsx", "- 学号: 2024000001\n  期末: 80\n".encode(), msg.NOT_XLSX)
    add("pk-text", "not an xlsx", b"PKthis only starts like a zip", msg.NOT_XLSX)
    add("zip-end-record-only", "not an xlsx", b"PK\x05\x06" + bytes(18), msg.NOT_XLSX)
    valid = package([("S", sheet_xml([["学号", "期末"], ["2024000001", 80]]))])
    add("gzip-of-xlsx", "not an xlsx", gzip.compress(valid), msg.NOT_XLSX)
    add("bz2-of-xlsx", "not an xlsx", bz2.compress(valid), msg.NOT_XLSX)
    add("self-extracting", "not an xlsx", b"MZ" + bytes(1000) + valid, msg.NOT_XLSX)
    add(
        "docx",
        "not an xlsx (other Office file)",
        zip_of({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}),
        msg.NOT_XLSX,
    )
    add("pptx", "not an xlsx (other Office file)", zip_of({"ppt/presentation.xml": "<p/>"}), msg.NOT_XLSX)
    add(
        "ods",
        "not an xlsx (other Office file)",
        zip_of({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<office:document/>"}),
        msg.NOT_XLSX,
    )
    add(
        "xlsb",
        "not an xlsx (other Office file)",
        zip_of({"[Content_Types].xml": "<Types/>", "xl/workbook.bin": bytes(64)}),
        msg.NOT_XLSX,
    )
    add(
        "xlsx-and-ods",
        "not an xlsx (other Office file)",
        package([("S", sheet_xml([["a"]]))], parts={"content.xml": "<x/>"}),
        msg.NOT_XLSX,
    )
    add("zip-of-text", "not an xlsx", zip_of({"readme.txt": "hello"}), msg.NOT_XLSX)
    add("zip-without-parts", "not an xlsx", zip_of({}) or b"", msg.NOT_XLSX)
    add("zip-content-types-only", "not an xlsx", zip_of({"[Content_Types].xml": "<Types/>"}), msg.NOT_XLSX)
    add("numbers", "not an xlsx (other Office file)", zip_of({"Index/Document.iwa": bytes(100)}), msg.NOT_XLSX)
    add("zip-holding-an-xlsx", "not an xlsx", zip_of({"grades.xlsx": valid}), msg.NOT_XLSX)
    add("jar", "not an xlsx", zip_of({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0"}), msg.NOT_XLSX)
    add(
        "no-workbook-part", "not an xlsx", package([("S", sheet_xml([["a"]]))], omit=("xl/workbook.xml",)), msg.NOT_XLSX
    )

    add("xls-biff8", "old .xls", ole(["Root Entry", "Workbook", "SummaryInformation"]), msg.OLD_XLS)
    add("xls-biff5", "old .xls", ole(["Root Entry", "Book"]), msg.OLD_XLS)
    add("doc-97", "old .xls", ole(["Root Entry", "WordDocument"]), msg.OLD_XLS)
    for variant, streams in (
        ("agile", ["EncryptionInfo", "EncryptedPackage"]),
        ("standard", ["EncryptedPackage", "EncryptionInfo", "\x06DataSpaces"]),
        ("large", ["Root Entry", "EncryptedPackage"]),
    ):
        add(
            f"password-{variant}",
            "password-protected",
            ole(streams, 8192 if variant == "large" else 4096),
            msg.ENCRYPTED,
        )
    add("zipcrypto-flag", "password-protected", patch_field(valid, b"PK\x01\x02", 8, "<H", 0x1), msg.ENCRYPTED)

    for fraction in (0.05, 0.1, 0.2, 0.35, 0.45, 0.5, 0.55, 0.65, 0.8, 0.95, 0.99):
        add(f"truncated-{int(fraction * 100)}", "truncated zip", valid[: int(len(valid) * fraction)], msg.DAMAGED)
    add("truncated-end-record", "truncated zip", valid[:-10], msg.DAMAGED)
    sheet_at = valid.find(b"xl/worksheets/sheet1.xml") + 40
    for i, shift in enumerate((0, 5, 11, 23)):
        corrupt = bytearray(valid)
        for k in range(4):
            corrupt[sheet_at + shift + k] ^= 0xFF
        add(f"corrupted-{i}", "corrupted zip", bytes(corrupt), msg.DAMAGED)
    add("crc-wrong", "corrupted zip", patch_field(valid, b"PK\x01\x02", 16, "<I", 0xDEADBEEF), msg.DAMAGED)
    add("size-understated", "lying sizes", patch_size(valid, "xl/worksheets/sheet1.xml", declared=20), msg.DAMAGED)
    add("size-overstated", "lying sizes", patch_size(valid, "xl/worksheets/sheet1.xml", declared=5000), msg.DAMAGED)
    add("bzip2-method", "corrupted zip", patch_field(valid, b"PK\x01\x02", 10, "<H", 12), msg.DAMAGED)
    add("lzma-method", "corrupted zip", patch_field(valid, b"PK\x01\x02", 10, "<H", 14), msg.DAMAGED)
    add("deflate64-method", "corrupted zip", patch_field(valid, b"PK\x01\x02", 10, "<H", 9), msg.DAMAGED)
    dup = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(io.BytesIO(valid)) as src, zipfile.ZipFile(dup, "w") as zf:
            for name in src.namelist():
                zf.writestr(name, src.read(name))
            zf.writestr("xl/worksheets/sheet1.xml", sheet_xml([["x"]]))
    add("duplicate-part", "corrupted zip", dup.getvalue(), msg.DAMAGED)
    add(
        "too-many-parts",
        "corrupted zip",
        package([("S", sheet_xml([["a"]]))], parts={f"xl/media/p{i}.txt": "x" for i in range(1001)}),
        msg.TOO_MANY_PARTS,
    )

    add(
        "xlsm-vba",
        "macros",
        package([("S", sheet_xml([["a"]]))], parts={"xl/vbaProject.bin": ole(["VBA"])}),
        msg.MACROS,
    )
    add(
        "xlsm-vba-upper",
        "macros",
        package([("S", sheet_xml([["a"]]))], parts={"XL/VBAPROJECT.BIN": ole(["VBA"])}),
        msg.MACROS,
    )
    add(
        "excel4-macrosheet",
        "macros",
        package([("S", sheet_xml([["a"]]))], parts={"xl/macrosheets/sheet1.xml": sheet_xml([["=EXEC(1)"]])}),
        msg.MACROS,
    )

    bomb = zeros_member(40 << 20)  # 40 MB of zeros in about 40 KB
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        zeros = zf.read("zeros.bin")
    add(
        "bomb-media",
        "zip bomb",
        package([("S", sheet_xml([["a"]]))], parts={"xl/media/image1.png": zeros}),
        msg.COMPRESSION_RATIO,
    )
    add(
        "bomb-sheet-whitespace",
        "zip bomb",
        package([("S", sheet_xml([["a"]], extra=" " * (30 << 20)))]),
        msg.COMPRESSION_RATIO,
    )
    add(
        "bomb-shared-strings",
        "zip bomb",
        package(
            [("S", sheet_xml([["a"]]))],
            strings=(f'<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>{"A" * (30 << 20)}</t></si></sst>'),
        ),
        msg.COMPRESSION_RATIO,
    )
    small = package([("S", sheet_xml([["a"]]))], parts={"xl/media/a.bin": b"x" * 1000, "xl/media/b.bin": b"y" * 1000})
    add(
        "bomb-declared-2gb",
        "zip bomb",
        patch_size(small, "xl/media/a.bin", declared=2_000_000_000),
        msg.UNPACKED_TOO_LARGE,
    )
    add(
        "bomb-declared-total",
        "zip bomb",
        patch_size(patch_size(small, "xl/media/a.bin", declared=60 << 20), "xl/media/b.bin", declared=60 << 20),
        msg.UNPACKED_TOO_LARGE,
    )
    add(
        "bomb-overlapping-entries",
        "zip bomb",
        _overlapping(small, copies=300, declared=1 << 20),
        msg.UNPACKED_TOO_LARGE,
    )
    add(
        "bomb-nested-real",
        "zip bomb (nested)",
        package([("S", sheet_xml([["a"]]))], parts={"xl/embeddings/oleObject1.bin": bomb}),
        msg.COMPRESSION_RATIO,
    )
    inner_declared = patch_size(zip_of({"big.bin": b"z" * 1000}), "big.bin", declared=3_000_000_000)
    add(
        "bomb-nested-declared",
        "zip bomb (nested)",
        package([("S", sheet_xml([["a"]]))], parts={"xl/embeddings/x.zip": inner_declared}),
        msg.UNPACKED_TOO_LARGE,
    )
    deep = zip_of({"level3.txt": "x"})
    for level in (2, 1, 0):
        deep = zip_of({f"level{level}.zip": deep}, compression=zipfile.ZIP_STORED)
    add(
        "bomb-nested-deep",
        "zip bomb (nested)",
        package([("S", sheet_xml([["a"]]))], parts={"xl/embeddings/deep.zip": deep}),
        msg.NESTED_ARCHIVE,
    )
    fan = zip_of(
        {
            f"{i}.zip": zip_of(
                {f"{j}.zip": zip_of({"z.txt": "0" * 100}) for j in range(4)}, compression=zipfile.ZIP_STORED
            )
            for i in range(4)
        },
        compression=zipfile.ZIP_STORED,
    )
    add(
        "bomb-42-style",
        "zip bomb (nested)",
        package([("S", sheet_xml([["a"]]))], parts={"xl/embeddings/42.zip": fan}),
        msg.NESTED_ARCHIVE,
    )
    add(
        "shared-strings-count",
        "huge dimensions",
        package(
            [("S", sheet_xml([["a"]]))],
            strings=(f'<sst xmlns="{NS}" count="1" uniqueCount="900000000000"><si><t>a</t></si></sst>'),
        ),
        msg.TOO_MANY_STRINGS,
    )
    add(
        "shared-strings-count-plus",
        "huge dimensions",
        package(
            [("S", sheet_xml([["a"]]))],
            strings=(f"<sst xmlns='{NS}' uniqueCount = '+99999999'><si><t>a</t></si></sst>"),
        ),
        msg.TOO_MANY_STRINGS,
    )

    many = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 200_002))
    add(
        "rows-200001-real",
        "1,000,000 rows (real, just over the limit)",
        package(
            [
                (
                    "S",
                    (
                        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>{many}</sheetData></worksheet>'
                    ),
                )
            ]
        ),
        msg.TOO_MANY_ROWS,
    )
    wide = "".join(f'<c r="{col(j)}1"><v>{j}</v></c>' for j in range(1, 71))
    add(
        "columns-70-real",
        "huge dimensions",
        package([("S", (f'<worksheet xmlns="{NS}"><sheetData><row r="1">{wide}</row></sheetData></worksheet>'))]),
        msg.TOO_MANY_COLUMNS,
    )

    for name, head, expect in (
        ("utf16le-bom", "\ufeff", "utf-16-le"),
        ("utf16be-bom", "\ufeff", "utf-16-be"),
        ("utf16le-no-bom", "", "utf-16-le"),
        ("utf32-bom", "\ufeff", "utf-32"),
    ):
        sheet = (head + sheet_xml([["学号"], ["2024000001"]])).encode(expect)
        add(f"sheet-{name}", "wrong encoding", package([("S", sheet)]), msg.ENCODING)
    for encoding in ("GBK", "ISO-8859-1", "Shift_JIS", "windows-1252"):
        sheet = sheet_xml([["name"]]).replace('encoding="UTF-8"', f'encoding="{encoding}"')
        add(f"declared-{encoding}", "wrong encoding", package([("S", sheet)]), msg.ENCODING)
    add(
        "strings-declared-gb2312",
        "wrong encoding",
        package(
            [("S", sheet_xml([["a"]]))],
            strings=(f'<?xml version="1.0" encoding="GB2312"?><sst xmlns="{NS}"><si><t>a</t></si></sst>'),
        ),
        msg.ENCODING,
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c>'
        "</row></sheetData></worksheet>"
    )
    add("billion-laughs", "XML attack", package([("S", laughs)]), msg.MALFORMED)
    add(
        "xxe-strings",
        "XML attack",
        package(
            [("S", sheet_xml([["a"]]))],
            strings=(
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                f'<sst xmlns="{NS}"><si><t>&e;</t></si></sst>'
            ),
        ),
        msg.MALFORMED,
    )
    add(
        "doctype-workbook",
        "XML attack",
        package([("S", sheet_xml([["a"]]))], workbook_xml=('<?xml version="1.0"?><!DOCTYPE workbook><workbook/>')),
        msg.MALFORMED,
    )
    letters = bytes.maketrans(bytes(range(256)), bytes(65 + i % 26 for i in range(256)))
    long_value = rng.randbytes(5 << 20).translate(letters).decode()
    add(
        "tag-5mb",
        "damaged XML",
        package([("S", sheet_xml([["a"]], extra=f'<c r="A2" t="{long_value}"/>'))]),
        msg.MALFORMED,
    )
    add(
        "invalid-utf8",
        "wrong encoding",
        package([("S", sheet_xml([["x"]]).encode().replace(b">x<", b">\xc3\x28\xff<"))]),
        msg.UNREADABLE,
    )
    add(
        "unclosed-tags",
        "damaged XML",
        package(
            [
                (
                    "S",
                    f'<worksheet xmlns="{NS}"><sheetData><row r="1">'
                    '<c r="A1"><v>1</v></c><row r="2"><c r="A2"><v>2</v>',
                )
            ]
        ),
        msg.UNREADABLE,
    )
    add("not-xml-sheet", "damaged XML", package([("S", rng.randbytes(3000).translate(letters))]), msg.UNREADABLE)
    add(
        "no-sheets",
        "empty workbook",
        package(
            [], workbook_xml=(f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}"><sheets/></workbook>')
        ),
        msg.NO_SHEET,
    )
    add(
        "sheet-part-missing",
        "damaged XML",
        package([("S", sheet_xml([["a"]]))], omit=("xl/worksheets/sheet1.xml",)),
        msg.UNREADABLE,
    )
    add(
        "package-rels-missing",
        "damaged XML",
        package([("S", sheet_xml([["a"]]))], omit=("_rels/.rels",)),
        msg.UNREADABLE,
    )
    return tuple(out)


def _overlapping(data: bytes, *, copies: int, declared: int) -> bytes:
    """Many central-directory entries pointing at the same member (an "overlapping" zip bomb)."""
    cd = data.find(b"PK\x01\x02")
    end = data.find(b"PK\x05\x06")
    first_len = 46 + sum(struct.unpack_from("<HHH", data, cd + 28))
    entry = bytearray(data[cd : cd + first_len])
    struct.pack_into("<I", entry, 24, declared)
    entries = bytearray(data[cd:end])
    for i in range(copies):
        e = bytearray(entry)
        n = struct.unpack_from("<H", e, 28)[0]
        e[46 : 46 + n] = (f"c/{i:05d}".encode() + b"x" * n)[:n]
        entries += e
    total = struct.unpack_from("<H", data, end + 10)[0] + copies
    eocd = bytearray(data[end : end + 22])
    struct.pack_into("<HHI", eocd, 8, total, total, len(entries))
    struct.pack_into("<I", eocd, 16, cd)
    return data[:cd] + bytes(entries) + bytes(eocd)


def _far(base: Base) -> list[Hostile]:
    """The door's valid workbook plus one hostile cell or dimension: refused for rows or columns."""
    out = []
    rows_n = len(base.rows)

    def add(name, expect, **kwargs):
        out.append(Hostile(name, "huge dimensions", from_rows(base, **kwargs), expect))

    R, C = msg.TOO_MANY_ROWS, msg.TOO_MANY_COLUMNS
    add("xfd1048576", R, extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    add("xfd1048576-no-row-r", R, extra='<row><c r="XFD1048576"><v>1</v></c></row>')
    add(
        "xfd1048576-with-dimension",
        R,
        dimension="A1:XFD1048576",
        extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    )
    add("xfd1-column", C, extra=f'<row r="{rows_n + 1}"><c r="XFD{rows_n + 1}"><v>1</v></c></row>')
    add("a1048576-row", R, extra='<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    add("bm-just-over-columns", C, extra=f'<row r="{rows_n + 1}"><c r="BM{rows_n + 1}"><v>1</v></c></row>')
    add("a200001-just-over-rows", R, extra='<row r="200001"><c r="A200001"><v>1</v></c></row>')
    add("dimension-whole-sheet", R, dimension="A1:XFD1048576")
    add("dimension-1000000-rows", R, dimension="A1:F1000000")
    add("dimension-wide", C, dimension="A1:ZZ10")
    add("dimension-single-far", R, dimension="XFD1048576")
    add("dimension-absolute", R, dimension="$A$1:$XFD$1048576")
    add("row-zero", msg.UNREADABLE, extra=f'<row r="{rows_n + 1}"><c r="A0"><v>1</v></c></row>')
    add("lowercase-ref", C, extra=f'<row r="{rows_n + 1}"><c r="xfd{rows_n + 1}"><v>1</v></c></row>')
    add("leading-zeros", R, extra='<row r="9"><c r="A0001048576"><v>1</v></c></row>')
    add("u32-overflow", R, extra='<row r="9"><c r="A99999999999"><v>1</v></c></row>')
    add("many-letters", C, extra=f'<row r="{rows_n + 1}"><c r="ZZZZZZZ{rows_n + 1}"><v>1</v></c></row>')
    add("single-quotes-spaces", R, extra="<row r = '1048576'><c  r = 'XFD1048576' ><v>1</v></c></row>")
    add("tab-and-newline", R, extra='<row\tr="1048576"><c\nr="XFD1048576"><v>1</v></c></row>')
    add(
        "attribute-after-quote", msg.MALFORMED, extra=f'<row r="{rows_n + 1}"><c s="0"r="XFD1048576"><v>1</v></c></row>'
    )
    add("r-not-first", R, extra=f'<row r="{rows_n + 1}"><c t="n" r="XFD1048576"><v>1</v></c></row>')
    add(
        "duplicate-r",
        msg.MALFORMED,
        extra=f'<row r="{rows_n + 1}"><c r="A{rows_n + 1}" r="XFD1048576"><v>1</v></c></row>',
    )
    add("implicit-columns", C, extra=f'<row r="{rows_n + 1}">' + "<c><v>1</v></c>" * 70 + "</row>")
    add(
        "implicit-after-far-row", R, extra='<row r="200000"><c r="A200000"><v>1</v></c></row><row><c><v>1</v></c></row>'
    )
    add("merge-whole-sheet", R, tail='<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')
    add("b1048576", R, extra='<row r="1048576"><c r="B1048576"><v>1</v></c></row>')
    add(
        "cdata-hidden-cell",
        R,
        extra=f'<row r="{rows_n + 1}"><c r="A{rows_n + 1}" t="inlineStr"><is><t><![CDATA['
        '<c r="XFD1048576">]]></t></is></c></row>',
    )
    prefixed = (
        f'<x:worksheet xmlns:x="{NS}"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        '<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    out.append(Hostile("prefixed-elements", "huge dimensions", package([(base.sheet_name, prefixed)]), R))
    out.append(
        Hostile(
            "far-cell-on-second-sheet",
            "huge dimensions",
            package(
                [
                    (base.sheet_name, sheet_xml(base.rows)),
                    ("Other", sheet_xml([["x"]], extra=('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))),
                ]
            ),
            R,
        )
    )
    out.append(
        Hostile(
            "far-cell-in-unlisted-part",
            "huge dimensions",
            from_rows(
                base,
                parts={
                    "xl/worksheets/sheet9.xml": sheet_xml(
                        [["x"]], extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                    )
                },
            ),
            R,
        )
    )
    out.append(
        Hostile("vba-with-valid-data", "macros", from_rows(base, parts={"xl/vbaProject.bin": ole(["VBA"])}), msg.MACROS)
    )
    return out


#: Values of the wrong type for a checked cell (a score, credits, a year, a code that must exist …).
WRONG_TYPES = {
    "text": "八十",
    "latin-text": "abc",
    "true": True,
    "false": False,
    "date": dt.date(2024, 6, 30),
    "datetime": dt.datetime(2024, 6, 30, 8, 30),
    "error-div0": Error("#DIV/0!"),
    "error-na": Error("#N/A"),
    "error-value": Error("#VALUE!"),
    "nan": "NaN",
    "infinity": "Infinity",
    "with-unit": "80分",
    "comma-decimal": "1,5",
    "fraction": "½",
    "huge": 1e308,
    "negative": -1,
    "too-big": 101,
    "dash": "—",
    "zero-width": "\u200b80",
    "long-text": "九" * 32000,
    "control": "a\x07b",
    "space": " ",
    "sci": "1e400",
    "formula-text": "=1+1",
    "dde": "=cmd|' /C calc'!A0",
    "hyperlink": '=HYPERLINK("http://x","y")',
    "at-sum": "@SUM(A1)",
    "plus": "+1+1",
    "tab": "\t80",
    "na-text": "N/A",
    "null": "null",
    "minus-zero": "-0",
    "emoji": "💯",
    "rtl-override": "\u202e08",
    "tiny": 1e-320,
    "hex": "0x50",
    "full-width": "８０",
    "bracketed": "[80]",
    "que": "缺",
}


def _content(base: Base) -> list[Hostile]:
    """The door's workbook with hostile content; each with an orphan row (identifier left empty)."""
    out = []
    width = max(len(r) for r in base.rows)

    def orphan() -> list:
        row = [""] * width
        row[base.orphan if base.orphan is not None else next(i for i in range(width) if i != base.key)] = "孤行 orphan"
        return row

    def add(name, kind, rows, *, with_orphan=True, **kwargs):
        out.append(Hostile(name, kind, from_rows(base, [*rows, orphan()] if with_orphan else rows, **kwargs), None))

    header, data = base.header, [list(r) for r in base.data]
    for label, value in WRONG_TYPES.items():
        rows = [list(r) for r in data]
        for r in rows:
            for c in base.typed or [base.key]:
                r[c] = value
        add(f"wrong-type-{label}", "wrong types", [*header, *rows])
    for label, value in (
        ("float", 2024000001.5),
        ("bool", True),
        ("date", dt.date(2024, 1, 1)),
        ("error", Error("#REF!")),
    ):
        rows = [list(r) for r in data]
        rows[0][base.key] = value
        add(f"wrong-key-{label}", "wrong types", [*header, *rows])
    for label, value in (
        ("hyperlink", Formula('HYPERLINK("http://x","y")', "y")),
        ("no-cached-value", Formula("1+1")),
        ("error", Formula("1/0", "#DIV/0!")),
        ("dde", Formula("cmd|' /C calc'!A0", "0")),
        ("number", Formula("40+40", 80)),
    ):
        rows = [list(r) for r in data]
        for r in rows:
            r[base.key] = value
        add(f"formula-{label}", "formulas", [*header, *rows])
    first = base.first_data + 1
    last = len(base.rows)
    key_col = col(base.key + 1)
    add("merged-keys", "merged cells", [*header, *data], merges=[f"{key_col}{first}:{key_col}{last}"])
    add("merged-header", "merged cells", [*header, *data], merges=[f"A1:{col(width)}{base.first_data}"])
    add("merged-everything", "merged cells", [*header, *data], merges=[f"A1:{col(width)}{last}"])
    add("header-missing", "missing headers", [*data])
    add("header-twice", "duplicate headers", [*header, *header, *data])
    add("header-duplicate-column", "duplicate headers", [[*h, *h] for h in header] + [[*d, *d] for d in data])
    add("header-far-down", "missing headers", [*([[""]] * 12), *header, *data])
    add("header-blank", "missing headers", [[" "] * width for _h in header] + data)
    add("header-only", "empty sheet", [*header])
    add("data-twice", "duplicate rows", [*header, *data, *data])
    add("blank-rows-between", "empty sheet", [*header, *([[""] * width] * 30), *data])
    add(
        "columns-shuffled",
        "missing headers",
        [list(reversed(r)) for r in [*header, *data, orphan()]],
        with_orphan=False,
    )
    out.append(Hostile("empty-sheet", "empty sheet", package([(base.sheet_name, sheet_xml([]))]), None))
    out.append(
        Hostile("empty-strings-only", "empty sheet", package([(base.sheet_name, sheet_xml([[" ", "  "]]))]), None)
    )
    out.append(
        Hostile(
            "first-sheet-empty",
            "empty sheet",
            package([("Empty", sheet_xml([])), (base.sheet_name, sheet_xml([*base.rows, orphan()]))]),
            None,
        )
    )
    out.append(
        Hostile(
            "first-sheet-hidden",
            "empty sheet",
            package(
                [("Hidden", sheet_xml([["secret"]])), (base.sheet_name, sheet_xml([*base.rows, orphan()]))],
                states={0: "hidden"},
            ),
            None,
        )
    )
    return out


def corpus(base: Base) -> list[Hostile]:
    """Every hostile file for a door whose valid workbook is ``base``."""
    return [*_door_independent(), *_far(base), *_content(base)]


def kinds(files: list[Hostile]) -> dict[str, list[Hostile]]:
    grouped: dict[str, list[Hostile]] = {}
    for f in files:
        grouped.setdefault(f.kind, []).append(f)
    return grouped
