"""Late-entry dashboard benchmark (issue 4, "Benchmarks"): median time and query count of
Academic Affairs' late-entry dashboard (GET /grades/sheets/late/) and of the "Grade sheets" list
(GET /grades/sheets/?late=on) over N late offerings.

Seeds N offerings past their entry due date (bulk inserts: offerings, instructors, grade rows —
30 students per offering, a third of them with a result) spread over eight colleges, plus as many
offerings that are not late (submitted, or with a recent exam), into a throwaway database; then
renders both pages as Academic Affairs through ``django.test.Client`` and reports, for each
size, the median time and the number of queries. The query count must not grow with N.

Usage::

    .venv/bin/python bench/late_entry.py [--sizes 300 3000] [--repeat 7]

The database is created here and dropped afterwards: with ``DATABASE_URL`` set (PostgreSQL) a
database named ``bench_late_entry`` on that server, otherwise a temporary SQLite file. Results
are printed as a table and written to ``bench/results/late_entry.json``. Exit status 1 when the
query count differs between sizes.
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

RESULTS = ROOT / "bench" / "results" / "late_entry.json"
BENCH_DB = "bench_late_entry"
STUDENTS_PER_OFFERING = 30
COLLEGES = (
    ("CIE", "计算机与信息工程学院"),
    ("EM", "经济管理学院"),
    ("FL", "外国语学院"),
    ("ME", "机电工程学院"),
    ("AR", "艺术设计学院"),
    ("ED", "教育学院"),
    ("MA", "数学与统计学院"),
    ("CE", "化学与材料工程学院"),
)


# --- throwaway database ------------------------------------------------------------------------
class World:
    """Eight colleges with a class of students each, courses, instructors and one term."""

    def __init__(self):
        from django.contrib.auth.hashers import make_password

        from grades.models import Course, Term
        from registrar.models import User
        from registrar.roles import Role, Scope
        from students.management.demo import CLASSES, build_student
        from students.models import Class, College, Major, RoleAssignment, Student

        password = make_password("bench")
        self.aa = User.objects.create(username="aa", full_name="教务处", password=password)
        RoleAssignment.objects.create(user=self.aa, role=Role.ACADEMIC_AFFAIRS, scope=Scope.UNIVERSITY)
        self.term = Term.objects.create(
            code="2025-2026-1",
            name="2025-2026学年第一学期",
            start_date=dt.date(2025, 9, 1),
            end_date=dt.date(2026, 1, 20),
        )
        spec = next(c for c in CLASSES if c[0] == "CS2401")
        taken: set[str] = set()
        self.colleges, self.students, self.courses, self.instructors = [], {}, {}, {}
        for i, (code, name) in enumerate(COLLEGES):
            college = College.objects.create(code=code, name=name)
            major = Major.objects.create(code=f"M{i:03d}", name=f"{name}专业", college=college)
            klass = Class.objects.create(
                code=f"{code}2401", name=f"{name}2024级1班", cohort=2024, major=major, college=college
            )
            built = [
                build_student(klass=klass, spec=spec, college_code="CIE", number=f"24{i:02d}{n:06d}", taken=taken)
                for n in range(STUDENTS_PER_OFFERING)
            ]
            self.students[college.pk] = Student.objects.bulk_create(built)
            self.courses[college.pk] = Course.objects.bulk_create(
                [
                    Course(code=f"{code}{n:03d}", name=f"{name}课程{n}", credits=3, hours=48, college=college)
                    for n in range(20)
                ]
            )
            self.instructors[college.pk] = User.objects.bulk_create(
                [User(username=f"t{code.lower()}{n}", full_name=f"教师{code}{n}", password=password) for n in range(10)]
            )
            self.colleges.append(college)
        self.count = 0

    def grow(self, n: int) -> None:
        """Add offerings until ``n`` are late (and as many are not late)."""
        from django.db import transaction
        from django.utils import timezone

        from grades.models import Grade, Offering

        start, self.count = self.count, n
        if n <= start:
            return
        today = timezone.localdate()
        with transaction.atomic():
            offerings = []
            for i in range(start, n):
                college = self.colleges[i % len(self.colleges)]
                course = self.courses[college.pk][i % 20]
                offerings.append(
                    Offering(
                        code=f"L{i:06d}",
                        term=self.term,
                        course=course,
                        college=college,
                        exam_date=today - dt.timedelta(days=10 + i % 40),
                    )
                )
                # not late: a recent exam, or already submitted
                recent = i % 2 == 0
                offerings.append(
                    Offering(
                        code=f"N{i:06d}",
                        term=self.term,
                        course=course,
                        college=college,
                        exam_date=today - dt.timedelta(days=2 if recent else 30),
                        sheet_state="entering" if recent else "submitted",
                    )
                )
            offerings = Offering.objects.bulk_create(offerings, batch_size=1000)
            through = Offering.instructors.through
            links, grades = [], []
            for o in offerings:
                teachers = self.instructors[o.college_id]
                links.append(through(offering_id=o.pk, user_id=teachers[o.pk % 10].pk))
                if o.pk % 3 == 0:
                    links.append(through(offering_id=o.pk, user_id=teachers[(o.pk + 1) % 10].pk))
                for j, s in enumerate(self.students[o.college_id]):
                    entered = j % 3 == 0
                    grades.append(
                        Grade(
                            offering_id=o.pk,
                            student_id=s.pk,
                            course_id=o.course_id,
                            term_id=o.term_id,
                            components={"final": "75"} if entered else {},
                            score=75 if entered else None,
                            passed=True if entered else None,
                        )
                    )
            through.objects.bulk_create(links, batch_size=5000)
            Grade.objects.bulk_create(grades, batch_size=5000)


# --- measuring ---------------------------------------------------------------------------------
def measure(user, url: str, repeat: int, params: dict | None = None) -> dict:
    row = measure_get(user, url, repeat, params)
    row.pop("bytes")
    row["context"] = row.pop("response").context
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000], help="late offerings to seed")
    parser.add_argument("--repeat", type=int, default=7, help="timed renders per page and size (median)")
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
        from django.urls import reverse

        setup_test_environment()
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{db.label}: migrated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        world = World()
        results = []
        pages = (
            ("late_dashboard", reverse("grades:late_dashboard"), None),
            ("sheet_list_late", reverse("grades:offering_list"), {"late": "on"}),
        )
        for size in sorted(set(args.sizes)):
            started = time.perf_counter()
            world.grow(size)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            print(
                f"seeded {size} late offerings ({2 * size} in all, {2 * size * STUDENTS_PER_OFFERING} grade rows) "
                f"in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
            for label, url, params in pages:
                row = measure(world.aa, url, args.repeat, params)
                ctx = row.pop("context")
                late = ctx["total_late"] if label == "late_dashboard" else ctx["page_obj"].paginator.count
                assert late == size, (label, late, size)
                row = {"size": size, "page": label, "late_shown": late, **row}
                results.append(row)
                print(f"  {label:<16} {row['median_ms']:>8.1f} ms  {row['queries']} queries", file=sys.stderr)
        vendor = connection.vendor

    constant = all(len({r["queries"] for r in results if r["page"] == p}) == 1 for p, _u, _q in pages)
    print()
    print(f"Late entry on {db.label}, median of {args.repeat} renders (first page)")
    header = f"{'late':>6}  {'page':<16}  {'queries':>7}  {'median ms':>9}  {'min ms':>7}  {'slowest q ms':>12}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['size']:>6}  {r['page']:<16}  {r['queries']:>7}  {r['median_ms']:>9.1f}  {r['min_ms']:>7.1f}"
            f"  {r['slowest_query_ms']:>12.1f}"
        )
    print(f"query count constant across sizes: {'yes' if constant else 'NO'}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "late_entry",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": vendor,
                "python": platform.python_version(),
                "repeat": args.repeat,
                "students_per_offering": STUDENTS_PER_OFFERING,
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
