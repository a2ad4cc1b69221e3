"""What every background job shares — document renders, class prints, imports.

1. **Transient database errors are retried, not recorded as failures.** A lock that did not come
   free in time (SQLite's "database is locked"), a serialization failure or a deadlock (PostgreSQL)
   says nothing about the job: ``run_with_retries`` runs the job's service and, on such an error,
   retries the Celery task later with a growing delay, ``REGISTRAR["JOB_RETRIES"]`` times. The
   service is told when it is the last attempt (``final``): only then does it record the failure.
   Retrying reruns an idempotent service on the same row: never a second document or serial.

2. **A job whose worker died ends as failed, never stuck.** Every job model is registered with
   ``watch`` (its in-progress statuses, the field its worker refreshes as it goes, the fields that
   mark it failed). The beat task ``registrar.tasks.sweep_stale_jobs`` calls ``sweep_stale_jobs``:
   a job in progress with no sign of life for ``REGISTRAR["STALE_JOB_MINUTES"]`` is marked failed
   with ``JOB_ABANDONED``, so the page shows it and offers to start it again.

3. **A service names its task; it does not import it.** The task module imports the service it
   runs, so the service queues it by name with ``enqueue`` (no import cycle between the two). Every
   app's task modules are imported by its ``AppConfig.ready()``, so a task runs through its own
   ``apply_async`` in every process (eagerly in the tests); a name unknown here goes to the broker.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

JOB_ABANDONED = _(
    "The background worker stopped before finishing this (no progress for %(minutes)s minutes); "
    "nothing of it was kept. Start it again."
)

#: PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected, lock_not_available
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: SQLite's messages for a lock that did not come free in time
TRANSIENT_MESSAGES = ("database is locked", "database table is locked", "database schema is locked")


def is_transient(exc: BaseException | None) -> bool:
    """A database error that may well not happen again: a lock timeout, a serialization failure, a deadlock."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DatabaseError) or type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
            if getattr(exc, "sqlstate", None) in TRANSIENT_SQLSTATES:
                return True
            if any(m in str(exc).lower() for m in TRANSIENT_MESSAGES):
                return True
        exc = exc.__cause__
        seen += 1
    return False


def enqueue(task_name: str, *, args: tuple | list = (), queue: str | None = None):
    """Queue the Celery task registered as ``task_name`` (on ``queue`` when given)."""
    from celery import current_app

    return current_app.signature(task_name, args=list(args)).apply_async(**({"queue": queue} if queue else {}))


def job_settings() -> dict:
    reg = settings.REGISTRAR
    return {"retries": int(reg.get("JOB_RETRIES", 5)), "stale_minutes": float(reg.get("STALE_JOB_MINUTES", 30))}


def retry_delay(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: 1, 2, 4, 8 … (at most a minute), with jitter so
    the jobs that met the same lock do not meet again."""
    return min(60.0, 2.0**retries) * random.uniform(0.75, 1.25)


def run_with_retries(task, work: Callable[[bool], object]):
    """Run ``work(final)`` for a bound Celery ``task``; a transient database error it raises retries the
    task later (``final`` is True on the last attempt, when ``work`` records the failure itself)."""
    retries = job_settings()["retries"]
    attempt = task.request.retries or 0
    while True:
        final = attempt >= retries
        try:
            return work(final)
        except Exception as exc:
            if final or not is_transient(exc):
                raise
            logger.warning("%s[%s]: %s; retry %s of %s", task.name, task.request.id, exc, attempt + 1, retries)
            if not (task.request.is_eager or task.request.called_directly):
                raise task.retry(exc=exc, countdown=retry_delay(attempt), max_retries=retries) from exc
            # run eagerly (tests, no broker): Celery's retry would only raise, so retry here at once
            attempt += 1


# --- jobs whose worker died ---------------------------------------------------------------------
@dataclass(frozen=True)
class Watched:
    """A kind of background job the sweeper watches."""

    model: str  # "app_label.ModelName"
    in_progress: tuple[str, ...]  # values of ``status`` while a worker has it (or should)
    heartbeat: str  # a datetime field the job's worker refreshes as it makes progress
    failed: Callable[[str, datetime], dict]  # the fields that mark it failed, given the message and now
    status: str = "status"


_watched: dict[str, Watched] = {}


def watch(
    model: str, *, in_progress, heartbeat: str, failed: Callable[[str, datetime], dict], status: str = "status"
) -> None:
    """Register a job model with the sweeper (from the owning app's ``AppConfig.ready``)."""
    _watched[model] = Watched(
        model=model, in_progress=tuple(in_progress), heartbeat=heartbeat, failed=failed, status=status
    )


def watched() -> list[Watched]:
    return list(_watched.values())


def stale(w: Watched, *, now: datetime | None = None, minutes: float | None = None):
    """The jobs of kind ``w`` in progress whose heartbeat is older than ``minutes``."""
    now = now or timezone.now()
    minutes = job_settings()["stale_minutes"] if minutes is None else minutes
    return apps.get_model(w.model).objects.filter(
        **{f"{w.status}__in": w.in_progress, f"{w.heartbeat}__lt": now - timedelta(minutes=minutes)}
    )


def abandoned_message(minutes: float | None = None) -> str:
    minutes = job_settings()["stale_minutes"] if minutes is None else minutes
    with translation.override(settings.LANGUAGE_CODE):
        return force_str(JOB_ABANDONED) % {"minutes": f"{minutes:g}"}


def sweep_stale_jobs(*, now: datetime | None = None, minutes: float | None = None) -> dict[str, int]:
    """Mark every stale job failed; returns how many of each kind. One UPDATE per kind whose WHERE
    repeats the staleness test, so a job whose worker reports progress meanwhile is left alone."""
    now = now or timezone.now()
    message = abandoned_message(minutes)
    swept = {}
    for w in watched():
        count = stale(w, now=now, minutes=minutes).update(**w.failed(message, now))
        if count:
            logger.warning("marked %s stale %s job(s) failed", count, w.model)
        swept[w.model] = count
    return swept
