"""Excel imports of teaching data and grades, run in the background."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registrar.common import TimeStampedModel


# --- Excel imports --------------------------------------------------------------------------
class ImportJob(TimeStampedModel):
    """An Excel import run in the background (teaching data or grades): progress for the UI,
    and either the counts written or every bad row and column — never half of the file."""

    class Kind(models.TextChoices):
        COURSES = "courses", _("Courses")
        PLANS = "plans", _("Teaching plans")
        OFFERINGS = "offerings", _("Course offerings")
        GRADES = "grades", _("Grades")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused: nothing written")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="grades/imports/%Y/")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    written = models.PositiveIntegerField(_("rows written"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"
