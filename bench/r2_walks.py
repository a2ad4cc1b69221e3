"""R2 random walks at length (issue 8): every walk of tests/reliability/test_r2_walks.py — one per chain
of the approval kernel, the grade sheet and station submissions — for ``--steps`` steps each (default
10,000; CI runs 300). Prints the steps each walk ran, its time and any failure (with the
``@reproduce_failure`` blob Hypothesis prints), and writes bench/results/r2_walks.json.

    .venv/bin/python bench/r2_walks.py                       # 10,000 steps per walk, SQLite in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/r2_walks.py --steps 2000
    .venv/bin/python bench/r2_walks.py --only U3 grade_sheet --pending all

The walks run in one pytest process against a throwaway database (``test_bench_r2`` on the PostgreSQL
server of DATABASE_URL, dropped afterwards; SQLite in memory otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("R2_ARTIFACTS") or ROOT / "test-artifacts" / "r2")
RESULTS = ROOT / "bench" / "results" / "r2_walks.json"
DB_NAME = "bench_r2"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps per walk (R2_STEPS)")
    parser.add_argument("--only", nargs="+", default=[], help="walks to run (chain codes, grade_sheet, station)")
    parser.add_argument(
        "--pending",
        default=os.environ.get("R2_PENDING", ""),
        help="invariants waiting for another fix to enable (R2_PENDING: names or 'all')",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "bench"))
    from common import pg_execute, pg_urls

    env = {
        **os.environ,
        "R2_STEPS": str(args.steps),
        "R2_PENDING": args.pending,
        "R2_ARTIFACTS": str(ARTIFACTS),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "registrar.settings.test"),
    }
    url = os.environ.get("DATABASE_URL", "")
    admin = None
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        admin, env["DATABASE_URL"] = pg_urls(url, DB_NAME)  # pytest-django creates and uses test_bench_r2
        database = f"PostgreSQL (test_{DB_NAME})"
    else:
        env["DATABASE_URL"] = ""
        database = "SQLite (in memory)"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/reliability/test_r2_walks.py",
        "-p",
        "no:cacheprovider",
        "-q",
        "-s",
        "--create-db",
        "-o",
        "addopts=",
    ]
    if args.only:
        command += ["-k", " or ".join(args.only)]
    print(f"R2 walks, {args.steps} steps each, on {database}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        rc = subprocess.call(command, cwd=ROOT, env=env)
    finally:
        if admin:
            pg_execute(admin, f"DROP DATABASE IF EXISTS test_{DB_NAME} WITH (FORCE)")
    walks = [json.loads(p.read_text()) for p in sorted(ARTIFACTS.glob("*.json"))]
    report = {
        "steps_per_walk": args.steps,
        "database": database,
        "pending": args.pending,
        "seconds": round(time.monotonic() - started, 1),
        "pytest_exit": rc,
        "walks": walks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2))

    print(f"\n{'walk':<22}{'steps':>8}{'examples':>10}{'seconds':>9}  result")
    for w in walks:
        result = "FAILED: " + w["failure"].splitlines()[0][:120] if w.get("failure") else "ok"
        print(f"{w['machine']:<22}{w['steps']:>8}{w['examples']:>10}{w['seconds']:>9}  {result}")
    print(
        f"\n{len(walks)} walks, {sum(w['steps'] for w in walks)} steps in {report['seconds']} s; "
        f"pytest exit {rc}; results in {args.output}"
    )
    for w in walks:
        if w.get("failure"):
            print(f"\n--- {w['machine']} ---\n{w['failure']}")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
