"""C8: each graduate's transcript prints in two copies, one archived by the college, one handed to
the student work office."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from grades.models import GraduateTranscriptCopy
from grades.services.transcripts import graduate_transcripts_print
from registrar.documents.models import Document
from registrar.exceptions import ApplicationError
from students.models import Student
from tests.grades.test_transcripts_support import transcript_world


@pytest.fixture
def tx_world(db):
    return transcript_world()


def test_two_documents_and_two_copies_per_graduate(tx_world, django_capture_on_commit_callbacks):
    w = tx_world
    with django_capture_on_commit_callbacks(execute=True):
        copies = graduate_transcripts_print(students=w["students"], actor=w["secretary"])
    assert len(copies) == 6
    for student in w["students"]:
        rows = GraduateTranscriptCopy.objects.filter(student=student)
        assert sorted(rows.values_list("destination", flat=True)) == ["archive", "student_work_office"]
        docs = Document.objects.filter(pk__in=rows.values("document_id"))
        assert docs.count() == 2 and len({d.serial for d in docs}) == 2  # two numbered, verifiable documents
        assert {d.doc_type for d in docs} == {"transcript"}
        assert {d.status for d in docs} == {"ready"}
        assert {d.context["copy"] for d in docs} == {"archive", "student_work_office"}
        assert all([s["code"] for s in d.context["seals"]] == ["college"] for d in docs)
    assert set(GraduateTranscriptCopy.objects.values_list("recorded_by", flat=True)) == {w["secretary"].pk}


def test_out_of_scope_and_wrong_role_write_nothing(tx_world):
    w = tx_world
    with pytest.raises(Http404):
        graduate_transcripts_print(students=w["students"], actor=w["other_secretary"])
    with pytest.raises(PermissionDenied):
        graduate_transcripts_print(students=w["students"], actor=w["student_affairs"])
    assert not Document.objects.exists() and not GraduateTranscriptCopy.objects.exists()


def test_auto_withdrawn_graduate_refuses_the_print_listing_them(tx_world):
    w = tx_world
    banned = w["students"][1]
    Student.objects.filter(pk=banned.pk).update(
        status=Student.Status.WITHDRAWN, withdrawal_kind=Student.WithdrawalKind.AUTOMATIC
    )
    with pytest.raises(ApplicationError) as exc:
        graduate_transcripts_print(students=Student.objects.filter(klass=w["klass"]), actor=w["academic_affairs"])
    assert exc.value.extra["problems"] and banned.name in exc.value.extra["problems"][0]
    assert not Document.objects.exists() and not GraduateTranscriptCopy.objects.exists()


def test_graduate_copies_page_prints_a_class(tx_world, client, django_capture_on_commit_callbacks):
    w = tx_world
    client.force_login(w["secretary"])
    url = reverse("grades:graduate_copies")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"classes": [w["klass"].pk]})
    assert response.status_code == 302
    assert GraduateTranscriptCopy.objects.count() == 6
    page = client.get(url).content.decode()
    for copy in GraduateTranscriptCopy.objects.select_related("document"):
        assert copy.document.serial in page
    # another college's secretary sees none of them, and cannot pick this class
    client.force_login(w["other_secretary"])
    page = client.get(url).content.decode()
    assert not any(c.document.serial in page for c in GraduateTranscriptCopy.objects.select_related("document"))
    response = client.post(url, {"classes": [w["klass"].pk]})
    assert response.status_code == 400
    assert GraduateTranscriptCopy.objects.count() == 6
    client.force_login(w["student_affairs"])
    assert client.get(url).status_code == 403
