"""Every append-only log refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) in the database itself,
on both databases (registrar.append_only). The tables are found, not listed: a new
``AppendOnlyModel`` without ``AppendOnlyTriggers`` in a migration fails here."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.state import ProjectState
from django.utils import timezone

from registrar.append_only import (
    AppendOnlyTriggers,
    append_only_models,
    installed_triggers,
    trigger_names,
)
from registrar.approvals.models import SignOff

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")

MODELS = append_only_models()
LABELS = [m._meta.label for m in MODELS]


def test_every_known_log_is_found():
    """The discovery itself: today's logs are all there (a new one joins them by subclassing)."""
    assert {
        "registrar.SignOff",
        "grades.SheetEvent",
        "grades.GradeChange",
        "grades.GraduateTranscriptCopy",
        "grades.SubmissionReview",
        "students.StatusHistory",
    } <= set(LABELS)


_seq = iter(range(1, 10**9))


def _value(field: models.Field):
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date(2026, 1, 1)
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return decimal.Decimal("0")
    if isinstance(field, models.IntegerField | models.FloatField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    return f"x{next(_seq)}"[: field.max_length or 32]


def _makers() -> dict:
    """Models whose rows need more than plain values (constraints, a service), by factory."""
    from django.contrib.contenttypes.models import ContentType

    from grades.models import Course, Offering, Term
    from registrar.models import User
    from students.models import Class, College, Major, Station, Student
    from tests.factories import (
        ClassFactory,
        CollegeFactory,
        MajorFactory,
        StationFactory,
        StudentFactory,
        UserFactory,
    )
    from tests.grades.factories import CourseFactory, TermFactory, make_offering

    return {
        User: UserFactory,
        College: CollegeFactory,
        Major: MajorFactory,
        Station: StationFactory,
        Class: ClassFactory,
        Student: StudentFactory,
        Term: TermFactory,
        Course: CourseFactory,
        Offering: make_offering,
        ContentType: lambda: ContentType.objects.get_for_model(User),
    }


def _instance(model):
    """One saved row of any model: a factory where there is one, else plain values for the required
    fields and, recursively, real rows for its foreign keys."""
    maker = _makers().get(model)
    if maker is not None:
        return maker()
    row = model()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default() or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            setattr(row, field.name, _instance(field.related_model))
        else:
            setattr(row, field.attname, _value(field))
    row.save(force_insert=True)
    return row


def _one_row(model) -> None:
    _instance(model)


def _refused(sql: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize("model", MODELS, ids=LABELS)
def test_the_table_has_its_triggers(db, model):
    table = model._meta.db_table
    assert installed_triggers(connection).get(table, []) == trigger_names(connection.vendor, table), (
        f"{table} is append-only but the database does not refuse changes to it: add "
        f'AppendOnlyTriggers("{model._meta.label}") in a migration of {model._meta.app_label} '
        f"(after any migration that rebuilt the table on SQLite)"
    )


@pytest.mark.parametrize("model", MODELS, ids=LABELS)
def test_raw_update_and_delete_are_refused(db, model):
    _one_row(model)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    _refused(f"UPDATE {table} SET {pk} = {pk}")
    _refused(f"DELETE FROM {table}")
    _refused(f"DELETE FROM {table} WHERE {pk} IN (SELECT MAX({pk}) FROM {table})")
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.all()._raw_delete(connection.alias)  # skips the model's delete()
    assert model.objects.count() == 1


@on_postgres
@pytest.mark.parametrize("model", MODELS, ids=LABELS)
def test_truncate_is_refused(db, model):
    _one_row(model)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no TRUNCATE while deferred checks of its rows are pending
    table = connection.ops.quote_name(model._meta.db_table)
    _refused(f"TRUNCATE {table}")
    _refused(f"TRUNCATE {table} CASCADE")
    assert model.objects.count() == 1


class _Editor:
    """The part of a schema editor the operation uses (SQLite's real one refuses to run inside
    the test's transaction)."""

    connection = connection

    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_operation_drops_and_installs_the_triggers(db):
    """Reversible: backwards drops the triggers (so the table takes a DELETE), forwards puts them back."""
    op = AppendOnlyTriggers("registrar.SignOff")
    state = ProjectState.from_apps(django_apps)
    table = SignOff._meta.db_table
    with transaction.atomic():
        op.database_backwards("registrar", _Editor(), state, state)
        assert table not in installed_triggers(connection)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
        op.database_forwards("registrar", _Editor(), state, state)
        assert installed_triggers(connection)[table] == trigger_names(connection.vendor, table)
    _one_row(SignOff)
    _refused(f"DELETE FROM {table}")


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_logs_and_leaves_the_triggers_on(u6_world_committed):
    """``transactional_db`` tests end with pytest-django's flush (TRUNCATE on PostgreSQL, DELETE on
    SQLite): it passes the triggers, inside its transaction only. (This test's own teardown flushes
    committed sign-offs and history rows too.)"""
    from students.models import StatusHistory

    assert SignOff.objects.count() == 4 and StatusHistory.objects.count() == 1
    before = installed_triggers(connection)
    call_command("flush", interactive=False, verbosity=0)
    assert SignOff.objects.count() == 0 and StatusHistory.objects.count() == 0
    assert installed_triggers(connection) == before
    assert set(before) >= {m._meta.db_table for m in MODELS}


@pytest.fixture
def u6_world_committed(transactional_db):
    """A completed U6 request, committed: four sign-offs and a history row (the new card number)."""
    from registrar.roles import Role
    from tests.factories import ClassFactory, StudentFactory, staff, u6_advance_to, u6_submitted

    klass = ClassFactory()
    student = StudentFactory(klass=klass)
    world = {
        "student": student,
        "student_user": student.user,
        "counsellor": staff(Role.COUNSELLOR, klass=klass, username="counsellor"),
        "finance": staff(Role.FINANCE, username="finance"),
        "registrar": staff(Role.ACADEMIC_AFFAIRS, username="registrar"),
    }
    req = u6_advance_to(world, u6_submitted(world), "registrar_reissue")
    from registrar.approvals.services import request_act
    from students.models import U6

    request_act(
        chain=U6,
        request_id=req.pk,
        actor=world["registrar"],
        action="approve",
        opinion="同意",
        data={"new_card_number": "SC-000123"},
    )
    return world


@pytest.mark.django_db(transaction=True)
def test_a_committed_log_row_cannot_be_changed_after_a_flush_either(u6_world_committed):
    call_command("flush", interactive=False, verbosity=0)
    from registrar.roles import Role
    from tests.factories import ClassFactory, StudentFactory, staff, u6_submitted

    klass = ClassFactory()
    student = StudentFactory(klass=klass)
    world = {
        "student": student,
        "student_user": student.user,
        "counsellor": staff(Role.COUNSELLOR, klass=klass, username="c2"),
    }
    u6_submitted(world)
    assert SignOff.objects.count() == 1
    _refused(f"DELETE FROM {SignOff._meta.db_table}")
    _refused(f"UPDATE {SignOff._meta.db_table} SET opinion = 'x'")
    assert SignOff.objects.count() == 1
