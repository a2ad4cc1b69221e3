"""Context builders: the snapshot of a request that a document prints.

A snapshot is plain JSON (strings already translated into the document language), so a
document re-rendered or reissued later prints exactly what was true when it was issued.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from registrar.roles import Role


def kernel_fields() -> set[str]:
    """Fields every request has (kernel bookkeeping), printed in their own places, not as "fields"."""
    from registrar.approvals.models import ApprovalRequest

    return {"id", "state"} | {f.name for f in ApprovalRequest._meta.fields}


def fmt_time(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return force_str(value)


def field_value(instance, field: models.Field) -> str:
    value = getattr(instance, field.name)
    if value is None or value == "":
        return ""
    if field.choices:
        return force_str(getattr(instance, f"get_{field.name}_display")())
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(field, models.FileField):
        return value.name.rsplit("/", 1)[-1] if value else ""
    if isinstance(value, dt.date):
        return fmt_time(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    return force_str(value)


def request_fields(request) -> list[dict]:
    """The chain-specific fields of ``request`` as label/value pairs, in model order."""
    rows = []
    skip = kernel_fields()
    for field in request._meta.concrete_fields:
        if field.name in skip or field.name.endswith("_ptr"):
            continue
        rows.append(
            {"name": field.name, "label": capfirst(force_str(field.verbose_name)), "value": field_value(request, field)}
        )
    return rows


def student_block(student) -> dict:
    return {
        "name": student.name,
        "student_number": student.student_number,
        "gender": force_str(student.get_gender_display()),
        "college": force_str(student.college),
        "major": force_str(student.major),
        "klass": force_str(student.klass),
        "station": force_str(student.station) if student.station_id else "",
        "level": force_str(student.get_level_display()),
        "study_form": force_str(student.get_study_form_display()),
    }


def role_label(code: str) -> str:
    try:
        return force_str(Role(code).label)
    except ValueError:
        return code


def signoff_row(chain, signoff) -> dict:
    return {
        "id": signoff.pk,
        "stage": signoff.stage,
        "stage_label": force_str(chain.state_label(signoff.stage)),
        "round": signoff.round,
        "role": signoff.role,
        "role_label": role_label(signoff.role),
        "signer": signoff.actor_label,
        "on_behalf_of": signoff.on_behalf_of_label,
        "decision": signoff.decision,
        "decision_label": force_str(signoff.get_decision_display()),
        "opinion": signoff.opinion,
        "time": fmt_time(signoff.created_at),
    }


#: Decisions that end a round or move a request backwards: printed in the form's return record.
RETURN_DECISIONS = ("reject", "return")


def seal_unit(code: str, student) -> str:
    """The unit whose seal a stage's paper form takes (``Stage.seal``), as printed."""
    if code == "college":
        return force_str(student.college.name)
    if code == "academic_affairs":
        return force_str(_("Academic Affairs Office"))
    return force_str(role_label(code))


def request_photo(request) -> str:
    """The photo an approval form prints: the request's own photo attachment (U6: the new card's
    photo), else the student's record photo; as a data URI read through storage, "" when none."""
    from registrar.approvals.selectors import request_attachments

    from .render import image_data_uri

    for attachment in request_attachments(request):
        if attachment.kind == "photo" and attachment.mime_type.startswith("image/"):
            uri = image_data_uri(attachment.file)
            if uri:
                return uri
    photo = getattr(request.student, "photo", None)
    return image_data_uri(photo) if photo else ""


def approval_form_context(request) -> dict:
    """审批表: the request and its fields, the student's photo, and one row per stage of the chain
    with each signer's sign-off of the current round beside it (role, signer, decision, opinion,
    date; blanks for whoever has not signed yet), the seal blanks of sealed stages, and the returns."""
    from registrar.approvals.selectors import request_attachments, request_timeline

    chain = request.chain
    photo = request_photo(request)
    timeline = [signoff_row(chain, s) for s in request_timeline(request)]
    current = [
        row for row in timeline if row["round"] == request.round and row["decision"] in ("approve", *RETURN_DECISIONS)
    ]
    stages = []
    for stage in chain.stages:
        signers = []
        for role in chain.signers(stage.code):
            latest = next(
                (row for row in reversed(current) if row["stage"] == stage.code and row["role"] == role), None
            )
            signers.append({"role": role, "role_label": role_label(role), "signoff": latest})
        stages.append(
            {
                "code": stage.code,
                "label": force_str(stage.label),
                "signers": signers,
                "seal": seal_unit(stage.seal, request.student) if stage.seal else "",
            }
        )
    return {
        "chain": {"code": chain.code, "seed_code": chain.seed_code, "name": force_str(chain.name)},
        "request": {
            "id": request.pk,
            "number": f"{chain.seed_code or chain.code}-{request.pk}",
            "state": request.state,
            "state_label": force_str(request.get_state_label()),
            "applicant": getattr(request.applicant, "display_name", force_str(request.applicant)),
            "created_at": fmt_time(request.created_at),
            "submitted_at": fmt_time(request.submitted_at),
            "completed_at": fmt_time(request.completed_at),
            "round": request.round,
            "return_reason": request.return_reason,
        },
        "student": student_block(request.student),
        "photo": photo,
        "fields": request_fields(request),
        "stages": stages,
        "returns": [row for row in timeline if row["decision"] in RETURN_DECISIONS],
        "timeline": timeline,
        "attachments": [
            {
                "kind": a.kind,
                "label": force_str(getattr(chain.attachment_rule(a.kind), "label", a.kind)),
                "name": a.original_name,
                "time": fmt_time(a.created_at),
            }
            for a in request_attachments(request)
            if not (photo and a.kind == "photo")  # the photo is printed, not listed
        ],
        "last_signoff_id": timeline[-1]["id"] if timeline else None,
    }
