"""Route (1) transcripts for one class in Chromium: Student Affairs files a batch for the class →
the college teaching secretary applies the college seal → Academic Affairs applies its seal →
every student's transcript is ready and the class PDF downloads.

Assertions are language-independent: the database, data attributes, and data the test made.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from pypdf import PdfReader

from grades.models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint, TranscriptBatch
from registrar.documents.models import Document
from tests.grades.test_transcripts_support import transcript_world

pytestmark = [pytest.mark.browser]


@pytest.fixture
def tx_world(db):
    return transcript_world()


NOTE = "2026届毕业生 — graduates 2026"
COLLEGE_OPINION = "已打印并加盖学院公章"
AA_OPINION = "教务处核验盖章"


def _expect():
    from playwright.sync_api import expect

    return expect


def _path_is(path: str):
    return lambda url: urlsplit(url).path == path


def _seal(page, shot, detail_url: str, klass, stage: str, opinion: str, name: str) -> None:
    expect = _expect()
    page.goto(detail_url)
    section = page.locator(f"#class-{klass.pk}")
    button = section.locator(f'a[data-seal="{stage}"]')
    expect(button).to_be_visible()
    shot(page, f"{name}-batch")
    button.click()
    page.wait_for_url(
        _path_is(
            reverse("grades:transcript_batch_seal", args=[int(detail_url.rstrip("/").split("/")[-1]), klass.pk, stage])
        )
    )
    expect(page.locator("#seal-waiting")).to_contain_text(klass.students.first().name)
    page.locator("main textarea[name=opinion]").fill(opinion)
    shot(page, f"{name}-confirm")
    page.locator("#seal-form button[type=submit]").click()
    page.wait_for_url(_path_is(detail_url), timeout=60_000)
    expect(page.locator(".messages .alert-success")).to_be_visible()
    shot(page, f"{name}-sealed")


def test_route1_batch_for_one_class(open_page, login, shot, tx_world):
    expect = _expect()
    w = tx_world
    klass = w["klass"]
    students = sorted(w["students"], key=lambda s: s.student_number)

    # --- 1. Student Affairs files the batch for the class ---------------------------------------
    page = open_page()
    login(page, w["student_affairs"].username)
    page.goto(reverse("grades:transcript_batches"))
    page.locator("#file-batch").click()
    page.wait_for_url(_path_is(reverse("grades:transcript_batch_new")))
    page.locator("main select[name=purpose]").select_option("graduates")
    page.locator("main select[name=language]").select_option("zh")
    page.locator("main input[name=note]").fill(NOTE)
    page.locator("main select[name=classes]").select_option(str(klass.pk))
    shot(page, "student-affairs-form")
    page.locator("#batch-form button[type=submit]").click()
    batch_detail_prefix = reverse("grades:transcript_batches")
    page.wait_for_url(
        lambda url: (
            urlsplit(url).path.startswith(batch_detail_prefix)
            and urlsplit(url).path.rstrip("/").split("/")[-1].isdigit()
        )
    )
    batch = TranscriptBatch.objects.get()
    detail_url = reverse("grades:transcript_batch_detail", args=[batch.pk])
    assert urlsplit(page.url).path == detail_url
    assert batch.note == NOTE and batch.filed_by == w["student_affairs"]
    assert sorted(batch.requests.values_list("state", flat=True)) == ["college_seal"] * 3
    section = page.locator(f"#class-{klass.pk}")
    expect(section.locator('[data-state="college_seal"] .count')).to_have_text("3")
    expect(section.locator("a[data-seal]")).to_have_count(0)  # Student Affairs does not seal
    shot(page, "student-affairs-filed")

    # --- 2. the college teaching secretary applies the college seal ------------------------------
    page = open_page()
    login(page, w["secretary"].username)
    _seal(page, shot, detail_url, klass, "college_seal", COLLEGE_OPINION, "secretary")
    assert sorted(batch.requests.values_list("state", flat=True)) == ["academic_affairs_seal"] * 3
    assert not Document.objects.exists()  # no transcript before Academic Affairs has sealed
    section = page.locator(f"#class-{klass.pk}")
    expect(section.locator('[data-state="academic_affairs_seal"] .count')).to_have_text("3")
    expect(section.locator("a[data-seal]")).to_have_count(0)

    # --- 3. Academic Affairs applies its seal: documents and the class print ---------------------
    page = open_page()
    login(page, w["academic_affairs"].username)
    _seal(page, shot, detail_url, klass, "academic_affairs_seal", AA_OPINION, "academic-affairs")
    assert sorted(batch.requests.values_list("state", flat=True)) == ["completed"] * 3
    cp = ClassPrint.objects.get(batch=batch, klass=klass)
    section = page.locator(f"#class-{klass.pk}")
    download = section.locator(f"#class-print-download-{klass.pk}")
    if cp.status != ClassPrint.Status.READY:  # still being produced: the page polls and reloads
        expect(download).to_be_visible(timeout=60_000)
    expect(download).to_be_visible()
    docs = Document.objects.filter(
        chain=BATCH_TRANSCRIPT.code, request_id__in=BatchTranscriptRequest.objects.filter(batch=batch).values("pk")
    )
    assert docs.count() == 3 and set(docs.values_list("status", flat=True)) == {"ready"}
    expect(section.locator("a.transcript-link")).to_have_count(3)
    for s in students:
        expect(section.locator(f'tr[data-student="{s.student_number}"] a.transcript-link')).to_have_count(1)
    shot(page, "academic-affairs-ready")

    # a single transcript downloads
    single = page.context.request.get(section.locator("a.transcript-link").first.get_attribute("href"))
    assert single.ok and single.body().startswith(b"%PDF")

    # the class PDF downloads and holds every student's transcript in student-number order
    with page.expect_download() as info:
        download.click()
    data = Path(info.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3  # three one-page transcripts
    for i, s in enumerate(students):
        assert s.name in reader.pages[i].extract_text()
