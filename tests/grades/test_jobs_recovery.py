"""Class prints and imports in the background (registrar/background.py): a lock error is retried, an
unexpected one fails the job instead of leaving it pending, a job whose worker died ends as failed
(delivered again, or swept after STALE_JOB_MINUTES without progress) and can be run again — the
class print's Retry produces the failed transcripts again under their serials.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grades.models import ClassPrint, ImportJob, TranscriptBatch
from grades.services.imports import jobs
from grades.services.transcripts import (
    CLASS_PRINT_FAILED_DOCUMENTS,
    class_print_retry,
    transcript_batch_file,
    transcript_batch_seal_class,
)
from grades.tasks import run_import
from registrar import background
from registrar.documents import render
from registrar.documents.models import Document
from registrar.documents.services import document_issue_for_request
from tests.factories import IdCardReissueRequestFactory, StudentFactory
from tests.grades.test_imports_jobs import grade_rows, upload
from tests.grades.test_transcripts_support import transcript_world
from tests.registrar.test_background_jobs import FlakyRender, locked_error, serials_issued

pytestmark = pytest.mark.django_db


@pytest.fixture
def retries(settings):
    settings.REGISTRAR = {**settings.REGISTRAR, "JOB_RETRIES": 3}
    return 3


# --- class prints -------------------------------------------------------------------------------------
@pytest.fixture
def sealed_class(db, django_capture_on_commit_callbacks):
    """A route (1) batch of a class of three, sealed by the college (Academic Affairs seals in the test)."""
    w = transcript_world()
    batch = transcript_batch_file(
        actor=w["student_affairs"], purpose=TranscriptBatch.Purpose.GRADUATES, language="zh", students=w["students"]
    )
    transcript_batch_seal_class(batch=batch, klass=w["klass"], actor=w["secretary"], stage="college_seal")
    w["batch"] = batch
    return w


def seal_by_academic_affairs(w, capture):
    with capture(execute=True):
        result = transcript_batch_seal_class(
            batch=w["batch"], klass=w["klass"], actor=w["academic_affairs"], stage="academic_affairs_seal"
        )
    result.class_print.refresh_from_db()
    return result.class_print


def test_a_transcript_that_failed_on_a_lock_is_produced_again_by_the_class_print_retry(
    sealed_class, django_capture_on_commit_callbacks, monkeypatch, retries
):
    """6 of 116 transcripts failed with "database is locked" and the class print's Retry failed again:
    it only merged again, over the same failed transcripts."""
    w = sealed_class
    flaky = FlakyRender(failures=retries + 1)  # the first transcript exhausts its retries
    monkeypatch.setattr(render, "render_pdf", flaky)
    cp = seal_by_academic_affairs(w, django_capture_on_commit_callbacks)
    failed = Document.objects.get(status=Document.Status.FAILED)
    assert cp.status == ClassPrint.Status.FAILED
    assert cp.error == str(CLASS_PRINT_FAILED_DOCUMENTS % {"serials": failed.serial})
    before = serials_issued()

    with django_capture_on_commit_callbacks(execute=True):
        class_print_retry(class_print=cp)
    cp.refresh_from_db()
    assert cp.status == ClassPrint.Status.READY, cp.error
    assert Document.objects.count() == 3 and serials_issued() == before  # the same documents and serials
    failed.refresh_from_db()
    assert failed.status == Document.Status.READY


def test_a_class_print_that_meets_a_lock_is_retried(sealed_class, django_capture_on_commit_callbacks, monkeypatch):
    from grades.services import transcripts

    real = transcripts.class_print_documents
    calls = []

    def flaky(cp):
        calls.append(1)
        if len(calls) == 1:
            raise locked_error()
        return real(cp)

    monkeypatch.setattr(transcripts, "class_print_documents", flaky)
    cp = seal_by_academic_affairs(sealed_class, django_capture_on_commit_callbacks)
    assert cp.status == ClassPrint.Status.READY, cp.error
    assert len(calls) >= 2


def test_an_unexpected_error_fails_the_class_print_instead_of_leaving_it_pending(
    sealed_class, django_capture_on_commit_callbacks, monkeypatch
):
    from grades.services import transcripts

    def boom(cp):
        raise RuntimeError("pypdf exploded")

    monkeypatch.setattr(transcripts, "class_print_documents", boom)
    cp = seal_by_academic_affairs(sealed_class, django_capture_on_commit_callbacks)
    assert cp.status == ClassPrint.Status.FAILED and "pypdf exploded" in cp.error


# --- imports ------------------------------------------------------------------------------------------
def grade_job(w, **fields) -> ImportJob:
    return ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES, file=upload(grade_rows(w)), created_by=w["academic_affairs"], **fields
    )


def test_an_import_whose_worker_died_is_failed_when_delivered_again_not_run_twice(grades_world):
    """The worker died mid-import: the job is "running" and its task is delivered again (acks_late,
    reject_on_worker_lost). Before: the import ran again over a job some other worker might hold."""
    w = grades_world
    job = grade_job(w, status=ImportJob.Status.RUNNING, progress=40)
    assert run_import.delay(job.pk).get() == ImportJob.Status.FAILED
    job.refresh_from_db()
    assert job.errors[0]["message"] == str(jobs.IMPORT_WORKER_LOST)
    assert (job.written, job.progress) == (0, 100) and job.finished_at


def test_a_failed_import_runs_again_as_a_new_job_with_the_same_file(grades_world, django_capture_on_commit_callbacks):
    w = grades_world
    job = grade_job(w, status=ImportJob.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        new = jobs.import_job_rerun(job=job, actor=w["academic_affairs"])
    new.refresh_from_db()
    assert new.pk != job.pk and new.file.name == job.file.name
    assert (new.status, new.written) == (ImportJob.Status.DONE, len(w["students"]))


def test_rerun_view_refuses_a_job_that_has_not_failed(grades_world, client):
    w = grades_world
    done = grade_job(w, status=ImportJob.Status.DONE)
    client.force_login(w["academic_affairs"])
    url = reverse("grades:import_job_rerun", args=[done.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("grades:import_job", args=[done.pk])
    assert ImportJob.objects.count() == 1
    failed = grade_job(w, status=ImportJob.Status.FAILED)
    response = client.post(reverse("grades:import_job_rerun", args=[failed.pk]))
    assert response.status_code == 302 and ImportJob.objects.count() == 3


def test_an_import_that_meets_a_lock_is_put_back_and_retried(grades_world, monkeypatch):
    w = grades_world
    real = jobs.IMPORTERS[ImportJob.Kind.GRADES]
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise locked_error()
        return real(**kwargs)

    monkeypatch.setitem(jobs.IMPORTERS, ImportJob.Kind.GRADES, flaky)
    job = grade_job(w)
    assert run_import.delay(job.pk).get() == ImportJob.Status.DONE
    assert len(calls) == 2


# --- the sweeper --------------------------------------------------------------------------------------
def test_sweeper_fails_jobs_without_progress_and_leaves_live_and_finished_ones(grades_world, sealed_class, settings):
    settings.REGISTRAR = {**settings.REGISTRAR, "STALE_JOB_MINUTES": 30}
    w, tx = grades_world, sealed_class
    now = timezone.now()
    old = now - dt.timedelta(minutes=31)
    fresh = now - dt.timedelta(minutes=29)

    dead_import = grade_job(w, status=ImportJob.Status.RUNNING)
    queued_import = grade_job(w)
    live_import = grade_job(w, status=ImportJob.Status.RUNNING)
    done_import = grade_job(w, status=ImportJob.Status.DONE)
    ImportJob.objects.filter(pk__in=[dead_import.pk, queued_import.pk, done_import.pk]).update(updated_at=old)
    ImportJob.objects.filter(pk=live_import.pk).update(updated_at=fresh)

    dead_print = ClassPrint.objects.create(batch=tx["batch"], klass=tx["klass"])
    ready_print = ClassPrint.objects.create(batch=tx["batch"], klass=tx["other_class"], status=ClassPrint.Status.READY)
    ClassPrint.objects.filter(pk__in=[dead_print.pk, ready_print.pk]).update(updated_at=old)

    req = IdCardReissueRequestFactory(student=StudentFactory())
    dead_doc = document_issue_for_request(doc_type="approval_form", request=req, issued_by=req.student.user)
    Document.objects.filter(pk=dead_doc.pk).update(heartbeat_at=old, progress=30)

    swept = background.sweep_stale_jobs(now=now)
    assert swept == {"registrar.Document": 1, "grades.ImportJob": 2, "grades.ClassPrint": 1}
    message = background.abandoned_message()
    assert "30" in message

    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {
        dead_import.pk: "failed",
        queued_import.pk: "failed",
        live_import.pk: "running",
        done_import.pk: "done",
    }
    dead_import.refresh_from_db()
    assert dead_import.errors == [{"row": None, "column": "", "message": message}] and dead_import.finished_at
    dead_print.refresh_from_db()
    ready_print.refresh_from_db()
    assert (dead_print.status, dead_print.error, ready_print.status) == ("failed", message, "ready")
    dead_doc.refresh_from_db()
    assert (dead_doc.status, dead_doc.error) == ("failed", message)
    assert background.sweep_stale_jobs(now=now) == {
        "registrar.Document": 0,
        "grades.ImportJob": 0,
        "grades.ClassPrint": 0,
    }
