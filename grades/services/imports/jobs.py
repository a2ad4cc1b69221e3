"""Import jobs: an upload is stored as an ``ImportJob`` and run by a Celery task
(``grades.tasks.run_import``) that reports progress on the job; the job ends ``done`` with the
rows written, or ``failed`` with every bad row and column (nothing written).

Who may import: Academic Affairs every kind; a college's teaching secretary offerings and
grades of their own college (rows of other colleges are errors).
"""

from __future__ import annotations

import logging
import os

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.approvals.permissions import grants
from registrar.exceptions import ApplicationError
from registrar.roles import Role, Scope
from registrar.spreadsheets import check_upload

from ...models import ImportJob
from ...permissions import is_academic_affairs
from .bulk_grades import grades_import
from .sheet import ERRORS_KEPT, MORE_ERRORS, ImportRefused
from .teaching import courses_import, offerings_import, plans_import

logger = logging.getLogger(__name__)

FILE_TYPE_REFUSED = _("Upload an Excel workbook (.xlsx).")
IMPORT_CRASHED = _(
    "The import stopped on an unexpected error; nothing was written. Please tell the administrator (job %(id)s)."
)
IMPORT_WORKER_LOST = _(
    "The import stopped: the background worker running it died (the file may be too large for "
    "it); nothing was written. Run it again, or check the file."
)
RERUN_NOT_FAILED = _("Only a failed import is run again; this one is %(status)s.")

#: Names let through to the spreadsheet intake, which refuses all but .xlsx with a message of its own
#: (an old .xls, macros, an OpenDocument file …).
EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")

IMPORTERS = {
    ImportJob.Kind.COURSES: courses_import,
    ImportJob.Kind.PLANS: plans_import,
    ImportJob.Kind.OFFERINGS: offerings_import,
    ImportJob.Kind.GRADES: grades_import,
}
#: What a college's teaching secretary may import (their own college's rows only).
SECRETARY_KINDS = (ImportJob.Kind.OFFERINGS, ImportJob.Kind.GRADES)


def secretary_colleges(user) -> set[int]:
    return {
        g.college_id
        for g in grants(user)
        if g.role == Role.TEACHING_SECRETARY and g.scope == Scope.COLLEGE and g.college_id
    }


def import_kinds(user) -> list[str]:
    """The kinds of file ``user`` may import (empty: none, the page answers 403)."""
    if is_academic_affairs(user):
        return list(ImportJob.Kind.values)
    if secretary_colleges(user):
        return list(SECRETARY_KINDS)
    return []


def import_scope(user) -> set[int] | None:
    """College ids whose rows ``user`` may import; None for Academic Affairs (all)."""
    return None if is_academic_affairs(user) else secretary_colleges(user)


def visible_jobs(user):
    """Academic Affairs sees every import; others their own."""
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if is_academic_affairs(user) else jobs.filter(created_by=user)


@transaction.atomic
def import_job_create(*, kind: str, file, actor) -> ImportJob:
    """Store the upload as a pending job and queue the import once the upload is committed."""
    if kind not in import_kinds(actor):
        raise PermissionDenied
    if not (file.name or "").lower().endswith(EXTENSIONS):
        raise ApplicationError(FILE_TYPE_REFUSED)
    check_upload(file)  # refused now, with its reason (size, zip bomb, macros …); the worker checks again
    job = ImportJob(kind=kind, file=file, created_by=actor)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from registrar.background import enqueue

    try:
        enqueue("grades.tasks.run_import", args=[job_id])
    except Exception:
        logger.exception("could not queue import job %s", job_id)


def job_progress(job_id: int, value: int, *, db=None) -> None:
    """Record progress: one UPDATE, on ``db`` (a connection of its own) when given."""
    value = max(0, min(100, int(value)))
    if db is None:
        ImportJob.objects.filter(pk=job_id).update(progress=value, updated_at=timezone.now())
        return
    with db.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ImportJob._meta.db_table} SET progress = %s, updated_at = %s WHERE id = %s",
            [value, timezone.now(), job_id],
        )


def _progress_connection():
    """On PostgreSQL, progress goes through a second connection in autocommit mode: the import holds
    its own transaction open (and its writer thread keeps the main connection busy), yet the page
    polling the job must see the progress while it runs. Not inside an outer transaction (tests,
    where the job row is not visible to another connection) nor on SQLite (one writer at a time)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    return connections.create_connection(DEFAULT_DB_ALIAS)


def stored_errors(exc: ImportRefused) -> list[dict]:
    errors = list(exc.errors[:ERRORS_KEPT])
    if exc.error_count > len(errors):
        more = exc.error_count - len(errors)
        errors.append({"row": None, "column": "", "message": force_str(MORE_ERRORS % {"count": more}), "more": more})
    return errors


def _crashed(job_id: int, message) -> list[dict]:
    return [{"row": None, "column": "", "message": force_str(message % {"id": job_id})}]


def import_job_run(*, job_id: int, final: bool = True) -> ImportJob:
    """Run one job (the Celery task calls this). A job already finished is left alone.

    Only a pending job is run: the task claims it (pending → running in one UPDATE). A running job
    delivered again means the worker that took it died (its transaction rolled back, so nothing was
    written): it is failed with ``IMPORT_WORKER_LOST``, never run a second time, and may be run again
    by hand (``import_job_rerun``). A transient database error (a lock …) before the ``final``
    attempt puts the job back to pending and is raised for the task to retry (registrar.background).
    """
    from registrar.background import is_transient

    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, progress=1, updated_at=timezone.now()
    )
    if not claimed:
        logger.error("import job %s was delivered again while running: its worker died", job.pk)
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED,
            written=0,
            errors=_crashed(job.pk, IMPORT_WORKER_LOST),
            progress=100,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    importer = IMPORTERS[job.kind]
    actor = job.created_by
    fields = {"finished_at": None}
    progress_db = _progress_connection()
    try:
        source = _source(job)
        try:
            summary = importer(
                file=source,
                actor=actor,
                colleges=import_scope(actor),
                progress=lambda value: job_progress(job.pk, value, db=progress_db),
            )
        finally:
            if hasattr(source, "close"):
                source.close()
            if progress_db is not None:
                progress_db.close()
    except ImportRefused as exc:
        fields.update(status=ImportJob.Status.FAILED, errors=stored_errors(exc), written=0, total_rows=exc.total_rows)
    except Exception as exc:
        if not final and is_transient(exc):
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.PENDING, progress=0, updated_at=timezone.now()
            )
            raise
        logger.exception("import job %s failed", job.pk)
        fields.update(status=ImportJob.Status.FAILED, written=0, errors=_crashed(job.pk, IMPORT_CRASHED))
    else:
        fields.update(status=ImportJob.Status.DONE, errors=[], written=summary.written, total_rows=summary.total_rows)
    fields.update(progress=100, finished_at=timezone.now(), updated_at=timezone.now())
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


@transaction.atomic
def import_job_rerun(*, job: ImportJob, actor) -> ImportJob:
    """Run a failed import again: a new job with the same stored file, queued (the failed one stays on
    record). Whoever may see the job and import its kind may ask."""
    if job.kind not in import_kinds(actor) or not visible_jobs(actor).filter(pk=job.pk).exists():
        raise PermissionDenied
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.FAILED:
        raise ApplicationError(RERUN_NOT_FAILED % {"status": job.get_status_display()})
    new = ImportJob(kind=job.kind, file=job.file.name, created_by=actor)
    new.full_clean()
    new.save()
    transaction.on_commit(lambda: _enqueue(new.pk))
    return new


def _source(job: ImportJob):
    """A local path when the storage has one (calamine reads it directly), else an open file."""
    try:
        path = job.file.path
    except NotImplementedError:
        path = None
    if path and os.path.exists(path):
        return path
    return job.file.open("rb")


def job_status(job: ImportJob) -> dict:
    """What the progress page polls."""
    refused = job.status == ImportJob.Status.FAILED
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "status_label": force_str(job.get_status_display()),
        "progress": job.progress,
        "finished": job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED),
        "total_rows": job.total_rows,
        "written": job.written,
        "error_count": error_count(job) if refused else 0,
    }


def error_count(job: ImportJob) -> int:
    """Every error of a refused file, including those counted but not stored."""
    return sum(e.get("more", 1) for e in job.errors)
