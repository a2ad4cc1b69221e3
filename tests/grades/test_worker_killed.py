"""R5: background work survives a dying worker.

1. The pool process running a large grade import dies (SIGKILL — as when a spreadsheet makes the
   parser abort): the task goes back to the queue (``reject_on_worker_lost``), and delivered again
   it finds its job running, so the job ends failed with a message instead of "running" for ever.
2. The whole worker is killed (SIGKILL, its process group) in the middle of a class transcript
   print (route (1): one render per student, then the merged class print) and of the import run
   again; a new worker is started. Everything completes, no serial number is used twice, no
   document is missing, no job is stuck: the renders and the class print are delivered again and
   finish; the import, failed like in 1., run again writes every row once.

A REAL prefork Celery worker over Redis against the PostgreSQL test database (skipped without
them; see tests/registrar/test_documents_worker.py). The killed worker's tasks come back after
Redis's visibility timeout, 10 s here (``CELERY_BROKER_VISIBILITY_TIMEOUT``; kombu's default is an
hour). Prints its timings (run with ``-s``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from grades.models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint, Grade, ImportJob, TranscriptBatch
from grades.services.imports import jobs
from grades.services.transcripts import transcript_batch_file, transcript_batch_seal_class
from registrar import background
from registrar.celery import app as celery_app
from registrar.documents.models import Document, DocumentSequence
from registrar.roles import Role
from tests.factories import ClassFactory, CollegeFactory, MajorFactory, StudentFactory, make_id_number, staff
from tests.grades.test_transcripts_support import build_record
from tests.registrar import test_documents_worker as real_worker

pytestmark = pytest.mark.worker

redis_broker = real_worker.redis_broker  # Redis, a queue of the test's own, the Django settings it needs
CLASS_SIZE = 25
IMPORT_OFFERINGS, PER_OFFERING = 300, 100  # 30,000 grade rows
VISIBILITY_TIMEOUT = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _grade_dataset():
    """bench/grade_dataset.py: the import benchmark's teaching data and file, smaller."""
    spec = importlib.util.spec_from_file_location("grade_dataset", real_worker.ROOT / "bench" / "grade_dataset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Worker:
    """``celery worker -P prefork --concurrency 2`` (as ``bash bin/run`` starts it), leading its own
    process group so that it can be killed whole."""

    def __init__(self, name: str, queues: list[str], var_dir, log_dir):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "registrar.settings.test",
            "DATABASE_URL": real_worker._database_url(),
            "REDIS_URL": real_worker.REDIS_URL,
            "CELERY_BROKER_URL": real_worker.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "REGISTRAR_VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = log_dir / f"{name}.log"
        celery = str(real_worker.CELERY) if real_worker.CELERY.exists() else "celery"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    celery,
                    "-A",
                    "registrar",
                    "worker",
                    "-P",
                    "prefork",
                    "--concurrency",
                    "2",
                    "-Q",
                    ",".join(queues),
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"{name}@%h",
                ],
                cwd=real_worker.ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        wait_for(lambda: " ready." in self.text(), timeout, "the worker to get ready", self)

    def kill_pool(self) -> list[int]:
        """SIGKILL the pool's processes (the main process stays and starts new ones)."""
        children = [int(p) for p in open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()]
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        return children

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the main process and its pool: nothing is acknowledged
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def wait_for(predicate, timeout: float, what: str, worker: Worker | None = None, poll: float = 0.25) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        if worker is not None:
            assert worker.proc.poll() is None, f"the worker exited\n{worker.text()[-4000:]}"
        time.sleep(poll)
    raise AssertionError(
        f"timed out after {timeout} s waiting for {what}\n" + (worker.text()[-4000:] if worker else "")
    )


@pytest.fixture
def queues(redis_broker):
    """Documents on the test's queue, imports (Celery's default queue) on a second one of its own."""
    conf = celery_app.conf
    saved = conf.task_default_queue
    imports = redis_broker["queue"] + "-imports"
    conf.update(task_default_queue=imports)
    yield [redis_broker["queue"], imports]
    conf.update(task_default_queue=saved)
    import redis

    redis.Redis.from_url(real_worker.REDIS_URL).delete(imports)


@pytest.fixture
def workers(redis_broker, queues, tmp_path):
    started = []

    def start(name: str) -> Worker:
        worker = Worker(name, queues, redis_broker["var_dir"], tmp_path)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def world(transactional_db, tmp_path):
    grade_rows = _grade_dataset().build_world(offerings=IMPORT_OFFERINGS, per_offering=PER_OFFERING)
    path = _grade_dataset().write_xlsx(tmp_path / "grades.xlsx", grade_rows)
    college = CollegeFactory(code="R5", name="R5学院")
    klass = ClassFactory(code="R5K", major=MajorFactory(code="R5M", college=college))
    students = [
        StudentFactory(
            klass=klass, student_number=f"2099{i:06d}", id_number=make_id_number(i, birth=dt.date(2003, 3, 3))
        )
        for i in range(CLASS_SIZE)
    ]
    build_record(students)
    return {
        "klass": klass,
        "students": students,
        "grade_file": path,
        "grade_rows": len(grade_rows),
        "student_affairs": staff(Role.STUDENT_AFFAIRS, username="r5_sa"),
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="r5_ts"),
        "academic_affairs": staff(Role.ACADEMIC_AFFAIRS, username="r5_aa"),
    }


def ready_documents() -> int:
    return Document.objects.filter(chain=BATCH_TRANSCRIPT.code, status=Document.Status.READY).count()


def status_of(job) -> str:
    return ImportJob.objects.get(pk=job.pk).status


def wait_running(job, worker) -> None:
    wait_for(lambda: status_of(job) != ImportJob.Status.PENDING, 60, "the import to start", worker, poll=0.02)
    assert status_of(job) == ImportJob.Status.RUNNING, "the import finished before its worker could be killed"


def wait_lost(job, worker) -> float:
    """Until the job delivered again has been failed with IMPORT_WORKER_LOST (nothing written)."""
    took = wait_for(lambda: status_of(job) == ImportJob.Status.FAILED, 120, "the dead import to fail", worker)
    job.refresh_from_db()
    assert job.errors[0]["message"] == str(jobs.IMPORT_WORKER_LOST) and job.written == 0
    assert Grade.objects.filter(entered_at__isnull=False).count() == 0  # its transaction died with it
    return took


def test_worker_killed_mid_batch_and_mid_import_everything_completes_after_restart(world, workers):
    w = world
    timings = {}
    first = workers("first")

    # 1. the process running the import dies
    with open(w["grade_file"], "rb") as fh:
        upload = SimpleUploadedFile("grades.xlsx", fh.read(), content_type=XLSX)
    job = jobs.import_job_create(kind=ImportJob.Kind.GRADES, file=upload, actor=w["academic_affairs"])
    wait_running(job, first)
    assert first.kill_pool()
    timings["import_failed_after_its_process_died_s"] = wait_lost(job, first)

    # 2. the whole worker is killed mid-batch and mid-import
    batch = transcript_batch_file(
        actor=w["student_affairs"], purpose=TranscriptBatch.Purpose.GRADUATES, language="zh", students=w["students"]
    )
    transcript_batch_seal_class(batch=batch, klass=w["klass"], actor=w["secretary"], stage="college_seal")
    clock = time.monotonic()
    # committed (no test transaction): on commit the 25 renders and the class print are queued
    cp = transcript_batch_seal_class(
        batch=batch, klass=w["klass"], actor=w["academic_affairs"], stage="academic_affairs_seal"
    ).class_print
    timings["first_5_transcripts_s"] = wait_for(lambda: ready_documents() >= 5, 180, "five transcripts", first)

    job = jobs.import_job_rerun(job=job, actor=w["academic_affairs"])
    wait_running(job, first)
    first.kill()
    killed_at = time.monotonic()
    at_kill = {"transcripts_ready": ready_documents(), "class_print": ClassPrint.objects.get(pk=cp.pk).status}
    assert 0 < at_kill["transcripts_ready"] < CLASS_SIZE, at_kill  # killed mid-batch

    # what the killed worker held comes back once Redis's visibility timeout has passed
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - killed_at)))
    second = workers("second")
    restarted = time.monotonic()

    # the import found running when delivered again: failed with a message, never run twice at once
    timings["import_failed_after_restart_s"] = wait_lost(job, second)
    rerun = jobs.import_job_rerun(job=job, actor=w["academic_affairs"])
    timings["import_rerun_s"] = wait_for(
        lambda: ImportJob.objects.get(pk=rerun.pk).status in (ImportJob.Status.DONE, ImportJob.Status.FAILED),
        300,
        "the import run again",
        second,
    )
    rerun.refresh_from_db()
    assert (rerun.status, rerun.total_rows, rerun.errors) == (ImportJob.Status.DONE, w["grade_rows"], [])
    assert Grade.objects.filter(entered_at__isnull=False).count() == rerun.written == w["grade_rows"]

    timings["class_print_ready_after_restart_s"] = wait_for(
        lambda: ClassPrint.objects.get(pk=cp.pk).status != ClassPrint.Status.PENDING, 300, "the class print", second
    )
    timings["total_s"] = time.monotonic() - clock
    cp.refresh_from_db()
    assert cp.status == ClassPrint.Status.READY, cp.error

    # no serial twice, no document missing or left behind, nothing stuck
    docs = list(Document.objects.filter(chain=BATCH_TRANSCRIPT.code))
    assert len(docs) == CLASS_SIZE and {d.status for d in docs} == {Document.Status.READY}
    assert len({d.serial for d in docs}) == CLASS_SIZE
    per_request = Counter(d.request_id for d in docs)
    completed = set(BatchTranscriptRequest.objects.filter(batch=batch, state="completed").values_list("pk", flat=True))
    assert set(per_request) == completed and set(per_request.values()) == {1}
    assert DocumentSequence.objects.get(prefix=docs[0].serial.rsplit("-", 2)[0]).last == CLASS_SIZE
    assert not Document.objects.values("serial").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not ImportJob.objects.filter(status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).exists()
    assert not ClassPrint.objects.filter(status=ClassPrint.Status.PENDING).exists()
    assert set(background.sweep_stale_jobs(minutes=0).values()) == {0}  # nothing left for the sweeper

    log = second.text()
    assert "registrar.documents.tasks.render_document" in log and "grades.tasks.run_import" in log
    timings.update(at_kill, restart_to_class_print_s=round(time.monotonic() - restarted, 1))
    print("\nR5 timings:", {k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()}, file=sys.stderr)
