"""Inbox benchmark (issue 3, "Performance"): median time and query count of GET /requests/.

Seeds N pending requests of mixed types (U1, U2, U3, U4, U6, at stages where the counsellor,
the dean, both or neither must sign; a tenth of them in another college) into a throwaway
database, then renders the inbox as the counsellor and as the dean through ``django.test.Client``
and reports, for each size, the median time and the number of queries. The query count must not
grow with N.

Usage::

    .venv/bin/python bench/inbox.py [--sizes 500 5000] [--repeat 7]

The database is created here and dropped afterwards: with ``DATABASE_URL`` set (PostgreSQL) a
database named ``bench_inbox`` on that server, otherwise a temporary SQLite file. Results are
printed as a table and written to ``bench/results/inbox.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import ThrowawayDatabase, measure_get  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "inbox.json"
BENCH_DB = "bench_inbox"


class _Chain:
    """A chain named by its seed code, looked up when first used: the script imports this module
    before Django is set up, so the chains' modules cannot be imported at the top."""

    def __init__(self, seed: str):
        self.seed = seed

    @property
    def code(self) -> str:
        from registrar.approvals.chains import all_chains

        return next(c for c in all_chains() if c.seed_code == self.seed).code


U1, U2, U3, U4, U6 = (_Chain(seed) for seed in ("U1", "U2", "U3", "U4", "U6"))


def scenarios() -> tuple:
    """(chain, stage, roles that already signed this stage): who must still sign decides which inbox shows it."""
    return tuple((chain.code, stage, signed) for chain, stage, signed in SCENARIO_TEMPLATE)


SCENARIO_TEMPLATE = (
    (U1, "college_review", ()),  # counsellor and dean
    (U1, "college_review", ("counsellor",)),  # dean only
    (U1, "advisor_confirm", ()),  # neither
    (U2, "college_review", ()),  # dean
    (U3, "college_review", ()),  # dean
    (U3, "clearance", ()),  # neither
    (U4, "college_leadership", ()),  # dean
    (U6, "counsellor_confirm", ()),  # counsellor
    (U6, "finance_payment", ()),  # neither
)


# --- throwaway database ------------------------------------------------------------------------
# --- seeding -----------------------------------------------------------------------------------
class World:
    """Two classes the counsellor looks after (the dean's college) and one class of another college."""

    def __init__(self):
        from django.contrib.auth.hashers import make_password

        from registrar.models import User
        from registrar.roles import Role, Scope
        from students.models import Class, College, Major, RoleAssignment

        self.password = make_password("bench")
        home = College.objects.create(code="CIE", name="计算机与信息工程学院")
        away = College.objects.create(code="EM", name="经济管理学院")
        cs = Major.objects.create(code="080901", name="计算机科学与技术", college=home)
        ac = Major.objects.create(code="120203K", name="会计学", college=away)
        self.counsellor = User.objects.create(username="counsellor", full_name="刘建明", password=self.password)
        self.dean = User.objects.create(username="dean", full_name="张志远", password=self.password)
        self.other = User.objects.create(username="secretary", full_name="王国强", password=self.password)
        RoleAssignment.objects.create(user=self.dean, role=Role.COLLEGE_DEAN, scope=Scope.COLLEGE, college=home)
        RoleAssignment.objects.create(user=self.other, role=Role.COLLEGE_SECRETARY, scope=Scope.COLLEGE, college=home)
        self.classes = [
            Class.objects.create(
                code="CS2401",
                name="计算机科学与技术2024级1班",
                cohort=2024,
                major=cs,
                college=home,
                counsellor=self.counsellor,
            ),
            Class.objects.create(
                code="CS2402",
                name="计算机科学与技术2024级2班",
                cohort=2024,
                major=cs,
                college=home,
                counsellor=self.counsellor,
            ),
            Class.objects.create(code="AC2401", name="会计学2024级1班", cohort=2024, major=ac, college=away),
        ]
        self.count = 0

    def grow(self, n: int) -> None:
        """Add requests (one per new student) until there are ``n`` pending ones."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction
        from django.utils import timezone

        from registrar.approvals.chains import get_chain
        from registrar.approvals.models import SignOff
        from registrar.models import User
        from students.management.demo import CLASSES, build_student
        from students.models import Student

        start, self.count = self.count, n
        _SC = scenarios()  # noqa: N806
        if n <= start:
            return
        spec = next(c for c in CLASSES if c[0] == "CS2401")
        taken: set[str] = set()
        now = timezone.now()
        with transaction.atomic():
            students = []
            for i in range(start, n):
                klass = self.classes[2] if i % 10 == 9 else self.classes[i % 2]
                s = build_student(klass=klass, spec=spec, college_code="CIE", number=f"24990{i:05d}", taken=taken)
                s.major, s.college = klass.major, klass.college
                if _SC[i % len(_SC)][0] == U2.code:
                    s.status = Student.Status.SUSPENDED
                students.append(s)
            users = User.objects.bulk_create(
                [User(username=s.student_number, full_name=s.name, password=self.password) for s in students],
                batch_size=1000,
            )
            for s, u in zip(students, users, strict=True):
                s.user = u
            students = Student.objects.bulk_create(students, batch_size=1000)

            by_chain: dict[str, list] = {}
            for i, student in zip(range(start, n), students, strict=True):
                code, stage, _signed = _SC[i % len(_SC)]
                by_chain.setdefault(code, []).append((i, student))
            signoffs = []
            for code, items in by_chain.items():
                chain = get_chain(code)
                model = chain.model
                objs = []
                for i, student in items:
                    _c, stage, _signed = _SC[i % len(_SC)]
                    entered = now - dt.timedelta(minutes=7 * i + 3)
                    deadline = chain.deadline(stage)
                    # state given to the constructor: the protected FSM field refuses later assignment
                    req = model(
                        student=student,
                        applicant=self.counsellor if code == U4.code else student.user,
                        state=stage,
                        round=1,
                        submitted_at=entered - dt.timedelta(days=1),
                        stage_entered_at=entered,
                        stage_due_at=entered + deadline if deadline else None,
                        **_fields(code, i),
                    )
                    objs.append(req)
                objs = model.objects.bulk_create(objs, batch_size=1000)
                ct = ContentType.objects.get_for_model(model)
                first = chain.stage_codes[0]
                for (i, student), req in zip(items, objs, strict=True):
                    _c, stage, signed = _SC[i % len(_SC)]
                    base = {"content_type": ct, "object_id": req.pk, "chain": code, "round": 1}
                    signoffs.append(
                        SignOff(
                            **base,
                            stage="draft",
                            role="counsellor" if code == U4.code else "student",
                            actor=req.applicant,
                            actor_label="applicant",
                            decision="submit",
                            source_state="draft",
                            target_state=first,
                            created_at=req.submitted_at,
                        )
                    )
                    for role in signed:
                        actor = self.counsellor if role == "counsellor" else self.other
                        signoffs.append(
                            SignOff(
                                **base,
                                stage=stage,
                                role=role,
                                actor=actor,
                                actor_label=role,
                                decision="approve",
                                source_state=stage,
                                target_state=stage,
                                created_at=req.stage_entered_at + dt.timedelta(hours=1),
                            )
                        )
            SignOff.objects.bulk_create(signoffs, batch_size=1000)


def _fields(code: str, i: int) -> dict:
    today = dt.date(2026, 3, 1)
    return {
        U1.code: {
            "reason": "personal",
            "reason_detail": "家庭原因",
            "period_start": today,
            "period_end": today + dt.timedelta(days=180),
        },
        U2.code: {"reason_detail": "休学期满，申请复学"},
        U3.code: {"reason_detail": "出国留学"},
        U4.code: {"absent_since": today - dt.timedelta(days=60), "evidence": "连续两月未到校，联系不上。"},
        U6.code: {"reason": "lost", "reason_detail": "遗失", "old_card_number": f"2499{i:06d}"},
    }[code]


# --- measuring ---------------------------------------------------------------------------------
def measure(user, repeat: int) -> dict:
    from django.urls import reverse

    row = measure_get(user, reverse("approvals:inbox"), repeat)
    context = row.pop("response").context
    row.pop("bytes")
    return {"inbox_total": context["all_count"], "rows_on_page": len(context["rows"]), **row}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000], help="pending requests to seed")
    parser.add_argument("--repeat", type=int, default=7, help="timed renders per user and size (median)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar.settings.test")
    with ThrowawayDatabase(BENCH_DB) as db:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import setup_test_environment

        setup_test_environment()  # ALLOWED_HOSTS "testserver", locmem mail, response.context
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{db.label}: migrated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        world = World()
        results = []
        for size in sorted(set(args.sizes)):
            started = time.perf_counter()
            world.grow(size)
            # the requests are bulk-inserted around the services: backfill the inbox's in-flight table
            from registrar.approvals.workitems import workitems_rebuild

            workitems_rebuild()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            print(f"seeded {size} requests in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            for label, user in (("counsellor", world.counsellor), ("dean", world.dean)):
                row = {"size": size, "user": label, **measure(user, args.repeat)}
                results.append(row)
                print(f"  {label:<10} {row['median_ms']:>8.1f} ms  {row['queries']} queries", file=sys.stderr)
        vendor = connection.vendor

    constant = all(len({r["queries"] for r in results if r["user"] == who}) == 1 for who in ("counsellor", "dean"))
    print()
    print(f"Inbox GET /requests/ on {db.label}, median of {args.repeat} renders")
    header = f"{'pending':>8}  {'user':<10}  {'in inbox':>8}  {'queries':>7}  {'median ms':>9}  {'min ms':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['size']:>8}  {r['user']:<10}  {r['inbox_total']:>8}  {r['queries']:>7}  {r['median_ms']:>9.1f}"
            f"  {r['min_ms']:>7.1f}"
        )
    print(f"query count constant across sizes: {'yes' if constant else 'NO'}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "inbox",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": vendor,
                "python": platform.python_version(),
                "repeat": args.repeat,
                "query_count_constant": constant,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
