"""The one inbox at scale (issue 9, item 4): query count and page time of GET /requests/.

Seeds, in a throwaway database, pending requests of the status-change chains and U6 (``inbox.py``'s
nine cases), submitted grade sheets (a fifth as many) and route (1) transcript batches (one request
each, a twenty-fifth as many), backfills the in-flight table (``workitems_rebuild``, timed), then:

1. **Query count** through ``django.test.Client`` as the counsellor, the dean and Academic Affairs:
   at 500 and at 5,000 pending requests (100 / 1,000 sheets, 20 / 200 batches), and at 5,000 with
   the 10 registered chains and with 20 dummy chains registered besides (30), each with open work in
   the dean's college. The count must be the same everywhere (exit status 1 otherwise).
2. **Page time under load**: gunicorn (2 workers, production settings, ``DJANGO_BEHIND_TLS_PROXY``
   false) serves the dean's inbox and a bare view that runs one SQL query over the same rows (the
   dean's first 25 open work items with their students) and renders the same 25-row table. 32
   concurrent clients (4 processes × 8 threads) ask each URL for ``--seconds``; reported: requests
   per second, median and p99 latency, and the ratio inbox / bare (target ≤ 1.5).

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/inbox_scale.py
    .venv/bin/python bench/inbox_scale.py --sizes 500 5000 --seconds 20   # SQLite

Results: a table on stdout and ``bench/results/inbox_scale.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import ThrowawayDatabase, measure_get  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "inbox_scale.json"
BENCH_DB = "bench_inbox_scale"
SETTINGS = "inbox_scale_settings"
DUMMY_CHAINS = 20
DUMMY_ROWS = 40  # open work items per dummy chain, in the dean's college


def _production_env() -> None:
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("REGISTRAR_PUBLIC_URL", "http://127.0.0.1")
    os.environ["DJANGO_BEHIND_TLS_PROXY"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")])


# --- seeding -----------------------------------------------------------------------------------
class ScaleWorld:
    """``inbox.py``'s world (two classes of the dean's college, one of another) plus Academic Affairs,
    a teaching secretary, a term and courses for the grade sheets, and Student Affairs' batches."""

    def __init__(self):
        from inbox import World

        from grades.models import Course, Term
        from registrar.models import User
        from registrar.roles import Role, Scope
        from students.models import RoleAssignment

        self.base = World()
        self.aa = User.objects.create(username="aa", full_name="教务处", password=self.base.password)
        RoleAssignment.objects.create(user=self.aa, role=Role.ACADEMIC_AFFAIRS, scope=Scope.UNIVERSITY)
        self.sa = User.objects.create(username="sa", full_name="学生处", password=self.base.password)
        RoleAssignment.objects.create(user=self.sa, role=Role.STUDENT_AFFAIRS, scope=Scope.UNIVERSITY)
        self.term = Term.objects.create(
            code="2025-2026-1",
            name="2025-2026学年第一学期",
            start_date=dt.date(2025, 9, 1),
            end_date=dt.date(2026, 1, 20),
        )
        home = self.base.classes[0].college
        self.courses = [
            Course.objects.create(code=f"BC{i:03d}", name=f"课程{i}", college=home, credits=2, hours=32)
            for i in range(20)
        ]
        self.sheets = 0
        self.batches = 0
        self.dummies: list = []

    def grow(self, requests: int) -> None:
        from django.contrib.auth.hashers import make_password  # noqa: F401 (the base world hashed once)
        from django.db import transaction
        from django.utils import timezone

        from grades.models import BatchTranscriptRequest, Offering, TranscriptBatch
        from students.models import Student

        self.base.grow(requests)
        sheets, batches = requests // 5, requests // 25
        now = timezone.now()
        with transaction.atomic():
            home = self.base.classes[0].college
            offerings = [
                Offering(
                    code=f"BS{i:06d}",
                    term=self.term,
                    course=self.courses[i % len(self.courses)],
                    college=home,
                    exam_date=dt.date(2026, 1, 10),
                    sheet_state=Offering.SheetState.SUBMITTED,
                    submitted_at=now - dt.timedelta(minutes=11 * i + 5),
                )
                for i in range(self.sheets, sheets)
            ]
            Offering.objects.bulk_create(offerings, batch_size=1000)
            self.sheets = max(self.sheets, sheets)
            students = list(
                Student.objects.filter(klass=self.base.classes[0]).order_by("pk")[self.batches : batches].iterator()
            )
            for i, student in enumerate(students, start=self.batches):
                batch = TranscriptBatch.objects.create(purpose="graduates", filed_by=self.sa, note=f"第{i}批")
                entered = now - dt.timedelta(minutes=13 * i + 7)
                BatchTranscriptRequest.objects.bulk_create(
                    [
                        BatchTranscriptRequest(
                            student=student,
                            applicant=self.sa,
                            batch=batch,
                            state="academic_affairs_seal",
                            round=1,
                            submitted_at=entered,
                            stage_entered_at=entered,
                            stage_due_at=entered + dt.timedelta(days=5),
                        )
                    ]
                )
            self.batches = max(self.batches, batches)

    def register_dummy_chains(self) -> None:
        """20 more chains (copies of U6's stages under new codes) with open work in the dean's college."""
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone
        from inbox import U6

        from registrar.approvals.chains import Chain, Stage, get_chain, register
        from registrar.approvals.models import WorkItem
        from students.models import Student

        u6 = get_chain(U6.code)
        ct = ContentType.objects.get_for_model(u6.model)
        students = list(Student.objects.filter(klass=self.base.classes[0]).order_by("pk")[: DUMMY_ROWS * 2])
        now = timezone.now()
        rows = []
        for n in range(DUMMY_CHAINS):
            code = f"Z{n:02d}"
            chain = Chain(code=code, name=f"Dummy chain {n}", stages=(Stage("review", "Review", ("college_dean",)),))
            object.__setattr__(chain, "model", u6.model)
            register(chain)
            self.dummies.append(code)
            for i in range(DUMMY_ROWS):
                s = students[i % len(students)]
                rows.append(
                    WorkItem(
                        content_type=ct,
                        object_id=10_000_000 + n * 1000 + i,
                        student=s,
                        kind=code,
                        stage="review",
                        role="college_dean",
                        college_id=s.college_id,
                        klass_id=s.klass_id,
                        opened_at=now - dt.timedelta(days=30, minutes=i),
                        due_at=now - dt.timedelta(days=20),
                        quick=True,
                    )
                )
        WorkItem.objects.bulk_create(rows, batch_size=1000)


# --- query counts (in process) -----------------------------------------------------------------
def measure_counts(world, repeat: int, label: str) -> list[dict]:
    from django.urls import reverse

    out = []
    for who, user in (("counsellor", world.base.counsellor), ("dean", world.base.dean), ("academic_affairs", world.aa)):
        row = measure_get(user, reverse("approvals:inbox"), repeat)
        context = row.pop("response").context
        row.pop("bytes")
        out.append(
            {
                "case": label,
                "user": who,
                "in_inbox": context["all_count"],
                "kinds": len(context["tabs"]),
                "rows_on_page": len(context["rows"]),
                **row,
            }
        )
        print(
            f"  {label:<22} {who:<17} {context['all_count']:>6} items {len(context['tabs']):>3} kinds"
            f" {row['queries']:>3} queries {row['median_ms']:>7.1f} ms",
            file=sys.stderr,
        )
    return out


# --- load (gunicorn + 32 clients) --------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(port, path, cookie, seconds, threads, queue):
    latencies, errors = [], 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run():
        nonlocal errors
        mine = []
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-CN"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
            finally:
                conn.close()
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors))


def load(port: int, path: str, cookie: str, seconds: float, clients: int = 32, processes: int = 4) -> dict:
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_worker, args=(port, path, cookie, seconds, clients // processes, queue))
        for _ in range(processes)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _e in results for x in lat)
    errors = sum(e for _lat, e in results)
    if not latencies:
        return {"requests": 0, "errors": errors}
    return {
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
    }


def single(port: int, path: str, cookie: str, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-CN"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        conn.close()
        assert response.status == 200, (path, response.status)
    return round(statistics.median(times) * 1000, 1)


def serve_and_load(world, seconds: float, rounds: int) -> dict:
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    session = SessionStore()
    user = world.base.dean
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "BENCH_DUMMY_CHAINS": ",".join(world.dummies)}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "registrar.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=str(ROOT),
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        inbox, bare = "/requests/", f"/bench/bare-inbox/?user={user.pk}"
        alone = {"inbox": single(port, inbox, cookie), "bare": single(port, bare, cookie)}
        print(f"  alone: inbox {alone['inbox']} ms, bare {alone['bare']} ms", file=sys.stderr)
        runs = []
        for r in range(rounds):  # alternate, so both see the same machine
            for name, path in (("inbox", inbox), ("bare", bare)) if r % 2 == 0 else (("bare", bare), ("inbox", inbox)):
                res = load(port, path, cookie, seconds)
                runs.append({"page": name, "round": r, **res})
                print(f"  round {r} {name:<5} {res}", file=sys.stderr)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    def agg(name):
        mine = [x for x in runs if x["page"] == name]
        return {
            "req_per_s": round(statistics.median(x["req_per_s"] for x in mine), 1),
            "median_ms": round(statistics.median(x["median_ms"] for x in mine), 1),
            "mean_ms": round(statistics.median(x["mean_ms"] for x in mine), 1),
            "p99_ms": round(statistics.median(x["p99_ms"] for x in mine), 1),
            "errors": sum(x["errors"] for x in mine),
        }

    inbox_agg, bare_agg = agg("inbox"), agg("bare")
    return {
        "alone_ms": alone,
        "inbox": inbox_agg,
        "bare": bare_agg,
        "ratio_mean_latency": round(inbox_agg["mean_ms"] / bare_agg["mean_ms"], 2),
        "ratio_throughput": round(bare_agg["req_per_s"] / inbox_agg["req_per_s"], 2),
        "runs": runs,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000], help="pending requests to seed")
    parser.add_argument("--repeat", type=int, default=7, help="renders per user for the query count (median)")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per URL and round")
    parser.add_argument("--rounds", type=int, default=2, help="load rounds (inbox and bare alternate)")
    parser.add_argument("--no-load", action="store_true", help="query counts only, no gunicorn")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    _production_env()
    with ThrowawayDatabase(BENCH_DB) as db:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import setup_test_environment

        from registrar.approvals.workitems import workitems_rebuild

        setup_test_environment()
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{db.label}: migrated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        world = ScaleWorld()
        counts, backfill = [], {}
        for size in sorted(set(args.sizes)):
            started = time.perf_counter()
            world.grow(size)
            seeded = time.perf_counter() - started
            started = time.perf_counter()
            open_rows = workitems_rebuild()
            backfill[size] = {"open_rows": open_rows, "seconds": round(time.perf_counter() - started, 2)}
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            print(
                f"seeded {size} requests, {world.sheets} sheets, {world.batches} batches in {seeded:.1f}s;"
                f" backfilled {open_rows} open rows in {backfill[size]['seconds']}s",
                file=sys.stderr,
            )
            counts += measure_counts(world, args.repeat, f"{size} requests, 10 chains")
        world.register_dummy_chains()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        counts += measure_counts(world, args.repeat, f"{max(args.sizes)} requests, 30 chains")
        loaded = None if args.no_load else serve_and_load(world, args.seconds, args.rounds)
        vendor = connection.vendor

    constant = all(len({c["queries"] for c in counts if c["user"] == who}) == 1 for who in {c["user"] for c in counts})
    print()
    print(f"Inbox GET /requests/ on {db.label}")
    header = f"{'case':<24} {'user':<17} {'items':>6} {'kinds':>5} {'queries':>7} {'median ms':>9}"
    print(header)
    print("-" * len(header))
    for c in counts:
        print(
            f"{c['case']:<24} {c['user']:<17} {c['in_inbox']:>6} {c['kinds']:>5} {c['queries']:>7} {c['median_ms']:>9.1f}"
        )
    print(f"query count constant across sizes and chains: {'yes' if constant else 'NO'}")
    if loaded:
        print()
        print("Under gunicorn (2 workers), 32 concurrent clients, the dean's inbox vs the bare view:")
        for name in ("inbox", "bare"):
            r = loaded[name]
            print(
                f"  {name:<5} {r['req_per_s']:>7} req/s  median {r['median_ms']:>6} ms  mean {r['mean_ms']:>6} ms"
                f"  p99 {r['p99_ms']:>6} ms  errors {r['errors']}"
            )
        print(
            f"  alone: inbox {loaded['alone_ms']['inbox']} ms, bare {loaded['alone_ms']['bare']} ms;"
            f" inbox/bare: mean latency × {loaded['ratio_mean_latency']}, throughput × {loaded['ratio_throughput']}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "inbox_scale",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": vendor,
                "python": platform.python_version(),
                "query_count_constant": constant,
                "backfill": backfill,
                "counts": counts,
                "load": loaded,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    shutil.rmtree(ROOT / "bench" / "__pycache__", ignore_errors=True)
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
