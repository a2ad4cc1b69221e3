"""Chains as data: the stages of each workflow, who signs each stage, what it issues.

A concrete request model declares ``chain = Chain(...)`` and
``state = chain.state_field()``; ``ApprovalRequest.__init_subclass__`` then installs
the django-fsm-2 transitions for exactly those stages, so every chain is an
explicit state machine (drawable, inspectable) built by one kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .deadlines import CalendarDate, Days, Deadline, Relative, Window  # noqa: F401 (chains declare them from here)

if TYPE_CHECKING:
    from registrar.approvals.models import ApprovalRequest

DRAFT = "draft"
RETURNED = "returned"
WITHDRAWN = "withdrawn"
COMPLETED = "completed"

FIXED_STATE_LABELS = {
    DRAFT: _("Draft"),
    RETURNED: _("Returned to applicant"),
    WITHDRAWN: _("Withdrawn"),
    COMPLETED: _("Completed"),
}


@dataclass(frozen=True)
class Branch:
    """Where a stage leads when its condition holds (checked in order when the stage is passed).

    ``when`` is ``"field==value"`` or ``"field!=value"`` over the request (a dotted attribute path,
    e.g. ``"student.status==suspended"``; booleans compare as ``true``/``false``), or the dotted
    import path of ``f(request) -> bool``. ``to`` is a stage code of the chain or ``completed``.
    ``label`` says the condition in the reader's words (diagram, /workflows/)."""

    when: str
    to: str
    label: str | Promise = ""

    def holds(self, request) -> bool:
        for op in ("!=", "=="):
            if op in self.when:
                path, expected = (part.strip() for part in self.when.split(op, 1))
                value: Any = request
                for name in path.split("."):
                    value = getattr(value, name, None)
                if isinstance(value, bool):
                    value = "true" if value else "false"
                    expected = expected.lower()
                equal = str(getattr(value, "value", value)) == expected
                return equal if op == "==" else not equal
        return bool(import_string(self.when)(request))


@dataclass(frozen=True)
class Stage:
    """One stage of a chain: an FSM state that advances when every signer role has approved.

    ``signers`` are role codes (registrar.roles.Role); several signers sign in any order
    (parallel items, e.g. leaving clearance). ``form`` is a dotted path to a Django form
    whose cleaned data the approving signer must supply (fee paid, card number …).
    ``issues`` are document types issued when the stage is passed. ``due`` is the stage's deadline
    (``Days``, ``CalendarDate`` or ``Relative``; ``deadline_days=n`` is short for ``due=Days(n)``);
    ``window`` a calendar range outside which the stage's signers may not approve.
    """

    code: str
    label: str | Promise
    signers: tuple[str, ...]
    deadline_days: int | None = None
    form: str | None = None
    issues: tuple[str, ...] = ()
    help_text: str | Promise = ""
    #: (role, dotted form path) pairs: a signer role that records its own data (e.g. finance in a clearance)
    role_forms: tuple[tuple[str, str], ...] = ()
    #: dotted path of ``f(*, request, actor)`` run (in the same transaction) when the stage is passed
    on_pass: str | None = None
    #: the unit whose seal the paper form takes at this stage (the seed's 盖章): "college" (the
    #: student's college) or "academic_affairs"; the approval form prints a seal blank there
    seal: str = ""
    due: Deadline | None = None
    window: Window | None = None
    #: where the stage may lead instead of ``default`` once every signer has signed (first that holds)
    branches: tuple[Branch, ...] = ()
    #: the stage that follows when no branch holds (a stage code or ``completed``); None: the next in order
    default: str | None = None

    def __post_init__(self):
        if self.due is None and self.deadline_days:
            object.__setattr__(self, "due", Days(self.deadline_days))
        elif isinstance(self.due, Days) and self.deadline_days is None:
            object.__setattr__(self, "deadline_days", self.due.days)

    def form_class(self, role: str | None = None):
        """The form the approving signer fills in: the role's own, else the stage's, else None."""
        path = dict(self.role_forms).get(role) if role else None
        path = path or self.form
        return import_string(path) if path else None

    def form_classes(self) -> list:
        paths = [p for p in (self.form, *dict(self.role_forms).values()) if p]
        return [import_string(p) for p in dict.fromkeys(paths)]

    @property
    def deadline(self) -> timedelta | None:
        """The deadline as a number of days after entry (``None`` for calendar and relative deadlines)."""
        return timedelta(days=self.due.days) if isinstance(self.due, Days) and self.due.days else None


@dataclass(frozen=True)
class AttachmentRule:
    kind: str
    label: str | Promise
    required: bool = False
    images_only: bool = False
    max_bytes: int | None = None
    #: (field, value) pairs: the file is required when the request's field has that value
    required_if: tuple[tuple[str, str], ...] = ()

    def is_required_for(self, request) -> bool:
        if self.required:
            return True
        return any(str(getattr(request, f, "")) == str(v) for f, v in self.required_if)


@dataclass(frozen=True)
class Chain:
    """A workflow. ``code`` is the stored, readable slug (``suspension``) used in URLs and rows;
    ``seed_code`` is the workflow's code in the seed documents (U1, C4 …), shown beside the name."""

    code: str
    name: str | Promise
    stages: tuple[Stage, ...]
    seed_code: str = ""
    initiator_roles: tuple[str, ...] = ("student",)
    attachments: tuple[AttachmentRule, ...] = ()
    on_complete: str | None = None
    documents: tuple[str, ...] = ()
    description: str | Promise = ""
    #: chains sharing a group allow one open request per student across the whole group
    exclusive_group: str | None = None
    #: request fields that narrow "one open request per student" (e.g. ("offering",): one per course)
    open_per: tuple[str, ...] = ()
    #: student statuses from which a request may be opened and submitted (empty: any)
    allowed_statuses: tuple[str, ...] = ()
    #: dotted path of ``f(*, request)`` raising ApplicationError when the request may not be submitted
    validate: str | None = None
    #: requests of this chain are opened by a service of their own (U5B: one per student of a route (1)
    #: batch), not by the application form or the API's create, which refuse them with this message
    opened_elsewhere: str | Promise = ""
    #: calendar ranges within which a request may be submitted (any one of them; empty: any day)
    windows: tuple[Window, ...] = ()
    model: type[ApprovalRequest] | None = field(default=None, compare=False, repr=False)

    # --- structure -----------------------------------------------------------------
    @property
    def stage_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.stages)

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def __post_init__(self):
        targets = {*self.stage_codes, COMPLETED}
        for s in self.stages:
            for to in [b.to for b in s.branches] + ([s.default] if s.default else []):
                if to not in targets:
                    raise ValueError(f"chain {self.code}: stage {s.code} leads to unknown stage {to!r}")

    def next_stage_code(self, code: str) -> str:
        """Where stage ``code`` leads when no branch holds: its ``default``, else the next in order."""
        stage = self.stage(code)
        if stage is not None and stage.default:
            return stage.default
        codes = self.stage_codes
        i = codes.index(code)
        return codes[i + 1] if i + 1 < len(codes) else COMPLETED

    def advance_targets(self, code: str) -> list[str]:
        """Every state stage ``code`` may lead to once signed: its branches' targets and its default."""
        stage = self.stage(code)
        branches = [b.to for b in stage.branches] if stage else []
        return list(dict.fromkeys([*branches, self.next_stage_code(code)]))

    def target_after(self, request) -> str:
        """Where ``request``, at a stage every signer has signed, goes now: the first branch that holds."""
        stage = self.stage(request.state)
        for branch in stage.branches if stage else ():
            if branch.holds(request):
                return branch.to
        return self.next_stage_code(request.state)

    def returnable(self) -> list[str]:
        """Stages a request may be returned (rejected) from: none after a stage with an effect on the
        student's record (``on_pass``), since resubmitting could not undo it."""
        effect = next((i for i, s in enumerate(self.stages) if s.on_pass), None)
        codes = list(self.stage_codes)
        return codes if effect is None else codes[: effect + 1]

    def send_back_targets(self, code: str) -> list[str]:
        """The earlier stages a request at ``code`` may be sent back to (none from outside returnable)."""
        returnable = self.returnable()
        if code not in returnable:
            return []
        return returnable[: returnable.index(code)]

    def previous_stage_code(self, code: str) -> str | None:
        codes = self.stage_codes
        i = codes.index(code)
        return codes[i - 1] if i > 0 else None

    def states(self) -> list[tuple[str, Any]]:
        return (
            [(DRAFT, FIXED_STATE_LABELS[DRAFT])]
            + [(s.code, s.label) for s in self.stages]
            + [(k, FIXED_STATE_LABELS[k]) for k in (RETURNED, WITHDRAWN, COMPLETED)]
        )

    def state_label(self, code: str):
        return dict(self.states()).get(code, code)

    def state_field(self):
        from django_fsm import FSMField

        return FSMField(_("state"), default=DRAFT, choices=self.states(), protected=True, db_index=True, max_length=40)

    def participant_roles(self) -> set[str]:
        roles = set(self.initiator_roles)
        for s in self.stages:
            roles.update(self.signers(s.code))  # effective signers: a StageConfig override counts
        return roles

    def stage_data_fields(self) -> set[str]:
        """Model fields filled in by signers through stage forms (not by the applicant)."""
        names: set[str] = set()
        for s in self.stages:
            for form_class in s.form_classes():
                names.update(form_class.base_fields)
        return names

    def applicant_fields(self) -> list[str]:
        """The request model's fields the applicant fills in (kernel and stage-data fields excluded)."""
        kernel = {
            "id",
            "student",
            "applicant",
            "round",
            "submitted_at",
            "completed_at",
            "stage_entered_at",
            "stage_due_at",
            "return_reason",
            "reminded_at",
            "state",
            "created_at",
            "updated_at",
        }
        skip = kernel | self.stage_data_fields()
        return [f.name for f in self.model._meta.concrete_fields if f.editable and f.name not in skip]

    def attachment_rule(self, kind: str) -> AttachmentRule | None:
        return next((a for a in self.attachments if a.kind == kind), None)

    # --- effective configuration (StageConfig overrides the seed defaults) --------
    def signers(self, stage_code: str) -> tuple[str, ...]:
        from registrar.approvals.config import stage_override

        override = stage_override(self.code, stage_code)
        if override and override.get("signers"):
            return tuple(override["signers"])
        stage = self.stage(stage_code)
        return stage.signers if stage else ()

    def deadline_spec(self, stage_code: str) -> Deadline | None:
        """The stage's effective deadline: StageConfig's days when set (0: none), else the chain's."""
        from registrar.approvals.config import stage_override

        override = stage_override(self.code, stage_code)
        if override and override.get("deadline_days") is not None:
            return Days(override["deadline_days"]) if override["deadline_days"] else None
        stage = self.stage(stage_code)
        return stage.due if stage else None

    def deadline(self, stage_code: str) -> timedelta | None:
        """The effective deadline in days after entry (``None`` for calendar and relative deadlines)."""
        spec = self.deadline_spec(stage_code)
        return timedelta(days=spec.days) if isinstance(spec, Days) and spec.days else None

    def due_at(self, stage_code: str, *, request, start):
        """When ``request``, entering ``stage_code`` at ``start``, is due there (``None``: no deadline)."""
        spec = self.deadline_spec(stage_code) if stage_code in self.stage_codes else None
        return spec.resolve(request=request, start=start) if spec else None

    def describe(self) -> dict:
        """A JSON-able description (manage.py workflows, /api/workflows/)."""
        from django.utils.encoding import force_str

        from registrar.roles import Role

        stages = []
        for s in self.stages:
            deadline = self.deadline(s.code)
            spec = self.deadline_spec(s.code)
            stages.append(
                {
                    "code": s.code,
                    "label": force_str(s.label),
                    "signers": [{"role": r, "label": force_str(Role(r).label)} for r in self.signers(s.code)],
                    "all_must_sign": len(self.signers(s.code)) > 1,
                    "deadline_days": deadline.days if deadline else None,
                    "deadline": spec.describe(self.model) if spec else None,
                    "window": s.window.describe() if s.window else None,
                    "issues": list(s.issues),
                    "requires_data": bool(s.form),
                    "next": self.next_stage_code(s.code),
                    "branches": [
                        {"when": b.when, "label": force_str(b.label or b.when), "to": b.to} for b in s.branches
                    ],
                }
            )
        transitions = []
        if self.model is not None:
            for t in self.model._meta.get_field("state").get_all_transitions(self.model):
                target = t.target
                targets = list(getattr(target, "allowed_states", None) or [target])
                transitions.append(
                    {
                        "name": t.name,
                        "label": force_str(t.custom.get("label", t.name)),
                        "source": t.source,
                        "targets": targets,
                    }
                )
        return {
            "code": self.code,
            "seed_code": self.seed_code,
            "name": force_str(self.name),
            "model": self.model._meta.label if self.model else None,
            "initiator_roles": list(self.initiator_roles),
            "states": [{"code": c, "label": force_str(label)} for c, label in self.states()],
            "windows": [w.describe() for w in self.windows],
            "stages": stages,
            "transitions": transitions,
            "documents": list(self.documents) + [d for s in self.stages for d in s.issues if d not in self.documents],
            "attachments": [
                {"kind": a.kind, "label": force_str(a.label), "required": a.required} for a in self.attachments
            ],
        }


_REGISTRY: dict[str, Chain] = {}


def register(chain: Chain) -> None:
    _REGISTRY[chain.code] = chain


def _seed_order(chain: Chain) -> tuple:
    """By seed code: the university's U chains before the college's C chains, shorter codes first
    (U6 before U5C, C9 before C10)."""
    seed = chain.seed_code or chain.code
    return (seed[0] != "U", len(seed), seed, chain.code)


def all_chains() -> list[Chain]:
    return sorted(_REGISTRY.values(), key=_seed_order)


def chain_for_seed_code(seed_code: str) -> Chain | None:
    """The chain a seed code (U1, C4 …) names, for old links; None when none does."""
    return next((c for c in _REGISTRY.values() if c.seed_code and c.seed_code == seed_code), None)


def get_chain(code: str) -> Chain:
    try:
        return _REGISTRY[code]
    except KeyError:
        from django.http import Http404

        raise Http404(f"no chain {code}") from None
