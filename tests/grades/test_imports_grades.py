"""Bulk grade import (grades.services.imports.grades_import): composites, all-or-nothing, every
bad row and column reported, scope, and the cached evaluator matching ``evaluate`` exactly."""

import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from grades.models import Grade, GradeComponent, Offering
from grades.scoring import ScoreError
from grades.services.imports import ERRORS_KEPT, ImportRefused, bulk_grades, grades_import
from grades.services.imports.jobs import stored_errors
from grades.services.results import evaluate
from tests.factories import StudentFactory
from tests.grades.factories import make_offering


def xlsx(rows, *, title=None) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def compose(offering, *pairs):
    offering.components.all().delete()
    GradeComponent.objects.bulk_create(
        [GradeComponent(offering=offering, code=c, weight=w, position=i) for i, (c, w) in enumerate(pairs)]
    )


def expected(offering, raw: dict):
    weights = [(c.code, c.weight) for c in offering.components.all()]
    return evaluate(scale=offering.scale, rounding=offering.rounding, kind=offering.kind, weights=weights, raw=raw)


def refused(file, actor, **kw) -> ImportRefused:
    with pytest.raises(ImportRefused) as exc:
        grades_import(file=file, actor=actor, **kw)
    return exc.value


def cells(exc: ImportRefused) -> set:
    return {(e["row"], e["column"]) for e in exc.errors}


@pytest.fixture
def world(grades_world):
    w = grades_world
    compose(w["offering"], ("regular", 30), ("final", 70))
    w["five"] = make_offering(course=w["course"], term=w["term"], classes=[w["klass"]], scale=Offering.Scale.FIVE_LEVEL)
    w["passfail"] = make_offering(term=w["term"], classes=[w["klass"]], scale=Offering.Scale.PASS_FAIL)
    w["makeup"] = make_offering(course=w["course"], term=w["term"], classes=[w["klass"]], kind=Offering.Kind.MAKEUP)
    return w


def test_bulk_import_writes_composites_for_many_offerings(world):
    w, s = world, world["students"]
    o, five, pf, makeup = w["offering"], w["five"], w["passfail"], w["makeup"]
    rows = [
        ["开课代码", "学号", "姓名", "平时", "期末", "成绩"],
        [o.code, s[0].student_number, s[0].name, 90, 81, None],
        [o.code, s[1].student_number, s[1].name, "85.5", "缺考", None],
        [o.code, s[2].student_number, s[2].name, 60, 55, None],
        [five.code, s[0].student_number, "", None, None, "良"],
        [five.code, s[1].student_number, "", None, "优", None],
        [pf.code, s[0].student_number, "", None, None, "合格"],
        [pf.code, s[1].student_number, "", None, None, "不合格"],
        [makeup.code, s[0].student_number, "", None, 95, None],
    ]
    summary = grades_import(file=xlsx(rows), actor=w["academic_affairs"])
    assert (summary.total_rows, summary.written) == (8, 8)
    checks = [
        (o, s[0], {"regular": 90, "final": 81}),
        (o, s[1], {"regular": "85.5", "final": "缺考"}),
        (o, s[2], {"regular": 60, "final": 55}),
        (five, s[0], {"final": "良"}),
        (five, s[1], {"final": "优"}),
        (pf, s[0], {"final": "合格"}),
        (pf, s[1], {"final": "不合格"}),
        (makeup, s[0], {"final": 95}),
    ]
    for offering, student, raw in checks:
        grade = Grade.objects.get(offering=offering, student=student)
        stored, result = expected(offering, raw)
        assert grade.components == stored
        assert (grade.score, grade.level, grade.mark, grade.passed, grade.grade_point) == (
            result.score,
            result.level,
            result.mark,
            result.passed,
            result.grade_point,
        )
        assert grade.entered_by == w["academic_affairs"] and grade.entered_at is not None
    first = Grade.objects.get(offering=o, student=s[0])
    assert first.score == Decimal("84.0")  # 27 + 56.7 = 83.7, rounded to a whole number
    assert Grade.objects.get(offering=o, student=s[1]).mark == "absent"
    assert Grade.objects.get(offering=makeup, student=s[0]).score == Decimal("60.0")  # make-up capped
    # students not in the file are untouched
    assert Grade.objects.get(offering=o, student=s[3]).entered_at is None


def test_english_headers_title_row_and_blank_rows_keep_spreadsheet_row_numbers(world):
    w, s, o = world, world["students"], world["offering"]
    rows = [
        ["Offering code", "Student number", "Regular", "Final"],
        [o.code, s[0].student_number, 70, 80],
        [None, None, None, None],
        [o.code, s[1].student_number, 70, "eighty"],
    ]
    exc = refused(xlsx(rows, title="2025-2026-1 成绩"), w["academic_affairs"])
    assert cells(exc) == {(5, "Final")}  # title row 1, header row 2, blank row 4
    rows[3][3] = 80
    assert grades_import(file=xlsx(rows, title="成绩"), actor=w["academic_affairs"]).written == 2


def test_bad_rows_write_nothing_and_every_bad_row_and_column_is_listed(world):
    w, s, o = world, world["students"], world["offering"]
    submitted = make_offering(term=w["term"], classes=[w["klass"]])
    Offering.objects.filter(pk=submitted.pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    outsider = StudentFactory(klass=w["other_class"])
    rows = [
        ["开课代码", "学号", "平时", "期末"],
        [o.code, s[0].student_number, 80, 90],  # row 2: good
        ["NO-SUCH-OFFERING", s[1].student_number, 80, 90],  # row 3
        [o.code, outsider.student_number, 80, 90],  # row 4: not on the offering
        [o.code, s[2].student_number, 80, "abc"],  # row 5: bad score
        [o.code, s[0].student_number, 70, 75],  # row 6: duplicate of row 2
        [submitted.code, s[3].student_number, None, 88],  # row 7: sheet submitted
        [o.code, s[4].student_number, 101, 90],  # row 8: out of range
        [o.code, s[3].student_number, 80, 90],  # row 9: good
    ]
    exc = refused(xlsx(rows), w["academic_affairs"])
    assert cells(exc) == {(3, "开课代码"), (4, "学号"), (5, "期末"), (6, "学号"), (7, "开课代码"), (8, "平时")}
    assert exc.error_count == 6 and exc.total_rows == 8
    messages = {(e["row"], e["column"]): e["message"] for e in exc.errors}
    assert "NO-SUCH-OFFERING" in messages[(3, "开课代码")]
    assert outsider.student_number in messages[(4, "学号")]
    assert "2" in messages[(6, "学号")]  # names the first occurrence
    assert "abc" in messages[(5, "期末")]
    assert not Grade.objects.filter(entered_at__isnull=False).exists()


def test_one_row_with_several_bad_cells_reports_each_of_them(world):
    w, o = world, world["offering"]
    outsider = StudentFactory(klass=w["other_class"])
    rows = [["开课代码", "学号", "平时", "期末"], [o.code, outsider.student_number, "x", "y"]]
    assert cells(refused(xlsx(rows), w["academic_affairs"])) == {(2, "学号"), (2, "平时"), (2, "期末")}


def test_columns_must_match_each_offerings_composition(world):
    w, s, o, five = world, world["students"], world["offering"], world["five"]
    # the file lacks 平时 for the regular+final offering; gives 期中 to an offering without mid-term;
    # and a single 成绩 for the two-component offering
    rows = [
        ["开课代码", "学号", "期中", "期末", "成绩"],
        [o.code, s[0].student_number, None, 80, None],
        [five.code, s[0].student_number, 70, "良", None],
        [o.code, s[1].student_number, None, None, 85],
    ]
    exc = refused(xlsx(rows), w["academic_affairs"])
    assert {(2, "平时"), (3, "期中"), (4, "平时"), (4, "成绩")} <= cells(exc)
    assert not Grade.objects.filter(entered_at__isnull=False).exists()


def test_a_row_without_any_score_is_an_error(world):
    w, s, o = world, world["students"], world["offering"]
    rows = [["开课代码", "学号", "平时", "期末"], [o.code, s[0].student_number, None, None]]
    assert cells(refused(xlsx(rows), w["academic_affairs"])) == {(2, "平时")}


def test_file_level_errors(world):
    w = world
    assert (
        refused(xlsx([["学号", "期末"], ["2024000001", 80]]), w["academic_affairs"]).errors[0]["column"] == "开课代码"
    )
    exc = refused(xlsx([["开课代码", "学号", "姓名"], ["x", "y", "z"]]), w["academic_affairs"])
    assert exc.errors[0]["message"] == str(bulk_grades.NO_SCORE_COLUMNS)
    exc = refused(io.BytesIO(b"not a spreadsheet"), w["academic_affairs"])
    assert exc.errors[0]["row"] is None


def test_teaching_secretary_imports_only_their_own_colleges_offerings(world):
    w, s = world, world["students"]
    foreign_student = StudentFactory(klass=w["other_class"])
    foreign = make_offering(term=w["term"], classes=[w["other_class"]])
    own_college = {w["college"].pk}
    rows = [
        ["开课代码", "学号", "期末"],
        [w["five"].code, s[0].student_number, "良"],
        [foreign.code, foreign_student.student_number, 80],
    ]
    exc = refused(xlsx(rows), w["secretary"], colleges=own_college)
    assert cells(exc) == {(3, "开课代码")}
    assert not Grade.objects.filter(entered_at__isnull=False).exists()
    assert grades_import(file=xlsx(rows[:2]), actor=w["secretary"], colleges=own_college).written == 1
    # Academic Affairs (no college limit) may import the other college's row
    assert grades_import(file=xlsx([rows[0], rows[2]]), actor=w["academic_affairs"]).written == 1


def test_errors_are_capped_but_counted(world):
    w, s = world, world["students"]
    rows = [["开课代码", "学号", "平时", "期末"]] + [
        [f"X{i}", s[0].student_number, 1, 1] for i in range(ERRORS_KEPT + 200)
    ]
    exc = refused(xlsx(rows), w["academic_affairs"])
    assert len(exc.errors) == ERRORS_KEPT and exc.error_count == ERRORS_KEPT + 200
    stored = stored_errors(exc)
    assert len(stored) == ERRORS_KEPT + 1 and stored[-1]["more"] == 200


def test_executemany_writer_stores_what_the_copy_writer_stores(world, monkeypatch):
    w, s = world, world["students"]
    twin = make_offering(course=w["course"], term=w["term"], classes=[w["klass"]])
    compose(twin, ("regular", 30), ("final", 70))
    values = [(90, 81), ("85.5", "缺考"), ("缓考", 70), (59.5, 60), (100, 0)]
    rows = [["开课代码", "学号", "平时", "期末"]]
    rows += [[w["offering"].code, st.student_number, *v] for st, v in zip(s, values, strict=True)]
    grades_import(file=xlsx(rows), actor=w["academic_affairs"])
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the fallback path, on this database
    rows = [rows[0]] + [[twin.code, *r[1:]] for r in rows[1:]]
    grades_import(file=xlsx(rows), actor=w["academic_affairs"])
    fields = ("student_id", "components", "score", "level", "mark", "passed", "grade_point", "entered_by_id")
    a = sorted(Grade.objects.filter(offering=w["offering"]).values_list(*fields))
    b = sorted(Grade.objects.filter(offering=twin).values_list(*fields))
    assert a == b and all(r[-1] == w["academic_affairs"].pk for r in a)


# --- the cached evaluator is evaluate(), value for value --------------------------------------------------
RAW = st.one_of(
    st.none(),
    st.just(""),
    st.integers(0, 100),
    st.integers(-5, 120),
    st.sampled_from([59.5, 60.0, 89.5, 72.25, 100.0, 0.0, 85.5, 1e9]),
    st.sampled_from(
        [
            "85",
            " 72.5 ",
            "优",
            "良",
            "中",
            "及格",
            "不及格",
            "合格",
            "不合格",
            "缺考",
            "缓考",
            "作弊",
            "免修",
            "absent",
            "abc",
            "八十",
            "100.0",
        ]
    ),
)
COMPOSITIONS = [
    [("final", 100)],
    [("regular", 30), ("final", 70)],
    [("regular", 20), ("midterm", 20), ("final", 60)],
    [("regular", 10), ("midterm", 15), ("experiment", 25), ("final", 40), ("other", 10)],
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scale=st.sampled_from(["hundred", "five_level", "pass_fail"]),
    rounding=st.sampled_from(["integer", "one_decimal"]),
    kind=st.sampled_from(["regular", "makeup", "clearing"]),
    weights=st.sampled_from(COMPOSITIONS),
    data=st.data(),
)
def test_cached_evaluator_matches_evaluate(scale, rounding, kind, weights, data):
    raw = [data.draw(RAW) for _ in weights]
    evaluator = bulk_grades._Evaluator(scale=scale, rounding=rounding, kind=kind, weights=weights, parsed={})
    cols = tuple(range(len(weights)))
    for _ in range(2):  # the second call answers from the caches
        got = evaluator(tuple(raw), cols)
        try:
            stored, result = evaluate(
                scale=scale,
                rounding=rounding,
                kind=kind,
                weights=weights,
                raw=dict(zip([c for c, _w in weights], raw, strict=True)),
            )
        except ScoreError:
            assert isinstance(got, list) and got
            continue
        if not stored:
            assert isinstance(got, list)  # nothing typed at all: an error for the importer
            continue
        values, text = got
        assert json.loads(values[0]) == stored
        assert values[1:] == (result.score, result.level, result.mark, result.passed, result.grade_point)
        assert text.count("\t") == 5
