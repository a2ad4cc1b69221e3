"""Grade-import benchmark (issue 4, "Benchmarks"): 100,000 grade rows from one xlsx through the
project's real import path, against the floor measured in the same run.

* **floors** — python-calamine parse of the file (the very ``sheet.read_rows`` call the import
  makes) + psycopg ``COPY`` of the same rows, every cell as text, into a new table: (a) a regular,
  WAL-logged table — the issue's "PostgreSQL COPY of the same rows", which the target is checked
  against; (b) an UNLOGGED table (no WAL at all), a stricter floor printed alongside;
* **import** — ``grades.services.imports.grades_import`` on the same file: header detection,
  preloading offerings and grade ids, validation of every row with each offering's scale and
  composition, computing the results, and the all-or-nothing write (COPY into a temporary table
  + one ``UPDATE … FROM``, in one transaction);
* **one bad row** — the same file with one unparseable score: refused, nothing written.

The target is import rate ≥ 0.5 × floor (a) rate. Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/grade_import.py
    .venv/bin/python bench/grade_import.py --offerings 100 --per-offering 100   # quick, SQLite

The database is created here and dropped afterwards (PostgreSQL: ``bench_grade_import`` on the
server of ``DATABASE_URL``; otherwise a temporary SQLite file, where the floor uses
``executemany`` instead of COPY, has no unlogged tables and the ratio is only indicative). Results
go to ``bench/results/grade_import.json``. Exit status 1 when the ratio to floor (a) misses the
target on PostgreSQL or the bad file wrote anything.
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
        return {
            "seconds": round(self.seconds, 3),
            "python_cpu_s": round(self.python_cpu, 3),
            "db_cpu_s": None if self.backend_cpu is None else round(self.backend_cpu, 3),
        }


def measure_floor(path: Path, *, logged: bool) -> dict:
    """The issue's floor: calamine parse of the file (``sheet.read_rows``, exactly the import's
    parse) + COPY of the same rows, every cell as text, into a new table — a regular (WAL-logged)
    one, or with ``logged=False`` an UNLOGGED one; the commit is timed. SQLite: ``executemany``."""
    from django.db import connection, transaction

    from grades.services.imports import sheet

    postgres = connection.vendor == "postgresql"
    table = f"bench_floor_{'logged' if logged else 'unlogged'}"
    clock = Clock().__enter__()
    started = clock.wall0
    rows = sheet.read_rows(str(path))
    parsed = time.perf_counter()
    data = rows[1:]
    width = len(rows[0])
    names = ", ".join(f"c{i}" for i in range(width))
    cols = ", ".join(f"c{i} text" for i in range(width))
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"CREATE {'' if logged else 'UNLOGGED '}TABLE {table} ({cols})")
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            cursor.execute(f"CREATE TABLE {table} ({cols})")
            cursor.executemany(
                f"INSERT INTO {table} VALUES ({', '.join(['%s'] * width)})",
                [[None if v == "" else str(v) for v in row] for row in data],
            )
    clock.__exit__(None, None, None)  # after the commit
    done = clock.wall0 + clock.seconds
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {table}")
    assert copied == len(data), (copied, len(data))
    return {
        "rows": len(data),
        "logged": logged,
        "parse_s": round(parsed - started, 3),
        "copy_s": round(done - parsed, 3),
        **clock.as_dict(),
        "rows_per_s": round(len(data) / clock.seconds),
    }


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
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_write (c0 text, c1 text, c2 text, c3 text, c4 text, c5 text)"
                " ON COMMIT DROP"
            )
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
                "WHERE g.offering_id = o.id AND g.student_id = s.id",
                [actor.pk],
            )
            written = cursor.rowcount
    return {
        "rows": len(rows) - 1,
        "written": written,
        **clock.as_dict(),
        "rows_per_s": round((len(rows) - 1) / clock.seconds),
    }


def reset_grades() -> None:
    """Back to "nothing entered" (not timed), so every timed run is a first import — the realistic
    and the most expensive case (every row changes, including who entered it)."""
    from django.db import DatabaseError, connection

    from grades.models import Grade

    Grade.objects.update(
        components={}, score=None, level="", mark="", passed=None, grade_point=None, entered_by=None, entered_at=None
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM FULL ANALYZE {Grade._meta.db_table}")
            with contextlib.suppress(DatabaseError):  # needs superuser or pg_checkpoint; only evens out the runs
                cursor.execute("CHECKPOINT")  # the next run starts without dirty buffers of this one


def _update_counts() -> tuple[int, int] | None:
    """(rows updated, of which heap-only) in grades_grade so far, PostgreSQL's statistics."""
    from django.db import connection

    from grades.models import Grade

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, flushed when idle
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = %s::regclass",
            [Grade._meta.db_table],
        )
        return cursor.fetchone()


def measure_import(path: Path, actor) -> dict:
    from grades.services.imports import grades_import

    marks = {}

    def progress(value):
        marks.setdefault(value, round(time.perf_counter() - clock.wall0, 3))

    before = _update_counts()
    with Clock() as clock:
        summary = grades_import(file=str(path), actor=actor, progress=progress)
    after = _update_counts()
    hot = None if before is None else {"updated": after[0] - before[0], "heap_only": after[1] - before[1]}
    return {
        "rows": summary.total_rows,
        "written": summary.written,
        **clock.as_dict(),
        "rows_per_s": round(summary.total_rows / clock.seconds),
        "updates": hot,
        "progress_at_s": marks,
    }


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
    return {
        "refused": refused,
        "errors": errors,
        "seconds": round(seconds, 3),
        "entered_before": before,
        "entered_after": after,
        "nothing_written": refused and before == after,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offerings", type=int, default=1000)
    parser.add_argument("--per-offering", type=int, default=100, help="students per offering (multiple of 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the floor and of the import")
    parser.add_argument("--output", type=Path, default=RESULTS, help="default bench/results/grade_import.json")
    args = parser.parse_args(argv)

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
        print(
            f"bad file: refused={bad_run['refused']} in {bad_run['seconds']}s, errors={bad_run['errors']}, "
            f"nothing written={bad_run['nothing_written']}",
            file=sys.stderr,
        )
        logged, unlogged, imports, writes = [], [], [], []
        for i in range(args.repeat):
            logged.append(measure_floor(good, logged=True))
            if connection.vendor == "postgresql":
                unlogged.append(measure_floor(good, logged=False))
            reset_grades()
            writes.append(measure_write_floor(good, actor))
            reset_grades()
            imports.append(measure_import(good, actor))
            line = f"run {i + 1}: floor (a) logged {logged[-1]['rows_per_s']:,} rows/s ({logged[-1]['seconds']}s)"
            if unlogged:
                line += f", floor (b) unlogged {unlogged[-1]['rows_per_s']:,} rows/s ({unlogged[-1]['seconds']}s)"
            line += f", import {imports[-1]['rows_per_s']:,} rows/s ({imports[-1]['seconds']}s)"
            if writes[-1]:
                line += f", write-only SQL {writes[-1]['rows_per_s']:,} rows/s"
            print(line, file=sys.stderr)
        writes = [w for w in writes if w]
        vendor = connection.vendor
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()" if vendor == "postgresql" else "SELECT 'SQLite ' || sqlite_version()")
            server = cursor.fetchone()[0].split(" on ")[0]

    def median(runs, key):
        return statistics.median(r[key] for r in runs)

    floor_a = median(logged, "rows_per_s")
    floor_b = median(unlogged, "rows_per_s") if unlogged else None
    import_rate = median(imports, "rows_per_s")
    ratio_a = import_rate / floor_a
    ratio_b = import_rate / floor_b if floor_b else None
    ok = bad_run["nothing_written"] and (ratio_a >= TARGET or vendor != "postgresql")
    print()
    print(
        f"Grade import, {len(rows):,} rows ({args.offerings} offerings), {server} ({db.label}), median of {args.repeat}"
    )
    write = "COPY" if vendor == "postgresql" else "INSERT"
    for label, runs, rate in (
        (f"floor (a): parse + {write}, logged table  ", logged, floor_a),
        (f"floor (b): parse + {write}, UNLOGGED table", unlogged, floor_b),
    ):
        if runs:
            print(
                f"  {label}: {rate:>9,.0f} rows/s  ({median(runs, 'seconds'):.2f}s: parse "
                f"{median(runs, 'parse_s'):.2f}s, copy + commit {median(runs, 'copy_s'):.2f}s)"
            )
    db_cpu = [r["db_cpu_s"] for r in imports if r["db_cpu_s"] is not None]
    print(
        f"  import (grades_import)                  : {import_rate:>9,.0f} rows/s  "
        f"({median(imports, 'seconds'):.2f}s; CPU: python {median(imports, 'python_cpu_s'):.2f}s, database "
        f"{f'{statistics.median(db_cpu):.2f}s' if db_cpu else 'n/a'})"
    )
    hot = [r["updates"] for r in imports if r["updates"]]
    if hot:
        print(
            "  heap-only (HOT) updates of grades_grade : "
            + ", ".join(f"{h['heap_only']:,} of {h['updated']:,}" for h in hot)
        )
    if writes:
        write_rate = median(writes, "rows_per_s")
        print(
            f"  write-only SQL (no checking)            : {write_rate:>9,.0f} rows/s  "
            f"({median(writes, 'seconds'):.2f}s; database CPU "
            f"{statistics.median((w['db_cpu_s'] or 0) for w in writes):.2f}s) = {write_rate / floor_a:.2f} × floor (a)"
        )
    print(f"  ratio to floor (a), logged              : {ratio_a:.2f}  (target ≥ {TARGET})")
    if ratio_b is not None:
        print(f"  ratio to floor (b), unlogged            : {ratio_b:.2f}  (stricter; not the target)")
    print(
        f"  one bad row                             : refused in {bad_run['seconds']}s, "
        f"{'nothing written' if bad_run['nothing_written'] else 'WROTE ROWS'}"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "grade_import",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": vendor,
                "server": server,
                "python": platform.python_version(),
                "rows": len(rows),
                "offerings": args.offerings,
                "load_average": os.getloadavg(),
                "file_bytes": size,
                "floor_logged_rows_per_s": floor_a,
                "floor_unlogged_rows_per_s": floor_b,
                "import_rows_per_s": import_rate,
                "ratio_logged": round(ratio_a, 3),
                "ratio_unlogged": None if ratio_b is None else round(ratio_b, 3),
                "target": TARGET,
                "target_met": ratio_a >= TARGET,
                "bad_row": bad_run,
                "write_only_rows_per_s": median(writes, "rows_per_s") if writes else None,
                "floor_logged_runs": logged,
                "floor_unlogged_runs": unlogged,
                "write_only_runs": writes,
                "import_runs": imports,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
        + "\n"
    )
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
