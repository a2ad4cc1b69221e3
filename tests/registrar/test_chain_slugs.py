"""Chains are stored under readable codes (``suspension``), their seed codes (U1) kept for display;
old links by seed code redirect; the data migrations move stored rows both ways (STYLE.md §9)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from grades.models import BATCH_TRANSCRIPT, CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT, Grade, GradeChange
from registrar.append_only import installed_triggers
from registrar.approvals.chains import all_chains, chain_for_seed_code
from registrar.approvals.models import SignOff, StageConfig
from registrar.documents.models import Document
from registrar.notifications.models import Notification
from registrar.roles import Role
from statuschange.models import C4, U1, U2, U3, U4
from students.models import U6, ScheduledChange, StatusHistory
from tests.factories import StudentFactory, staff, u6_submitted

SLUGS = {
    U1: ("suspension", "U1"),
    U2: ("resumption", "U2"),
    U3: ("withdrawal", "U3"),
    U4: ("auto_withdrawal", "U4"),
    U6: ("id_card", "U6"),
    C4: ("station_status_change", "C4"),
    CORRECTION: ("grade_correction", "U5C"),
    EXEMPTION: ("exemption", "C8X"),
    PERSONAL_TRANSCRIPT: ("transcript_personal", "U5T"),
    BATCH_TRANSCRIPT: ("transcript_batch", "U5B"),
}


def test_chains_are_stored_under_readable_codes_with_their_seed_code_for_display():
    assert {chain: (chain.code, chain.seed_code) for chain in SLUGS} == SLUGS
    for chain in all_chains():
        assert re.fullmatch(r"[a-z][a-z_]*", chain.code), chain.code
        assert chain.seed_code and chain_for_seed_code(chain.seed_code) is chain
    seeds = [c.seed_code for c in all_chains()]
    assert seeds.index("U1") < seeds.index("U6") < seeds.index("U5C") < seeds.index("C4") < seeds.index("C8X")


def test_describe_and_the_workflows_command_show_the_seed_code(capsys, db):
    import json

    call_command("workflows", "U6")
    (described,) = json.loads(capsys.readouterr().out)
    assert (described["code"], described["seed_code"]) == ("id_card", "U6")


def test_an_old_link_by_seed_code_redirects_permanently_to_the_chain_code(client, db):
    student = StudentFactory()
    world = {"student": student, "student_user": student.user}
    req = u6_submitted(world)
    client.force_login(student.user)
    response = client.get(f"/requests/U6/{req.pk}/?tab=history")
    assert response.status_code == 301
    assert response["Location"] == f"/requests/{U6.code}/{req.pk}/?tab=history"
    assert client.get(response["Location"]).status_code == 200
    api = client.get(f"/api/requests/U6/{req.pk}/transitions/")
    assert (api.status_code, api["Location"]) == (301, f"/api/requests/{U6.code}/{req.pk}/transitions/")
    assert client.get("/requests/U1/new/")["Location"] == f"/requests/{U1.code}/new/"
    # only reading follows an old link; posting to one is refused, and an unknown code is not found
    assert client.post(f"/requests/U6/{req.pk}/act/withdraw/").status_code == 405
    assert client.get("/requests/Z9/1/").status_code == 404
    assert client.get("/requests/no_such_chain/1/").status_code == 404


def test_an_old_type_filter_by_seed_code_still_filters(client, db):
    user = staff(Role.ACADEMIC_AFFAIRS, username="aa-filter")
    client.force_login(user)
    response = client.get(reverse("approvals:inbox"), {"type": "U6"})
    assert response.status_code == 200 and response.context["chain_code"] == U6.code


def test_the_approval_form_and_its_serial_carry_the_seed_code(db):
    from registrar.documents.services import document_issue_for_request

    student = StudentFactory()
    req = u6_submitted({"student": student, "student_user": student.user})
    document = document_issue_for_request(doc_type="approval_form", request=req, issued_by=student.user)
    assert document.chain == U6.code
    assert document.serial.startswith("U6-")
    assert document.context["chain"] == {"code": U6.code, "seed_code": "U6", "name": str(U6.name)}
    assert document.context["request"]["number"] == f"U6-{req.pk}"


# --- the data migrations -----------------------------------------------------------------------
BEFORE = [
    ("registrar", "0010_workitem"),
    ("students", "0006_scheduled_change"),
    ("grades", "0007_backfill_workitems"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _stored(model, field, pk):
    """A column as stored, read past the model (the historical schema may differ)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {field} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_data_migrations_move_stored_codes_both_ways_and_keep_the_logs_append_only():
    import json

    from tests.grades.factories import make_offering

    student = StudentFactory()
    actor = staff(Role.ACADEMIC_AFFAIRS, username="aa-migrate")
    make_offering(classes=[student.klass])
    req = u6_submitted({"student": student, "student_user": student.user})
    signoff = SignOff.objects.filter(chain=U6.code, object_id=req.pk).first()
    config = StageConfig.objects.create(chain=U1.code, stage="college_review", deadline_days=9)
    from registrar.documents.services import document_issue_for_request

    document = document_issue_for_request(doc_type="approval_form", request=req, issued_by=student.user)
    note = Notification.objects.create(user=actor, message="m", url=f"/requests/{U6.code}/{req.pk}/")
    history = StatusHistory.objects.create(
        student=student,
        field="status",
        old_value="enrolled",
        new_value="suspended",
        effective_date="2026-12-01",
        request_type=U1.code,
        request_id=1,
    )
    scheduled = ScheduledChange.objects.create(
        student=student,
        field="status",
        old_value="enrolled",
        new_value="suspended",
        effective_date="2027-03-01",
        request_type=U1.code,
        request_id=1,
    )
    grade = Grade.objects.filter(student=student).first()
    change = GradeChange.objects.create(
        grade=grade, old_value="60", new_value="70", reason="r", request_type=CORRECTION.code, request_id=3, actor=actor
    )
    leaves = _leaves()
    try:
        _migrate(BEFORE)
        assert _stored(SignOff, "chain", signoff.pk) == "U6"
        assert _stored(StageConfig, "chain", config.pk) == "U1"
        assert _stored(Document, "chain", document.pk) == "U6"
        assert json.loads(_stored(Document, "context", document.pk))["chain"]["code"] == "U6"
        assert _stored(Notification, "url", note.pk) == f"/requests/U6/{req.pk}/"
        assert _stored(StatusHistory, "request_type", history.pk) == "U1"
        assert _stored(ScheduledChange, "request_type", scheduled.pk) == "U1"
        assert _stored(GradeChange, "request_type", change.pk) == "U5C"
        tables = {SignOff._meta.db_table, StatusHistory._meta.db_table, GradeChange._meta.db_table}
        assert tables <= set(installed_triggers(connection))  # lifted for the rename only
        _migrate(leaves)
    finally:
        _migrate(_leaves())
    assert SignOff.objects.get(pk=signoff.pk).chain == U6.code
    assert StageConfig.objects.get(pk=config.pk).chain == U1.code
    document.refresh_from_db()
    assert (document.chain, document.context["chain"]["code"], document.context["chain"]["seed_code"]) == (
        U6.code,
        U6.code,
        "U6",
    )
    assert Notification.objects.get(pk=note.pk).url == f"/requests/{U6.code}/{req.pk}/"
    assert StatusHistory.objects.get(pk=history.pk).request_type == U1.code
    assert ScheduledChange.objects.get(pk=scheduled.pk).request_type == U1.code
    assert GradeChange.objects.get(pk=change.pk).request_type == CORRECTION.code
    present = installed_triggers(connection)
    for model in (SignOff, StatusHistory, GradeChange):
        assert len(present.get(model._meta.db_table, [])) == 2, model
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {SignOff._meta.db_table} SET chain = 'x' WHERE id = %s", [signoff.pk])
