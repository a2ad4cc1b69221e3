"""Django admin for the shared kernel: users, sign-offs, attachments, stage configuration,
documents, notifications — and ``ApprovalRequestAdmin``, the one base every chain's
request admin uses.

The admin is a window, not a back door: sign-offs, attachments, documents and requests
are read-only here (requests move only through ``registrar.approvals.services``);
documents can be revoked through the document pipeline's service.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AdminFileWidget
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import all_chains
from registrar.approvals.models import Attachment, CalendarEntry, Delegation, SignOff, StageConfig
from registrar.documents.models import Document
from registrar.exceptions import ApplicationError
from registrar.files import display_name, file_link
from registrar.models import User
from registrar.notifications.models import Notification
from registrar.roles import Role

REVOKE_REASON_REQUIRED = _("Write the reason for revocation in the box next to the action.")
REVOKE_UNAVAILABLE = _("The document pipeline cannot revoke documents yet.")
REVOKE_NOT_ALLOWED = _("Only Academic Affairs may revoke this document.")


class ReadOnlyAdminMixin:
    """View-only: no add, change or delete, for any user (superusers included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _CurrentFile:
    """The current file as a file widget shows it: its own name, linked to ``url``."""

    def __init__(self, fieldfile, url: str):
        self.name, self.url = display_name(fieldfile), url

    def __str__(self):
        return self.name


class StoredFileWidget(AdminFileWidget):
    """The admin's file input for a stored file: the current file links to ``download_url`` (the
    owning object's permission-checked view, set by the ModelAdmin's ``get_form``), since stored
    files have no public URL."""

    download_url = ""

    def is_initial(self, value):
        return bool(value)

    def format_value(self, value):
        return _CurrentFile(value, self.download_url) if self.is_initial(value) else None


# --- users ---------------------------------------------------------------------------------
@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "email", "roles", "student_link", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "role_assignments__role", "role_assignments__scope")
    search_fields = ("username", "full_name", "first_name", "last_name", "email", "student__student_number")
    inlines = ()  # the students app adds its role assignments (students/admin.py)
    readonly_fields = ("last_login", "date_joined", "student_link")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "first_name", "last_name", "email", "student_link")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )

    actions = ("unlock_login",)

    @admin.action(description=_("Unlock login (forget the failed logins)"), permissions=("change",))
    def unlock_login(self, request, queryset):
        from registrar.lockout import UNLOCKED, login_unlock

        login_unlock(usernames=[u.get_username() for u in queryset])
        self.message_user(request, UNLOCKED % {"count": queryset.count()}, messages.SUCCESS)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # roles are added once the user exists

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student").prefetch_related("role_assignments")

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return "、".join(sorted({force_str(a.get_role_display()) for a in obj.role_assignments.all()})) or "—"

    @admin.display(description=_("student record"))
    def student_link(self, obj):
        student = getattr(obj, "student", None) if obj and obj.pk else None
        if student is None:
            return "—"
        from django.urls import reverse

        return format_html(
            '<a href="{}">{}</a>', reverse("admin:students_student_change", args=[student.pk]), str(student)
        )


# --- the approval kernel --------------------------------------------------------------------
class SignOffInline(GenericTabularInline):
    """The request's sign-off log, read-only, oldest first."""

    model = SignOff
    ct_field = "content_type"
    ct_fk_field = "object_id"
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "round",
        "stage_display",
        "role",
        "actor_label",
        "decision",
        "opinion",
        "source_state",
        "target_state",
        "data",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name_plural = _("sign-offs (append-only)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("stage"))
    def stage_display(self, obj):
        return obj.stage_label()


def attachment_download(obj) -> str:
    """The attachment's file, linked to its request's download view (stored files have no public URL)."""
    request = obj.request
    if request is None:
        return "—"
    return file_link(reverse("approvals:attachment", args=[request.chain.code, obj.object_id, obj.pk]), obj.file)


class AttachmentInline(GenericTabularInline):
    model = Attachment
    ct_field = "content_type"
    ct_fk_field = "object_id"
    extra = 0
    can_delete = False
    fields = ("kind", "file_download", "original_name", "mime_type", "size", "uploaded_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return attachment_download(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("Overdue")), ("no", _("On time")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(stage_due_at__lt=now)
        if self.value() == "no":
            return queryset.exclude(stage_due_at__lt=now)
        return queryset


class ApprovalRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The admin of every request type (one per chain): list, filter by state, read every
    field, the sign-off log and the attachments — and change nothing. Requests move only
    through the kernel's services (the app's act view or the API); "View on site" opens it.

    Subclasses only register: ``@admin.register(MyRequest) class MyRequestAdmin(ApprovalRequestAdmin): pass``;
    ``extra_list_display`` adds chain-specific columns.
    """

    extra_list_display: tuple[str, ...] = ()
    list_filter = ("state", OverdueFilter, "student__college", "student__study_form", "created_at")
    search_fields = ("=id", "student__name", "student__student_number", "applicant__username", "applicant__full_name")
    list_select_related = ("student", "student__college", "student__klass", "applicant")
    date_hierarchy = "created_at"
    inlines = (SignOffInline, AttachmentInline)
    base_fields = (
        "student",
        "applicant",
        "state_display",
        "round",
        "submitted_at",
        "stage_entered_at",
        "stage_due_at",
        "overdue",
        "reminded_at",
        "completed_at",
        "return_reason",
        "created_at",
        "updated_at",
    )

    def get_list_display(self, request):
        return (
            "id",
            "student",
            "student_number",
            "state_display",
            *self.extra_list_display,
            "round",
            "submitted_at",
            "stage_due_at",
            "overdue",
            "updated_at",
        )

    def _own_fields(self) -> list[str]:
        from registrar.approvals.models import ApprovalRequest

        kernel = {f.name for f in ApprovalRequest._meta.get_fields()} | {"id", "state"}
        return [f.name for f in self.model._meta.concrete_fields if f.name not in kernel]

    def get_fieldsets(self, request, obj=None):
        return (
            (None, {"fields": self.base_fields}),
            (force_str(self.model._meta.verbose_name), {"fields": self._own_fields()}),
            (_("Documents"), {"fields": ("documents",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        return (*self.base_fields, *self._own_fields(), "documents")

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj):
        return obj.get_state_label()

    @admin.display(description=_("student number"), ordering="student__student_number")
    def student_number(self, obj):
        return obj.student.student_number

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("documents"))
    def documents(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        docs = Document.objects.filter(chain=obj.chain.code, request_id=obj.pk)
        if not docs:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} {}</a>{}',
            (
                (
                    reverse("admin:registrar_document_change", args=[d.pk]),
                    d.serial,
                    d.title,
                    format_html(" ({})", _("revoked")) if d.is_revoked else "",
                )
                for d in docs
            ),
        )


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Substitutes are named and revoked on the Substitutes page (through the services); here they are listed."""

    list_display = (
        "principal",
        "substitute",
        "starts_on",
        "ends_on",
        "reason",
        "created_at",
        "revoked_at",
        "revoked_by",
    )
    list_filter = ("starts_on", "ends_on", "revoked_at")
    search_fields = ("principal__username", "principal__full_name", "substitute__username", "substitute__full_name")
    list_select_related = ("principal", "substitute", "revoked_by")
    readonly_fields = (
        "principal",
        "substitute",
        "starts_on",
        "ends_on",
        "reason",
        "created_by",
        "created_at",
        "revoked_at",
        "revoked_by",
    )


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "chain",
        "object_id",
        "round",
        "stage",
        "role",
        "actor_label",
        "on_behalf_of_label",
        "decision",
        "source_state",
        "target_state",
    )
    list_filter = ("chain", "decision", "role")
    search_fields = ("=object_id", "actor_label", "actor__username", "opinion")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "content_type",
        "object_id",
        "chain",
        "stage",
        "round",
        "role",
        "actor",
        "actor_label",
        "on_behalf_of",
        "on_behalf_of_label",
        "decision",
        "opinion",
        "source_state",
        "target_state",
        "data",
        "created_at",
    )


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "content_type",
        "object_id",
        "kind",
        "original_name",
        "mime_type",
        "size",
        "uploaded_by",
    )
    list_filter = ("kind", "mime_type", "content_type")
    search_fields = ("=object_id", "original_name", "uploaded_by__username")
    list_select_related = ("uploaded_by", "content_type")
    date_hierarchy = "created_at"
    exclude = ("file",)
    readonly_fields = ("file_download",)

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return attachment_download(obj)


# --- stage configuration ---------------------------------------------------------------------
def _deadline_text(chain, stage) -> list[str]:
    return [stage.due.describe(chain.model)["text"]] if stage.due else []


def _chains_help():
    """Every chain with its stages, default signers and deadlines, as (escaped) HTML lines."""
    lines = []
    for chain in all_chains():
        stages = "; ".join(
            f"{s.code} = {force_str(s.label)} [{', '.join((*s.signers, *_deadline_text(chain, s)))}]"
            for s in chain.stages
        )
        lines.append((chain.seed_code, force_str(chain.name), stages))
    return format_html_join("", "<br><b>{}</b> {}: {}", lines)


class StageConfigForm(forms.ModelForm):
    chain = forms.ChoiceField(label=_("chain"), choices=())
    stage = forms.ChoiceField(label=_("stage"), choices=())
    signers = forms.MultipleChoiceField(
        label=_("signer roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Roles that must all sign this stage; none ticked keeps the chain's default signers."),
    )

    class Meta:
        model = StageConfig
        fields = ("chain", "stage", "signers", "deadline_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chains = all_chains()
        self.fields["chain"].choices = [(c.code, f"{c.seed_code} · {force_str(c.name)}") for c in chains]
        self.fields["stage"].choices = [
            (f"{c.seed_code} · {force_str(c.name)}", [(s.code, f"{s.code} · {force_str(s.label)}") for s in c.stages])
            for c in chains
        ]
        self.fields["stage"].help_text = format_html(
            "{}{}", _("Chains and their stages [default signers, deadline]:"), _chains_help()
        )
        self.fields["deadline_days"].help_text = _(
            "Days a stage may take before it is flagged overdue; empty keeps the default, 0 means no deadline."
        )


# --- the academic calendar ---------------------------------------------------------------------
class CalendarEntryForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("key"), choices=())

    class Meta:
        model = CalendarEntry
        fields = ("academic_year", "key", "period", "date", "label")

    def __init__(self, *args, **kwargs):
        from registrar.approvals.deadlines import CALENDAR_KEYS

        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(k.key, f"{force_str(k.label)} ({k.key})") for k in CALENDAR_KEYS]
        self.fields["label"].help_text = _("Empty shows the key's own name.")


@admin.register(CalendarEntry)
class CalendarEntryAdmin(admin.ModelAdmin):
    """The academic calendar Academic Affairs edits per year: dates of calendar deadlines and windows."""

    form = CalendarEntryForm
    list_display = ("academic_year_label", "date", "display_label", "period", "key")
    list_filter = ("academic_year", "period")
    search_fields = ("key", "label")
    ordering = ("-academic_year", "date")
    actions = ("generate_next_year",)

    @admin.display(description=_("academic year"), ordering="academic_year")
    def academic_year_label(self, obj):
        return obj.academic_year_label

    @admin.display(description=_("label"))
    def display_label(self, obj):
        return obj.display_label

    @admin.action(description=_("Generate the following academic year from the seeds' dates"))
    def generate_next_year(self, request, queryset):
        from registrar.approvals.services import academic_calendar_generate

        years = sorted(set(queryset.values_list("academic_year", flat=True)))
        created = 0
        for year in years:
            created += len(academic_calendar_generate(year=year + 1))
        self.message_user(
            request,
            _("%(count)s entries added to %(years)s.")
            % {"count": created, "years": "、".join(f"{y + 1}–{y + 2}" for y in years)},
            messages.SUCCESS,
        )


@admin.register(StageConfig)
class StageConfigAdmin(admin.ModelAdmin):
    """Overrides a stage's signers or deadline; the chain's code holds the defaults."""

    form = StageConfigForm
    list_display = ("chain", "stage", "stage_label", "signers_display", "default_signers", "deadline_days")

    def _resync(self, obj):
        """Changed signers change who the chain's open requests await: the inbox follows."""
        from registrar.approvals import config
        from registrar.approvals.chains import _REGISTRY
        from registrar.approvals.workitems import workitems_sync_chain

        config.invalidate()
        chain = _REGISTRY.get(obj.chain)
        if chain is not None and chain.model is not None:
            workitems_sync_chain(chain=chain)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._resync(obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._resync(obj)

    list_filter = ("chain",)
    search_fields = ("chain", "stage")

    def _stage(self, obj):
        from registrar.approvals.chains import _REGISTRY

        chain = _REGISTRY.get(obj.chain)
        return chain.stage(obj.stage) if chain else None

    @admin.display(description=_("stage name"))
    def stage_label(self, obj):
        stage = self._stage(obj)
        return stage.label if stage else "?"

    @admin.display(description=_("signer roles"))
    def signers_display(self, obj):
        return "、".join(force_str(Role(r).label) for r in obj.signers if r in Role.values) or "—"

    @admin.display(description=_("default signers"))
    def default_signers(self, obj):
        stage = self._stage(obj)
        return "、".join(force_str(Role(r).label) for r in stage.signers) if stage else "—"


# --- documents ---------------------------------------------------------------------------------
class DocumentActionForm(ActionForm):
    reason = forms.CharField(label=_("reason"), required=False, max_length=255)


def set_or_not_filter(field: str, title, yes_label, no_label):
    """A list filter on whether a nullable timestamp is set (revoked / read …)."""

    class SetOrNotFilter(admin.SimpleListFilter):
        parameter_name = field.removesuffix("_at")

        def lookups(self, request, model_admin):
            return (("yes", yes_label), ("no", no_label))

        def queryset(self, request, queryset):
            if self.value() in ("yes", "no"):
                return queryset.filter(**{f"{field}__isnull": self.value() == "no"})
            return queryset

    SetOrNotFilter.title = title
    return SetOrNotFilter


RevokedFilter = set_or_not_filter("revoked_at", _("revoked"), _("Revoked"), _("Valid"))


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Issued documents are read-only; the only write is revocation (recorded, never deleted)."""

    list_display = ("serial", "title", "doc_type", "student", "issued_at", "status", "is_revoked_flag", "issued_by")
    list_filter = ("doc_type", "status", RevokedFilter, "chain")
    search_fields = ("serial", "code", "holder_name", "student__student_number", "student__name", "title")
    list_select_related = ("student", "issued_by", "revoked_by")
    date_hierarchy = "issued_at"
    action_form = DocumentActionForm
    actions = ("revoke",)
    exclude = ("file",)
    readonly_fields = ("file_download",)

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return file_link(reverse("documents:download", args=[obj.pk]), obj.file)

    @admin.display(description=_("revoked"), boolean=True)
    def is_revoked_flag(self, obj):
        return obj.is_revoked

    def has_revoke_permission(self, request):
        return request.user.has_perm("registrar.change_document")

    @admin.action(description=_("Revoke the selected documents (write the reason)"), permissions=["revoke"])
    def revoke(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, REVOKE_REASON_REQUIRED, messages.ERROR)
            return None
        try:
            from registrar.documents.services import document_revoke
        except ImportError:
            self.message_user(request, REVOKE_UNAVAILABLE, messages.ERROR)
            return None
        done = 0
        for document in queryset:
            try:
                document_revoke(document=document, actor=request.user, reason=reason)
            except ApplicationError as e:
                self.message_user(request, f"{document.serial}: {e.message}", messages.ERROR)
            except (PermissionDenied, Http404):
                self.message_user(request, f"{document.serial}: {REVOKE_NOT_ALLOWED}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d document(s) revoked.") % {"count": done}, messages.SUCCESS)
        return None


# --- notifications -------------------------------------------------------------------------------
ReadFilter = set_or_not_filter("read_at", _("read"), _("Read"), _("Unread"))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "message", "read_at")
    list_filter = (ReadFilter,)
    search_fields = ("message", "user__username", "user__full_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    date_hierarchy = "created_at"
