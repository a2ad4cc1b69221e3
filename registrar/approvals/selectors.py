"""Reads of the approval kernel: the inbox, visible requests, timelines.

The inbox reads the in-flight table (``WorkItem``, kept by the kernel). ``_awaiting_q`` and
``inbox_querysets`` compute the same from each chain's own tables: a test holds the two equal."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from . import permissions as perms
from .chains import Chain, all_chains, get_chain
from .models import Attachment, SignOff


def _awaiting_q(user, chain: Chain, *, assigned: bool = False) -> Q | None:
    """Requests of ``chain`` whose current stage awaits a signature ``user`` may give: by a role
    they hold (their own or by delegation), or, when ``assigned``, one Academic Affairs assigned
    them on that request (a standing ``reassign`` of this visit of the stage they have not signed)."""
    grants = perms.grants(user)
    if not grants and not assigned:
        return None
    ct = ContentType.objects.get_for_model(chain.model)
    q = None
    if assigned:
        visit = {
            "content_type": ct,
            "object_id": OuterRef("pk"),
            "round": OuterRef("round"),
            "stage": OuterRef("state"),
        }
        named = SignOff.objects.filter(**visit, decision=SignOff.Decision.REASSIGN, data__assignee=user.pk).standing()
        signed = SignOff.objects.filter(**visit, decision=SignOff.Decision.APPROVE, actor=user).standing()
        q = Q(Exists(named)) & ~Exists(signed)
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
    # one query: has Academic Affairs ever assigned this user a stage (reassign)? Only then do the
    # chains' queries look for such assignments
    assigned = SignOff.objects.filter(decision=SignOff.Decision.REASSIGN, data__assignee=user.pk).exists()
    for chain in all_chains():
        if chain_code and chain.code != chain_code:
            continue
        q = _awaiting_q(user, chain, assigned=assigned)
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


class InboxRow:
    """One line of the inbox, read from a ``WorkItem``: what the page, the card and the API show.

    ``pk`` is the subject's id (the request's, the offering's …); ``chain`` is set for requests."""

    def __init__(self, item, url: str = ""):
        from .workitems import kind_name, stage_label, work_kind

        self.item = item
        self.pk = item.object_id
        self.kind = item.kind
        self.state = item.stage
        self.student = item.student
        self.stage_entered_at = item.opened_at
        self.stage_due_at = item.due_at
        self.is_overdue = item.is_overdue
        self.quick = item.quick
        self.is_request = work_kind(item.kind) is None
        self.chain = get_chain(item.kind) if self.is_request else None
        self.name = kind_name(item.kind)
        self.title = item.title
        self.detail = item.detail
        self._stage_label = stage_label
        self.key = f"{item.kind}-{item.object_id}"
        self.url = url

    def get_state_label(self):
        return self._stage_label(self.kind, self.state)

    def get_absolute_url(self):
        return self.url

    def __repr__(self):
        return f"<InboxRow {self.key} {self.state}>"


def inbox_grants_q(user) -> Q | None:
    """A Q over ``WorkItem`` for the work ``user`` may act on: a role they hold in a scope covering
    the item, or the item named to them. None when they can act on nothing."""
    if user is None or not user.is_authenticated:
        return None
    q = Q(assignee=user)
    for g in perms.grants(user):
        part = Q(role=g.role)
        if g.scope == "college":
            part &= Q(college_id=g.college_id)
        elif g.scope == "class":
            part &= Q(klass_id=g.klass_id)
        elif g.scope == "station":
            part &= Q(station_id=g.station_id)
        q |= part
    return q


def inbox_items(
    user, *, chain_code: str | None = None, search: str = "", overdue_only: bool = False, college_id: int | None = None
):
    """The user's open work items, one per subject (the lowest id among the subject's rows for
    the user's roles), as a queryset of ``WorkItem``."""
    from .models import WorkItem

    q = inbox_grants_q(user)
    if q is None:
        return WorkItem.objects.none()
    mine = WorkItem.objects.open().filter(q)
    if chain_code:
        mine = mine.filter(kind=chain_code)
    if search:
        mine = mine.filter(
            Q(student__name__icontains=search)
            | Q(student__student_number__icontains=search)
            | Q(title__icontains=search)
        )
    if overdue_only:
        mine = mine.filter(due_at__lt=timezone.now())
    if college_id:
        mine = mine.filter(college_id=college_id)
    first = mine.order_by().values("content_type_id", "object_id").annotate(first=Min("id")).values("first")
    return WorkItem.objects.filter(id__in=first)


def inbox_page_rows(user, *, offset: int, limit: int, **filters):
    """One page of the inbox (every kind of work), oldest first, plus counts per kind.

    Two queries whatever the number of items or chains: one GROUP BY for the counts and one for
    the page (the student, class and college joined)."""
    items = inbox_items(user, **filters)
    counts = {row["kind"]: row["n"] for row in items.order_by().values("kind").annotate(n=Count("id"))}
    total = sum(counts.values())
    if offset >= total or limit <= 0:  # nothing, past the end, or counts only: no query
        return [], counts, total
    page = items.select_related("student", "student__klass", "student__college").order_by("opened_at", "id")[
        offset : offset + limit
    ]
    from .workitems import subject_url

    # one reverse() per kind on the page, not per row: the subject's id is the URL's last part
    patterns: dict[str, tuple[str, str]] = {}
    rows = []
    for item in page:
        if item.kind not in patterns:
            marker = 987654321
            patterns[item.kind] = tuple(subject_url(item.kind, marker).split(str(marker), 1))
        head, tail = patterns[item.kind]
        rows.append(InboxRow(item, url=f"{head}{item.object_id}{tail}"))
    return rows, counts, total


def inbox_kinds(counts: dict) -> list:
    """(code, name, count) of the kinds in ``counts``, in the registry's order."""
    from .workitems import kind_choices

    return [(code, name, counts[code]) for code, name in kind_choices() if code in counts]


def inbox_subjects(rows) -> dict:
    """The request objects behind the page's request rows: {(kind, pk): request}, one query per
    chain on the page (the API serializes the full request)."""
    by_chain: dict[str, list[int]] = {}
    for r in rows:
        if r.is_request:
            by_chain.setdefault(r.kind, []).append(r.pk)
    found = {}
    for code, pks in by_chain.items():
        chain = get_chain(code)
        for obj in chain.model.objects.filter(pk__in=pks).select_related(
            "student", "student__klass", "student__college", "applicant"
        ):
            found[(code, obj.pk)] = obj
    return found


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

    from registrar.scopes import directory

    roles = request.pending_roles() if request.stage else []
    if not roles:
        return []
    user_ids = directory().role_holders(roles=roles, student=request.student)
    return list(get_user_model().objects.filter(pk__in=user_ids, is_active=True))
