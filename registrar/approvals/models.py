"""The approval kernel: an abstract request driven by its chain, plus the append-only
sign-off log, attachments and stage configuration shared by every chain."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import GET_STATE, ConcurrentTransitionMixin, FSMModelMixin, transition

from registrar.common import AppendOnlyModel, AppendOnlyQuerySet, TimeStampedModel
from registrar.roles import Role

from .chains import COMPLETED, DRAFT, RETURNED, WITHDRAWN, Chain
from .deadlines import Period, academic_year_label, academic_year_of, key_label

SIGNOFF_APPEND_ONLY = _("Sign-offs are append-only: they can be neither changed nor deleted.")


class ApprovalRequest(ConcurrentTransitionMixin, FSMModelMixin, TimeStampedModel):
    """A request over one student that moves through its chain's stages.

    States: ``draft`` → each stage of ``chain`` in order (or where a stage's branches lead) →
    ``completed``; any stage may ``reject`` to ``returned`` (the applicant amends and resubmits,
    or withdraws) or ``send_back`` to a named earlier stage; ``withdrawn`` ends it. Subclasses declare
    ``chain`` and ``state = chain.state_field()``; the transitions are installed here.
    """

    chain: Chain  # set by subclasses

    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="+", verbose_name=_("student")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("applicant")
    )
    round = models.PositiveSmallIntegerField(_("submission round"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("stage entered at"), null=True, blank=True)
    stage_due_at = models.DateTimeField(_("stage due at"), null=True, blank=True, db_index=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    reminded_at = models.DateTimeField(_("last overdue reminder"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        chain = cls.__dict__.get("chain")
        if chain is not None:
            _install_transitions(cls, chain)

    def __str__(self):
        return f"{self.chain.name} #{self.pk} · {self.student.name}"

    def clean_fields(self, exclude=None):
        # The protected FSM field is never assigned from outside a transition.
        super().clean_fields(exclude={*(exclude or ()), "state"})

    # --- derived state ------------------------------------------------------------------
    @property
    def stage(self):
        return self.chain.stage(self.state)

    @property
    def is_open(self) -> bool:
        return self.state not in (COMPLETED, WITHDRAWN)

    @property
    def is_in_progress(self) -> bool:
        return self.stage is not None

    @property
    def is_overdue(self) -> bool:
        return bool(self.stage_due_at and self.is_in_progress and self.stage_due_at < timezone.now())

    def get_state_label(self):
        return self.chain.state_label(self.state)

    def signoffs(self):
        return SignOff.objects.for_object(self)

    def signed_roles(self) -> set[str]:
        """Roles that approved the current stage in the current round."""
        return set(
            SignOff.objects.for_object(self)
            .filter(stage=self.state, round=self.round, decision=SignOff.Decision.APPROVE)
            .standing()
            .values_list("role", flat=True)
        )

    def pending_roles(self) -> list[str]:
        signed = self.signed_roles()
        return [r for r in self.chain.signers(self.state) if r not in signed]

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("approvals:detail", args=[self.chain.code, self.pk])

    # --- hooks for concrete chains (in-memory only) -----------------------------------
    def apply_stage_data(self, stage_code: str, data: dict) -> None:
        """Copy a stage form's cleaned data onto model fields of the same name."""
        for key, value in (data or {}).items():
            if hasattr(self, key) and not key.startswith("_"):
                setattr(self, key, value)

    def _enter_stage(self, code: str) -> None:
        now = timezone.now()
        self.stage_entered_at = now
        # Days, a calendar date or an event of the request, resolved once, on entry (a calendar date
        # missing for the year raises ApplicationError naming it, and the transition is not made)
        self.stage_due_at = self.chain.due_at(code, request=self, start=now)
        if code == COMPLETED:
            self.completed_at = now


def _install_transitions(cls, chain: Chain) -> None:
    """Give ``cls`` the django-fsm-2 transitions of ``chain`` (new function objects per class).

    ``approve`` records one signer's sign-off and stays at the stage; ``advance`` leaves it, and its
    condition (``all_signed``) makes the FSM refuse while a signer is missing. Its target is chosen
    at run time among the stage's declared branches and default (``GET_STATE``), one transition per
    stage, so the graph lists every branch. ``send_back`` goes to a named earlier stage (one
    transition per stage, over the earlier returnable stages). The service runs ``advance`` right
    after the approval that completes a stage, in the same transaction; nobody calls it directly.
    """
    from . import permissions as perms

    stages = list(chain.stage_codes)
    first = stages[0]
    # Once a stage with an effect on the student's record (``on_pass``) is passed, the request can
    # no longer be returned or sent back: the effect is on record and resubmitting could not undo it.
    returnable = chain.returnable()

    def all_signed(instance) -> bool:
        """Every signer role of the current stage has signed (counting an approval in progress)."""
        required = set(chain.signers(instance.state))
        signing = getattr(instance, "_signing_roles", set())
        return bool(required) and required <= (instance.signed_roles() | signing)

    def _advance_target(instance, **kwargs):
        return chain.target_after(instance)

    def _send_back_target(instance, *, reason, to=None, actor=None):
        return to or chain.send_back_targets(instance.state)[-1]

    def submit(self, *, actor=None):
        self.round += 1
        self.submitted_at = timezone.now()
        self.return_reason = ""
        self._enter_stage(first)

    def approve(self, *, role, data=None, actor=None):
        self.apply_stage_data(self.state, data or {})
        self._signing_roles = {*getattr(self, "_signing_roles", set()), role}

    def advance(self, *, actor=None):
        self._enter_stage(_advance_target(self))
        self._signing_roles = set()

    def reject(self, *, reason, actor=None):
        self.return_reason = reason
        self.stage_entered_at = timezone.now()
        self.stage_due_at = None

    def send_back(self, *, reason, to=None, actor=None):
        self._enter_stage(_send_back_target(self, reason=reason, to=to))

    def withdraw(self, *, actor=None):
        self.stage_due_at = None

    fsm_state = "state"
    transitions = {
        "submit": transition(
            field=fsm_state,
            source=[DRAFT, RETURNED],
            target=first,
            permission=perms.may_submit,
            custom={"label": _("Submit"), "decision": "submit"},
        )(submit),
        "approve": transition(
            field=fsm_state,
            source=stages,
            target=None,  # stays: ``advance`` leaves the stage once every signer has signed
            permission=perms.may_sign,
            custom={"label": _("Approve"), "decision": "approve"},
        )(approve),
        "reject": transition(
            field=fsm_state,
            source=returnable,
            target=RETURNED,
            permission=perms.may_sign,
            custom={"label": _("Reject and return to applicant"), "decision": "reject"},
        )(reject),
        "withdraw": transition(
            field=fsm_state,
            source=[DRAFT, RETURNED, first],
            target=WITHDRAWN,
            permission=perms.may_withdraw,
            custom={"label": _("Withdraw"), "decision": "withdraw"},
        )(withdraw),
    }
    for code in stages:
        advance = transition(
            field=fsm_state,
            source=code,
            target=GET_STATE(_advance_target, states=chain.advance_targets(code)),
            conditions=[all_signed],
            permission=perms.kernel_only,
            custom={"label": _("Advance when every signer has signed"), "decision": "approve", "internal": True},
        )(advance)
    transitions["advance"] = advance
    if len(returnable) > 1:
        for code in returnable[1:]:
            send_back = transition(
                field=fsm_state,
                source=code,
                target=GET_STATE(_send_back_target, states=chain.send_back_targets(code)),
                permission=perms.may_sign,
                custom={"label": _("Send back to an earlier stage"), "decision": "return"},
            )(send_back)
        transitions["send_back"] = send_back
    for name, method in transitions.items():
        method.__name__ = name
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    object.__setattr__(chain, "model", cls)  # frozen dataclass; the model is wired once


class SignOffQuerySet(AppendOnlyQuerySet):
    def for_object(self, obj):
        ct = ContentType.objects.get_for_model(obj.__class__)
        return self.filter(content_type=ct, object_id=obj.pk).select_related("actor")

    def standing(self):
        """Sign-offs not voided by a later re-entry into their stage (send_back, resubmit):
        a stage entered again must be signed again."""
        reentry = SignOff.objects.filter(
            content_type=models.OuterRef("content_type"),
            object_id=models.OuterRef("object_id"),
            target_state=models.OuterRef("stage"),
            id__gt=models.OuterRef("id"),
        ).exclude(source_state=models.OuterRef("stage"))
        return self.filter(~models.Exists(reentry))


class SignOff(AppendOnlyModel):
    """One action on a request: who, in which role, decision, opinion, from → to, when.

    Append-only: ``save`` refuses an existing row, ``delete`` raises, and the database's
    triggers refuse UPDATE, DELETE and TRUNCATE (registrar.append_only, migration 0006)."""

    class Decision(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        RETURN = "return", _("Sent back")
        WITHDRAW = "withdraw", _("Withdrawn")
        NOTE = "note", _("Recorded")
        REASSIGN = "reassign", _("Reassigned")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    request = GenericForeignKey("content_type", "object_id")
    chain = models.CharField(_("chain"), max_length=40)
    stage = models.CharField(_("stage"), max_length=40)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    actor_label = models.CharField(_("signer's name"), max_length=64)
    #: the signer the actor signed for, by delegation (null: in their own right)
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    on_behalf_of_label = models.CharField(_("principal's name"), max_length=64, blank=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    opinion = models.TextField(_("opinion"), blank=True)
    source_state = models.CharField(_("from"), max_length=40)
    target_state = models.CharField(_("to"), max_length=40)
    data = models.JSONField(_("recorded data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    append_only_message = SIGNOFF_APPEND_ONLY
    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        indexes = [
            models.Index(fields=["content_type", "object_id", "round", "stage"]),
            # standing(): "a later sign-off re-entered this stage" (id > …); without it SQLite
            # scans every sign-off of the chain per row and the inbox grows quadratically
            models.Index(fields=["content_type", "object_id", "target_state", "id"], name="signoff_reentry_idx"),
        ]

    def __str__(self):
        return f"{self.chain}#{self.object_id} {self.stage} {self.role} {self.decision}"

    def stage_label(self):
        from .chains import get_chain

        try:
            return get_chain(self.chain).state_label(self.stage)
        except Exception:  # noqa: BLE001 - unknown chain code in old data
            return self.stage


DELEGATION_DATES = _("The period ends before it starts.")
DELEGATION_SELF = _("You cannot name yourself as your substitute.")


class DelegationQuerySet(models.QuerySet):
    def active(self, on=None):
        """Delegations in force on ``on`` (default: today): within their period and not revoked."""
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, starts_on__lte=on, ends_on__gte=on)


class Delegation(models.Model):
    """A signer (``principal``) names a ``substitute`` who signs on their behalf from ``starts_on``
    to ``ends_on`` inclusive. The substitute holds the principal's own roles in their scopes
    (never roles the principal holds by delegation: no chains). Both are recorded on every
    sign-off the substitute gives (``SignOff.on_behalf_of``).

    States: scheduled (before ``starts_on``) → active → ended (after ``ends_on``); revoked
    (``revoked_at`` set) at any time. Written only by the services; periods may overlap."""

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("principal")
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("substitute")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("named by")
    )
    created_at = models.DateTimeField(_("named at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(condition=models.Q(starts_on__lte=models.F("ends_on")), name="delegation_period"),
            models.CheckConstraint(
                condition=~models.Q(principal=models.F("substitute")), name="delegation_not_to_self"
            ),
        ]
        indexes = [models.Index(fields=["substitute", "ends_on"], name="delegation_substitute_idx")]

    def __str__(self):
        return f"{self.principal} → {self.substitute} ({self.starts_on}–{self.ends_on})"

    def clean(self):
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            raise ValidationError({"ends_on": DELEGATION_DATES})
        if self.principal_id and self.principal_id == self.substitute_id:
            raise ValidationError({"substitute": DELEGATION_SELF})

    def status(self, on=None) -> str:
        on = on or timezone.localdate()
        if self.revoked_at:
            return "revoked"
        if on < self.starts_on:
            return "scheduled"
        return "active" if on <= self.ends_on else "ended"

    def get_status_display(self):
        return {
            "revoked": _("Revoked"),
            "scheduled": _("Scheduled"),
            "active": _("In force"),
            "ended": _("Ended"),
        }[self.status()]


class Attachment(models.Model):
    """A file attached to a request (photo, certificate, scan), type- and size-checked."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    request = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=32)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    mime_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.kind}: {self.original_name}"


class CalendarEntry(models.Model):
    """One dated entry of the academic calendar: a key (``deadlines.CALENDAR_KEYS``) in an academic
    year, edited by Academic Affairs. Calendar deadlines and submission windows read it."""

    key = models.CharField(_("key"), max_length=48, db_index=True)
    academic_year = models.PositiveSmallIntegerField(
        _("academic year"), help_text=_("The calendar year the academic year starts in: 2026 for 2026–2027.")
    )
    period = models.CharField(_("term or season"), max_length=16, choices=Period.choices, default=Period.YEAR)
    date = models.DateField(_("date"), db_index=True)
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        ordering = ["date", "key"]
        verbose_name = _("academic calendar entry")
        verbose_name_plural = _("academic calendar")
        constraints = [
            models.UniqueConstraint(fields=["key", "academic_year"], name="calendarentry_key_year_unique"),
            models.CheckConstraint(
                condition=models.Q(academic_year__gte=2000, academic_year__lte=2100), name="calendarentry_year_range"
            ),
        ]

    def __str__(self):
        return f"{self.academic_year_label} {self.display_label}: {self.date:%Y-%m-%d}"

    @property
    def academic_year_label(self) -> str:
        return academic_year_label(self.academic_year)

    @property
    def display_label(self) -> str:
        return self.label or key_label(self.key)

    def clean(self):
        if self.date and self.academic_year and academic_year_of(self.date) != self.academic_year:
            raise ValidationError(
                {
                    "date": _("%(date)s is not in the academic year %(year)s (1 September – 31 August).")
                    % {"date": f"{self.date:%Y-%m-%d}", "year": academic_year_label(self.academic_year)}
                }
            )


class StageConfig(models.Model):
    """Overrides a chain stage's signer roles or deadline (defaults come from the seed)."""

    chain = models.CharField(_("chain"), max_length=40)
    stage = models.CharField(_("stage"), max_length=40)
    signers = models.JSONField(
        _("signer roles"),
        default=list,
        blank=True,
        help_text=_("Role codes that must all sign; empty keeps the default."),
    )
    deadline_days = models.PositiveSmallIntegerField(_("deadline (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage configuration")
        verbose_name_plural = _("stage configuration")
        constraints = [models.UniqueConstraint(fields=["chain", "stage"], name="stageconfig_unique")]

    def __str__(self):
        return f"{self.chain}.{self.stage}"

    def clean(self):
        from .chains import get_chain

        try:
            chain = get_chain(self.chain)
        except Exception:  # noqa: BLE001
            raise ValidationError({"chain": _("Unknown chain.")}) from None
        if self.stage not in chain.stage_codes:
            raise ValidationError({"stage": _("This chain has no such stage.")})
        unknown = [r for r in self.signers or [] if r not in Role.values]
        if unknown:
            raise ValidationError({"signers": _("Unknown roles: %(roles)s") % {"roles": ", ".join(unknown)}})


class WorkItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(closed_at__isnull=True)

    def for_subject(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj.__class__), object_id=obj.pk)


class WorkItem(models.Model):
    """One open piece of work: a subject (request, grade sheet, station submission …) waiting at a
    stage for a role within a scope, or for a named ``assignee``.

    The in-flight table behind the inbox: one row per (subject, pending role). Open while
    ``closed_at`` is null; closing keeps the row (when the work was done). Written only by the
    kernel (``registrar.approvals.workitems``); a row carries what the inbox shows, so the inbox
    renders from these rows alone (plus the student, joined)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    student = models.ForeignKey(
        "students.Student",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("student"),
    )
    #: the chain's code for requests, else the kind of work (``grade_sheet``, ``station_submission``)
    kind = models.CharField(_("kind"), max_length=32)
    stage = models.CharField(_("stage"), max_length=40)
    #: who may act: ``role`` held in a scope covering the subject's college / class / station
    role = models.CharField(_("role"), max_length=32, blank=True)
    college_id = models.PositiveBigIntegerField(_("college"), null=True, blank=True)
    klass_id = models.PositiveBigIntegerField(_("class"), null=True, blank=True)
    station_id = models.PositiveBigIntegerField(_("station"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    # --- what the inbox shows ------------------------------------------------------------
    #: the subject's own name where it is not a request (a course offering's, a station's); requests
    #: take their chain's name, translated when shown
    title = models.CharField(_("title"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    #: whether the inbox may approve it without a form (a stage that needs data is opened instead)
    quick = models.BooleanField(_("one-click approval"), default=False)
    opened_at = models.DateTimeField(_("waiting since"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        indexes = [
            models.Index(
                fields=["role", "college_id", "klass_id", "station_id", "opened_at"],
                name="workitem_open_role_idx",
                condition=models.Q(closed_at__isnull=True),
            ),
            models.Index(
                fields=["assignee", "opened_at"],
                name="workitem_open_assignee_idx",
                condition=models.Q(closed_at__isnull=True),
            ),
            models.Index(fields=["content_type", "object_id"], name="workitem_subject_idx"),
        ]

    def __str__(self):
        return f"{self.kind}#{self.object_id} {self.stage} {self.role or self.assignee_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_overdue(self) -> bool:
        return bool(self.due_at and self.closed_at is None and self.due_at < timezone.now())
