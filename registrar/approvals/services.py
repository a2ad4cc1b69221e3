"""Writes of the approval kernel. Views and the API call only these."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from registrar.exceptions import ApplicationError
from registrar.roles import Role

from . import permissions as perms
from .chains import COMPLETED, RETURNED, WITHDRAWN, Chain
from .deadlines import CALENDAR_KEYS, OUTSIDE_STAGE_WINDOW, check_windows
from .models import DELEGATION_SELF, ApprovalRequest, Attachment, CalendarEntry, Delegation, SignOff
from .workitems import workitem_assign, workitems_sync_request

WRONG_STATE = _("This request is at “%(state)s”; “%(action)s” is not possible there. It may already have been handled.")
UNKNOWN_ACTION = _("Unknown action.")
OPINION_REQUIRED = _("Please write the reason: the applicant will see it.")
ALREADY_OPEN = _("This student already has an open “%(chain)s” request (#%(id)s). Finish or withdraw it first.")
WRONG_STUDENT_STATUS = _("A “%(chain)s” request is not possible for a student whose status is “%(status)s”.")
MAY_NOT_INITIATE = _("You may not open this kind of request for this student.")
ATTACHMENT_MISSING = _("Attach the required file first: %(kinds)s.")
ATTACHMENT_TOO_BIG = _("“%(name)s” is %(size)s KB; the limit is %(limit)s KB.")
ATTACHMENT_BAD_TYPE = _("“%(name)s” is not an accepted file: upload a JPEG or PNG image%(pdf)s.")
ATTACHMENT_UNKNOWN_KIND = _("This request takes no attachment of kind “%(kind)s”.")
NOT_EDITABLE = _("Only a draft or a returned request can be changed.")
STAGE_DATA_INVALID = _("Some of the information this step needs is missing or wrong.")
SEND_BACK_TARGET_INVALID = _("A request at “%(state)s” can be sent back only to a stage it has passed: %(stages)s.")

BATCH_NOT_FOUND = _("Not found, or not in your scope.")
BATCH_WRONG_STAGE = _("It is at “%(state)s”, not at the stage being approved.")
BATCH_NEEDS_FORM = _("This step needs information only its own page takes: open the request.")
BATCH_NOT_YOURS = _("It does not await your signature.")
BATCH_EMPTY = _("Select at least one request to approve.")

ACTIONS = ("submit", "approve", "reject", "send_back", "withdraw")


def _decision_for(action: str) -> str:
    return {
        "submit": SignOff.Decision.SUBMIT,
        "approve": SignOff.Decision.APPROVE,
        "reject": SignOff.Decision.REJECT,
        "send_back": SignOff.Decision.RETURN,
        "withdraw": SignOff.Decision.WITHDRAW,
    }[action]


def signoff_record(
    *,
    request: ApprovalRequest,
    actor,
    role: str,
    decision: str,
    source: str,
    stage: str | None = None,
    opinion: str = "",
    data: dict | None = None,
    on_behalf_of=None,
) -> SignOff:
    """Append one row to the sign-off log (inside the caller's transaction). ``on_behalf_of``: the
    principal a substitute signs for (Delegation)."""
    return SignOff.objects.create(
        content_type=ContentType.objects.get_for_model(request.__class__),
        object_id=request.pk,
        chain=request.chain.code,
        stage=stage or source,
        round=request.round,
        role=role,
        actor=actor,
        actor_label=getattr(actor, "display_name", str(actor))[:64],
        on_behalf_of=on_behalf_of,
        on_behalf_of_label=getattr(on_behalf_of, "display_name", "")[:64] if on_behalf_of else "",
        decision=decision,
        opinion=opinion,
        source_state=source,
        target_state=request.state,
        data=_jsonable(data or {}),
    )


def _jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "pk") or not isinstance(value, str | int | float | bool | type(None) | list | dict):
            value = str(value)
        out[key] = value
    return out


def _open_requests(chain: Chain, student, data: dict | None = None):
    """Open requests that block a new one of ``chain``: its own (for the same ``open_per`` fields),
    or any of its exclusive group."""
    from .chains import all_chains

    chains = [c for c in all_chains() if chain.exclusive_group and c.exclusive_group == chain.exclusive_group]
    narrow = {f: (data or {}).get(f) for f in chain.open_per}
    for c in chains or [chain]:
        found = (
            c.model.objects.filter(student=student, **(narrow if c is chain else {}))
            .exclude(state__in=[COMPLETED, WITHDRAWN])
            .first()
        )
        if found is not None:
            return found
    return None


def _check_student_status(chain: Chain, student) -> None:
    if chain.allowed_statuses and student.status not in chain.allowed_statuses:
        raise ApplicationError(WRONG_STUDENT_STATUS % {"chain": chain.name, "status": student.get_status_display()})


@transaction.atomic
def request_create(
    *, chain: Chain, student, applicant, data: dict | None = None, attachments: dict | None = None, submit: bool = False
) -> ApprovalRequest:
    """Open a request of ``chain`` for ``student`` (draft), optionally submitting it at once."""
    if not perms.may_initiate(chain, applicant, student):
        raise PermissionDenied(MAY_NOT_INITIATE)
    # Lock the student row so two creates at once cannot both pass the open-request check.
    # Check the status of the locked row, not of the caller's (possibly stale) instance.
    locked = type(student).objects.select_for_update().only("pk", "status").get(pk=student.pk)
    _check_student_status(chain, locked)
    existing = _open_requests(chain, student, data)
    if existing is not None:
        raise ApplicationError(ALREADY_OPEN % {"chain": existing.chain.name, "id": existing.pk})
    req = chain.model(student=student, applicant=applicant, **(data or {}))
    req.full_clean()
    req.save()
    for kind, upload in (attachments or {}).items():
        if upload:
            attachment_add(request=req, kind=kind, upload=upload, actor=applicant)
    if submit:
        req = request_act(chain=chain, request_id=req.pk, actor=applicant, action="submit")
    return req


@transaction.atomic
def request_update(
    *, request: ApprovalRequest, actor, data: dict, attachments: dict | None = None, submit: bool = False
) -> ApprovalRequest:
    """Amend a draft or returned request (applicant only), optionally (re)submitting it at once."""
    if request.applicant_id != actor.pk:
        raise PermissionDenied
    if request.state not in ("draft", RETURNED):
        raise ApplicationError(NOT_EDITABLE)
    for key, value in data.items():
        setattr(request, key, value)
    request.full_clean()
    request.save()
    for kind, upload in (attachments or {}).items():
        if upload:
            attachment_add(request=request, kind=kind, upload=upload, actor=actor)
    if submit:
        request = request_act(chain=request.chain, request_id=request.pk, actor=actor, action="submit")
    return request


def _check_attachments(req: ApprovalRequest) -> None:
    have = set(
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(req.__class__), object_id=req.pk
        ).values_list("kind", flat=True)
    )
    missing = [str(a.label) for a in req.chain.attachments if a.is_required_for(req) and a.kind not in have]
    if missing:
        raise ApplicationError(ATTACHMENT_MISSING % {"kinds": "、".join(missing)})


def _stage_data(req: ApprovalRequest, data: dict | None, role: str | None = None) -> dict:
    form_class = req.stage.form_class(role) if req.stage else None
    if form_class is None:
        return {}
    form = form_class(data=data or {})
    if not form.is_valid():
        raise ApplicationError(STAGE_DATA_INVALID, extra={"errors": form.errors.get_json_data()})
    return form.cleaned_data


@transaction.atomic
def request_act(
    *,
    chain: Chain,
    request_id: int,
    actor,
    action: str,
    opinion: str = "",
    data: dict | None = None,
    as_role: str | None = None,
    batch: str = "",
    to: str | None = None,
) -> ApprovalRequest:
    """Perform one transition on a request, record the sign-off, issue documents, notify.

    ``approve`` signs the stage and, when that was the last signature it awaited, advances it (to
    the next stage or where a branch leads). ``send_back`` goes to ``to``, an earlier stage the
    request has passed (default: the last of them). ``batch``: the id of a batch approval this
    sign-off belongs to (kept in the sign-off's data).

    Wrong state → ApplicationError; out of scope → Http404; in scope, wrong role → PermissionDenied.
    """
    if action not in ACTIONS:
        raise ApplicationError(UNKNOWN_ACTION)
    try:
        req = chain.model.objects.select_for_update().select_related("student").get(pk=request_id)
    except chain.model.DoesNotExist:
        raise Http404 from None
    if not perms.can_view(actor, req):
        raise Http404
    method = getattr(req, action, None)
    if method is None or not can_proceed(method):
        raise ApplicationError(WRONG_STATE % {"state": req.get_state_label(), "action": _action_label(action)})
    if not has_transition_perm(method, actor):
        raise PermissionDenied
    opinion = (opinion or "").strip()
    source = req.state
    kwargs: dict = {"actor": actor}
    principal = None
    if action in ("approve", "reject", "send_back"):
        eligible = perms.eligible_roles(req, actor)
        role = as_role if as_role in eligible else eligible[0]
        principal_id = perms.signing_principal(req, actor, role)
        if principal_id is not None:  # a substitute signs for the principal: both are recorded
            from django.contrib.auth import get_user_model

            principal = get_user_model().objects.get(pk=principal_id)
    else:
        role = (
            Role.STUDENT
            if req.student.user_id == actor.pk
            else (
                next(
                    iter(r for r in chain.initiator_roles if r in perms.roles_covering(actor, req.student)),
                    Role.STUDENT,
                )
            )
        )
    stage_data: dict = {}
    if action == "approve":
        if req.stage.window:
            check_windows((req.stage.window,), what=req.stage.label, message=OUTSIDE_STAGE_WINDOW)
        stage_data = _stage_data(req, data, role)
        kwargs.update(role=role, data=stage_data)
    elif action in ("reject", "send_back"):
        if not opinion:
            raise ApplicationError(OPINION_REQUIRED)
        kwargs.update(reason=opinion)
        if action == "send_back":
            choices = send_back_choices(req)
            if not choices or (to and to not in choices):
                raise ApplicationError(
                    SEND_BACK_TARGET_INVALID
                    % {
                        "state": req.get_state_label(),
                        "stages": "、".join(str(chain.state_label(c)) for c in choices) or "—",
                    }
                )
            kwargs.update(to=to or choices[-1])
    elif action == "submit":
        _check_student_status(chain, req.student)
        _check_attachments(req)
        if chain.validate:
            import_string(chain.validate)(request=req)
        check_windows(chain.windows, what=chain.name)
    method(**kwargs)
    if action == "approve" and can_proceed(req.advance):
        req.advance(actor=actor)  # the FSM refuses while a signer is missing (``all_signed``)
    req.save()
    signoff_record(
        request=req,
        actor=actor,
        role=role,
        decision=_decision_for(action),
        source=source,
        opinion=opinion,
        data={**stage_data, "batch": batch} if batch else stage_data,
        on_behalf_of=principal,
    )
    workitems_sync_request(request=req)
    if action == "approve" and req.state != source:
        _stage_passed(req, source, actor)
    if action == "reject":
        from registrar.documents.services import documents_revoke_for_returned_request

        documents_revoke_for_returned_request(request=req, actor=actor, reason=opinion)
    from registrar.notifications.services import notify_request_moved

    notify_request_moved(request=req, actor=actor, source=source, action=action)
    return req


@dataclass
class BatchOutcome:
    """What a batch approval did: the batch's id, the requests approved and those refused (with why)."""

    batch: str
    approved: list[ApprovalRequest] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def _batch_refusal(chain: Chain, pk: int, actor, stage: str | None) -> str | None:
    """Why request ``pk`` cannot be approved in a batch, before trying (None: try it)."""
    req = chain.model.objects.select_related("student").filter(pk=pk).first()
    if req is None or not perms.can_view(actor, req):
        return str(BATCH_NOT_FOUND)
    if stage and req.state != stage:
        return str(BATCH_WRONG_STAGE % {"state": req.get_state_label()})
    roles = perms.eligible_roles(req, actor)
    if req.stage is not None and roles and req.stage.form_class(roles[0]) is not None:
        return str(BATCH_NEEDS_FORM)
    return None


def requests_batch_approve(*, chain: Chain, ids, actor, opinion: str = "", stage: str | None = None) -> BatchOutcome:
    """Approve many requests of ``chain`` (waiting at ``stage``) with one opinion.

    Each request is approved by ``request_act`` in its own savepoint and gets its own sign-off; the
    sign-offs share a batch id (``SignOff.data["batch"]``). A request that cannot be approved
    (not found or out of scope, another stage, a stage that needs a form, not awaiting the actor,
    a wrong state) is listed in ``failed`` with the reason; the others go through."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        raise ApplicationError(BATCH_EMPTY)
    outcome = BatchOutcome(batch=uuid.uuid4().hex)
    for pk in ids:
        reason = _batch_refusal(chain, pk, actor, stage)
        if reason is None:
            try:
                with transaction.atomic():
                    req = request_act(
                        chain=chain,
                        request_id=pk,
                        actor=actor,
                        action="approve",
                        opinion=opinion,
                        batch=outcome.batch,
                    )
            except Http404:
                reason = str(BATCH_NOT_FOUND)
            except PermissionDenied:
                reason = str(BATCH_NOT_YOURS)
            except ApplicationError as exc:
                reason = str(exc.message)
            else:
                outcome.approved.append(req)
                continue
        outcome.failed.append((pk, reason))
    return outcome


def send_back_choices(req: ApprovalRequest) -> list[str]:
    """The earlier stages ``req`` may be sent back to now, in chain order: those before its stage
    that it has passed in this round (a branch may have skipped some) and that are still returnable."""
    earlier = req.chain.send_back_targets(req.state)
    if not earlier:
        return []
    passed = set(
        SignOff.objects.for_object(req)
        .filter(round=req.round, decision=SignOff.Decision.APPROVE, stage__in=earlier)
        .exclude(target_state=models.F("source_state"))
        .values_list("stage", flat=True)
    )
    return [code for code in earlier if code in passed]


def _stage_passed(req: ApprovalRequest, stage_code: str, actor) -> None:
    stage = req.chain.stage(stage_code)
    if stage and stage.on_pass:
        import_string(stage.on_pass)(request=req, actor=actor)
    if stage and stage.issues:
        from registrar.documents.services import document_issue_for_request

        for doc_type in stage.issues:
            document_issue_for_request(doc_type=doc_type, request=req, issued_by=actor)
    if req.state == COMPLETED and req.chain.on_complete:
        import_string(req.chain.on_complete)(request=req, actor=actor)


def _action_label(action: str) -> str:
    return str(
        {
            "submit": _("Submit"),
            "approve": _("Approve"),
            "reject": _("Reject"),
            "send_back": _("Send back"),
            "withdraw": _("Withdraw"),
        }.get(action, action)
    )


# --- attachments ----------------------------------------------------------------------
_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def _sniff(upload) -> str | None:
    """The real type of an upload from its content, not its name: image/jpeg, image/png, application/pdf."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        from PIL import Image

        with Image.open(upload) as img:
            img.verify()
            fmt = img.format
        upload.seek(0)
        return _IMAGE_TYPES.get(fmt)
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is not an image
        upload.seek(0)
        return None


def attachment_validate(*, chain: Chain, kind: str, upload) -> str:
    rule = chain.attachment_rule(kind)
    if rule is None:
        raise ApplicationError(ATTACHMENT_UNKNOWN_KIND % {"kind": kind})
    limit = rule.max_bytes or settings.REGISTRAR["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        raise ApplicationError(
            ATTACHMENT_TOO_BIG % {"name": upload.name, "size": upload.size // 1024, "limit": limit // 1024}
        )
    mime = _sniff(upload)
    if mime is None or (rule.images_only and not mime.startswith("image/")):
        raise ApplicationError(
            ATTACHMENT_BAD_TYPE % {"name": upload.name, "pdf": "" if rule.images_only else str(_(" or a PDF"))}
        )
    return mime


@transaction.atomic
def attachment_add(*, request: ApprovalRequest, kind: str, upload, actor) -> Attachment:
    mime = attachment_validate(chain=request.chain, kind=kind, upload=upload)
    ext = mimetypes.guess_extension(mime) or ""
    original_name = upload.name
    upload.name = f"{request.chain.code}-{request.pk}-{kind}{ext}"
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(request.__class__),
        object_id=request.pk,
        kind=kind,
        file=upload,
        original_name=original_name[:255],
        mime_type=mime,
        size=upload.size,
        uploaded_by=actor,
    )


# --- the academic calendar ---------------------------------------------------------------------
@transaction.atomic
def academic_calendar_generate(*, year: int) -> list[CalendarEntry]:
    """Give academic ``year`` an entry for every calendar key it lacks, on the seeds' default date.
    Entries Academic Affairs already has (edited or not) are kept as they are. Returns the new ones."""
    have = set(CalendarEntry.objects.filter(academic_year=year).values_list("key", flat=True))
    new = [
        CalendarEntry(key=k.key, academic_year=year, period=k.period, date=k.default_date(year))
        for k in CALENDAR_KEYS
        if k.key not in have
    ]
    for entry in new:
        entry.full_clean()
    return CalendarEntry.objects.bulk_create(new)


# --- delegation and reassignment --------------------------------------------------------------
DELEGATION_NOT_A_SIGNER = _(
    "Only someone who signs in their own right can name a substitute: what is held by delegation cannot be passed on."
)
DELEGATION_SUBSTITUTE_INVALID = _("This user cannot be a substitute: choose an active member of staff.")
DELEGATION_ENDED = _("The period must not end before today.")
DELEGATION_ALREADY_REVOKED = _("This delegation has already been revoked.")
REASSIGN_NOT_WAITING = _("Only a request waiting at a stage can be reassigned; this one is at “%(state)s”.")
REASSIGN_ROLE_NOT_PENDING = _("Choose a signer role this stage still awaits: %(roles)s.")
REASSIGN_REASON_REQUIRED = _("Please give the reason for the reassignment: it is recorded in the request's history.")
REASSIGN_ASSIGNEE_INVALID = _(
    "This user cannot sign the request: choose an active member of staff other than its student or applicant."
)


@transaction.atomic
def delegation_create(*, principal, substitute, starts_on, ends_on, reason: str = "") -> Delegation:
    """``principal`` names ``substitute`` to sign on their behalf from ``starts_on`` to ``ends_on``.

    Refused: naming oneself; a principal who signs nothing in their own right (no re-delegation of
    what is held by delegation); a substitute who is inactive or a student; a period already over."""
    from django.utils import timezone

    if principal.pk == substitute.pk:
        raise ApplicationError(DELEGATION_SELF)
    if not perms.own_grants(principal):
        raise ApplicationError(DELEGATION_NOT_A_SIGNER)
    if not substitute.is_active or (perms.is_student_user(substitute) and not perms.own_grants(substitute)):
        raise ApplicationError(DELEGATION_SUBSTITUTE_INVALID)
    if ends_on < timezone.localdate():
        raise ApplicationError(DELEGATION_ENDED)
    delegation = Delegation(
        principal=principal,
        substitute=substitute,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip(),
        created_by=principal,
    )
    try:
        delegation.full_clean()
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from None
    delegation.save()
    return delegation


@transaction.atomic
def delegation_revoke(*, delegation_id: int, actor) -> Delegation:
    """End a delegation now (its principal, or Academic Affairs); sign-offs already given stand."""
    from django.utils import timezone

    try:
        delegation = Delegation.objects.select_for_update().get(pk=delegation_id)
    except Delegation.DoesNotExist:
        raise Http404 from None
    if not perms.can_see_delegation(actor, delegation):
        raise Http404
    if not perms.may_revoke_delegation(actor, delegation):
        raise PermissionDenied
    if delegation.revoked_at is not None:
        raise ApplicationError(DELEGATION_ALREADY_REVOKED)
    delegation.revoked_at = timezone.now()
    delegation.revoked_by = actor
    delegation.save(update_fields=["revoked_at", "revoked_by"])
    return delegation


@transaction.atomic
def request_reassign(
    *, chain: Chain, request_id: int, actor, assignee, reason: str, role: str | None = None
) -> ApprovalRequest:
    """Academic Affairs names ``assignee`` to sign ``role`` (a role the current stage still awaits;
    default: its only one) on this one request, for this visit of the stage. Logged as a
    ``reassign`` sign-off with the reason (which is also what lets the assignee act:
    ``perms.eligible_roles``); the stage's work item of that role names the assignee, so it shows in
    their inbox."""
    try:
        req = chain.model.objects.select_for_update().select_related("student").get(pk=request_id)
    except chain.model.DoesNotExist:
        raise Http404 from None
    if not perms.can_view(actor, req):
        raise Http404
    if not perms.may_reassign(req, actor):
        raise PermissionDenied
    if req.stage is None:
        raise ApplicationError(REASSIGN_NOT_WAITING % {"state": req.get_state_label()})
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REASSIGN_REASON_REQUIRED)
    pending = req.pending_roles()
    role = role or (pending[0] if len(pending) == 1 else None)
    if role not in pending:
        raise ApplicationError(REASSIGN_ROLE_NOT_PENDING % {"roles": "、".join(str(Role(r).label) for r in pending)})
    if not assignee.is_active or assignee.pk in (req.student.user_id, req.applicant_id):
        raise ApplicationError(REASSIGN_ASSIGNEE_INVALID)
    signoff_record(
        request=req,
        actor=actor,
        role=Role.ACADEMIC_AFFAIRS,
        decision=SignOff.Decision.REASSIGN,
        source=req.state,
        opinion=reason,
        data={"assignee": assignee.pk, "assignee_name": getattr(assignee, "display_name", str(assignee)), "role": role},
    )
    workitem_assign(subject=req, assignee=assignee, stage=req.state, role=role)  # the assignee's inbox shows it
    from registrar.notifications.services import notify

    notify(
        users=[assignee],
        message=str(
            _("%(chain)s #%(id)s was assigned to you to sign as %(role)s.")
            % {"chain": chain.name, "id": req.pk, "role": Role(role).label}
        ),
        url=req.get_absolute_url(),
    )
    return req
