"""Background jobs (registrar/background.py): a transient database error is retried, not recorded as a
failure; a document whose worker died ends as failed, never "being produced"; a failed document is
produced again under its serial, never as a second document. Class prints and imports:
tests/grades/test_jobs_recovery.py.

Tasks run eagerly here (Celery's eager mode runs the retries at once, without the delay).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from registrar import background
from registrar.documents import render
from registrar.documents.models import Document, DocumentSequence
from registrar.documents.services import RENDER_GAVE_UP, document_issue_for_request, document_retry
from registrar.documents.tasks import render_document
from tests.factories import IdCardReissueRequestFactory, StudentFactory

pytestmark = pytest.mark.django_db

LOCKED = "database is locked"


def locked_error() -> OperationalError:
    """What Django raises when SQLite's lock did not come free in time."""
    try:
        raise OperationalError(LOCKED) from sqlite3.OperationalError(LOCKED)
    except OperationalError as exc:
        return exc


class FlakyRender:
    """``render_pdf`` that meets a lock error the first ``failures`` times, then renders."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0
        self.real = render.render_pdf

    def __call__(self, html, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise locked_error()
        return self.real(html, **kwargs)


@pytest.fixture
def retries(settings):
    settings.REGISTRAR = {**settings.REGISTRAR, "JOB_RETRIES": 3}
    return 3


@pytest.fixture
def form_request(db):
    student = StudentFactory()
    return IdCardReissueRequestFactory(student=student)


def issue_form(req, capture):
    with capture(execute=True):
        doc = document_issue_for_request(doc_type="approval_form", request=req, issued_by=req.student.user)
    doc.refresh_from_db()
    return doc


def serials_issued() -> int:
    return sum(DocumentSequence.objects.values_list("last", flat=True))


# --- which errors are transient -----------------------------------------------------------------------
def test_lock_serialization_and_deadlock_errors_are_transient_others_are_not():
    import psycopg

    assert background.is_transient(locked_error())
    assert background.is_transient(sqlite3.OperationalError("database table is locked"))
    for error in (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
        try:
            raise OperationalError("could not serialize") from error("could not serialize access")
        except OperationalError as exc:
            assert background.is_transient(exc), error
    assert not background.is_transient(OperationalError("no such table: registrar_document"))
    assert not background.is_transient(RuntimeError(LOCKED))  # not a database error
    assert not background.is_transient(None)


# --- document rendering -------------------------------------------------------------------------------
def test_a_render_that_meets_a_lock_is_retried_and_the_document_is_produced(
    form_request, django_capture_on_commit_callbacks, monkeypatch, retries
):
    flaky = FlakyRender(failures=2)
    monkeypatch.setattr(render, "render_pdf", flaky)
    doc = issue_form(form_request, django_capture_on_commit_callbacks)
    assert flaky.calls == 3
    assert (doc.status, doc.progress, doc.error) == (Document.Status.READY, 100, "")
    assert doc.render_attempts == 3
    assert Document.objects.count() == 1 and serials_issued() == 1  # one document, one serial


def test_a_lock_that_never_frees_fails_the_document_after_the_retries_then_printing_again_retries_it(
    form_request, django_capture_on_commit_callbacks, monkeypatch, retries
):
    flaky = FlakyRender(failures=100)
    monkeypatch.setattr(render, "render_pdf", flaky)
    doc = issue_form(form_request, django_capture_on_commit_callbacks)
    assert flaky.calls == retries + 1
    assert doc.status == Document.Status.FAILED and LOCKED in doc.error
    # printing again produces the same document under its serial (before: a second document and serial)
    flaky.failures = 0
    again = issue_form(form_request, django_capture_on_commit_callbacks)
    assert (again.pk, again.serial, again.status) == (doc.pk, doc.serial, Document.Status.READY)
    assert Document.objects.count() == 1 and serials_issued() == 1


def test_any_other_error_fails_the_document_at_once(form_request, django_capture_on_commit_callbacks, monkeypatch):
    calls = []

    def boom(html, **kwargs):
        calls.append(1)
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(render, "render_pdf", boom)
    doc = issue_form(form_request, django_capture_on_commit_callbacks)
    assert len(calls) == 1 and doc.status == Document.Status.FAILED and "no fonts today" in doc.error


def test_a_document_that_keeps_killing_its_worker_is_given_up(form_request, retries):
    """Each start counts; a task delivered again past the limit fails the document instead of looping."""
    doc = document_issue_for_request(
        doc_type="approval_form", request=form_request, issued_by=form_request.student.user
    )
    Document.objects.filter(pk=doc.pk).update(render_attempts=retries + 5)
    assert render_document.apply(args=[doc.pk]).get() == Document.Status.FAILED
    doc.refresh_from_db()
    assert str(RENDER_GAVE_UP % {"count": retries + 5}) in doc.error and not doc.file
    document_retry(document=doc)  # asked again by hand, it starts afresh
    doc.refresh_from_db()
    assert (doc.status, doc.render_attempts, doc.error) == (Document.Status.PENDING, 0, "")


def test_a_failed_document_is_produced_again_from_its_page_under_its_serial(
    form_request, django_capture_on_commit_callbacks, monkeypatch, client
):
    monkeypatch.setattr(render, "render_pdf", FlakyRender(failures=100))
    doc = issue_form(form_request, django_capture_on_commit_callbacks)
    assert doc.status == Document.Status.FAILED
    monkeypatch.undo()
    url = reverse("documents:retry", args=[doc.pk])
    client.force_login(StudentFactory().user)  # may not see it
    assert client.post(url).status_code == 404
    client.force_login(form_request.student.user)
    assert client.get(reverse("documents:detail", args=[doc.pk])).content.count(url.encode()) == 1
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == doc.get_absolute_url()
    again = Document.objects.get()
    assert (again.pk, again.serial, again.status) == (doc.pk, doc.serial, Document.Status.READY)
    assert serials_issued() == 1


# --- the sweeper --------------------------------------------------------------------------------------
def test_every_job_model_is_watched():
    assert {w.model for w in background.watched()} == {"registrar.Document", "grades.ImportJob", "grades.ClassPrint"}
    from registrar.tasks import sweep_stale_jobs

    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert sweep_stale_jobs.name in schedule


def test_a_swept_document_is_produced_again_under_its_serial(form_request, django_capture_on_commit_callbacks):
    doc = document_issue_for_request(
        doc_type="approval_form", request=form_request, issued_by=form_request.student.user
    )
    Document.objects.filter(pk=doc.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=2))
    background.sweep_stale_jobs()
    doc.refresh_from_db()
    assert doc.status == Document.Status.FAILED
    again = issue_form(form_request, django_capture_on_commit_callbacks)
    assert (again.pk, again.serial, again.status) == (doc.pk, doc.serial, Document.Status.READY)


def test_sqlite_settings_wait_for_the_write_lock():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings")
    options = connection.settings_dict["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"] and "busy_timeout" in options["init_command"]
