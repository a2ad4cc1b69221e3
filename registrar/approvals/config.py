"""Stage configuration overrides (StageConfig rows), kept in each process and invalidated on change.

Every stage's signer list and deadline asks for its override, so a page can ask a hundred times.
The rows are held in this process (a dict), tagged with a **version** that lives in the shared
cache (Redis in production). A process reads that version at most once per request (and, outside
requests — Celery tasks, commands — at most once per ``RECHECK_SECONDS``) and reloads the rows from
the database only when the version changed. Saving or deleting a StageConfig (admin, shell,
migration) writes a new version, now and again at commit, so every process sees the change on its
next request."""

from __future__ import annotations

import threading
import time
import uuid

from django.core.cache import cache
from django.core.signals import request_finished, request_started

VERSION_KEY = "registrar:stage-overrides:version"
RECHECK_SECONDS = 1.0  # outside a request: how stale a process's copy may be


class _Copy:
    """This process's rows and the version they were read under."""

    version: str | None = None
    data: dict | None = None


_copy = _Copy()
_thread = threading.local()  # in_request, checked: per thread (a test's live server runs threads)


def _request_started(**kwargs) -> None:
    _thread.in_request, _thread.checked = True, False


def _request_finished(**kwargs) -> None:
    _thread.in_request, _thread.checked = False, False


request_started.connect(_request_started, dispatch_uid="stage-overrides-request-started")
request_finished.connect(_request_finished, dispatch_uid="stage-overrides-request-finished")


def _load() -> dict:
    from registrar.approvals.models import StageConfig

    return {
        (row.chain, row.stage): {"signers": row.signers or None, "deadline_days": row.deadline_days}
        for row in StageConfig.objects.all()
    }


def _current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: start one (another process may race: the first wins)
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY) or ""
    return version


def overrides() -> dict:
    """{(chain, stage): {"signers": …, "deadline_days": …}} as of this request."""
    data = _copy.data
    if getattr(_thread, "in_request", False):
        fresh = data is not None and _thread.checked
    else:
        fresh = data is not None and time.monotonic() - getattr(_thread, "checked_at", 0.0) < RECHECK_SECONDS
    if fresh:
        return data
    version = _current_version()
    if data is None or version != _copy.version:
        data = _load()  # read after the version: a change committed in between bumps it again
        _copy.data, _copy.version = data, version
    _thread.checked, _thread.checked_at = True, time.monotonic()
    return data


def stage_override(chain_code: str, stage_code: str) -> dict | None:
    return overrides().get((chain_code, stage_code))


def reset() -> None:
    """Forget this process's copy (the next read reloads the rows)."""
    _copy.data, _copy.version = None, None
    _thread.checked = False


def invalidate(**kwargs) -> None:
    """A new version now and again once the change is committed (readers in between reload the old
    rows under the first); this process forgets its copy at once."""
    from django.db import transaction

    def bump():
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
        reset()

    bump()
    transaction.on_commit(bump)
