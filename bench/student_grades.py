"""Student grade record benchmark (issue 4, "Benchmarks"): time and query count of

* the student's grade page ``GET /grades/my-grades/`` (and ``GET /api/grades/me/``) for a student
  with 10 confirmed grades and one with 60, and
* the college progression dashboard ``GET /grades/progression/`` (Academic Affairs, one college)
  over a college of 300 students and one of 1,500 (each student with 24 regular grades over four
  terms, a make-up for each failure), plus its Excel export.

The query count must not grow with the number of grades or students: the script exits 1 when it
differs between sizes.

Usage::

    .venv/bin/python bench/student_grades.py [--grades 10 60] [--students 300 1500] [--repeat 7]

The database is created here and dropped afterwards: with ``DATABASE_URL`` set (PostgreSQL) a
database named ``bench_student_grades`` on that server, otherwise a temporary SQLite file.
Results are printed and written to ``bench/results/student_grades.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import ThrowawayDatabase, measure_get  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "student_grades.json"
BENCH_DB = "bench_student_grades"
TERMS = 8
COURSES_PER_TERM = 6
DASHBOARD_TERMS = 4  # the dashboard colleges' students have grades in the first four terms


# --- throwaway database ------------------------------------------------------------------------
def _score(i: int, j: int) -> Decimal:
    """A deterministic spread of scores: about one in eleven fails."""
    v = (i * 37 + j * 53) % 100
    return Decimal(35 + v % 25) if v < 9 else Decimal(60 + v % 40)


def _result(score: Decimal, kind: str = "regular"):
    from grades.scoring import Entry, compute

    return compute(
        scale="hundred", rounding="integer", weights=[("final", 100)], entries={"final": Entry(number=score)}, kind=kind
    )


class World:
    def __init__(self):
        from django.contrib.auth.hashers import make_password

        from grades.models import Term
        from registrar.models import User
        from registrar.roles import Role, Scope
        from students.models import RoleAssignment

        self.password = make_password("bench")
        self.terms = []
        for n in range(1, TERMS + 1):
            year = 2022 + (n - 1) // 2
            first = n % 2 == 1
            self.terms.append(
                Term.objects.create(
                    code=f"{year}-{year + 1}-{1 if first else 2}",
                    name=f"{year}-{year + 1}学年第{'一' if first else '二'}学期",
                    start_date=dt.date(year, 9, 1) if first else dt.date(year + 1, 2, 20),
                    end_date=dt.date(year + 1, 1, 20) if first else dt.date(year + 1, 7, 10),
                )
            )
        self.academic_affairs = User.objects.create(username="aa", full_name="教务处", password=self.password)
        RoleAssignment.objects.create(user=self.academic_affairs, role=Role.ACADEMIC_AFFAIRS, scope=Scope.UNIVERSITY)
        self.n = 0

    def college(self, code: str, name: str):
        from students.models import College, Major

        college = College.objects.create(code=code, name=name)
        major = Major.objects.create(code=f"M{code}", name=f"{name}专业", college=college)
        return college, major

    def students(self, college, major, count: int, *, with_users: bool = False):
        from registrar.models import User
        from students.models import Class, Student

        per_class = 50
        classes = Class.objects.bulk_create(
            [
                Class(
                    code=f"{college.code}-{self.n}-{k:03d}",
                    name=f"{major.name}2022级{k + 1}班",
                    cohort=2022,
                    major=major,
                    college=college,
                )
                for k in range(-(-count // per_class))
            ]
        )
        rows = []
        for i in range(count):
            self.n += 1
            rows.append(
                Student(
                    student_number=f"22{self.n:08d}",
                    name=f"学生{self.n}",
                    gender="F",
                    id_number=f"{self.n:017d}X",
                    birth_date=dt.date(2004, 5, 17),
                    level=Student.Level.BACHELOR,
                    study_form=Student.StudyForm.FULL_TIME,
                    college=college,
                    major=major,
                    klass=classes[i // per_class],
                    enrollment_date=dt.date(2022, 9, 1),
                    expected_graduation=dt.date(2026 if i % 2 else 2027, 6, 30),
                )
            )
        if with_users:
            users = User.objects.bulk_create(
                [User(username=s.student_number, full_name=s.name, password=self.password) for s in rows]
            )
            for s, u in zip(rows, users, strict=True):
                s.user = u
        return Student.objects.bulk_create(rows, batch_size=2000)

    def offerings(self, college, prefix: str, terms, per_term: int, kind="regular", courses=None):
        from grades.models import Course, GradeComponent, Offering

        if courses is None:
            courses = Course.objects.bulk_create(
                [
                    Course(
                        code=f"{prefix}{t:02d}{c:02d}",
                        name=f"课程{prefix}{t}-{c}",
                        credits=Decimal("2.5"),
                        hours=40,
                        college=college,
                    )
                    for t in range(len(terms))
                    for c in range(per_term)
                ]
            )
        offerings = Offering.objects.bulk_create(
            [
                Offering(
                    code=f"{prefix}-{kind}-{course.code}",
                    term=terms[k // per_term],
                    course=course,
                    college=college,
                    kind=kind,
                    exam_date=terms[k // per_term].end_date - dt.timedelta(days=10),
                )
                for k, course in enumerate(courses)
            ]
        )
        GradeComponent.objects.bulk_create([GradeComponent(offering=o, code="final", weight=100) for o in offerings])
        Offering.objects.filter(pk__in=[o.pk for o in offerings]).update(sheet_state=Offering.SheetState.CONFIRMED)
        return courses, offerings

    def grades(self, pairs, kind="regular", via="class"):
        """``pairs``: (student, offering, score)."""
        from grades.models import Grade

        rows = []
        for student, o, score in pairs:
            r = _result(score, kind)
            rows.append(
                Grade(
                    offering=o,
                    student=student,
                    course_id=o.course_id,
                    term_id=o.term_id,
                    kind=kind,
                    enrolled_via=via,
                    components={"final": str(score)},
                    score=r.score,
                    passed=r.passed,
                    grade_point=r.grade_point,
                    level=r.level,
                    mark=r.mark,
                )
            )
        Grade.objects.bulk_create(rows, batch_size=5000)

    def record_students(self, sizes):
        """One student per size with exactly that many confirmed grades (regular and make-ups)."""
        college, major = self.college("REC", "记录学院")
        out = {}
        for size in sizes:
            (student,) = self.students(college, major, 1, with_users=True)
            regular_n = size - size // 10  # a tenth of the grades are make-ups of failed courses
            per_term = -(-regular_n // TERMS)
            courses, offerings = self.offerings(college, f"R{size}", self.terms, per_term)
            offerings = offerings[:regular_n]
            makeups = size - regular_n
            failed = set(range(0, regular_n, max(1, regular_n // max(makeups, 1))))
            failed = set(sorted(failed)[:makeups])
            self.grades(
                [
                    (student, o, Decimal(45) if k in failed else Decimal(60 + (k * 7) % 40))
                    for k, o in enumerate(offerings)
                ]
            )
            _c, mk = self.offerings(
                college,
                f"R{size}",
                [offerings[k].term for k in sorted(failed)],
                1,
                kind="makeup",
                courses=[courses[k] for k in sorted(failed)],
            )
            self.grades([(student, o, Decimal(70)) for o in mk], kind="makeup", via="makeup")
            out[size] = student
        return out

    def dashboard_college(self, count: int):
        college, major = self.college(f"D{count}", f"{count}人学院")
        students = self.students(college, major, count)
        terms = self.terms[:DASHBOARD_TERMS]
        courses, offerings = self.offerings(college, f"D{count}-", terms, COURSES_PER_TERM)
        pairs = [(s, o, _score(i, j)) for i, s in enumerate(students) for j, o in enumerate(offerings)]
        self.grades(pairs)
        failed = {(s.pk, o.course_id) for s, o, score in pairs if score < 60}
        _c, makeups = self.offerings(college, f"D{count}-", terms, COURSES_PER_TERM, kind="makeup", courses=courses)
        by_course = {o.course_id: o for o in makeups}
        self.grades(
            [
                (s, by_course[o.course_id], Decimal(55 + (i % 2) * 20))
                for i, (s, o, _score_) in enumerate(pairs)
                if (s.pk, o.course_id) in failed
            ],
            kind="makeup",
            via="makeup",
        )
        return college, len(pairs) + len(failed)


# --- measuring ---------------------------------------------------------------------------------
def measure(user, url: str, repeat: int) -> dict:
    row = measure_get(user, url, repeat)
    row.pop("response")
    row.pop("slowest_query_ms")
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grades", type=int, nargs="+", default=[10, 60], help="grades of the page's students")
    parser.add_argument("--students", type=int, nargs="+", default=[300, 1500], help="students per dashboard college")
    parser.add_argument("--repeat", type=int, default=7, help="timed renders per case (median)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar.settings.test")
    with ThrowawayDatabase(BENCH_DB) as db:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        from grades.models import Grade

        setup_test_environment()
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{db.label}: migrated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        started = time.perf_counter()
        with transaction.atomic():
            world = World()
            page_students = world.record_students(sorted(set(args.grades)))
            colleges = {n: world.dashboard_college(n) for n in sorted(set(args.students))}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"seeded {Grade.objects.count()} grades in {time.perf_counter() - started:.1f}s", file=sys.stderr)

        page_rows, dash_rows = [], []
        for size, student in page_students.items():
            confirmed = Grade.objects.filter(student=student).count()
            for view, url in (("page", reverse("grades:my_grades")), ("api", reverse("grades-api:me"))):
                row = {"grades": confirmed, "view": view, **measure(student.user, url, args.repeat)}
                page_rows.append(row)
                print(
                    f"  {confirmed:>4} grades {view:<5} {row['median_ms']:>8.1f} ms  {row['queries']} queries",
                    file=sys.stderr,
                )
        for size, (college, n_grades) in colleges.items():
            query = f"?college={college.pk}&term={world.terms[DASHBOARD_TERMS - 1].pk}&year=2026"
            for view, name in (("dashboard", "grades:progression"), ("xlsx", "grades:progression_export")):
                row = {
                    "students": size,
                    "grades": n_grades,
                    "view": view,
                    **measure(world.academic_affairs, reverse(name) + query, args.repeat),
                }
                dash_rows.append(row)
                print(
                    f"  {size:>5} students {view:<9} {row['median_ms']:>8.1f} ms  {row['queries']} queries",
                    file=sys.stderr,
                )
        vendor = connection.vendor

    constant = all(
        len({r["queries"] for r in rows if r["view"] == view}) == 1
        for rows in (page_rows, dash_rows)
        for view in {r["view"] for r in rows}
    )
    print()
    print(f"Student grade page on {db.label}, median of {args.repeat} renders")
    print(f"{'grades':>7}  {'view':<5}  {'queries':>7}  {'median ms':>9}  {'min ms':>7}")
    for r in page_rows:
        print(f"{r['grades']:>7}  {r['view']:<5}  {r['queries']:>7}  {r['median_ms']:>9.1f}  {r['min_ms']:>7.1f}")
    print()
    print("Progression dashboard (Academic Affairs, one college)")
    print(f"{'students':>8}  {'grades':>7}  {'view':<9}  {'queries':>7}  {'median ms':>9}  {'min ms':>7}")
    for r in dash_rows:
        print(
            f"{r['students']:>8}  {r['grades']:>7}  {r['view']:<9}  {r['queries']:>7}  {r['median_ms']:>9.1f}"
            f"  {r['min_ms']:>7.1f}"
        )
    print(f"query count constant across sizes: {'yes' if constant else 'NO'}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "student_grades",
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": vendor,
                "python": platform.python_version(),
                "repeat": args.repeat,
                "query_count_constant": constant,
                "student_page": page_rows,
                "progression_dashboard": dash_rows,
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
