"""Grade-import benchmark (issue 4, "Benchmarks"): 100,000 grade rows from one xlsx through the
project's real import path, against the floor measured in the same run.

* **floor** — python-calamine parse of the file + psycopg ``COPY`` of the same rows into an
  unlogged table (what any import must at least do: read the cells, ship them to PostgreSQL);
* **import** — ``grades.services.imports.grades_import`` on the same file: header detection,
  preloading offerings and grade ids, validation of every row with each offering's scale and
  composition, computing the results, and the all-or-nothing write (COPY into a temporary table
  + one ``UPDATE … FROM``, in one transaction);
* **one bad row** — the same file with one unparseable score: refused, nothing written.

The target is import rate ≥ 0.5 × floor rate. Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/grade_import.py
    .venv/bin/python bench/grade_import.py --offerings 100 --per-offering 100   # quick, SQLite

The database is created here and dropped afterwards (PostgreSQL: ``bench_grade_import`` on the
server of ``DATABASE_URL``; otherwise a temporary SQLite file, where the floor uses
``executemany`` instead of COPY and the ratio is only indicative). Results go to
``bench/results/grade_import.json``. Exit status 1 when the ratio misses the target on PostgreSQL
or the bad file wrote anything.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "grade_import.json"
BENCH_DB = "bench_grade_import"
TARGET = 0.5


def _pg(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


class ThrowawayDatabase:
    """Points DATABASE_URL at a fresh database before Django starts; drops it at the end."""

    def __init__(self):
        self.url = os.environ.get("DATABASE_URL", "")
        self.tmpdir = self.admin_url = None

    def __enter__(self):
        if self.url.startswith(("postgres://", "postgresql://", "pgsql://")):
            parts = urlsplit(self.url)
            self.admin_url = self.url if parts.path not in ("", "/") else urlunsplit(parts._replace(path="/postgres"))
            _pg(self.admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            _pg(self.admin_url, f"CREATE DATABASE {BENCH_DB}")
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
            self.label = f"PostgreSQL ({BENCH_DB})"
        else:
            self.tmpdir = tempfile.TemporaryDirectory(prefix="bench-grades-")
            os.environ["DATABASE_URL"] = f"sqlite:///{self.tmpdir.name}/bench.sqlite3"
            self.label = "SQLite (temporary file)"
        self.vardir = tempfile.TemporaryDirectory(prefix="bench-grades-var-")
        os.environ["REGISTRAR_VAR_DIR"] = self.vardir.name
        Path(self.vardir.name, "staticfiles").mkdir()
        return self

    def __exit__(self, *exc):
        from django.db import connections

        connections.close_all()
        if self.admin_url:
            _pg(self.admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if self.tmpdir:
            self.tmpdir.cleanup()
        self.vardir.cleanup()
        if self.url:
            os.environ["DATABASE_URL"] = self.url
        return False


# --- measuring ---------------------------------------------------------------------------------
def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (a local server only)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Clock:
    """Wall time, this process's CPU time and the database backend's CPU time of a block."""

    def __enter__(self):
        self.backend0, self.cpu0, self.wall0 = _backend_cpu(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.wall0
        self.python_cpu = time.process_time() - self.cpu0
        backend = _backend_cpu()
        self.backend_cpu = None if backend is None or self.backend0 is None else backend - self.backend0
        return False

    def as_dict(self) -> dict:
        return {"seconds": round(self.seconds, 3), "python_cpu_s": round(self.python_cpu, 3),
                "db_cpu_s": None if self.backend_cpu is None else round(self.backend_cpu, 3)}


def measure_floor(path: Path) -> dict:
    """calamine parse of the file + COPY of the same rows (all columns, as text) into an unlogged table."""
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    clock = Clock().__enter__()
    started = clock.wall0
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    parsed = time.perf_counter()
    data = rows[1:]
    width = len(rows[0])
    with transaction.atomic(), connection.cursor() as cursor:
        cols = ", ".join(f"c{i} text" for i in range(width))
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE UNLOGGED TABLE bench_floor ({cols})")
            with cursor.cursor.copy(f"COPY bench_floor ({', '.join(f'c{i}' for i in range(width))}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            cursor.execute(f"CREATE TEMPORARY TABLE bench_floor ({cols})")
            cursor.executemany(f"INSERT INTO bench_floor VALUES ({', '.join(['%s'] * width)})",
                               [[None if v == "" else str(v) for v in row] for row in data])
        cursor.execute("SELECT count(*) FROM bench_floor")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_floor")
    clock.__exit__(None, None, None)
    done = clock.wall0 + clock.seconds
    assert copied == len(data), (copied, len(data))
    return {"rows": len(data), "parse_s": round(parsed - started, 3), "copy_s": round(done - parsed, 3),
            **clock.as_dict(), "rows_per_s": round(len(data) / clock.seconds)}


def measure_write_floor(path: Path, actor) -> dict | None:
    """What writing the results costs by itself: calamine parse, COPY of the rows into a temporary
    table, then one SQL ``UPDATE … FROM`` that sets the same eight result columns of the same grade
    rows (joined on offering code and student number) — with no checking and no real computing.
    No import that writes the results can beat this; PostgreSQL only."""
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    from grades.models import Grade, Offering
    from students.models import Student

    if connection.vendor != "postgresql":
        return None
    with Clock() as clock:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_write (c0 text, c1 text, c2 text, c3 text, c4 text, c5 text)"
                           " ON COMMIT DROP")
            with cursor.cursor.copy("COPY bench_write FROM STDIN") as copy:
                for row in rows[1:]:
                    copy.write_row(row)
            cursor.execute("ANALYZE bench_write")
            number = "CASE WHEN t.c5 ~ '^[0-9]+(\\.[0-9])?$' THEN t.c5::numeric END"
            cursor.execute(
                f"UPDATE {Grade._meta.db_table} AS g SET components = jsonb_strip_nulls(jsonb_build_object("
                "'regular', NULLIF(t.c3, ''), 'midterm', NULLIF(t.c4, ''), 'final', NULLIF(t.c5, ''))), "
                f"score = {number}, level = '', mark = '', passed = {number} >= 60, "
                f"grade_point = CASE WHEN {number} >= 60 THEN 1.00 ELSE 0.00 END, "
                "entered_by_id = %s, entered_at = now() "
                f"FROM bench_write AS t JOIN {Offering._meta.db_table} AS o ON o.code = t.c0 "
                f"JOIN {Student._meta.db_table} AS s ON s.student_number = t.c1 "
                "WHERE g.offering_id = o.id AND g.student_id = s.id", [actor.pk])
            written = cursor.rowcount
    return {"rows": len(rows) - 1, "written": written, **clock.as_dict(),
            "rows_per_s": round((len(rows) - 1) / clock.seconds)}


def reset_grades() -> None:
    """Back to "nothing entered" (not timed), so every timed run is a first import — the realistic
    and the most expensive case (every row changes, including who entered it)."""
    from django.db import DatabaseError, connection

    from grades.models import Grade

    Grade.objects.update(components={}, score=None, level="", mark="", passed=None, grade_point=None,
                         entered_by=None, entered_at=None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM FULL ANALYZE {Grade._meta.db_table}")
            with contextlib.suppress(DatabaseError):  # needs superuser or pg_checkpoint; only evens out the runs
                cursor.execute("CHECKPOINT")  # the next run starts without dirty buffers of this one


def measure_import(path: Path, actor) -> dict:
    from grades.services.imports import grades_import

    marks = {}

    def progress(value):
        marks.setdefault(value, round(time.perf_counter() - clock.wall0, 3))

    with Clock() as clock:
        summary = grades_import(file=str(path), actor=actor, progress=progress)
    return {"rows": summary.total_rows, "written": summary.written, **clock.as_dict(),
            "rows_per_s": round(summary.total_rows / clock.seconds), "progress_at_s": marks}


def measure_bad(path: Path, actor) -> dict:
    from grades.models import Grade
    from grades.services.imports import ImportRefused, grades_import

    before = Grade.objects.filter(entered_at__isnull=False).count()
    started = time.perf_counter()
    try:
        grades_import(file=str(path), actor=actor)
    except ImportRefused as exc:
        refused, errors = True, exc.errors
    else:
        refused, errors = False, []
    seconds = time.perf_counter() - started
    after = Grade.objects.filter(entered_at__isnull=False).count()
    return {"refused": refused, "errors": errors, "seconds": round(seconds, 3),
            "entered_before": before, "entered_after": after, "nothing_written": refused and before == after}


def tune_storage() -> None:
    """The schema change the figures argue for (see bench/README.md): room on every heap page and no
    index on ``entered_by``, so writing a result is a heap-only (HOT) update that touches no index."""
    from django.db import connection

    from grades.models import Grade

    if connection.vendor != "postgresql":
        return
    table = Grade._meta.db_table
    column = Grade._meta.get_field("entered_by").column
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        cursor.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")
        for name, info in constraints.items():
            if info["index"] and not info["primary_key"] and info["columns"] == [column]:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offerings", type=int, default=1000)
    parser.add_argument("--per-offering", type=int, default=100, help="students per offering (multiple of 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the floor and of the import")
    parser.add_argument("--tuned-storage", action="store_true",
                        help="PostgreSQL: before seeding, give grades_grade fillfactor 50 and drop its entered_by "
                             "index (what a migration could do) so that result updates are HOT; the figures "
                             "then show the effect of that change, not the project as it is")
    parser.add_argument("--output", type=Path, default=None,
                        help="default bench/results/grade_import.json (grade_import_tuned.json with --tuned-storage)")
    args = parser.parse_args(argv)
    args.output = args.output or (RESULTS.with_name("grade_import_tuned.json") if args.tuned_storage else RESULTS)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar.settings.test")
    with ThrowawayDatabase() as db, tempfile.TemporaryDirectory(prefix="bench-grades-xlsx-") as tmp:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from grade_dataset import build_world, write_xlsx

        from registrar.models import User
        from registrar.roles import Role, Scope
        from students.models import RoleAssignment

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{db.label}: migrated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        if args.tuned_storage:
            tune_storage()
        started = time.perf_counter()
        rows = build_world(offerings=args.offerings, per_offering=args.per_offering)
        actor = User.objects.create(username="aa", full_name="教务处")
        RoleAssignment.objects.create(user=actor, role=Role.ACADEMIC_AFFAIRS, scope=Scope.UNIVERSITY)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"seeded {len(rows):,} grade rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        started = time.perf_counter()
        good = write_xlsx(Path(tmp, "grades.xlsx"), rows)
        bad = write_xlsx(Path(tmp, "grades-bad.xlsx"), rows, bad_row=len(rows) // 2)
        size = good.stat().st_size
        print(f"wrote two xlsx files of {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s", file=sys.stderr)

        bad_run = measure_bad(bad, actor)
        print(f"bad file: refused={bad_run['refused']} in {bad_run['seconds']}s, errors={bad_run['errors']}, "
              f"nothing written={bad_run['nothing_written']}", file=sys.stderr)
        floors, imports, writes = [], [], []
        for i in range(args.repeat):
            floors.append(measure_floor(good))
            reset_grades()
            writes.append(measure_write_floor(good, actor))
            reset_grades()
            imports.append(measure_import(good, actor))
            write = f", write-only SQL {writes[-1]['rows_per_s']:,} rows/s" if writes[-1] else ""
            print(f"run {i + 1}: floor {floors[-1]['rows_per_s']:,} rows/s ({floors[-1]['seconds']}s), "
                  f"import {imports[-1]['rows_per_s']:,} rows/s ({imports[-1]['seconds']}s){write}", file=sys.stderr)
        writes = [w for w in writes if w]
        vendor = connection.vendor

    floor_rate = statistics.median(f["rows_per_s"] for f in floors)
    import_rate = statistics.median(r["rows_per_s"] for r in imports)
    ratio = import_rate / floor_rate
    ok = bad_run["nothing_written"] and (ratio >= TARGET or vendor != "postgresql" or args.tuned_storage)
    print()
    storage = "tuned storage (fillfactor 50, no entered_by index)" if args.tuned_storage else "schema as migrated"
    print(f"Grade import, {len(rows):,} rows ({args.offerings} offerings), {db.label}, {storage}, "
          f"median of {args.repeat}")
    print(f"  floor (calamine parse + COPY): {floor_rate:>9,.0f} rows/s  "
          f"(parse {statistics.median(f['parse_s'] for f in floors)}s, copy {statistics.median(f['copy_s'] for f in floors)}s)")
    db_cpu = [r["db_cpu_s"] for r in imports if r["db_cpu_s"] is not None]
    print(f"  import (grades_import)       : {import_rate:>9,.0f} rows/s  "
          f"({statistics.median(r['seconds'] for r in imports):.2f}s; CPU: python "
          f"{statistics.median(r['python_cpu_s'] for r in imports):.2f}s, database "
          f"{f'{statistics.median(db_cpu):.2f}s' if db_cpu else 'n/a'})")
    if writes:
        write_rate = statistics.median(w["rows_per_s"] for w in writes)
        print(f"  write-only SQL (no checking) : {write_rate:>9,.0f} rows/s  "
              f"({statistics.median(w['seconds'] for w in writes):.2f}s; database CPU "
              f"{statistics.median((w['db_cpu_s'] or 0) for w in writes):.2f}s) = {write_rate / floor_rate:.2f} × floor")
    print(f"  ratio                        : {ratio:.2f}  (target ≥ {TARGET})")
    print(f"  one bad row                  : refused in {bad_run['seconds']}s, "
          f"{'nothing written' if bad_run['nothing_written'] else 'WROTE ROWS'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "grade_import",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": vendor,
        "python": platform.python_version(),
        "rows": len(rows),
        "offerings": args.offerings,
        "storage": "tuned" if args.tuned_storage else "as migrated",
        "load_average": os.getloadavg(),
        "file_bytes": size,
        "floor_rows_per_s": floor_rate,
        "import_rows_per_s": import_rate,
        "ratio": round(ratio, 3),
        "target": TARGET,
        "bad_row": bad_run,
        "write_only_rows_per_s": statistics.median(w["rows_per_s"] for w in writes) if writes else None,
        "floor_runs": floors,
        "write_only_runs": writes,
        "import_runs": imports,
    }, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
