"""Celery tasks of the grades app."""

from celery import shared_task


# acks_late + reject_on_worker_lost: a worker that dies during an import (a file that kills it) gives the
# task back to the queue; the next delivery finds the job running and fails it with a message instead of
# leaving it "running" for ever (jobs.import_job_run), so such a file cannot loop either.
@shared_task(name="grades.tasks.run_import", bind=True, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_import(self, job_id: int) -> str:
    """Run one Excel import job (grades.services.imports.jobs.import_job_run); returns its status. A lock
    error is retried later (registrar.background.run_with_retries)."""
    from registrar.background import run_with_retries

    from .services.imports import import_job_run

    return run_with_retries(self, lambda final: import_job_run(job_id=job_id, final=final)).status
