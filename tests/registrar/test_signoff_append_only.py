"""The sign-off log is append-only: no update or delete through the ORM, and on PostgreSQL
not even through raw SQL (trigger in registrar/migrations/0003)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from registrar.approvals.models import SIGNOFF_APPEND_ONLY, SignOff
from students.models import U6
from tests.factories import u6_advance_to, u6_submitted

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


@pytest.fixture
def logged(u6_world):
    """A U6 request with three sign-offs (submit, counsellor, finance)."""
    req = u6_advance_to(u6_world, u6_submitted(u6_world), "registrar_reissue")
    rows = list(SignOff.objects.for_object(req).order_by("id"))
    assert len(rows) == 3
    return rows


def snapshot():
    return list(SignOff.objects.order_by("id").values_list("id", "opinion", "decision", "actor_id", "target_state"))


def test_new_signoff_can_be_appended(logged):
    row = logged[0]
    extra = SignOff(
        content_type=row.content_type,
        object_id=row.object_id,
        chain=U6.code,
        stage="x",
        round=1,
        role="counsellor",
        actor=row.actor,
        actor_label="x",
        decision=SignOff.Decision.NOTE,
        source_state="x",
        target_state="x",
    )
    extra.save()
    assert SignOff.objects.count() == 4


def test_saving_an_existing_row_is_refused(logged):
    before = snapshot()
    row = logged[1]
    row.opinion = "篡改"
    with pytest.raises(ValidationError) as info:
        row.save()
    assert info.value.messages == [str(SIGNOFF_APPEND_ONLY)]
    fetched = SignOff.objects.get(pk=row.pk)
    fetched.decision = SignOff.Decision.REJECT
    with pytest.raises(ValidationError):
        fetched.save(update_fields=["decision"])
    with pytest.raises(ValidationError):
        fetched.save(force_insert=True)  # a re-insert under the same id is no way round it
    assert snapshot() == before


def test_deleting_a_row_is_refused(logged):
    before = snapshot()
    with pytest.raises(ValidationError):
        logged[0].delete()
    assert snapshot() == before


@pytest.mark.parametrize(
    "write",
    [
        lambda: SignOff.objects.filter(decision="approve").update(opinion="篡改"),
        lambda: SignOff.objects.update(decision="reject"),
        lambda: SignOff.objects.all().delete(),
        lambda: SignOff.objects.filter(decision="submit").delete(),
        lambda: SignOff.objects.bulk_update(list(SignOff.objects.all()), ["opinion"]),
    ],
    ids=["filter-update", "update-all", "delete-all", "filter-delete", "bulk-update"],
)
def test_queryset_writes_are_refused(logged, write):
    before = snapshot()
    with pytest.raises(ValidationError), transaction.atomic():
        write()
    assert snapshot() == before


def test_signer_and_content_type_cannot_be_deleted_away(logged):
    before = snapshot()
    with pytest.raises(ProtectedError), transaction.atomic():
        logged[1].actor.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        logged[1].content_type.delete()
    assert snapshot() == before


@on_postgres
def test_trigger_is_installed(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'registrar_signoff'::regclass AND NOT tgisinternal"
        )
        assert ("registrar_signoff_append_only",) in cursor.fetchall()


@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE registrar_signoff SET opinion = 'tampered'",
        "UPDATE registrar_signoff SET decision = 'reject' WHERE decision = 'approve'",
        "DELETE FROM registrar_signoff",
        "DELETE FROM registrar_signoff WHERE decision = 'submit'",
    ],
    ids=["update-all", "update-where", "delete-all", "delete-where"],
)
def test_raw_sql_update_and_delete_are_refused_by_postgresql(logged, sql):
    before = snapshot()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert snapshot() == before


@on_postgres
def test_raw_orm_delete_is_refused_by_postgresql(logged):
    """``QuerySet._raw_delete`` skips the model's delete(); the trigger still stops it."""
    before = snapshot()
    with pytest.raises(DatabaseError), transaction.atomic():
        SignOff.objects.all()._raw_delete(connection.alias)
    assert snapshot() == before


@on_postgres
def test_raw_sql_insert_is_still_allowed(logged):
    row = logged[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registrar_signoff (content_type_id, object_id, chain, stage, round, role, actor_id, "
            "actor_label, decision, opinion, source_state, target_state, data, created_at, on_behalf_of_label) "
            "SELECT content_type_id, object_id, chain, stage, round, role, actor_id, actor_label, 'note', '', "
            "source_state, target_state, data, now(), '' FROM registrar_signoff WHERE id = %s",
            [row.pk],
        )
    assert SignOff.objects.count() == 4
