"""Periodic jobs of the people register (Celery beat)."""

from celery import shared_task


@shared_task(name="students.tasks.scheduled_changes_apply")
def scheduled_changes_apply() -> int:
    """Make the record changes whose effective date has come (hourly; idempotent)."""
    from .services import scheduled_changes_apply as apply

    return apply()
