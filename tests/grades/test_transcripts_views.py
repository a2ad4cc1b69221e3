"""The route (1) pages: who sees what (403 wrong role, 404 out of scope), filing by class and by
pasted numbers, sealing from the batch page, class print status and download."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grades.models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint, TranscriptBatch
from grades.services.transcripts import transcript_batch_file, transcript_batch_seal_class
from registrar.documents.models import Document
from tests.factories import StudentFactory
from tests.grades.test_transcripts_support import transcript_world


@pytest.fixture
def tx_world(db):
    return transcript_world()


@pytest.fixture
def batch(tx_world):
    w = tx_world
    return transcript_batch_file(
        actor=w["student_affairs"], purpose="job_fair", language="zh", note="春季招聘会", students=w["students"]
    )


def _user(w, who):
    return None if who == "anonymous" else (w["student"].user if who == "student" else w[who])


WHO = ["student_affairs", "academic_affairs", "secretary", "other_secretary", "instructor", "student", "anonymous"]


@pytest.mark.parametrize(
    ("who", "list_", "new", "detail", "seal_college", "seal_aa"),
    [
        ("student_affairs", 200, 200, 200, 403, 403),
        ("academic_affairs", 200, 403, 200, 403, 200),
        ("secretary", 200, 403, 200, 200, 403),
        ("other_secretary", 200, 403, 404, 404, 404),
        ("instructor", 403, 403, 403, 403, 403),
        ("student", 403, 403, 403, 403, 403),
        ("anonymous", 302, 302, 302, 302, 302),
    ],
)
def test_permission_matrix(tx_world, batch, client, who, list_, new, detail, seal_college, seal_aa):
    w = tx_world
    user = _user(w, who)
    if user is not None:
        client.force_login(user)
    k = w["klass"].pk
    assert client.get(reverse("grades:transcript_batches")).status_code == list_
    assert client.get(reverse("grades:transcript_batch_new")).status_code == new
    assert client.get(reverse("grades:transcript_batch_detail", args=[batch.pk])).status_code == detail
    seal = reverse("grades:transcript_batch_seal", args=[batch.pk, k, "college_seal"])
    assert client.get(seal).status_code == seal_college
    seal_aa_url = reverse("grades:transcript_batch_seal", args=[batch.pk, k, "academic_affairs_seal"])
    assert client.get(seal_aa_url).status_code == seal_aa
    # POSTs answer the same and change nothing
    before = list(BatchTranscriptRequest.objects.values_list("pk", "state"))
    if seal_college != 200:
        assert client.post(seal, {"opinion": "x"}).status_code == seal_college
    assert list(BatchTranscriptRequest.objects.values_list("pk", "state")) == before


def test_unknown_stage_is_404(tx_world, batch, client):
    client.force_login(tx_world["secretary"])
    url = reverse("grades:transcript_batch_seal", args=[batch.pk, tx_world["klass"].pk, "handover"])
    assert client.get(url).status_code == 404


def test_other_college_secretary_does_not_see_the_batch_in_the_list(tx_world, batch, client):
    w = tx_world
    client.force_login(w["other_secretary"])
    page = client.get(reverse("grades:transcript_batches")).content.decode()
    assert f'data-batch="{batch.pk}"' not in page
    client.force_login(w["secretary"])
    page = client.get(reverse("grades:transcript_batches")).content.decode()
    assert f'data-batch="{batch.pk}"' in page


def test_list_search_and_pagination(tx_world, client):
    w = tx_world
    for i in range(23):
        TranscriptBatch.objects.create(
            purpose="graduates", language="zh", note=f"批次{i}", filed_by=w["student_affairs"]
        )
    transcript_batch_file(
        actor=w["student_affairs"], purpose="graduates", language="zh", note="特别", students=w["students"][:1]
    )
    client.force_login(w["student_affairs"])
    url = reverse("grades:transcript_batches")
    page1 = client.get(url)
    assert len(page1.context["page_obj"].object_list) == 20 and page1.context["page_obj"].paginator.count == 24
    assert client.get(url, {"page": 2}).context["page_obj"].object_list.__len__() == 4
    found = client.get(url, {"q": w["students"][0].student_number}).context["page_obj"].object_list
    assert [b.note for b in found] == ["特别"]


def test_file_a_batch_by_class_and_pasted_numbers(tx_world, client):
    w = tx_world
    extra = w["other_students"][0]
    client.force_login(w["student_affairs"])
    response = client.post(
        reverse("grades:transcript_batch_new"),
        {
            "purpose": "graduates",
            "language": "both",
            "note": "2026届",
            "classes": [w["klass"].pk],
            "student_numbers": f"{extra.student_number}\n{w['student'].student_number}",
        },
    )
    batch = TranscriptBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "grades:transcript_batch_detail", args=[batch.pk]
    )
    assert batch.language == "both" and batch.filed_by == w["student_affairs"]
    assert set(batch.requests.values_list("student_id", flat=True)) == {s.pk for s in w["students"]} | {extra.pk}


def test_filing_form_reports_unknown_numbers_and_refused_students(tx_world, client, settings):
    w = tx_world
    client.force_login(w["student_affairs"])
    url = reverse("grades:transcript_batch_new")
    response = client.post(url, {"purpose": "graduates", "language": "zh", "student_numbers": "99999999 x1"})
    assert response.status_code == 400
    assert "99999999" in response.content.decode()
    settings.REGISTRAR = {**settings.REGISTRAR, "GRADES": {**settings.REGISTRAR["GRADES"], "BATCH_TRANSCRIPT_LIMIT": 0}}
    response = client.post(url, {"purpose": "graduates", "language": "zh", "classes": [w["klass"].pk]})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="batch-problems"' in page
    for s in w["students"]:
        assert s.name in page
    assert not TranscriptBatch.objects.exists()


def test_withdrawn_students_of_a_class_are_left_out_of_a_class_pick(tx_world, client):
    from students.models import Student

    w = tx_world
    gone = StudentFactory(
        klass=w["klass"], status=Student.Status.WITHDRAWN, withdrawal_kind=Student.WithdrawalKind.AUTOMATIC
    )
    client.force_login(w["student_affairs"])
    client.post(
        reverse("grades:transcript_batch_new"), {"purpose": "graduates", "language": "zh", "classes": [w["klass"].pk]}
    )
    batch = TranscriptBatch.objects.get()
    assert gone.pk not in set(batch.requests.values_list("student_id", flat=True))


def test_seal_from_the_page_then_download_the_class_print(tx_world, batch, client, django_capture_on_commit_callbacks):
    w = tx_world
    k = w["klass"]
    detail = reverse("grades:transcript_batch_detail", args=[batch.pk])
    client.force_login(w["secretary"])
    page = client.get(detail).content.decode()
    assert 'data-seal="college_seal"' in page and 'data-seal="academic_affairs_seal"' not in page
    response = client.post(
        reverse("grades:transcript_batch_seal", args=[batch.pk, k.pk, "college_seal"]), {"opinion": "已打印盖章"}
    )
    assert response.status_code == 302
    assert set(batch.requests.values_list("state", flat=True)) == {"academic_affairs_seal"}
    page = client.get(detail).content.decode()
    assert 'data-seal="college_seal"' not in page  # nothing left for the college

    client.force_login(w["academic_affairs"])
    page = client.get(detail).content.decode()
    assert 'data-seal="academic_affairs_seal"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("grades:transcript_batch_seal", args=[batch.pk, k.pk, "academic_affairs_seal"]), {"opinion": ""}
        )
    assert response.status_code == 302
    cp = ClassPrint.objects.get(batch=batch, klass=k)
    assert cp.status == "ready"
    page = client.get(detail).content.decode()
    for d in Document.objects.filter(chain=BATCH_TRANSCRIPT.code):
        assert reverse("documents:download", args=[d.pk]) in page
    download = reverse("grades:transcript_class_print_download", args=[cp.pk])
    assert download in page
    status = client.get(reverse("grades:transcript_class_print", args=[cp.pk])).json()
    assert status["ready"] and status["download_url"] == download
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # another college's secretary: the class print does not exist
    client.force_login(w["other_secretary"])
    assert client.get(download).status_code == 404
    assert client.get(reverse("grades:transcript_class_print", args=[cp.pk])).status_code == 404


def test_sealing_twice_says_nothing_is_waiting(tx_world, batch, client):
    w = tx_world
    url = reverse("grades:transcript_batch_seal", args=[batch.pk, w["klass"].pk, "college_seal"])
    client.force_login(w["secretary"])
    client.post(url, {"opinion": ""})
    signed = batch.requests.filter(state="academic_affairs_seal").count()
    response = client.post(url, {"opinion": ""}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(w["klass"].name in m for m in messages)
    assert batch.requests.filter(state="academic_affairs_seal").count() == signed == 3


def test_detail_search_filters_classes(tx_world, client):
    w = tx_world
    b = transcript_batch_file(
        actor=w["student_affairs"], purpose="graduates", language="zh", students=w["students"] + w["other_students"]
    )
    client.force_login(w["academic_affairs"])
    url = reverse("grades:transcript_batch_detail", args=[b.pk])
    rows = client.get(url).context["page_obj"].object_list
    assert {r.klass.pk for r in rows} == {w["klass"].pk, w["other_class"].pk}
    rows = client.get(url, {"q": w["other_students"][0].student_number}).context["page_obj"].object_list
    assert [r.klass.pk for r in rows] == [w["other_class"].pk]
    transcript_batch_seal_class(batch=b, klass=w["klass"], actor=w["secretary"], stage="college_seal")
    row = next(r for r in client.get(url).context["page_obj"].object_list if r.klass.pk == w["klass"].pk)
    assert row.counts == {"academic_affairs_seal": 3} and row.can_seal_academic_affairs
