"""Run every benchmark in bench/ (``bash bin/bench`` calls this).

Each benchmark is a script that builds its own throwaway database (PostgreSQL when
``DATABASE_URL`` is set, else a temporary SQLite file) and writes bench/results/<name>.json.
``bash bin/bench`` runs every benchmark with its defaults; ``bash bin/bench inbox --sizes 500``
runs one benchmark (named without ``.py``) with its own arguments.

Benchmarks run with ``BENCH_SETTINGS`` (default ``registrar.settings.test``: no debug
toolbar, quick password hasher), whatever DJANGO_SETTINGS_MODULE the shell has, so the
figures are comparable from one run to the next.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "inbox.py",
    "late_entry.py",
    "student_grades.py",
    "grade_import.py",
    "transcripts.py",
    "r2_walks.py",
    *sorted(p.name for p in HERE.glob("bench_*.py")),
]


def main(argv: list[str]) -> int:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "registrar.settings.test")}
    failed = []
    names = BENCHMARKS
    if argv and not argv[0].startswith("-"):
        names, argv = [argv[0].removesuffix(".py") + ".py"], argv[1:]
        if names[0] not in BENCHMARKS:
            print(f"no benchmark {names[0]}; there are: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
    elif argv:
        print("give the benchmark's name before its arguments, e.g. bash bin/bench inbox --sizes 500", file=sys.stderr)
        return 2
    for name in names:
        print(f"==> bench/{name}", file=sys.stderr, flush=True)
        if subprocess.call([sys.executable, str(HERE / name), *argv], env=env) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
