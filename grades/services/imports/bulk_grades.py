"""Bulk grade import — the path for large files (Academic Affairs uploads the results of many
offerings at once).

Columns: the offering code, the student number, then one column per component code (平时 /
期中 / 实验 / 期末 / 其他, or regular / midterm / experiment / final / other), or a single 成绩
(score) column for offerings with one component. Other columns (姓名, 班级 …) are ignored.

Every row is checked — the offering exists, is in the importer's scope and its sheet is still
being entered; the student is on that offering; the (offering, student) pair appears once; every
value parses on the offering's scale — and a file with any bad row writes nothing and lists every
bad row and column. The results are ``grades.services.results.evaluate``'s (the same ``parse_entry``
and ``compute``, cached; a test compares them value by value) and are stored with ``apply_result``
semantics (components, score, level, mark, passed, grade point, entered by/at).

Speed (100,000 rows, see bench/grade_import.py and its section in bench/README.md): the file is
read with python-calamine; the offerings (locked for update), their components and every
(offering, student number) → grade id are loaded in three queries; checking is plain Python with
per-offering column plans and caches (each distinct cell parsed once, each distinct composite
computed once); on PostgreSQL every ``BATCH_ROWS`` good rows are COPYed into a temporary table and
applied with one ``UPDATE … FROM`` joined on the primary key by a writer thread while the next rows
are checked — same connection, same transaction, so a bad row found later still rolls everything
back. Other databases use one ``executemany`` UPDATE at the end. Writing a result is a heap-only
(HOT) update that touches no index (migration 0003: no index on a result column, fill factor 40).
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from ...models import Grade, GradeComponent, Offering
from ...scoring import ScoreError, compute, five_levels, parse_entry
from . import sheet
from .sheet import Column, Errors, Summary

OFFERING_NOT_FOUND = _("No offering with code “%(value)s”.")
OFFERING_OUT_OF_SCOPE = _("Offering %(code)s belongs to %(college)s, not to your college.")
SHEET_NOT_OPEN = _("The grade sheet of %(code)s is %(state)s: grades can no longer be imported into it.")
STUDENT_NOT_ON_OFFERING = _("Student %(number)s is not on offering %(code)s.")
ROW_REPEATED = _("Student %(number)s on offering %(code)s appears more than once in this file (first on row %(row)d).")
COMPONENT_COLUMN_MISSING = _("Offering %(code)s has the component “%(component)s”, but the file has no column for it.")
COMPONENT_NOT_ON_OFFERING = _("Offering %(code)s has no component “%(component)s”: leave this cell blank.")
SCORE_COLUMN_AMBIGUOUS = _(
    "Offering %(code)s has %(count)d components (%(components)s): give one column per "
    "component instead of a single score."
)
NO_SCORE_COLUMNS = _(
    "The sheet has no score column: give one column per component (平时, 期中, 实验, 期末, 其他) or a "
    "single 成绩 column."
)
NO_SCORE = _("No score given for this student.")
CHANGED_MEANWHILE = _(
    "The grades changed while the file was being checked; nothing was imported. Import the file again."
)

COMPONENT_HEADERS = {
    GradeComponent.Code.REGULAR: ("平时", ("regular", "平时成绩", "平时分")),
    GradeComponent.Code.MIDTERM: ("期中", ("midterm", "mid-term", "期中成绩", "期中考试")),
    GradeComponent.Code.EXPERIMENT: ("实验", ("experiment", "lab", "实验成绩", "实践")),
    GradeComponent.Code.FINAL: ("期末", ("final", "期末成绩", "期末考试", "卷面")),
    GradeComponent.Code.OTHER: ("其他", ("other", "其他成绩", "其它")),
}
COMPONENT_CODES = tuple(COMPONENT_HEADERS)

GRADE_COLUMNS = (
    Column(
        "offering",
        "开课代码",
        _("Offering code"),
        ("offering code", "offering", "开课编号", "教学班代码", "课程序号"),
        example=("2025-2026-1-CS101-01", "2025-2026-1-CS101-01", "2025-2026-1-PE101-01"),
    ),
    Column(
        "student",
        "学号",
        _("Student number"),
        ("student number", "student no", "student", "student_number"),
        example=("2024010001", "2024010002", "2024010001"),
    ),
    Column(
        "name",
        "姓名",
        _("Name"),
        ("name", "student name"),
        required=False,
        help=_("optional, not imported (it helps reading the sheet)"),
        example=("王小明", "李华", "王小明"),
    ),
    *(
        Column(
            code,
            header,
            GradeComponent.Code(code).label,
            aliases,
            required=False,
            help=_("a score 0–100, a level (优/良/中/及格/不及格, 合格/不合格) or a mark (缺考, 缓考, 作弊, 免修)"),
            example={"regular": (88, 90, ""), "final": (76, "缺考", "")}.get(code, ("", "", "")),
        )
        for code, (header, aliases) in COMPONENT_HEADERS.items()
    ),
    Column(
        "score",
        "成绩",
        _("Score"),
        ("score", "result", "总成绩", "总评", "总评成绩", "最终成绩"),
        required=False,
        help=_("for offerings with a single component only"),
        example=("", "", "合格"),
    ),
)

_MISSING = object()


class _Evaluator:
    """``evaluate()`` for one composition (scale, rounding, attempt kind, weights), with caches.

    * each typed value is parsed once per scale (``parse_entry``; 100,000 rows hold a few hundred
      distinct values);
    * a result is computed once per distinct composite: with no special mark, no blank and a
      score scale, ``compute`` depends only on the weighted total Σ value × weight / 100, so the
      total is the cache key (three components with 60 distinct scores each make 216,000
      combinations but only about 500 totals); other cases (marks, pass/fail, incomplete) are
      cached by their parsed entries. ``compute`` itself decides every result, so the outcome is
      exactly ``evaluate``'s (tests/grades/test_imports_grades.py checks it value by value).
    """

    def __init__(self, *, scale: str, rounding: str, kind: str, weights: list, parsed: dict):
        self.scale, self.rounding, self.kind, self.weights = scale, rounding, kind, list(weights)
        self.codes = tuple(code for code, _w in weights)
        self.keys = tuple(f'"{code}":' for code in self.codes)
        self.ints = tuple(int(w) for _c, w in weights)
        # raw value → (Entry, JSON fragment, value in hundredths for the total or None), or an error message
        self.parsed = parsed
        self.levels = five_levels()
        self.by_total: dict = {}
        self.by_entries: dict = {}

    def entry(self, value):
        if value.__class__ is bool:  # True == 1: never share a cache slot with a number
            return self._parse(value)
        found = self.parsed.get(value, _MISSING)
        if found is _MISSING:
            found = self.parsed[value] = self._parse(value)
        return found

    def _parse(self, value):
        try:
            entry = parse_entry(value, scale=self.scale)
        except ScoreError as exc:
            return str(exc)
        if entry.number is not None:
            stored = f"{entry.number:.1f}".rstrip("0").rstrip(".")
        else:
            stored = entry.level or entry.mark
        if self.scale == "pass_fail" or entry.mark or entry.is_blank:
            number = None  # not part of a plain weighted total
        else:  # in hundredths, as an int: exact, and quick to add up and hash
            value = (entry.number if entry.number is not None else self.levels[entry.level]) * 100
            number = int(value) if value == value.to_integral_value() else None
        return entry, (json.dumps(stored, ensure_ascii=False) if stored else ""), number

    def __call__(self, values: tuple, cols: tuple):
        """((components JSON, score, level, mark, passed, grade point), the same as a line of COPY
        text), or [(column, message), …] for the bad cells."""
        get, parsed, plain = self.parsed.get, [], True
        for value in values:
            found = get(value, _MISSING) if value.__class__ is not bool else _MISSING
            if found is _MISSING:
                found = self.entry(value)
            if found.__class__ is str:
                return [(col, p) for col, p in zip(cols, map(self.entry, values), strict=True) if p.__class__ is str]
            if found[2] is None:
                plain = False
            parsed.append(found)
        if plain:  # the result depends on the weighted total only
            total = 0
            for p, w in zip(parsed, self.ints, strict=True):
                total += p[2] * w
            result = self.by_total.get(total)
            if result is None:
                result = self.by_total[total] = self._compute(tuple(p[0] for p in parsed))
        else:
            entries = tuple(p[0] for p in parsed)
            if all(e.is_blank for e in entries):
                return [(cols[0] if cols else None, force_str(NO_SCORE))]
            result = self.by_entries.get(entries)
            if result is None:
                result = self.by_entries[entries] = self._compute(entries)
        components = "{" + ",".join([k + p[1] for k, p in zip(self.keys, parsed, strict=True) if p[1]]) + "}"
        copy_components = components.translate(_COPY_ESCAPES) if "\\" in components else components
        return (components, *result[0]), copy_components + result[1]

    def _compute(self, entries: tuple) -> tuple:
        """(score, level, mark, passed, grade point) and the same as COPY text (after a tab)."""
        r = compute(
            scale=self.scale,
            rounding=self.rounding,
            weights=self.weights,
            entries=dict(zip(self.codes, entries, strict=True)),
            kind=self.kind,
        )
        values = (r.score, r.level, r.mark, r.passed, r.grade_point)
        return values, "".join("\t" + _copy_text(v) for v in values)


@dataclass
class _Plan:
    """How the rows of one offering are read: its grade ids by student number, the column of each
    of its components, its evaluator, and an offering-level error (not open, out of scope)."""

    id: int
    code: str
    weights: list
    cols: tuple = ()
    getter: object = None
    fallback: int | None = None
    missing: tuple = ()
    extra: tuple = ()
    extra_getter: object = None
    extra_blank: object = None
    check_layout: bool = False
    ambiguous_score: int | None = None
    error: str | None = None
    grades: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)
    cache: dict | None = None
    evaluate: _Evaluator | None = None


def grades_import(*, file, actor, colleges: set[int] | None = None, progress=None) -> Summary:
    """Import grades for many offerings at once (all-or-nothing). ``colleges``: the college ids the
    importer may touch (None: all, for Academic Affairs). Raises ``ImportRefused``."""
    # Hundreds of thousands of cells, tuples and strings are created and all stay alive until the
    # end: the cyclic garbage collector would only rescan them again and again (about 15 % of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _import(file=file, actor=actor, colleges=colleges, progress=progress)
    finally:
        if enabled:
            gc.enable()


def _import(*, file, actor, colleges, progress) -> Summary:
    errors = Errors()
    rows = sheet.read_rows(file)
    _report(progress, 15)
    layout = sheet.locate_header(rows, GRADE_COLUMNS, errors)
    if layout is None or errors:
        raise errors.refuse()
    value_cols = {code: layout.index[code] for code in COMPONENT_CODES if code in layout.index}
    score_col = layout.index.get("score")
    if not value_cols and score_col is None:
        errors.add(layout.header_row + 1, "", NO_SCORE_COLUMNS)
        raise errors.refuse()
    header_at = {i: layout.headers[k] for k, i in layout.index.items()}
    o_col, s_col = layout.index["offering"], layout.index["student"]
    start = layout.header_row + 1
    width = max(layout.index.values()) + 1
    codes = set()
    for i in range(start, len(rows)):
        row = rows[i]
        if len(row) < width:
            rows[i] = row = list(row) + [""] * (width - len(row))
        codes.add(_text(row[o_col]))
    codes.discard("")

    with transaction.atomic():
        # the offerings are locked for the whole import: no sheet is submitted meanwhile
        plans = _plans(codes, value_cols, score_col, colleges)
        _load_grade_ids(plans)
        _report(progress, 25)
        writer = _Writer(actor=actor, now=timezone.now())
        try:
            total, updates = _check(rows, start, plans, header_at, o_col, s_col, errors, writer, progress)
            if not errors and not updates and not writer.sent:
                errors.add(start, "", sheet.FILE_NO_ROWS)
            if errors:
                raise errors.refuse(total_rows=total)  # leaving the block rolls back what was sent
            _report(progress, 75)
            writer.send(updates)
            written = writer.finish()
        finally:
            writer.close()
        if written != writer.sent:
            errors.add(None, "", CHANGED_MEANWHILE)
            raise errors.refuse(total_rows=total)
    _report(progress, 100)
    return Summary(total_rows=total, updated=written)


def _check(rows, start, plans, header_at, o_col, s_col, errors: Errors, writer, progress) -> tuple[int, list]:
    """Check every row; hand the good rows to ``writer`` in batches while no error has been found
    (the database writes them while the next rows are checked). Returns (rows seen, rows not sent)."""
    o_head, s_head = header_at[o_col], header_at[s_col]
    updates: list[tuple] = []
    append = updates.append
    total = 0
    batch = writer.batch
    for i in range(start, len(rows)):
        row = rows[i]
        number = i + 1
        code = row[o_col]
        plan = plans.get(code)
        if plan is None:
            code = _text(code)
            plan = plans.get(code)
            if plan is None:
                if not code and not sheet._filled(row):
                    continue  # a blank row
                total += 1
                errors.add(number, o_head, sheet.REQUIRED if not code else OFFERING_NOT_FOUND % {"value": code})
                continue
        total += 1
        if plan.error is not None:
            errors.add(number, o_head, plan.error)
            continue
        bad = False
        student = row[s_col]
        grade_id = plan.grades.get(student)
        if grade_id is None:
            student = _text(student)
            grade_id = plan.grades.get(student)
            if grade_id is None:
                errors.add(
                    number,
                    s_head,
                    STUDENT_NOT_ON_OFFERING % {"number": student, "code": plan.code} if student else sheet.REQUIRED,
                )
                bad = True
        if grade_id is not None:
            first = plan.seen.get(student)
            if first is not None:
                errors.add(number, s_head, ROW_REPEATED % {"number": student, "code": plan.code, "row": first})
                bad = True
            else:
                plan.seen[student] = number
        if plan.check_layout and (
            plan.missing or plan.ambiguous_score is not None or plan.extra_getter(row) != plan.extra_blank
        ):
            bad = _layout_errors(plan, row, number, errors, header_at) or bad
        raw = plan.getter(row) if plan.getter is not None else ()
        if plan.fallback is not None and raw in ("", None):
            raw = row[plan.fallback]
        if (raw.__class__ is tuple and bool in map(type, raw)) or raw.__class__ is bool:
            result = _evaluate(plan, raw)  # True == 1: keep booleans out of the cache
        else:
            result = plan.cache.get(raw)
            if result is None:
                result = plan.cache[raw] = _evaluate(plan, raw)
        if result.__class__ is list:
            for col, message in result:
                errors.add(number, header_at[col] if col is not None else o_head, message)
            continue
        if bad:
            continue
        append((grade_id, result))
        if len(updates) >= batch:
            if not errors:
                writer.send(updates)
            updates = []
            append = updates.append
            _report(progress, 25 + int(50 * i / len(rows)))
    return total, updates


def _report(progress, value: int) -> None:
    if progress:
        progress(value)


def _text(value) -> str:
    return value.strip() if value.__class__ is str else sheet.text(value)


def _not_open(code: str, state) -> str:
    label = Offering.SheetState(state).label if state in Offering.SheetState.values else state
    return force_str(SHEET_NOT_OPEN % {"code": code, "state": label})


def _plans(
    codes: set[str], value_cols: dict[str, int], score_col: int | None, colleges: set[int] | None
) -> dict[str, _Plan]:
    """One ``_Plan`` per offering code found in the file (the offerings are locked for update)."""
    rows = list(
        Offering.objects.filter(code__in=codes)
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("id", "code", "college_id", "college__name", "sheet_state", "scale", "rounding", "kind")
    )
    weights_of: dict[int, list] = {}
    for offering_id, code, weight in (
        GradeComponent.objects.filter(offering_id__in=[r[0] for r in rows])
        .order_by("offering_id", "position", "id")
        .values_list("offering_id", "code", "weight")
    ):
        weights_of.setdefault(offering_id, []).append((code, weight))
    evaluators: dict[tuple, _Evaluator] = {}
    parsed: dict[str, dict] = {}
    caches: dict[tuple, dict] = {}
    plans = {}
    for offering_id, code, college_id, college_name, state, scale, rounding, kind in rows:
        weights = weights_of.get(offering_id, [])
        plan = _Plan(id=offering_id, code=code, weights=weights)
        if colleges is not None and college_id not in colleges:
            plan.error = force_str(OFFERING_OUT_OF_SCOPE % {"code": code, "college": college_name})
        elif state != Offering.SheetState.ENTERING:
            plan.error = _not_open(code, state)
        cols, missing = [], []
        for component, _weight in weights:
            col = value_cols.get(component)
            if col is None and len(weights) == 1 and score_col is not None:
                col = score_col
            if col is None:
                missing.append(component)
            else:
                cols.append(col)
        plan.cols, plan.missing = tuple(cols), tuple(missing)
        if len(weights) == 1 and score_col is not None and cols and cols[0] != score_col:
            plan.fallback = score_col  # a blank component cell falls back to the 成绩 column
        plan.extra = tuple(c for component, c in value_cols.items() if component not in {w[0] for w in weights})
        plan.ambiguous_score = score_col if len(weights) > 1 else None
        if plan.extra:
            plan.extra_getter = itemgetter(*plan.extra)
            plan.extra_blank = "" if len(plan.extra) == 1 else ("",) * len(plan.extra)  # calamine's empty cell
        plan.check_layout = bool(plan.missing or plan.extra or plan.ambiguous_score is not None)
        if cols:
            plan.getter = itemgetter(*cols)
        key = (scale, rounding, kind, tuple(weights), plan.cols)
        if key not in evaluators:
            evaluators[key] = _Evaluator(
                scale=scale, rounding=rounding, kind=kind, weights=weights, parsed=parsed.setdefault(scale, {})
            )
        plan.evaluate = evaluators[key]
        plan.cache = caches.setdefault(key, {})
        plans[code] = plan
    return plans


def _load_grade_ids(plans: dict[str, _Plan]) -> None:
    """Every (offering, student number) → grade id of the open offerings, in one query."""
    by_id = {p.id: p for p in plans.values() if p.error is None}
    if not by_id:
        return
    query = (
        Grade.objects.filter(offering_id__in=list(by_id))
        .order_by()
        .values_list("offering_id", "student__student_number", "id")
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for offering_id, number, grade_id in cursor.fetchall():
            by_id[offering_id].grades[number] = grade_id


def _layout_errors(plan: _Plan, row: list, number: int, errors: Errors, header_at: dict) -> bool:
    """Columns the offering needs but the file lacks, values in columns the offering does not
    have, a 成绩 value for a several-component offering. Returns whether any was found."""
    found = False
    for code in plan.missing:
        header, _aliases = COMPONENT_HEADERS.get(code, (code, ()))
        errors.add(number, header, COMPONENT_COLUMN_MISSING % {"code": plan.code, "component": header})
        found = True
    for col in plan.extra:
        if row[col] not in ("", None):
            errors.add(
                number, header_at[col], COMPONENT_NOT_ON_OFFERING % {"code": plan.code, "component": header_at[col]}
            )
            found = True
    col = plan.ambiguous_score
    if col is not None and row[col] not in ("", None):
        errors.add(
            number,
            header_at[col],
            SCORE_COLUMN_AMBIGUOUS
            % {
                "code": plan.code,
                "count": len(plan.weights),
                "components": "、".join(COMPONENT_HEADERS.get(c, (c,))[0] for c, _w in plan.weights),
            },
        )
        found = True
    return found


def _evaluate(plan: _Plan, raw):
    """The stored values of one row (see ``_Evaluator``), or [(column, message), …]."""
    if plan.missing:
        return []  # the missing columns are reported already; nothing to compute
    values = raw if len(plan.cols) != 1 else (raw,)
    return plan.evaluate(values, plan.cols)


# --- writing ----------------------------------------------------------------------------------------
#: Good rows per batch handed to the writer (PostgreSQL). Small enough that the server starts writing
#: soon after checking starts; per-batch costs are a few milliseconds.
BATCH_ROWS = 10_000
TEMP_TABLE = "grades_import_rows"
RESULT_COLUMNS = "id, components, score, level, mark, passed, grade_point"


class _Writer:
    """Writes checked rows inside the import's transaction.

    PostgreSQL: a background thread takes batches from a queue and, for each, ``COPY``s it into a
    temporary table and runs one ``UPDATE … FROM`` joined on the grade's primary key (rows sorted
    by id), on the same connection and transaction — so the server writes one batch while Python
    checks the next rows, and an error found later still rolls everything back. Other databases:
    ``executemany`` of one UPDATE, at the end.

    The join: the temporary table has no statistics, so the planner would hash all of
    ``grades_grade`` for every batch (or merge along its whole primary key); looking each row up
    by primary key is cheaper (−0.1 s of database CPU for 100,000 rows, bench/README.md), so hash
    and merge joins are switched off with ``set_config(…, is_local)`` while the import writes and
    set back by ``finish`` (a rollback sets them back by itself).
    """

    def __init__(self, *, actor, now, batch: int | None = None):
        self.actor_id, self.now, self.batch = actor.pk, now, batch or BATCH_ROWS
        self.sent = self.written = 0
        self.pending: list[tuple] = []
        self.failure: BaseException | None = None
        self.thread = self.queue = None
        self.planner: tuple | None = None
        self.postgres = connection.vendor == "postgresql"

    def send(self, rows: list[tuple]) -> None:
        if not rows:
            return
        self.sent += len(rows)
        if not self.postgres:
            self.pending.extend(rows)
            return
        if self.thread is None:
            self._start()
        # the COPY text is made here, in the checking thread: the writer thread then only waits on the
        # server, so it never has to win the GIL back from the checking loop for Python work
        rows.sort(key=_first)  # in id order: the heap pages are visited once, in order
        self.queue.put("".join([f"{grade_id}\t{text}\n" for grade_id, (_values, text) in rows]))

    def _start(self) -> None:
        import queue
        import threading

        from psycopg import sql as psycopg_sql

        table = Grade._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TEMP_TABLE} (id bigint, components jsonb, score numeric(5,1), "
                "level varchar(8), mark varchar(16), passed boolean, grade_point numeric(3,2)) ON COMMIT DROP"
            )
            cursor.execute(
                "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'), "
                "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
            )
            self.planner = cursor.fetchone()[:2]
        self.raw = connection.connection  # the psycopg 3 connection under Django's wrapper, in the transaction
        # one round trip per batch after the COPY: the update, then emptying the table for the next batch
        # (no parameters, so both statements go in one simple query; the values are quoted by psycopg)
        self.update_sql = psycopg_sql.SQL(
            f"UPDATE {table} AS g SET components = t.components, score = t.score, level = t.level, mark = t.mark, "
            "passed = t.passed, grade_point = t.grade_point, entered_by_id = {actor}, entered_at = {now} "
            f"FROM {TEMP_TABLE} AS t WHERE g.id = t.id; TRUNCATE {TEMP_TABLE}"
        ).format(actor=psycopg_sql.Literal(self.actor_id), now=psycopg_sql.Literal(self.now))
        self.queue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="grade-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            data = self.queue.get()
            if data is None:
                return
            if self.failure is not None:
                continue
            try:
                with self.raw.cursor() as cursor:
                    with cursor.copy(f"COPY {TEMP_TABLE} ({RESULT_COLUMNS}) FROM STDIN") as copy:
                        copy.write(data)
                    cursor.execute(self.update_sql)
                    self.written += cursor.rowcount  # the UPDATE's (the first statement's) count
            except Exception as exc:  # noqa: BLE001 - re-raised by finish() in the importing thread
                self.failure = exc

    def finish(self) -> int:
        """Wait for every batch to be written; return the number of rows updated."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
            if self.failure is not None:
                raise self.failure
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
                cursor.execute(
                    "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_mergejoin', %s, true)",
                    self.planner,
                )
        if self.pending:
            self.written += _write_executemany(self.pending, self.actor_id, self.now)
            self.pending = []
        return self.written

    def close(self) -> None:
        """Stop the thread without writing more (after an error)."""
        if self.thread is not None:
            self.failure = self.failure or RuntimeError("import abandoned")
            self.queue.put(None)
            self.thread.join()
            self.thread = None


def _first(row: tuple):
    return row[0]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).translate(_COPY_ESCAPES)


def _write_executemany(updates: list[tuple], actor_id: int, now, batch: int = 5000) -> int:
    """Other databases (SQLite in development): one parametrised UPDATE per row through
    ``executemany``, in batches (Django's ``bulk_update`` builds a CASE per field and row and is
    about thirty times slower here)."""
    table = Grade._meta.db_table
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {table} SET components = %s, score = %s, level = %s, mark = %s, passed = %s, "
        "grade_point = %s, entered_by_id = %s, entered_at = %s WHERE id = %s"
    )
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(updates), batch):
            params = [
                (
                    components,
                    ops.adapt_decimalfield_value(score, 5, 1),
                    level,
                    mark,
                    passed,
                    ops.adapt_decimalfield_value(grade_point, 3, 2),
                    actor_id,
                    at,
                    grade_id,
                )
                for grade_id, ((components, score, level, mark, passed, grade_point), _text) in updates[
                    start : start + batch
                ]
            ]
            cursor.executemany(sql, params)
            written += len(params) if cursor.rowcount in (None, -1) else cursor.rowcount
    return written
