"""Drive a status-change chain through its stages with the right signers."""

import datetime as dt

from registrar.approvals.chains import get_chain
from registrar.approvals.services import request_act

TODAY = dt.date(2026, 3, 10)


def stage_data(world, chain_code: str, stage: str, role: str) -> dict:
    data = {
        ("U1", "registrar_issue"): {"effective_date": TODAY.isoformat()},
        ("U2", "registrar_issue"): {"receiving_class": world["receiving_class"].pk, "effective_date": TODAY.isoformat()},
        ("U2", "finance_payment"): {},
        ("U2", "finance_settlement"): {"tuition_amount": "2500.00", "tuition_receipt": "TU-0001"},
        ("U3", "registrar_certificate"): {"notice_returned": "on", "photos_received": "2", "id_card_returned": "on",
                                          "effective_date": TODAY.isoformat()},
        ("U3", "dossier"): {"dossier_filed_on": TODAY.isoformat()},
        ("C4", "province_filing"): {"filed_on": TODAY.isoformat(), "filing_reference": "浙教备〔2026〕12号",
                                    "filing_outcome": "准予备案"},
    }.get((chain_code, stage), {})
    if chain_code == "U3" and stage == "clearance" and role == "finance":
        data = {"arrears": "0", "refund": "350.00"}
    return data


def signer(world, role: str):
    return {"advisor": world["advisor"], "counsellor": world["counsellor"], "college_secretary": world["secretary"],
            "college_dean": world["dean"], "station": world["station"]}.get(role) or world[role]


def advance(world, req, *, until: str | None = None):
    """Approve stage after stage (every signer of a stage in turn) until ``until`` or completion."""
    chain = get_chain(req.chain.code)
    while req.state in chain.stage_codes and req.state != until:
        stage = req.state
        for role in chain.signers(stage):
            req = request_act(chain=chain, request_id=req.pk, actor=signer(world, role), action="approve",
                              opinion=f"{role} 同意", data=stage_data(world, chain.code, stage, role), as_role=role)
    return req
