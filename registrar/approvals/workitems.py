"""The in-flight table: the kernel's only writer of ``WorkItem`` rows.

Every open piece of work (a request waiting at a stage, a grade sheet waiting for confirmation, a
station submission waiting for its review) has one open row per role that may act on it. The
request kernel (``services.request_act``) keeps its requests' rows in step; other kinds of work
(registered with ``register_kind``) call ``workitems_set``/``workitems_close`` from their own
services. The inbox is one query over these rows (``selectors.inbox_page_rows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from .chains import all_chains, get_chain
from .models import ApprovalRequest, WorkItem


# --- kinds of work besides requests ------------------------------------------------------------
@dataclass(frozen=True)
class WorkKind:
    """A kind of work that is not a chain's request: its name, its stages' labels and its page."""

    code: str
    name: str | Promise
    url_name: str  # reversed with the subject's id
    stage_labels: dict = field(default_factory=dict, compare=False)


_KINDS: dict[str, WorkKind] = {}


def register_kind(kind: WorkKind) -> WorkKind:
    _KINDS[kind.code] = kind
    return kind


def work_kind(code: str) -> WorkKind | None:
    return _KINDS.get(code)


def kind_choices() -> list[tuple[str, object]]:
    """(code, name) of every kind of work the inbox can filter on: the chains, then the others."""
    return [(c.code, c.name) for c in all_chains()] + [(k.code, k.name) for k in _KINDS.values()]


def kind_name(code: str):
    kind = _KINDS.get(code)
    if kind is not None:
        return kind.name
    return get_chain(code).name


def subject_url(code: str, object_id: int) -> str:
    kind = _KINDS.get(code)
    if kind is not None:
        return reverse(kind.url_name, args=[object_id])
    return reverse("approvals:detail", args=[code, object_id])


def stage_label(code: str, stage: str):
    kind = _KINDS.get(code)
    if kind is not None:
        return kind.stage_labels.get(stage, stage)
    return get_chain(code).state_label(stage)


# --- writes -----------------------------------------------------------------------------------
def _content_type(obj) -> ContentType:
    return ContentType.objects.get_for_model(obj.__class__)


@transaction.atomic
def workitems_set(
    *,
    subject,
    kind: str,
    stage: str,
    roles: Iterable[str],
    student=None,
    college_id: int | None = None,
    klass_id: int | None = None,
    station_id: int | None = None,
    title: str = "",
    detail: str = "",
    due_at: dt.datetime | None = None,
    opened_at: dt.datetime | None = None,
    quick: bool | dict = False,
    now: dt.datetime | None = None,
) -> list[WorkItem]:
    """Make the subject's open work exactly one row per role in ``roles`` at ``stage``.

    A row already open for the same (stage, role) stays open (it keeps its ``opened_at`` and its
    assignee) and takes the new due date; the subject's other open rows are closed; missing rows
    are opened. ``quick``: whether the inbox may approve without a form, for all roles or per role."""
    now = now or timezone.now()
    ct = _content_type(subject)
    roles = list(dict.fromkeys(roles))
    existing = list(WorkItem.objects.select_for_update().filter(content_type=ct, object_id=subject.pk).open())
    keep = {(w.stage, w.role): w for w in existing if w.stage == stage and w.role in roles}
    stale = [w.pk for w in existing if (w.stage, w.role) not in keep or keep[(w.stage, w.role)] is not w]
    if stale:
        WorkItem.objects.filter(pk__in=stale).update(closed_at=now)
    scope = {"college_id": college_id, "klass_id": klass_id, "station_id": station_id}
    student_id = getattr(student, "pk", student)
    result = []
    for role in roles:
        is_quick = quick.get(role, False) if isinstance(quick, dict) else bool(quick)
        item = keep.get((stage, role))
        if item is not None:
            changed = {
                "due_at": due_at,
                "quick": is_quick,
                "title": title[:200],
                "detail": detail[:200],
                "student_id": student_id,
                **scope,
            }
            if any(getattr(item, k) != v for k, v in changed.items()):
                for k, v in changed.items():
                    setattr(item, k, v)
                item.save(update_fields=list(changed))
            result.append(item)
            continue
        result.append(
            WorkItem.objects.create(
                content_type=ct,
                object_id=subject.pk,
                student_id=student_id,
                kind=kind,
                stage=stage,
                role=role,
                title=title[:200],
                detail=detail[:200],
                quick=is_quick,
                opened_at=opened_at or now,
                due_at=due_at,
                **scope,
            )
        )
    return result


def workitems_close(*, subject, now: dt.datetime | None = None) -> int:
    """Close every open row of ``subject`` (its work is done, withdrawn or returned to its author)."""
    return (
        WorkItem.objects.filter(content_type=_content_type(subject), object_id=subject.pk)
        .open()
        .update(closed_at=now or timezone.now())
    )


def workitem_assign(*, subject, assignee, stage: str | None = None, role: str | None = None) -> int:
    """Name the user who is to act on the subject's open work (Academic Affairs reassigning a stuck
    item to a substitute). ``assignee`` None gives the work back to the role. The inbox shows the
    work to the assignee as well as to the role's holders. Logging the reassignment (who, why) is
    the caller's; returns how many open rows changed."""
    rows = WorkItem.objects.filter(content_type=_content_type(subject), object_id=subject.pk).open()
    if stage:
        rows = rows.filter(stage=stage)
    if role:  # one signer role's work of the stage (a parallel stage has a row per role)
        rows = rows.filter(role=role)
    return rows.update(assignee=assignee)


# --- requests ----------------------------------------------------------------------------------
def _request_quick(request: ApprovalRequest, roles: list[str]) -> dict:
    stage = request.stage
    return {role: stage is not None and stage.form_class(role) is None for role in roles}


def workitems_sync_request(*, request: ApprovalRequest, now: dt.datetime | None = None) -> list[WorkItem]:
    """Bring a request's open work in step with its state: one row per role its stage still awaits
    (none when it is not at a stage). The deadline is the request's own ``stage_due_at``."""
    if request.stage is None:
        workitems_close(subject=request, now=now)
        return []
    roles = request.pending_roles()
    student = request.student
    return workitems_set(
        subject=request,
        kind=request.chain.code,
        stage=request.state,
        roles=roles,
        student=student,
        college_id=student.college_id,
        klass_id=student.klass_id,
        station_id=student.station_id,
        due_at=request.stage_due_at,
        opened_at=request.stage_entered_at,
        quick=_request_quick(request, roles),
        now=now,
    )


# --- rebuilding (backfill, repairs) -----------------------------------------------------------
_REBUILDERS: list = []


def register_rebuilder(func):
    """``func()`` re-registers every open piece of work of one kind (called by ``workitems_rebuild``)."""
    if func not in _REBUILDERS:
        _REBUILDERS.append(func)
    return func


@transaction.atomic
def workitems_sync_chain(*, chain) -> int:
    """Resync every request of ``chain`` at a stage (its signers changed: a StageConfig override)."""
    count = 0
    qs = chain.model.objects.filter(state__in=chain.stage_codes).select_related("student")
    for req in qs.iterator(chunk_size=500):
        count += len(workitems_sync_request(request=req))
    return count


def requests_rebuild() -> int:
    return sum(workitems_sync_chain(chain=chain) for chain in all_chains() if chain.model is not None)


@transaction.atomic
def workitems_rebuild() -> int:
    """Rebuild the open rows of every subject from the subjects' own state (the backfill, and a
    repair after data was written around the services). Returns the number of open rows."""
    WorkItem.objects.open().delete()
    count = requests_rebuild()
    for func in _REBUILDERS:
        count += func() or 0
    return count
