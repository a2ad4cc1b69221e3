"""Each chain end to end, one stage at a time: final record, effective-dated history written once per
changed field (linked to the request), documents issued at their stage and not before, and the
notifications sent to the next signers and the applicant whenever a stage passes."""

import datetime as dt

import pytest
from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, get_chain
from registrar.documents.models import Document
from registrar.notifications.models import Notification
from statuschange.models import C4, U1, U2, U3, U4
from students.models import StatusHistory
from tests.statuschange.helpers import (
    OUT_OF_SCOPE,
    TODAY,
    applicant,
    open_request,
    sign,
    signer,
    subject,
)

#: chain → (final status, withdrawal_kind, {field: (old, new)} written by the chain, effective date)
EXPECTED = {
    U1.code: ("suspended", "", {"status": ("enrolled", "suspended")}, TODAY),
    U2.code: (
        "enrolled",
        "",
        {"status": ("suspended", "enrolled"), "klass": None, "expected_graduation": ("2028-06-30", "2029-06-30")},
        TODAY,
    ),
    U3.code: (
        "withdrawn",
        "voluntary",
        {"status": ("enrolled", "withdrawn"), "withdrawal_kind": ("", "voluntary")},
        TODAY,
    ),
    U4.code: (
        "withdrawn",
        "automatic",
        {"status": ("enrolled", "withdrawn"), "withdrawal_kind": ("", "automatic")},
        dt.date(2026, 3, 10),
    ),
    C4.code: ("suspended", "", {"status": ("enrolled", "suspended")}, TODAY),
}

#: the stage whose passing changes the record (None: the chain's completion)
EFFECT_STAGE = {
    U1.code: "registrar_issue",
    U2.code: "registrar_issue",
    U3.code: "registrar_certificate",
    U4.code: None,
    C4.code: None,
}


def _docs(req):
    return sorted(
        Document.objects.filter(chain=req.chain.code, request_id=req.pk)
        .exclude(doc_type="approval_form")
        .values_list("doc_type", flat=True)
    )


def _history(req):
    return StatusHistory.objects.filter(request_type=req.chain.code, request_id=req.pk)


def _new_notifications(since_id):
    rows = Notification.objects.filter(pk__gt=since_id)
    return {(n.user_id, n.message) for n in rows}, {n.user_id for n in rows}


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize("code", [U1.code, U2.code, U3.code, U4.code, C4.code])
def test_happy_path_stage_by_stage(sc_world, code):
    w = sc_world
    chain = get_chain(code)
    student = subject(w, code)
    old_class, old_graduation = student.klass, student.expected_graduation
    req = open_request(w, code)
    assert req.state == chain.stage_codes[0]
    assert req.round == 1
    expected_docs: list[str] = []
    passed: list[str] = []
    for stage in chain.stage_codes:
        assert req.state == stage
        roles = chain.signers(stage)
        for role in roles[:-1]:
            req = sign(w, req, role)
            assert req.state == stage, f"{stage} passed before {roles[-1]} signed"
        last_note = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        actor = signer(w, roles[-1])
        req = sign(w, req, roles[-1])
        passed.append(stage)
        assert req.state == chain.next_stage_code(stage)

        # documents: exactly those of the stages passed so far, once each
        expected_docs = sorted(expected_docs + list(chain.stage(stage).issues))
        assert _docs(req) == expected_docs, f"after {stage}"

        # history: nothing before the effect, then exactly one row per changed field
        effect = EFFECT_STAGE[code]
        effect_done = (effect in passed) if effect else req.state == COMPLETED
        assert _history(req).count() == (len(EXPECTED[code][2]) if effect_done else 0), f"after {stage}"

        # notifications: the next stage's signers (bar the actor) and the applicant (bar the actor)
        _pairs, notified = _new_notifications(last_note)
        if req.state != COMPLETED:
            for role in chain.signers(req.state):
                user = signer(w, role)
                if user != actor:
                    assert user.pk in notified, f"{role} not told {req.state} awaits them"
                double = OUT_OF_SCOPE.get(role)
                if double:
                    assert w[double].pk not in notified, f"out-of-scope {double} notified"
        if req.applicant != actor:
            assert req.applicant_id in notified, f"applicant not told {stage} passed"

    assert req.state == COMPLETED and req.completed_at is not None
    student.refresh_from_db()
    status, kind, fields, effective = EXPECTED[code]
    assert (student.status, student.withdrawal_kind) == (status, kind)
    if code == U2.code:
        assert student.klass == w["receiving_class"]
        assert student.expected_graduation == dt.date(2029, 6, 30)
    else:
        assert (student.klass, student.expected_graduation) == (old_class, old_graduation)

    rows = list(_history(req))
    assert sorted(r.field for r in rows) == sorted(fields)  # exactly once per changed field
    for r in rows:
        assert r.student_id == student.pk
        assert r.effective_date == effective
        assert r.recorded_by is not None
        if fields[r.field] is not None:
            assert (r.old_value, r.new_value) == fields[r.field]
    assert StatusHistory.objects.filter(student=student).count() == len(fields)  # nothing unlinked


@freeze_time("2026-03-10 10:00")
def test_c4_withdrawal_sets_kind_and_effective_date_is_the_filing_date(sc_world):
    w = sc_world
    req = open_request(w, C4.code, data={"change_type": "withdrawal"})
    while req.state != COMPLETED:
        for role in get_chain(C4.code).signers(req.state):
            data_stage = req.state
            req = sign(w, req, role)
            if data_stage == "province_filing":
                assert req.filing_reference == "浙教备〔2026〕12号"
    c = w["cstudent"]
    c.refresh_from_db()
    assert (c.status, c.withdrawal_kind) == ("withdrawn", "voluntary")
    assert {(h.field, h.effective_date) for h in _history(req)} == {("status", TODAY), ("withdrawal_kind", TODAY)}


@freeze_time("2026-03-10 10:00")
def test_u4_applicant_is_the_counsellor_and_is_told_of_completion(sc_world):
    w = sc_world
    req = open_request(w, U4.code)
    assert req.applicant == w["counsellor"] == applicant(w, U4.code)
    before = Notification.objects.filter(user=w["counsellor"]).count()
    while req.state != COMPLETED:
        req = sign(w, req, req.pending_roles()[0])
    assert Notification.objects.filter(user=w["counsellor"]).count() > before
    # the student never acts in U4 and no document is produced by it
    assert _docs(req) == []
