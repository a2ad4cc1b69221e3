"""Grade.entered_by has no database foreign key (migration 0004: its per-row check at commit cost
about a third of a second per 100,000 imported rows, bench/README.md), but Django's PROTECT still
guards it: a user who entered grades cannot be deleted, and the bulk import records its actor."""

import io

import pytest
from django.db import connection
from django.db.models import ProtectedError
from openpyxl import Workbook

from grades.models import Grade, GradeComponent
from grades.services.imports import grades_import
from registrar.roles import Role
from tests.factories import staff


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def import_as(actor, w):
    offering = w["offering"]
    offering.components.all().delete()
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=offering, code="regular", weight=30, position=0),
            GradeComponent(offering=offering, code="final", weight=70, position=1),
        ]
    )
    rows = [["开课代码", "学号", "平时", "期末"]]
    rows += [[offering.code, s.student_number, 80 + i, 70 + i] for i, s in enumerate(w["students"])]
    return grades_import(file=xlsx(rows), actor=actor)


def test_import_records_the_actor_and_the_actor_cannot_be_deleted(grades_world):
    w = grades_world
    importer = staff(Role.ACADEMIC_AFFAIRS, username="importer")
    summary = import_as(importer, w)
    assert summary.written == len(w["students"])
    grades = Grade.objects.filter(offering=w["offering"])
    assert set(grades.values_list("entered_by_id", flat=True)) == {importer.pk}

    with pytest.raises(ProtectedError) as refused:
        importer.delete()
    assert {g.pk for g in refused.value.protected_objects} == set(grades.values_list("pk", flat=True))
    importer.refresh_from_db()  # still there
    assert grades.filter(entered_by=importer).count() == len(w["students"])


def test_a_user_who_entered_no_grade_can_still_be_deleted(grades_world):
    bystander = staff(Role.ACADEMIC_AFFAIRS, username="bystander")
    bystander.delete()
    assert not type(bystander).objects.filter(pk=bystander.pk).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL catalogue")
def test_entered_by_has_no_database_foreign_key(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Grade._meta.db_table)
    assert not [c for c in constraints.values() if c["foreign_key"] and c["columns"] == ["entered_by_id"]]
    # the other foreign keys keep theirs
    assert [c for c in constraints.values() if c["foreign_key"] and c["columns"] == ["offering_id"]]
