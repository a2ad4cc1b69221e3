"""The bulk grade import's fast write path (grades.services.imports.bulk_grades._Writer): batches
written while checking goes on, rolled back when a later row is bad; the planner settings it
changes are set back; entering results stays a heap-only (HOT) update on PostgreSQL."""

import io

import pytest
from django.db import connection
from openpyxl import Workbook

from grades.models import Grade, GradeComponent
from grades.services.imports import ImportRefused, bulk_grades, grades_import
from grades.services.results import evaluate
from tests.grades.factories import make_offering

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL write path")


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


@pytest.fixture
def world(grades_world):
    """Two offerings of the five-student class, 平时 30 + 期末 70; and batches of two rows."""
    w = grades_world
    w["twin"] = make_offering(course=w["course"], term=w["term"], classes=[w["klass"]])
    for offering in (w["offering"], w["twin"]):
        offering.components.all().delete()
        GradeComponent.objects.bulk_create(
            [
                GradeComponent(offering=offering, code="regular", weight=30, position=0),
                GradeComponent(offering=offering, code="final", weight=70, position=1),
            ]
        )
    return w


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(bulk_grades, "BATCH_ROWS", 2)


VALUES = [(90, 81), ("85.5", "缺考"), ("缓考", 70), (59.5, 60), (100, 0)]


def rows_for(w) -> list[list]:
    rows = [["开课代码", "学号", "平时", "期末"]]
    for offering in (w["offering"], w["twin"]):
        rows += [[offering.code, s.student_number, *v] for s, v in zip(w["students"], VALUES, strict=True)]
    return rows


def test_rows_written_in_many_batches_are_evaluates_results(world, small_batches):
    w = world
    summary = grades_import(file=xlsx(rows_for(w)), actor=w["academic_affairs"])
    assert (summary.total_rows, summary.written) == (10, 10)
    weights = [("regular", 30), ("final", 70)]
    for offering in (w["offering"], w["twin"]):
        for student, (regular, final) in zip(w["students"], VALUES, strict=True):
            grade = Grade.objects.get(offering=offering, student=student)
            stored, result = evaluate(
                scale=offering.scale,
                rounding=offering.rounding,
                kind=offering.kind,
                weights=weights,
                raw={"regular": regular, "final": final},
            )
            assert grade.components == stored
            assert (grade.score, grade.level, grade.mark, grade.passed, grade.grade_point) == (
                result.score,
                result.level,
                result.mark,
                result.passed,
                result.grade_point,
            )
            assert grade.entered_by == w["academic_affairs"] and grade.entered_at is not None


def test_a_bad_row_after_written_batches_rolls_every_batch_back(world, small_batches, monkeypatch):
    w = world
    written_before_refusal = []
    close = bulk_grades._Writer.close

    def close_after_writing(self):  # let the writer finish every batch it was given, then stop it
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        written_before_refusal.append(self.written)
        close(self)

    monkeypatch.setattr(bulk_grades._Writer, "close", close_after_writing)
    rows = rows_for(w)
    rows[-1][3] = "八十"  # the last row (row 11) is bad
    with pytest.raises(ImportRefused) as exc:
        grades_import(file=xlsx(rows), actor=w["academic_affairs"])
    assert {(e["row"], e["column"]) for e in exc.value.errors} == {(11, "期末")}
    if connection.vendor == "postgresql":
        assert written_before_refusal == [8]  # four batches of two were in the table inside the transaction
    assert not Grade.objects.filter(entered_at__isnull=False).exists()


@postgres_only
def test_planner_settings_are_set_back_after_the_import(world):
    w = world
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_mergejoin = off")  # the caller's own setting is kept too
        grades_import(file=xlsx(rows_for(w)), actor=w["academic_affairs"])
        cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')")
        assert cursor.fetchone() == ("on", "off")
        cursor.execute("SELECT to_regclass('pg_temp.grades_import_rows')")
        assert cursor.fetchone() == (None,)


@postgres_only
def test_entering_results_is_a_heap_only_update(world):
    """No index covers a column the import writes, so PostgreSQL can rewrite each row on its own
    page without touching an index (what makes 100,000 results fast; bench/grade_import.py)."""
    w = world
    table = Grade._meta.db_table
    counts = "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)"
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
        assert "fillfactor=40" in cursor.fetchone()[0]
        cursor.execute(counts, [table, table])
        updated, hot = cursor.fetchone()
        grades_import(file=xlsx(rows_for(w)), actor=w["academic_affairs"])
        cursor.execute(counts, [table, table])
        assert cursor.fetchone() == (updated + 10, hot + 10)
