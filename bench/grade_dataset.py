"""Dataset generator for the grade-import benchmark (bench/grade_import.py).

``build_world(offerings=1000, per_offering=100)`` bulk-creates, in the current Django database,
one term, a few colleges, classes of 50 students, courses and ``offerings`` offerings of two
classes each (so ``offerings × per_offering`` grade rows), every sheet ``entering``, with a mix
of compositions and scales:

* 40 % 平时 30 + 期末 70 (hundred-point),
* 30 % 平时 20 + 期中 20 + 期末 60 (hundred-point, one decimal),
* 20 % 期末 100 (hundred-point),
* 10 % 期末 100 on the five-level scale (优/良/中/及格/不及格).

``write_xlsx(path, rows)`` writes the import file with openpyxl's write-only mode:
开课代码, 学号, 姓名, 平时, 期中, 期末 — scores mostly whole numbers 40–100, some halves, about
1 % 缺考 and 0.3 % 缓考, blanks where an offering has no such component. Both are deterministic
(seeded), so runs are comparable.

Usable on its own: ``python bench/grade_dataset.py out.xlsx`` writes a file of fake rows
(no database) for trying the import page by hand.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

SEED = 20260401
CLASS_SIZE = 50
HEADER = ["开课代码", "学号", "姓名", "平时", "期中", "期末"]
COMPOSITIONS = (  # (share, scale, rounding, [(code, weight)])
    (0.4, "hundred", "integer", [("regular", 30), ("final", 70)]),
    (0.3, "hundred", "one_decimal", [("regular", 20), ("midterm", 20), ("final", 60)]),
    (0.2, "hundred", "integer", [("final", 100)]),
    (0.1, "five_level", "integer", [("final", 100)]),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def _id_number(n: int) -> str:
    from students.validators import id_check_digit

    first17 = f"330106{2000 + n % 6}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def _composition(i: int):
    point = (i * 0.6180339887) % 1.0  # spread the kinds evenly over the offerings
    acc = 0.0
    for share, scale, rounding, weights in COMPOSITIONS:
        acc += share
        if point < acc:
            return scale, rounding, weights
    return COMPOSITIONS[-1][1:]


def build_world(*, offerings: int = 1000, per_offering: int = 100) -> list[list]:
    """Create the teaching data and empty grade rows; return the import rows (without header)."""
    from django.db import transaction

    from grades.models import Course, Grade, GradeComponent, Offering, Term
    from students.models import Class, College, Major, Student

    rng = random.Random(SEED)
    classes_per_offering = max(1, per_offering // CLASS_SIZE)
    n_classes = max(classes_per_offering, offerings * classes_per_offering // 10)  # each class takes ~10 offerings
    with transaction.atomic():
        term = Term.objects.create(
            code="2025-2026-1",
            name="2025-2026学年第一学期",
            start_date=dt.date(2025, 9, 1),
            end_date=dt.date(2026, 1, 20),
        )
        colleges = College.objects.bulk_create([College(code=f"C{i:02d}", name=f"基准学院{i}") for i in range(5)])
        majors = Major.objects.bulk_create(
            [Major(code=f"M{i:03d}", name=f"基准专业{i}", college=colleges[i % 5]) for i in range(10)]
        )
        classes = Class.objects.bulk_create(
            [
                Class(
                    code=f"B{i:04d}",
                    name=f"基准{i}班",
                    cohort=2024,
                    major=majors[i % 10],
                    college=majors[i % 10].college,
                )
                for i in range(n_classes)
            ]
        )
        students, n = [], 0
        for klass in classes:
            for _ in range(CLASS_SIZE):
                students.append(
                    Student(
                        student_number=f"2024{n:06d}",
                        name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        gender="F" if n % 2 else "M",
                        id_number=_id_number(n),
                        birth_date=dt.date(2005, 1, 1),
                        level="bachelor",
                        study_form="full_time",
                        college=klass.college,
                        major=klass.major,
                        klass=klass,
                        enrollment_date=dt.date(2024, 9, 1),
                        expected_graduation=dt.date(2028, 6, 30),
                    )
                )
                n += 1
        students = Student.objects.bulk_create(students, batch_size=2000)
        by_class: dict[int, list] = {}
        for s in students:
            by_class.setdefault(s.klass_id, []).append(s)
        courses = Course.objects.bulk_create(
            [
                Course(code=f"BC{i:04d}", name=f"基准课程{i}", credits=3, hours=48, college=colleges[i % 5])
                for i in range(max(1, offerings // 5))
            ]
        )
        specs = []
        for i in range(offerings):
            scale, rounding, weights = _composition(i)
            course = courses[i % len(courses)]
            specs.append(
                (
                    Offering(
                        code=f"{term.code}-{course.code}-{i:04d}",
                        term=term,
                        course=course,
                        college=course.college,
                        scale=scale,
                        rounding=rounding,
                        exam_date=dt.date(2026, 1, 10),
                    ),
                    weights,
                )
            )
        made = Offering.objects.bulk_create([o for o, _w in specs], batch_size=1000)
        components, grades, rows = [], [], []
        for i, (offering, (_o, weights)) in enumerate(zip(made, specs, strict=True)):
            components.extend(
                GradeComponent(offering=offering, code=c, weight=w, position=p) for p, (c, w) in enumerate(weights)
            )
            first = (i * classes_per_offering) % len(classes)
            mine = [classes[(first + k) % len(classes)] for k in range(classes_per_offering)]
            members = [s for k in mine for s in by_class[k.pk]][:per_offering]
            for s in members:
                grades.append(Grade(offering=offering, student=s, course_id=offering.course_id, term=term))
                rows.append(_row(rng, offering, s, weights))
        GradeComponent.objects.bulk_create(components, batch_size=2000)
        Grade.objects.bulk_create(grades, batch_size=5000)
        Offering.classes.through.objects.bulk_create(
            [
                Offering.classes.through(
                    offering_id=o.pk, class_id=classes[(i * classes_per_offering + k) % len(classes)].pk
                )
                for i, o in enumerate(made)
                for k in range(classes_per_offering)
            ],
            batch_size=5000,
        )
    rng.shuffle(rows)  # Academic Affairs' files are not sorted by offering
    return rows


def _score(rng: random.Random, scale: str):
    roll = rng.random()
    if roll < 0.01:
        return "缺考"
    if roll < 0.013:
        return "缓考"
    if scale == "five_level":
        return rng.choice(("优", "良", "良", "中", "中", "及格", "不及格"))
    value = max(0, min(100, int(rng.gauss(76, 12))))
    return value + 0.5 if rng.random() < 0.05 and value < 100 else value


def _row(rng, offering, student, weights) -> list:
    codes = {c for c, _w in weights}
    return [
        offering.code,
        student.student_number,
        student.name,
        _score(rng, offering.scale) if "regular" in codes else None,
        _score(rng, offering.scale) if "midterm" in codes else None,
        _score(rng, offering.scale),
    ]


def write_xlsx(path: Path, rows: list[list], *, bad_row: int | None = None) -> Path:
    """Write the header and ``rows`` (write-only mode). ``bad_row``: index of a row whose 期末
    value is replaced by text that is no score (for the all-or-nothing check)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("成绩")
    ws.append(HEADER)
    for i, row in enumerate(rows):
        if i == bad_row:
            row = [*row[:5], "八十"]
        ws.append(row)
    wb.save(path)
    return path


def fake_rows(n: int) -> list[list]:
    """Rows without a database (codes and numbers that will not match anything)."""
    rng = random.Random(SEED)
    return [
        [
            f"2025-2026-1-BC{i % 200:04d}-{i // 100:04d}",
            f"2024{i:06d}",
            "测试",
            rng.randint(40, 100),
            None,
            rng.randint(40, 100),
        ]
        for i in range(n)
    ]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "grades-100k.xlsx")
    write_xlsx(out, fake_rows(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))
    print(out)
