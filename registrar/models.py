"""The shared kernel's models: users, the approval kernel, documents, notifications."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: a student (linked to a Student record) or a member of staff
    holding one or more scoped role assignments (students.RoleAssignment)."""

    full_name = models.CharField(_("full name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


# Kernel models live in sub-packages; importing them here registers them with the app.
from registrar.approvals.models import Attachment, CalendarEntry, SignOff, StageConfig  # noqa: E402,F401
from registrar.documents.models import Document  # noqa: E402,F401
from registrar.notifications.models import Notification  # noqa: E402,F401
