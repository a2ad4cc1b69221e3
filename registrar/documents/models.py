from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DOCUMENT_NEVER_DELETED = _("Issued documents are never deleted; revoke the document instead.")


class DocumentQuerySet(models.QuerySet):
    def delete(self):
        raise ValidationError(DOCUMENT_NEVER_DELETED)


class Document(models.Model):
    """An official document issued to a student: numbered, verifiable, stored byte-for-byte.

    States (``status``): pending → ready (rendered) or failed; revocation is recorded
    (``revoked_at``), never a deletion. A verification code is never reused."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being produced")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    doc_type = models.CharField(_("document type"), max_length=40, db_index=True)
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    code = models.CharField(_("verification code"), max_length=32, unique=True)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="documents", verbose_name=_("holder")
    )
    holder_name = models.CharField(_("holder's name"), max_length=64)
    title = models.CharField(_("title"), max_length=128)
    chain = models.CharField(_("chain"), max_length=40, blank=True)
    request_id = models.PositiveBigIntegerField(_("request"), null=True, blank=True)
    context = models.JSONField(_("content"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    # last sign of life of the job producing it (queued, then each progress step): a pending document
    # whose heartbeat is older than REGISTRAR["STALE_JOB_MINUTES"] is marked failed (registrar/background.py)
    heartbeat_at = models.DateTimeField(_("last progress"), default=timezone.now, editable=False)
    render_attempts = models.PositiveSmallIntegerField(_("rendering attempts"), default=0, editable=False)
    file = models.FileField(_("file"), upload_to="documents/%Y/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True, db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason for revocation"), max_length=255, blank=True)
    reissue_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissues", verbose_name=_("reissue of")
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(fields=["chain", "request_id"]),
            # the sweeper's look-up: few rows are pending at any time
            models.Index(fields=["heartbeat_at"], condition=models.Q(status="pending"), name="document_pending_idx"),
        ]

    def __str__(self):
        return f"{self.serial} {self.title}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("documents:detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise ValidationError(DOCUMENT_NEVER_DELETED)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_valid(self) -> bool:
        """Rendered and not revoked: what the public verification page calls valid."""
        return self.is_ready and not self.is_revoked

    @property
    def display_code(self) -> str:
        """The verification code in groups of four, as printed (ABCD-EFGH-JKLM-NPQR)."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))


class DocumentSequence(models.Model):
    """The last serial number handed out per prefix and year (row-locked while issuing), so
    serials are unique and consecutive: U6-2026-000001, U6-2026-000002, …"""

    prefix = models.CharField(_("prefix"), max_length=24)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document serial sequence")
        verbose_name_plural = _("document serial sequences")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="documentsequence_unique")]

    def __str__(self):
        return f"{self.prefix}-{self.year}: {self.last}"
