"""Route (1) transcripts (U5): Student Affairs files a batch, the college teaching secretary seals
class by class, then Academic Affairs; the three-times limit; 自动退学; class prints."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from pypdf import PdfReader

from grades.models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint, TranscriptBatch
from grades.services.transcripts import (
    BATCH_ALREADY_OPEN,
    BATCH_LIMIT_REACHED,
    BATCH_REFUSED,
    SEAL_NOTHING_WAITING,
    class_print_build,
    route1_count,
    transcript_batch_file,
    transcript_batch_seal_class,
)
from registrar.approvals.models import SignOff
from registrar.approvals.services import request_act
from registrar.documents.models import Document
from registrar.documents.types import AUTO_WITHDRAWN_REFUSED, get_doc_type
from registrar.exceptions import ApplicationError
from students.models import Student
from tests.factories import StudentFactory
from tests.grades.test_transcripts_support import build_record, pdf_text, transcript_world


@pytest.fixture
def tx_world(db):
    return transcript_world()


def _file(w, students, language="zh"):
    return transcript_batch_file(
        actor=w["student_affairs"],
        purpose=TranscriptBatch.Purpose.GRADUATES,
        language=language,
        note="2026届毕业生",
        students=students,
    )


def _seal(w, batch, stage, klass=None, actor=None):
    actor = actor or (w["secretary"] if stage == "college_seal" else w["academic_affairs"])
    return transcript_batch_seal_class(batch=batch, klass=klass or w["klass"], actor=actor, stage=stage, opinion="同意")


def _complete_batch(w, students, language="zh"):
    batch = _file(w, students, language)
    _seal(w, batch, "college_seal")
    _seal(w, batch, "academic_affairs_seal")
    return batch


def _written():
    return (
        TranscriptBatch.objects.count(),
        BatchTranscriptRequest.objects.count(),
        SignOff.objects.count(),
        Document.objects.count(),
    )


def _auto_withdraw(student):
    Student.objects.filter(pk=student.pk).update(
        status=Student.Status.WITHDRAWN, withdrawal_kind=Student.WithdrawalKind.AUTOMATIC
    )
    student.refresh_from_db()


# --- filing ---------------------------------------------------------------------------------
def test_filing_creates_the_batch_and_one_submitted_request_per_student(tx_world):
    w = tx_world
    batch = _file(w, w["students"] + w["other_students"])
    requests = list(batch.requests.select_related("student"))
    assert len(requests) == 5
    assert {r.state for r in requests} == {"college_seal"}
    assert {r.applicant_id for r in requests} == {w["student_affairs"].pk}
    assert SignOff.objects.filter(chain=BATCH_TRANSCRIPT.code, decision="submit").count() == 5
    assert not Document.objects.exists()  # nothing is issued before the seals


def test_fourth_route1_transcript_is_refused_with_the_limit_and_nothing_written(tx_world, settings):
    w = tx_world
    student = w["student"]
    for _ in range(3):
        _complete_batch(w, [student])
    assert route1_count(student) == 3
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        _file(w, w["students"])  # the whole class, of which one has had three already
    message = str(exc.value.message)
    expected = str(
        BATCH_LIMIT_REACHED
        % {
            "name": student.name,
            "number": student.student_number,
            "count": 3,
            "limit": settings.REGISTRAR["GRADES"]["BATCH_TRANSCRIPT_LIMIT"],
        }
    )
    assert expected in message
    assert str(BATCH_REFUSED % {"problems": expected}) == message
    assert student.name in message and "3" in message
    assert exc.value.extra["problems"] == [expected]
    assert _written() == before  # not even the two other students' requests


def test_every_student_over_the_limit_is_listed(tx_world):
    w = tx_world
    first, second, third = w["students"]
    for _ in range(3):
        _complete_batch(w, [first, second])
    with pytest.raises(ApplicationError) as exc:
        _file(w, [first, second, third])
    problems = exc.value.extra["problems"]
    assert len(problems) == 2
    assert first.name in problems[0] and second.name in problems[1]
    assert third.name not in str(exc.value.message)


def test_returned_and_withdrawn_requests_do_not_count(tx_world):
    w = tx_world
    student = w["student"]
    for _ in range(2):
        _complete_batch(w, [student])
    batch = _file(w, [student])
    req = batch.requests.get()
    request_act(chain=req.chain, request_id=req.pk, actor=w["secretary"], action="reject", opinion="信息有误")
    assert route1_count(student) == 2  # the returned one does not count
    request_act(chain=req.chain, request_id=req.pk, actor=w["student_affairs"], action="withdraw")
    assert route1_count(student) == 2
    _complete_batch(w, [student])  # the third is still allowed
    assert route1_count(student) == 3


def test_an_open_request_blocks_a_second_batch_and_resubmission_checks_the_limit(tx_world, settings):
    w = tx_world
    student = w["student"]
    _complete_batch(w, [student])
    batch = _file(w, [student])
    req = batch.requests.get()
    request_act(chain=req.chain, request_id=req.pk, actor=w["secretary"], action="reject", opinion="补充材料")
    with pytest.raises(ApplicationError) as exc:  # the returned request is still open
        _file(w, [student])
    assert str(BATCH_ALREADY_OPEN % {"name": student.name, "number": student.student_number, "batch": batch.pk}) in str(
        exc.value.message
    )
    settings.REGISTRAR = {**settings.REGISTRAR, "GRADES": {**settings.REGISTRAR["GRADES"], "BATCH_TRANSCRIPT_LIMIT": 1}}
    with pytest.raises(ApplicationError) as exc:  # resubmitting runs the chain's validation again
        request_act(chain=req.chain, request_id=req.pk, actor=w["student_affairs"], action="submit")
    assert str(exc.value.message) == str(
        BATCH_LIMIT_REACHED % {"name": student.name, "number": student.student_number, "count": 1, "limit": 1}
    )
    req.refresh_from_db()
    assert req.state == "returned"


def test_auto_withdrawn_student_is_refused_at_filing_and_gets_nothing(tx_world):
    w = tx_world
    banned = w["students"][1]
    _auto_withdraw(banned)
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        _file(w, w["students"])
    reason = str(AUTO_WITHDRAWN_REFUSED % {"type": get_doc_type("transcript").label, "name": banned.name})
    assert reason in str(exc.value.message)
    assert banned.student_number in str(exc.value.message)
    assert len(exc.value.extra["problems"]) == 1
    assert _written() == before
    assert not Document.objects.filter(student=banned).exists()


def test_student_withdrawn_automatically_after_filing_is_returned_at_the_seal_and_gets_nothing(
    tx_world, django_capture_on_commit_callbacks
):
    w = tx_world
    banned = w["students"][2]
    batch = _file(w, w["students"])
    _seal(w, batch, "college_seal")
    _auto_withdraw(banned)
    with django_capture_on_commit_callbacks(execute=True):
        result = _seal(w, batch, "academic_affairs_seal")
    assert result.sealed == 2
    assert len(result.refused) == 1 and banned.name in result.refused[0]
    req = batch.requests.get(student=banned)
    assert req.state == "returned"
    assert "自动退学" in req.return_reason
    assert not Document.objects.filter(student=banned).exists()
    assert Document.objects.filter(chain=BATCH_TRANSCRIPT.code, doc_type="transcript").count() == 2


# --- sealing class by class -----------------------------------------------------------------
def test_route1_end_to_end_documents_only_after_the_academic_affairs_seal(tx_world, django_capture_on_commit_callbacks):
    w = tx_world
    batch = _file(w, w["students"] + w["other_students"])
    with django_capture_on_commit_callbacks(execute=True):
        result = _seal(w, batch, "college_seal")
    assert result.sealed == 3
    states = dict(batch.requests.values_list("student_id", "state"))
    assert {states[s.pk] for s in w["students"]} == {"academic_affairs_seal"}
    assert {states[s.pk] for s in w["other_students"]} == {"college_seal"}  # other class untouched
    assert not Document.objects.exists()
    assert not ClassPrint.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        result = _seal(w, batch, "academic_affairs_seal")
    assert result.sealed == 3
    completed = batch.requests.filter(student__klass=w["klass"])
    assert {r.state for r in completed} == {"completed"}
    docs = Document.objects.filter(chain=BATCH_TRANSCRIPT.code, request_id__in=[r.pk for r in completed])
    assert docs.count() == 3
    assert {d.doc_type for d in docs} == {"transcript"}
    assert {d.status for d in docs} == {"ready"}
    for d in docs:
        assert [s["code"] for s in d.context["seals"]] == ["college", "academic_affairs"]
        assert d.context["route"] == "batch"
    # the signers of each stage are on record
    signoffs = SignOff.objects.filter(chain=BATCH_TRANSCRIPT.code, decision="approve")
    assert set(signoffs.values_list("stage", "actor_id")) == {
        ("college_seal", w["secretary"].pk),
        ("academic_affairs_seal", w["academic_affairs"].pk),
    }
    # and the class print was produced from the three documents
    cp = ClassPrint.objects.get(batch=batch, klass=w["klass"])
    assert cp.status == ClassPrint.Status.READY and cp.progress == 100


def test_language_both_issues_chinese_and_english(tx_world, django_capture_on_commit_callbacks):
    w = tx_world
    batch = _file(w, w["students"][:1], language="both")
    _seal(w, batch, "college_seal")
    with django_capture_on_commit_callbacks(execute=True):
        _seal(w, batch, "academic_affairs_seal")
    docs = Document.objects.filter(chain=BATCH_TRANSCRIPT.code)
    assert sorted(docs.values_list("doc_type", flat=True)) == ["transcript", "transcript_en"]
    en = docs.get(doc_type="transcript_en")
    text, _pages = pdf_text(en)
    assert "ACADEMIC TRANSCRIPT" in text and "Course 01" in text
    assert en.context["purpose"] == "Graduates"


def test_class_print_merges_every_page_of_the_class(tx_world, django_capture_on_commit_callbacks):
    w = tx_world
    extra = [StudentFactory(klass=w["klass"]) for _ in range(2)]
    build_record(extra, courses=60, terms=8, first_course_name="数据结构")  # longer records: more pages
    batch = _file(w, w["students"] + extra, language="both")
    _seal(w, batch, "college_seal")
    with django_capture_on_commit_callbacks(execute=True):
        result = _seal(w, batch, "academic_affairs_seal")
    cp = result.class_print
    cp.refresh_from_db()
    assert cp.status == ClassPrint.Status.READY, cp.error
    docs = Document.objects.filter(chain=BATCH_TRANSCRIPT.code)
    assert docs.count() == 10  # five students × two languages
    expected_pages = sum(pdf_text(d)[1] for d in docs)
    with cp.file.open("rb") as fh:
        merged = PdfReader(io.BytesIO(fh.read()))
    assert len(merged.pages) == expected_pages
    first = merged.pages[0].extract_text()
    ordered = sorted(w["students"] + extra, key=lambda s: s.student_number)
    assert ordered[0].name in first  # student-number order, Chinese first
    assert ordered[-1].name in merged.pages[-1].extract_text()


def test_class_print_waits_for_documents_then_renders_missing_ones(tx_world):
    """Without the on-commit rendering (a broker that is down): the build reports progress and
    waits; asked to render what is missing, it renders and merges."""
    w = tx_world
    batch = _file(w, w["students"])
    _seal(w, batch, "college_seal")
    result = _seal(w, batch, "academic_affairs_seal")  # on_commit callbacks not run: documents pending
    cp = class_print_build(class_print_id=result.class_print.pk)
    assert cp.status == ClassPrint.Status.PENDING and cp.progress == 0
    cp = class_print_build(class_print_id=cp.pk, render_missing=True)
    assert cp.status == ClassPrint.Status.READY
    assert set(Document.objects.values_list("status", flat=True)) == {"ready"}


def test_secretary_of_another_college_gets_404_and_wrong_roles_403(tx_world):
    w = tx_world
    batch = _file(w, w["students"])
    before = _written()
    with pytest.raises(Http404):
        _seal(w, batch, "college_seal", actor=w["other_secretary"])
    with pytest.raises(PermissionDenied):  # Academic Affairs may not apply the college seal
        _seal(w, batch, "college_seal", actor=w["academic_affairs"])
    with pytest.raises(PermissionDenied):
        _seal(w, batch, "college_seal", actor=w["student_affairs"])
    with pytest.raises(Http404):  # an instructor never sees batches
        _seal(w, batch, "college_seal", actor=w["instructor"])
    assert _written() == before
    _seal(w, batch, "college_seal")
    with pytest.raises(PermissionDenied):  # the secretary may not apply the Academic Affairs seal
        _seal(w, batch, "academic_affairs_seal", actor=w["secretary"])


def test_class_not_at_the_stage_is_refused_clearly(tx_world):
    w = tx_world
    batch = _file(w, w["students"])
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        _seal(w, batch, "academic_affairs_seal")  # the college has not sealed yet
    assert str(exc.value.message) == str(
        SEAL_NOTHING_WAITING
        % {"klass": w["klass"].name, "stage": batch.requests.first().chain.state_label("academic_affairs_seal")}
    )
    assert _written() == before


def test_only_student_affairs_files_batches(tx_world):
    w = tx_world
    with pytest.raises(PermissionDenied):
        transcript_batch_file(actor=w["secretary"], purpose="graduates", language="zh", students=w["students"])
    assert not TranscriptBatch.objects.exists()


def test_empty_batch_is_refused(tx_world):
    with pytest.raises(ApplicationError):
        _file(tx_world, [])
    assert not TranscriptBatch.objects.exists()
