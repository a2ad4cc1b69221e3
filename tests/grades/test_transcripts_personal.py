"""Route (2), personal transcripts (U5T): the student applies through the generic request UI, the
college teaching secretary prints (the transcript(s) in the chosen language(s), college seal),
then records the hand-over."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from grades.models import PERSONAL_TRANSCRIPT, TranscriptRequest
from registrar.approvals.services import request_act, request_create
from registrar.documents.models import Document
from registrar.documents.types import AUTO_WITHDRAWN_REFUSED, get_doc_type
from registrar.exceptions import ApplicationError
from students.models import Student
from tests.grades.test_transcripts_support import pdf_text, transcript_world


@pytest.fixture
def tx_world(db):
    return transcript_world()


def _apply(client, student, language):
    client.force_login(student.user)
    response = client.post(
        reverse("approvals:create", args=[PERSONAL_TRANSCRIPT.code]),
        {"purpose_kind": "study_abroad", "purpose": "出国留学申请", "language": language, "copies": "2", "submit": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return TranscriptRequest.objects.get(student=student)


def _act(client, user, req, action="approve", opinion="已打印，加盖学院公章"):
    client.force_login(user)
    response = client.post(
        reverse("approvals:act", args=[PERSONAL_TRANSCRIPT.code, req.pk, action]), {"opinion": opinion}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    return req


def test_route2_end_to_end_language_both_gives_two_documents(tx_world, client, django_capture_on_commit_callbacks):
    w = tx_world
    student = w["student"]
    req = _apply(client, student, "both")
    assert req.state == "college_print" and req.copies == 2
    assert not Document.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        req = _act(client, w["secretary"], req)
    assert req.state == "handover"
    docs = Document.objects.filter(chain=PERSONAL_TRANSCRIPT.code, request_id=req.pk).order_by("doc_type")
    assert [d.doc_type for d in docs] == ["transcript", "transcript_en"]
    assert {d.status for d in docs} == {"ready"}
    for d in docs:
        assert [s["code"] for s in d.context["seals"]] == ["college"]  # route (2): the college seal only
    # the purpose: in Chinese the choice and the applicant's words, in English the choice's English label
    with translation.override("zh-hans"):
        assert docs[0].context["purpose"] == f"{TranscriptRequest.Purpose.STUDY_ABROAD.label}（出国留学申请）"
    assert docs[1].context["purpose"] == "Study or exchange abroad"
    zh_text, zh_pages = pdf_text(docs[0])
    en_text, en_pages = pdf_text(docs[1])
    assert student.name in zh_text and "高等数学" in zh_text
    assert student.name in en_text and "Course 01" in en_text and "高等数学" not in en_text
    assert zh_pages == en_pages == 1

    # the student sees both on the request page
    client.force_login(student.user)
    page = client.get(req.get_absolute_url()).content.decode()
    for d in docs:
        assert reverse("documents:download", args=[d.pk]) in page

    req = _act(client, w["secretary"], req, opinion="本人已领取")
    assert req.state == "completed"
    assert Document.objects.filter(chain=PERSONAL_TRANSCRIPT.code).count() == 2  # the hand-over issues nothing more


@pytest.mark.parametrize(("language", "types"), [("zh", ["transcript"]), ("en", ["transcript_en"])])
def test_route2_single_language(tx_world, language, types):
    w = tx_world
    req = request_create(
        chain=PERSONAL_TRANSCRIPT,
        student=w["student"],
        applicant=w["student"].user,
        data={"purpose_kind": "employment", "purpose": "实习", "language": language, "copies": 1},
        submit=True,
    )
    request_act(chain=PERSONAL_TRANSCRIPT, request_id=req.pk, actor=w["secretary"], action="approve")
    assert list(Document.objects.filter(chain=PERSONAL_TRANSCRIPT.code).values_list("doc_type", flat=True)) == types


def test_route2_secretary_of_another_college_cannot_print(tx_world):
    from django.http import Http404

    w = tx_world
    req = request_create(
        chain=PERSONAL_TRANSCRIPT,
        student=w["student"],
        applicant=w["student"].user,
        data={"purpose_kind": "employment", "purpose": "实习", "language": "zh", "copies": 1},
        submit=True,
    )
    with pytest.raises(Http404):
        request_act(chain=PERSONAL_TRANSCRIPT, request_id=req.pk, actor=w["other_secretary"], action="approve")
    assert not Document.objects.exists()


def test_route2_auto_withdrawn_student_is_refused(tx_world):
    w = tx_world
    student = w["student"]
    req = request_create(
        chain=PERSONAL_TRANSCRIPT,
        student=student,
        applicant=student.user,
        data={"purpose_kind": "employment", "purpose": "实习", "language": "both", "copies": 1},
    )
    Student.objects.filter(pk=student.pk).update(
        status=Student.Status.WITHDRAWN, withdrawal_kind=Student.WithdrawalKind.AUTOMATIC
    )
    with pytest.raises(ApplicationError) as exc:
        request_act(chain=PERSONAL_TRANSCRIPT, request_id=req.pk, actor=student.user, action="submit")
    assert str(exc.value.message) == str(
        AUTO_WITHDRAWN_REFUSED % {"type": get_doc_type("transcript").label, "name": student.name}
    )
    req.refresh_from_db()
    assert req.state == "draft"
    assert not Document.objects.exists()
