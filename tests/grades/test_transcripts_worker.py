"""A route (1) class sealed by Academic Affairs, rendered and merged by a REAL Celery worker over
Redis against the PostgreSQL test database (skipped without them; see
tests/registrar/test_documents_worker.py):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_transcripts .venv/bin/pytest -m worker tests/grades
"""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from grades.models import BATCH_TRANSCRIPT, ClassPrint
from grades.services.transcripts import transcript_batch_file, transcript_batch_seal_class
from registrar.documents.models import Document
from tests.grades.test_transcripts_support import pdf_text, transcript_world
from tests.registrar import test_documents_worker as real_worker

pytestmark = pytest.mark.worker

redis_broker = real_worker.redis_broker  # the suite's Redis broker and real-worker fixtures
worker = real_worker.worker


@pytest.fixture
def tx_world(db):
    return transcript_world()


def test_real_worker_renders_the_class_and_merges_its_print(worker, redis_broker, tx_world):
    w = tx_world
    batch = transcript_batch_file(
        actor=w["student_affairs"], purpose="graduates", language="both", students=w["students"]
    )
    transcript_batch_seal_class(batch=batch, klass=w["klass"], actor=w["secretary"], stage="college_seal")
    # committed (no test transaction): on commit the renders and the class print are queued
    result = transcript_batch_seal_class(
        batch=batch, klass=w["klass"], actor=w["academic_affairs"], stage="academic_affairs_seal"
    )
    cp = result.class_print
    deadline = time.monotonic() + 180
    progress = set()
    while time.monotonic() < deadline:
        cp.refresh_from_db()
        progress.add(cp.progress)
        if cp.status != ClassPrint.Status.PENDING:
            break
        assert worker["proc"].poll() is None, worker["log"].read_text(errors="replace")[-4000:]
        time.sleep(0.25)
    log = worker["log"].read_text(errors="replace")
    assert cp.status == ClassPrint.Status.READY, f"{cp.status} {cp.error}\n{log[-4000:]}"
    assert "grades.transcript_tasks.build_class_print" in log
    assert "registrar.documents.tasks.render_document" in log
    docs = list(Document.objects.filter(chain=BATCH_TRANSCRIPT.code))
    assert len(docs) == 6 and {d.status for d in docs} == {"ready"}
    with cp.file.open("rb") as fh:
        merged = PdfReader(io.BytesIO(fh.read()))
    assert len(merged.pages) == sum(pdf_text(d)[1] for d in docs)
