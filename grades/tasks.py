"""Celery tasks of the grades app."""

from celery import shared_task


@shared_task(name="grades.tasks.run_import", ignore_result=True)
def run_import(job_id: int) -> str:
    """Run one Excel import job (grades.services.imports.jobs.import_job_run); returns its status."""
    from .services.imports import import_job_run

    return import_job_run(job_id=job_id).status
