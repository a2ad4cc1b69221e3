"""The approval UI: one inbox, one request page, one act view, one application form for
every chain. Views are thin: validate the shape, call one service, add a message,
redirect. State changes only on POST (STYLE.md §3)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from registrar import params
from registrar.exceptions import ApplicationError
from registrar.files import serve_file
from registrar.roles import Role
from registrar.scopes import directory

from . import permissions as perms
from . import selectors, services
from .chains import COMPLETED, DRAFT, RETURNED, WITHDRAWN, chain_for_seed_code, get_chain
from .deadlines import window_spans
from .forms import ActForm, DelegationForm, ReassignForm, applicant_field_names, application_form_for, use_date_inputs
from .models import SignOff

INBOX_PAGE_SIZE = 25
EDITABLE_STATES = (DRAFT, RETURNED)
ALREADY_SIGNED = gettext_lazy("You have already signed this request; it is now at “%(state)s”.")


#: a path segment that is a seed code (U1, C4, U5C), as links printed before chains had readable codes
SEED_CODE_PATH = r"^(?P<seed>[A-Z][0-9]+[A-Z]?)/(?P<rest>.*)$"


def seed_code_redirect(request, seed: str, rest: str = ""):
    """An old link naming a chain by its seed code (``/requests/U1/5/``): a permanent redirect to the
    same page under the chain's code (``/requests/suspension/5/``). Only GET and HEAD: printed links
    and bookmarks are read, never posted to."""
    chain = chain_for_seed_code(seed)
    if chain is None:
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    path = request.path.replace(f"/{seed}/", f"/{chain.code}/", 1)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)


# --- inbox ------------------------------------------------------------------------------
def _inbox_groups(rows) -> list[dict]:
    """The page's rows grouped by (kind, stage) for batch approval, in first-seen order."""
    groups: dict = {}
    for r in rows:
        group = groups.setdefault(
            (r.kind, r.state),
            {"kind": r.kind, "stage": r.state, "name": r.name, "stage_label": r.get_state_label(), "rows": []},
        )
        group["rows"].append(r)
    for group in groups.values():
        group["batchable"] = sum(1 for r in group["rows"] if r.is_request and r.quick) > 1
    return list(groups.values())


@login_required
def inbox(request):
    """Every open piece of work awaiting the user (requests of every chain, grade sheets, station
    submissions), oldest first, read from the in-flight table; requests waiting at the same stage
    can be approved together."""
    from .workitems import kind_choices

    query = params.parse_query(
        request.GET,
        # a chain's code, another kind of work's, or a chain's seed code from an old link (U6)
        type=params.ChainField(chains=(), choices=[(code, code) for code, _name in kind_choices()]),
        q=params.SearchField(),
        overdue=forms.BooleanField(required=False),
        college=params.IdField(),
    )
    chain_code = query["type"] or None
    filters = {
        "search": query["q"] or "",
        "overdue_only": bool(query["overdue"]),
        "college_id": query["college"],
    }
    page_number = params.page_number(request.GET.get("page"))
    rows, counts, total = selectors.inbox_page_rows(
        request.user,
        offset=(page_number - 1) * INBOX_PAGE_SIZE,
        limit=INBOX_PAGE_SIZE,
        chain_code=chain_code,
        **filters,
    )
    paginator = Paginator(range(total), INBOX_PAGE_SIZE)
    if page_number > paginator.num_pages:  # past the end: show the last page
        page_number = paginator.num_pages
        rows, counts, total = selectors.inbox_page_rows(
            request.user,
            offset=(page_number - 1) * INBOX_PAGE_SIZE,
            limit=INBOX_PAGE_SIZE,
            chain_code=chain_code,
            **filters,
        )
    if chain_code:  # the tabs show every type's count under the other filters
        _rows, counts, _total = selectors.inbox_page_rows(request.user, offset=0, limit=0, **filters)
    tabs = [{"code": code, "name": name, "count": count} for code, name, count in selectors.inbox_kinds(counts)]
    return render(
        request,
        "approvals/inbox.html",
        {
            "rows": rows,
            "groups": _inbox_groups(rows),
            "page_obj": paginator.page(page_number),
            "tabs": tabs,
            "all_count": sum(counts.values()),
            "chain_code": chain_code,
            "filters": filters,
            "batch_url": reverse("approvals:batch_approve"),
            "here": request.get_full_path(),
            "colleges": directory().colleges_visible(request.user),
        },
    )


class BatchApproveForm(forms.Form):
    """The shape of a batch approval: one chain and stage, the selected requests, one opinion."""

    chain = forms.CharField(max_length=32)
    stage = forms.CharField(max_length=40)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    opinion = forms.CharField(
        label=gettext_lazy("Opinion"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    next = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any positive integers: which ids exist and are in scope is the service's question
        self.fields["ids"].valid_value = lambda value: str(value).isdigit() and 0 < int(value) < 2**63

    def clean_chain(self):
        from .chains import _REGISTRY

        code = self.cleaned_data["chain"]
        if code not in _REGISTRY:
            raise ValidationError(gettext_lazy("Unknown request type."))
        return _REGISTRY[code]


@login_required
@require_POST
def inbox_batch_approve(request):
    """Approve the selected requests (one chain, one stage) with one opinion; each is signed on its
    own, and those that cannot be approved are listed with the reason."""
    form = BatchApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Select the requests to approve, all waiting at one stage."))
        return redirect("approvals:inbox")
    data = form.cleaned_data
    try:
        outcome = services.requests_batch_approve(
            chain=data["chain"], ids=data["ids"], actor=request.user, opinion=data["opinion"], stage=data["stage"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("approvals:inbox")
    if outcome.approved:
        messages.success(
            request,
            ngettext(
                "%(count)s request approved.",
                "%(count)s requests approved.",
                len(outcome.approved),
            )
            % {"count": len(outcome.approved)},
        )
    for pk, reason in outcome.failed:
        messages.error(
            request,
            _("%(chain)s #%(id)s was not approved: %(reason)s")
            % {"chain": data["chain"].name, "id": pk, "reason": reason},
        )
    target = data["next"]
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("approvals:inbox")
    return redirect(target)


# --- request page -------------------------------------------------------------------------
def _field_rows(req) -> list[tuple[str, object]]:
    """(label, value) of the request's own fields: the applicant's, then the stages' data."""
    own = applicant_field_names(req.chain)
    staged = [n for stage in req.chain.stages for form in stage.form_classes() for n in form.base_fields]
    names = own + [n for n in dict.fromkeys(staged) if n not in own]
    rows = []
    for name in names:
        field = req._meta.get_field(name)
        value = getattr(req, name)
        if value in (None, "") or (value is False and name not in own):
            if name not in own:
                continue  # stage data not recorded yet (an unticked stage checkbox is not data)
            value = "—"
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif field.choices:
            value = getattr(req, f"get_{name}_display")()
        rows.append((field.verbose_name, value))
    return rows


def _progress(req, signoffs) -> list[dict]:
    """The chain's stages as a stepper: done / current / returned / pending, with signers."""
    chain = req.chain
    codes = chain.stage_codes
    if req.state == COMPLETED:
        current = len(codes)
    elif req.state in codes:
        current = codes.index(req.state)
    elif req.state == RETURNED:
        rejected = next((s for s in reversed(signoffs) if s.decision == "reject"), None)
        current = codes.index(rejected.stage) if rejected and rejected.stage in codes else -1
    else:
        current = -1
    signed = {(s.stage, s.role): s for s in signoffs if s.round == req.round and s.decision == "approve"}
    steps = []
    for i, stage in enumerate(chain.stages):
        if i < current:
            status = "done"
        elif i == current:
            status = "returned" if req.state == RETURNED else "current"
        else:
            status = "pending"
        deadline = chain.deadline(stage.code)
        steps.append(
            {
                "code": stage.code,
                "label": stage.label,
                "status": status,
                "deadline_days": deadline.days if deadline else None,
                "deadline_text": _deadline_words(chain, stage.code) if not deadline else "",
                "signers": [
                    {
                        "role": role,
                        "label": Role(role).label,
                        "signoff": signed.get((stage.code, role)) if status in ("done", "current") else None,
                    }
                    for role in chain.signers(stage.code)
                ],
            }
        )
    return steps


def _deadline_words(chain, stage_code: str) -> str:
    """A calendar or relative deadline in words ("by 15 March of the academic year")."""
    spec = chain.deadline_spec(stage_code)
    return spec.describe(chain.model)["text"] if spec else ""


@login_required
def request_detail(request, chain, pk):
    from registrar.documents.selectors import documents_of_request

    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    signoffs = selectors.request_timeline(req)
    return render(
        request,
        "approvals/request_detail.html",
        {
            "req": req,
            "chain": chain,
            "field_rows": _field_rows(req),
            "steps": _progress(req, signoffs),
            "signoffs": signoffs,
            "attachments": selectors.request_attachments(req),
            "documents": documents_of_request(req),
            "pending_changes": directory().pending_changes(req.student),
            "actions": selectors.available_actions(req, request.user),
            "can_edit": req.applicant_id == request.user.pk and req.state in EDITABLE_STATES,
            "can_reassign": req.is_in_progress and perms.may_reassign(req, request.user),
            "is_finished": req.state in (COMPLETED, WITHDRAWN),
        },
    )


@login_required
def attachment_download(request, chain, pk, attachment_pk):
    """An attachment of a visible request (never served from a public media URL)."""
    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    attachment = next((a for a in selectors.request_attachments(req) if a.pk == attachment_pk), None)
    if attachment is None:
        raise Http404
    return serve_file(
        request,
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_POST
def approval_form(request, chain, pk):
    """Issue (print) the request's approval form (审批表) as a PDF document."""
    from registrar.documents.services import document_issue_for_request

    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    try:
        document_issue_for_request(doc_type="approval_form", request=req, issued_by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The approval form is being produced; it appears below when ready."))
    return redirect(req)


def _already_signed(req, user) -> bool:
    """Whether ``user`` has signed ``req`` in its current round (a repeated click, a stale page)."""
    return (
        SignOff.objects.for_object(req)
        .filter(
            actor=user,
            round=req.round,
            decision__in=[SignOff.Decision.APPROVE, SignOff.Decision.REJECT, SignOff.Decision.RETURN],
        )
        .exists()
    )


# --- act ------------------------------------------------------------------------------------
@login_required
def request_act(request, chain, pk, action):
    """Confirm (GET) and perform (POST) one transition — approve, reject, send back, submit, withdraw."""
    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    available = {a["name"]: a for a in selectors.available_actions(req, request.user)}
    # Asked with GET or POST alike: an action the user may not take now is refused before any form is
    # read (an invalid POST must not show the confirmation page to someone who may not sign).
    if action not in available:
        say = messages.error if request.method == "POST" else messages.warning
        method = getattr(req, action, None) if action in services.ACTIONS else None
        if method is None:
            if request.method != "POST":
                raise Http404
            say(request, services.UNKNOWN_ACTION)
            return redirect(req)
        if not can_proceed(method):
            say(
                request,
                services.WRONG_STATE % {"state": req.get_state_label(), "action": services._action_label(action)},
            )
            return redirect(req)
        if _already_signed(req, request.user):
            say(request, ALREADY_SIGNED % {"state": req.get_state_label()})
            return redirect(req)
        raise PermissionDenied
    stage = req.stage if action == "approve" else None
    roles = perms.eligible_roles(req, request.user) if action in ("approve", "reject", "send_back") else []
    stage_form_class = stage.form_class(roles[0] if roles else None) if stage else None
    send_back_to = (
        [(code, chain.state_label(code)) for code in services.send_back_choices(req)] if action == "send_back" else []
    )
    if request.method == "POST":
        form = ActForm(request.POST, action=action, roles=roles, send_back_to=send_back_to)
        stage_form = stage_form_class(request.POST) if stage_form_class else None
        if form.is_valid():
            try:
                req = services.request_act(
                    chain=chain,
                    request_id=req.pk,
                    actor=request.user,
                    action=action,
                    opinion=form.cleaned_data["opinion"],
                    data=request.POST,
                    as_role=form.cleaned_data.get("as_role"),
                    to=form.cleaned_data.get("to"),
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
                if not exc.extra.get("errors"):
                    return redirect(req)
            except PermissionDenied:
                if not _already_signed(req, request.user):
                    raise
                # a second click after the request moved on: say so instead of a bare 403
                messages.error(request, ALREADY_SIGNED % {"state": req.get_state_label()})
                return redirect(req)
            else:
                messages.success(
                    request, _("Done: the request is now at “%(state)s”.") % {"state": req.get_state_label()}
                )
                return redirect(req)
    else:
        form = ActForm(action=action, roles=roles, send_back_to=send_back_to)
        stage_form = stage_form_class() if stage_form_class else None
    if stage_form is not None:
        use_date_inputs(stage_form)
    return render(
        request,
        "approvals/request_act.html",
        {
            "req": req,
            "chain": chain,
            "action": available.get(action) or {"name": action, "label": services._action_label(action)},
            "form": form,
            "stage_form": stage_form,
            "stage": req.stage,
            "field_rows": _field_rows(req),
            "signoffs": selectors.request_timeline(req),
        },
    )


# --- apply / amend --------------------------------------------------------------------------
def _initiation(chain, user):
    """(student, picks_student) for ``user`` opening a ``chain`` request; 403 if they may not."""
    own = perms.student_of(user)
    if own is not None and Role.STUDENT in chain.initiator_roles and perms.may_initiate(chain, user, own):
        return own, False
    staff_roles = set(chain.initiator_roles) - {Role.STUDENT}
    if any(g.role in staff_roles for g in perms.own_grants(user)):
        return None, True
    raise PermissionDenied


def _add_model_errors(form, exc) -> None:
    """Show a model validation error on the form's fields (or above the form)."""
    for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def request_create(request, chain):
    """Open a request of ``chain``: the student for themself, or a staff initiator for a student."""
    chain = get_chain(chain)
    student, picks_student = _initiation(chain, request.user)
    if chain.opened_elsewhere:  # e.g. U5B: one request per student of a batch, filed on its own page
        messages.error(request, chain.opened_elsewhere)
        return redirect("home")
    if student is not None and chain.allowed_statuses and student.status not in chain.allowed_statuses:
        messages.error(
            request, services.WRONG_STUDENT_STATUS % {"chain": chain.name, "status": student.get_status_display()}
        )
        return redirect("home")
    form_class = application_form_for(chain, picks_student=picks_student)
    # A staff initiator may arrive with the student chosen (?student=<id>, 404 outside their
    # scope) and applicant fields prefilled from the query string (e.g. ?grade=<id>).
    preset = None
    if picks_student and request.GET.get("student"):
        student_id = params.id_or_none(request.GET["student"])
        if student_id is None:
            raise Http404
        preset = directory().student_get_visible(request.user, student_id)
    if request.method == "POST":
        submit = "submit" in request.POST
        form = form_class(request.POST, request.FILES, user=request.user, submitting=submit, student=student or preset)
        if form.is_valid():
            try:
                req = services.request_create(
                    chain=chain,
                    student=student or form.student(),
                    applicant=request.user,
                    data=form.request_data(),
                    attachments=form.attachments(),
                    submit=submit,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:  # the request model's clean() refused the data
                _add_model_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Your request has been submitted.")
                    if submit
                    else _("Saved as a draft. Submit it when it is complete."),
                )
                return redirect(req)
    else:
        initial = {name: request.GET[name] for name in applicant_field_names(chain) if name in request.GET}
        form = form_class(user=request.user, student=student or preset, initial=initial)
    return render(
        request,
        "approvals/request_form.html",
        {
            "chain": chain,
            "form": form,
            "student": student or preset,
            "req": None,
            "windows": window_spans(chain.windows),
        },
    )


@login_required
def request_edit(request, chain, pk):
    """Amend a draft or a returned request (the applicant), then save or resubmit."""
    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    if req.applicant_id != request.user.pk:
        raise PermissionDenied
    if req.state not in EDITABLE_STATES:
        messages.warning(request, services.NOT_EDITABLE)
        return redirect(req)
    form_class = application_form_for(chain)
    existing = {a.kind for a in selectors.request_attachments(req)}
    if request.method == "POST":
        submit = "submit" in request.POST
        form = form_class(
            request.POST, request.FILES, instance=req, user=request.user, submitting=submit, existing_kinds=existing
        )
        if form.is_valid():
            try:
                req = services.request_update(
                    request=req,
                    actor=request.user,
                    data=form.request_data(),
                    attachments=form.attachments(),
                    submit=submit,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("Your request has been resubmitted.") if submit else _("Your changes have been saved.")
                )
                return redirect(req)
    else:
        form = form_class(instance=req, user=request.user, existing_kinds=existing)
    return render(
        request,
        "approvals/request_form.html",
        {
            "chain": chain,
            "form": form,
            "student": req.student,
            "req": req,
            "attachments": selectors.request_attachments(req),
            "windows": window_spans(chain.windows),
        },
    )


# --- delegation (substitutes) and reassignment ------------------------------------------------
@login_required
def delegations(request):
    """A signer's substitutes (named and revoked here) and the delegations they hold; Academic
    Affairs sees every delegation. Others: 403."""
    from .models import Delegation

    user = request.user
    may_delegate = bool(perms.own_grants(user))
    oversees = perms.oversees_delegations(user)
    if not (may_delegate or oversees or perms.grants(user)):
        raise PermissionDenied
    form = DelegationForm(request.POST or None)
    if request.method == "POST":
        if not may_delegate:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.delegation_create(principal=user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your substitute has been named."))
                return redirect("approvals:delegations")
    base = Delegation.objects.select_related("principal", "substitute", "revoked_by")
    tables = [
        (_("My substitutes"), list(base.filter(principal=user)), _("You have named no substitute.")),
        (_("I sign on behalf of"), list(base.filter(substitute=user)), _("Nobody has named you their substitute.")),
    ]
    if oversees:
        tables.append((_("Every delegation"), list(base.all()[:500]), _("No delegations.")))
    for _title, rows, _empty in tables:
        for d in rows:
            d.may_revoke = perms.may_revoke_delegation(user, d)
    return render(
        request,
        "approvals/delegations.html",
        {"form": form, "may_delegate": may_delegate, "tables": tables},
    )


@login_required
@require_POST
def delegation_revoke(request, pk):
    try:
        services.delegation_revoke(delegation_id=pk, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The delegation has been revoked."))
    return redirect("approvals:delegations")


@login_required
def request_reassign(request, chain, pk):
    """Academic Affairs names who signs the current stage of this request (GET: the form)."""
    chain = get_chain(chain)
    req = selectors.request_get_visible(request.user, chain, pk)
    if not perms.may_reassign(req, request.user):
        raise PermissionDenied
    if req.stage is None:
        messages.warning(request, services.REASSIGN_NOT_WAITING % {"state": req.get_state_label()})
        return redirect(req)
    form = ReassignForm(request.POST or None, roles=req.pending_roles())
    if request.method == "POST" and form.is_valid():
        try:
            services.request_reassign(
                chain=chain,
                request_id=req.pk,
                actor=request.user,
                assignee=form.cleaned_data["assignee"],
                reason=form.cleaned_data["reason"],
                role=form.cleaned_data.get("role"),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Reassigned: %(name)s may now sign this stage.")
                % {"name": form.cleaned_data["assignee"].display_name},
            )
            return redirect(req)
    return render(
        request,
        "approvals/request_reassign.html",
        {"req": req, "chain": chain, "form": form, "signoffs": selectors.request_timeline(req)},
    )
