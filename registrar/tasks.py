"""Periodic jobs of the kernel that concern every app's background work (Celery beat)."""

from celery import shared_task


@shared_task(name="registrar.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict:
    """Mark failed every job whose worker died (see registrar.background)."""
    from .background import sweep_stale_jobs as sweep

    return sweep()
