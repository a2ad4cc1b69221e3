"""Small shared bases (HackSoft ``common``): abstract models, ``model_update`` and ``mask_name``."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = _("This record is append-only: it can be neither changed nor deleted.")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk ``update``/``delete`` of an append-only log raise, like saving or deleting one row."""

    def update(self, **kwargs):
        raise ValidationError(self.model.append_only_message)

    def delete(self):
        raise ValidationError(self.model.append_only_message)


class AppendOnlyModel(models.Model):
    """A log row (sign-off, review, change record): written once, never changed nor deleted.

    ``save`` refuses an existing row, ``delete`` and the queryset's ``update``/``delete`` raise
    ``ValidationError(append_only_message)``."""

    append_only_message = APPEND_ONLY

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.append_only_message)


def model_update(*, instance, fields: list[str], data: dict, auto_updated_at: bool = True):
    """Set ``fields`` from ``data`` on ``instance``, validate and save only what changed.

    Returns ``(instance, has_updated)``.
    """
    has_updated = False
    for field in fields:
        if field not in data:
            continue
        if getattr(instance, field) != data[field]:
            has_updated = True
            setattr(instance, field, data[field])
    if has_updated:
        instance.full_clean()
        update_fields = list(fields)
        if auto_updated_at and any(f.name == "updated_at" for f in instance._meta.fields):
            update_fields.append("updated_at")
        instance.save(update_fields=[f for f in update_fields if f in data or f == "updated_at"])
    return instance, has_updated


def public_url(path: str = "") -> str:
    """``path`` as an absolute URL on the address users reach the app at (``REGISTRAR["PUBLIC_URL"]``).

    The one place printed links, QR codes and e-mails take their base from."""
    from django.conf import settings

    return settings.REGISTRAR["PUBLIC_URL"].rstrip("/") + path


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, Zhang San → Z***n."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
