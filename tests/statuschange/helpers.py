"""Drive a status-change chain through its stages with the right signers."""

import datetime as dt

from registrar.approvals.chains import get_chain
from registrar.approvals.services import request_act
from statuschange.models import C4, U1, U2, U3, U4

TODAY = dt.date(2026, 3, 10)


def stage_data(world, chain_code: str, stage: str, role: str) -> dict:
    data = {
        (U1.code, "registrar_issue"): {"effective_date": TODAY.isoformat()},
        (U2.code, "registrar_issue"): {
            "receiving_class": world["receiving_class"].pk,
            "effective_date": TODAY.isoformat(),
        },
        (U2.code, "finance_payment"): {},
        (U2.code, "finance_settlement"): {"tuition_amount": "2500.00", "tuition_receipt": "TU-0001"},
        (U3.code, "registrar_certificate"): {
            "notice_returned": "on",
            "photos_received": "2",
            "id_card_returned": "on",
            "effective_date": TODAY.isoformat(),
        },
        (U3.code, "dossier"): {"dossier_filed_on": TODAY.isoformat()},
        (C4.code, "province_filing"): {
            "filed_on": TODAY.isoformat(),
            "filing_reference": "浙教备〔2026〕12号",
            "filing_outcome": "准予备案",
        },
    }.get((chain_code, stage), {})
    if chain_code == U3.code and stage == "clearance" and role == "finance":
        data = {"arrears": "0", "refund": "350.00"}
    return data


def signer(world, role: str):
    return {
        "advisor": world["advisor"],
        "counsellor": world["counsellor"],
        "college_secretary": world["secretary"],
        "college_dean": world["dean"],
        "station": world["station"],
    }.get(role) or world[role]


def advance(world, req, *, until: str | None = None):
    """Approve stage after stage (every signer of a stage in turn) until ``until`` or completion."""
    chain = get_chain(req.chain.code)
    while req.state in chain.stage_codes and req.state != until:
        stage = req.state
        for role in chain.signers(stage):
            req = request_act(
                chain=chain,
                request_id=req.pk,
                actor=signer(world, role),
                action="approve",
                opinion=f"{role} 同意",
                data=stage_data(world, chain.code, stage, role),
                as_role=role,
            )
    return req


# --- opening requests and driving them stage by stage ---------------------------------------
#: for a scoped signer role, the fixture key of a user holding that role outside the student's scope
OUT_OF_SCOPE = {
    "advisor": "other_advisor",
    "counsellor": "other_counsellor",
    "college_secretary": "other_college_secretary",
    "college_dean": "other_dean",
    "teaching_secretary": "other_teaching_secretary",
    "college_office": "other_college_office",
    "youth_league": "other_youth_league",
    "station": "other_station",
    "records_leader": "other_records_leader",
}

CHAIN_CODES = (U1.code, U2.code, U3.code, U4.code, C4.code)


def make_suspended(student) -> None:
    """Test precondition for U2: the student is suspended (without running a whole U1)."""
    type(student).objects.filter(pk=student.pk).update(status="suspended")
    student.refresh_from_db()


def subject(world, code: str):
    """The student a chain's requests are about in these tests."""
    return world["cstudent"] if code == C4.code else world["student"]


def applicant(world, code: str):
    return {U4.code: world["counsellor"], C4.code: world["station"]}.get(code) or subject(world, code).user


def open_request(world, code: str, *, submit: bool = True, data: dict | None = None, attachments=None):
    """A request of chain ``code`` for the chain's subject, filed by its applicant (U2: student made suspended)."""
    from registrar.approvals.services import request_create
    from tests.factories import photo_upload

    defaults = {
        U1.code: (
            {
                "reason": "personal",
                "reason_detail": "家庭原因",
                "period_start": "2026-03-15",
                "period_end": "2026-09-01",
            },
            {},
        ),
        U2.code: ({"reason_detail": "康复返校"}, {}),
        U3.code: ({"reason_detail": "出国留学"}, {}),
        U4.code: ({"absent_since": "2026-01-05", "evidence": "连续两月未到校"}, {"absence_evidence": photo_upload}),
        C4.code: ({"change_type": "suspension", "reason_detail": "工作调动"}, {"written_application": photo_upload}),
    }[code]
    student = subject(world, code)
    if code == U2.code and student.status != "suspended":
        make_suspended(student)
    files = {k: v() for k, v in defaults[1].items()} if attachments is None else attachments
    return request_create(
        chain=get_chain(code),
        student=student,
        applicant=applicant(world, code),
        data={**defaults[0], **(data or {})},
        attachments=files,
        submit=submit,
    )


def sign(world, req, role: str, *, user=None, action: str = "approve", opinion: str | None = None):
    """One sign-off by ``role``'s signer (or ``user``) at the request's current stage."""
    chain = get_chain(req.chain.code)
    return request_act(
        chain=chain,
        request_id=req.pk,
        actor=user or signer(world, role),
        action=action,
        opinion=opinion if opinion is not None else f"{role} 同意",
        data=stage_data(world, chain.code, req.state, role),
        as_role=role,
    )


def pass_stage(world, req):
    """Every signer of the current stage approves; returns the request at the next stage."""
    stage = req.state
    for role in get_chain(req.chain.code).signers(stage):
        req = sign(world, req, role)
    assert req.state != stage
    return req


def resubmit(req):
    """The applicant resubmits a returned request unchanged."""
    from registrar.approvals.services import request_update

    return request_update(request=req, actor=req.applicant, data={}, submit=True)
