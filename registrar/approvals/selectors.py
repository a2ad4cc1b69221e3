"""Reads of the approval kernel: the inbox, visible requests, timelines."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.utils import timezone

from . import permissions as perms
from .chains import Chain, all_chains, get_chain
from .models import Attachment, SignOff


def _awaiting_q(user, chain: Chain) -> Q | None:
    """Requests of ``chain`` whose current stage awaits a signature ``user`` may give."""
    grants = perms.grants(user)
    if not grants:
        return None
    ct = ContentType.objects.get_for_model(chain.model)
    q = None
    for g in grants:
        stages = [code for code in chain.stage_codes if g.role in chain.signers(code)]
        if not stages:
            continue
        signed = SignOff.objects.filter(
            content_type=ct,
            object_id=OuterRef("pk"),
            round=OuterRef("round"),
            stage=OuterRef("state"),
            role=g.role,
            decision=SignOff.Decision.APPROVE,
        ).standing()
        part = Q(state__in=stages) & g.student_q("student__") & ~Exists(signed)
        q = part if q is None else q | part
    return q


def inbox_querysets(
    user, *, chain_code: str | None = None, search: str = "", overdue_only: bool = False, college_id: int | None = None
):
    """(chain, queryset) per chain with requests awaiting ``user``; oldest stage first."""
    result = []
    for chain in all_chains():
        if chain_code and chain.code != chain_code:
            continue
        q = _awaiting_q(user, chain)
        if q is None:
            continue
        qs = chain.model.objects.filter(q)
        if search:
            qs = qs.filter(Q(student__name__icontains=search) | Q(student__student_number__icontains=search))
        if overdue_only:
            qs = qs.filter(stage_due_at__lt=timezone.now())
        if college_id:
            qs = qs.filter(student__college_id=college_id)
        result.append((chain, qs))
    return result


def inbox_page_rows(user, *, offset: int, limit: int, **filters):
    """One page of the merged inbox (all chains), oldest first, plus counts per chain.

    Query count is constant in the number of requests: one count per chain, one UNION
    for the page and one fetch per chain present on the page."""
    pairs = inbox_querysets(user, **filters)
    counts = {chain.code: qs.count() for chain, qs in pairs}
    total = sum(counts.values())
    if not pairs or offset >= total or limit <= 0:  # nothing, past the end, or counts only: no query
        return [], counts, total
    parts = [
        # order_by(): no Meta.ordering inside the UNION's parts (SQLite refuses ORDER BY there)
        qs.order_by()
        .annotate(chain_code=Value(chain.code, output_field=CharField()))
        .values_list("chain_code", "pk", "stage_entered_at")
        for chain, qs in pairs
        if counts[chain.code]
    ]
    if not parts:
        return [], counts, total
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    keys = list(union.order_by("stage_entered_at", "pk")[offset : offset + limit])
    by_chain: dict[str, list[int]] = {}
    for code, pk, _entered in keys:
        by_chain.setdefault(code, []).append(pk)
    objects = {}
    for code, pks in by_chain.items():
        chain = get_chain(code)
        for obj in chain.model.objects.filter(pk__in=pks).select_related(
            "student", "student__klass", "student__college", "applicant"
        ):
            objects[(code, obj.pk)] = obj
    rows = [objects[(code, pk)] for code, pk, _entered in keys if (code, pk) in objects]
    return rows, counts, total


def visible_requests(user, chain: Chain):
    q = perms.visible_q(user, chain)
    return chain.model.objects.filter(q).select_related("student", "student__klass", "applicant")


def requests_of_student_user(user):
    """Every request about the student linked to ``user`` (their own requests), newest first."""
    rows = []
    for chain in all_chains():
        rows.extend(chain.model.objects.filter(Q(student__user=user) | Q(applicant=user)).select_related("student"))
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows


def request_get_visible(user, chain: Chain, pk: int):
    """The request if ``user`` may see it; Http404 otherwise (scope leaks nothing)."""
    from django.http import Http404

    try:
        req = chain.model.objects.select_related("student", "student__klass", "student__college", "applicant").get(
            pk=pk
        )
    except chain.model.DoesNotExist:
        raise Http404 from None
    if not perms.can_view(user, req):
        raise Http404
    return req


def request_timeline(request):
    return list(SignOff.objects.for_object(request).order_by("created_at", "id"))


def request_attachments(request):
    ct = ContentType.objects.get_for_model(request.__class__)
    return list(Attachment.objects.filter(content_type=ct, object_id=request.pk))


def available_actions(request, user) -> list[dict]:
    """The transitions ``user`` may perform now, with labels — for buttons and the API."""
    out = []
    for t in request.get_available_user_state_transitions(user):
        out.append(
            {"name": t.name, "label": str(t.custom.get("label", t.name)), "decision": t.custom.get("decision", t.name)}
        )
    order = {"submit": 0, "approve": 1, "send_back": 2, "reject": 3, "withdraw": 4}
    return sorted(out, key=lambda a: order.get(a["name"], 9))


def users_awaited_by(request):
    """Staff users holding a role the request's current stage still needs, in scope."""
    from django.contrib.auth import get_user_model

    from students.models import RoleAssignment

    roles = request.pending_roles() if request.stage else []
    if not roles:
        return []
    student = request.student
    scope_q = (
        Q(scope="university")
        | Q(scope="college", college_id=student.college_id)
        | Q(scope="class", klass_id=student.klass_id)
    )
    if student.station_id:
        scope_q |= Q(scope="station", station_id=student.station_id)
    user_ids = set(RoleAssignment.objects.filter(scope_q, role__in=roles).values_list("user_id", flat=True))
    klass = student.klass
    if "advisor" in roles and klass.advisor_id:
        user_ids.add(klass.advisor_id)
    if "counsellor" in roles and klass.counsellor_id:
        user_ids.add(klass.counsellor_id)
    return list(get_user_model().objects.filter(pk__in=user_ids, is_active=True))
