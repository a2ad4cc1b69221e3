"""A document rendered by a REAL Celery worker over Redis, against the PostgreSQL test database.

Skipped unless Redis answers (REDIS_URL, else 127.0.0.1:6379) and the database is PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest -m worker --create-db
"""

import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from pypdf import PdfReader

from registrar.celery import app as celery_app
from registrar.documents.models import Document
from registrar.documents.services import document_issue_for_request
from students.models import Student
from tests.factories import IdCardReissueRequestFactory, StudentFactory

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
HOLDER = "司马相如"


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - anything but PONG means "no Redis here"
        return False


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def _drop_pools() -> None:
    """Close the app's connection and producer pools AND kombu's process-wide producer registry
    (keyed by broker URL): otherwise a later worker test gets the closed pool back."""
    from kombu import pools

    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def redis_broker(transactional_db, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker test needs PostgreSQL (a worker process cannot see an SQLite test database)")
    if not _redis_answers(REDIS_URL):
        pytest.skip(f"no Redis answering at {REDIS_URL}")
    # Read the app's configuration BEFORE overriding Django settings: the Celery app loads it lazily
    # from settings, and loading it under the overrides would "restore" them (no eager tasks) afterwards.
    conf = celery_app.conf
    saved = {k: conf[k] for k in ("broker_url", "task_always_eager", "broker_transport_options")}
    queue = f"documents-test-{uuid.uuid4().hex[:12]}"
    var_dir = tmp_path / "var"
    settings.MEDIA_ROOT = var_dir / "media"  # the worker writes here (REGISTRAR_VAR_DIR below)
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REGISTRAR = {**settings.REGISTRAR, "DOCUMENT_QUEUE": queue}
    # The Celery app read Django settings once; point it at Redis for this test and drop the
    # connection pools it may have opened on the default (filesystem) transport.
    conf.update(broker_url=REDIS_URL, task_always_eager=False, broker_transport_options={})
    _drop_pools()
    yield {"queue": queue, "var_dir": var_dir}
    _drop_pools()
    conf.update(saved)
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(queue)
    except Exception:  # noqa: BLE001 - cleanup only
        pass


@pytest.fixture
def worker(redis_broker, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registrar.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REGISTRAR_VAR_DIR": str(redis_broker["var_dir"]),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(CELERY) if CELERY.exists() else sys.executable + " -m celery",
                "-A",
                "registrar",
                "worker",
                "-P",
                "solo",
                "--concurrency",
                "1",
                "-Q",
                redis_broker["queue"],
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield {"proc": proc, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_real_worker_renders_the_approval_form(worker, redis_broker):
    student = StudentFactory()
    Student.objects.filter(pk=student.pk).update(name=HOLDER)
    student.refresh_from_db()
    request = IdCardReissueRequestFactory(student=student)

    # Outside any test transaction: the service's atomic block commits and on_commit queues the job.
    document = document_issue_for_request(doc_type="approval_form", request=request, issued_by=student.user)
    assert document.status == Document.Status.PENDING

    deadline = time.monotonic() + 60
    seen_progress = set()
    while time.monotonic() < deadline:
        document.refresh_from_db()
        seen_progress.add(document.progress)
        if document.status != Document.Status.PENDING:
            break
        assert worker["proc"].poll() is None, worker["log"].read_text(errors="replace")[-4000:]
        time.sleep(0.25)
    log = worker["log"].read_text(errors="replace")
    assert document.status == Document.Status.READY, f"{document.status} {document.error}\n{log[-4000:]}"
    assert document.progress == 100
    assert "registrar.documents.tasks.render_document" in log  # it really went through the worker

    with document.file.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == document.sha256
    reader = PdfReader(io.BytesIO(data))
    assert HOLDER in "".join(page.extract_text() for page in reader.pages)
    fonts = {
        str(f.get_object()["/BaseFont"]).replace("-", "")
        for p in reader.pages
        for f in p["/Resources"]["/Font"].values()
    }
    assert any("NotoSerifCJK" in f for f in fonts), fonts
