"""Transcript certificates (U5) and graduates' transcript copies (C8).

Route (2), personal — chain U5T (``TranscriptRequest``): the student applies through the generic
request UI; when the college teaching secretary passes ``college_print``, ``personal_transcript_issue``
issues the language(s) asked for (``transcript`` and/or ``transcript_en``, college seal); the
secretary then records the hand-over.

Route (1), batch — ``TranscriptBatch`` + chain U5B (``BatchTranscriptRequest``, one per student):
Student Affairs files the batch (``transcript_batch_file``), the college teaching secretary seals
it class by class (``transcript_batch_seal_class`` at ``college_seal``), then Academic Affairs
(``academic_affairs_seal``): the requests complete, ``batch_transcript_issue`` issues the
documents bearing both seals, and a ``ClassPrint`` (one PDF per class) is produced in Celery.

The three-times rule (``BATCH_TRANSCRIPT_LIMIT``): a student's route (1) transcripts are their
U5B requests that were submitted and neither withdrawn nor returned — in progress or completed.
A returned (rejected) or withdrawn request produced no transcript, so it does not count; a
request in progress does, since it ends with a transcript.

C8 — ``graduate_transcripts_print``: two transcripts per graduate, recorded as
``GraduateTranscriptCopy`` rows (one archived by the college, one to the student work office).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import COMPLETED, DRAFT, RETURNED, WITHDRAWN
from registrar.approvals.permissions import grants
from registrar.approvals.services import request_act, request_create, requests_batch_approve
from registrar.documents.models import Document
from registrar.documents.types import get_doc_type
from registrar.exceptions import ApplicationError
from registrar.roles import Role, Scope

from ..documents import ROUTE_GRADUATE, SEAL_COLLEGE, TRANSCRIPT, TRANSCRIPT_EN, transcript_snapshot
from ..models import (
    BATCH_TRANSCRIPT,
    BatchTranscriptRequest,
    ClassPrint,
    GraduateTranscriptCopy,
    TranscriptBatch,
    TranscriptLanguage,
    grade_settings,
)
from ..models.transcripts import SEAL_STAGES
from ..permissions import BATCH_VIEWER_ROLES, college_roles

logger = logging.getLogger(__name__)

BATCH_LIMIT_REACHED = _(
    "%(name)s (%(number)s) has already obtained transcripts by route (1) %(count)s times; "
    "a student may use this route at most %(limit)s times."
)
BATCH_ALREADY_OPEN = _("%(name)s (%(number)s) already has a route (1) transcript in progress (batch #%(batch)s).")
BATCH_NO_STUDENTS = _("Choose at least one student: a class or a list of student numbers.")
BATCH_REFUSED = _("The batch was not filed and nothing was written: %(problems)s")
BATCH_ONLY_STUDENT_AFFAIRS = _("Only the Student Affairs Office files route (1) transcript batches.")
STUDENT_REFUSED = _("%(name)s (%(number)s): %(reason)s")
SEAL_UNKNOWN_STAGE = _("“%(stage)s” is not a sealing step of a transcript batch.")
SEAL_NOTHING_WAITING = _("No transcript of class %(klass)s in this batch is waiting for “%(stage)s”.")
SEAL_REFUSED_OPINION = _("Refused by the document rules: %(reason)s")
CLASS_PRINT_NO_DOCUMENTS = _("No transcript of this class is ready to print.")
CLASS_PRINT_FAILED_DOCUMENTS = _("These transcripts could not be produced: %(serials)s.")
GRADUATE_NO_STUDENTS = _("Choose at least one graduate: a class or a list of student numbers.")
GRADUATE_REFUSED = _("Nothing was printed: %(problems)s")
GRADUATE_ROLE_REQUIRED = _(
    "Graduates' transcript copies are printed by the college teaching secretary or Academic Affairs."
)

#: states in which a U5B request counts towards the limit: submitted and not withdrawn or returned
NOT_COUNTED_STATES = (DRAFT, WITHDRAWN, RETURNED)


def doc_types_for(language: str) -> tuple[str, ...]:
    return {
        TranscriptLanguage.ZH: (TRANSCRIPT,),
        TranscriptLanguage.EN: (TRANSCRIPT_EN,),
        TranscriptLanguage.BOTH: (TRANSCRIPT, TRANSCRIPT_EN),
    }.get(language, (TRANSCRIPT,))


def _label(student) -> dict:
    return {"name": student.name, "number": student.student_number}


def pipeline_refusal(student, language: str) -> str | None:
    """The document pipeline's refusal (e.g. 自动退学) for ``student``'s transcripts, if any."""
    for code in doc_types_for(language):
        try:
            get_doc_type(code).check(student)
        except ApplicationError as exc:
            return force_str(exc.message)
    return None


# --- route (2), personal ------------------------------------------------------------------------
def personal_transcript_validate(*, request) -> None:
    """U5T ``validate``: refuse on submission what the pipeline would refuse at printing (自动退学)."""
    reason = pipeline_refusal(request.student, request.language)
    if reason:
        raise ApplicationError(reason)


def personal_transcript_issue(*, request, actor) -> list[Document]:
    """U5T ``on_pass`` of ``college_print``: issue the transcript(s) in the language(s) asked for."""
    from registrar.documents.services import document_issue_for_request

    return [
        document_issue_for_request(doc_type=code, request=request, issued_by=actor)
        for code in doc_types_for(request.language)
    ]


# --- route (1), batch ---------------------------------------------------------------------------
def route1_count(student, *, exclude_pk: int | None = None) -> int:
    """How many route (1) transcripts ``student`` has obtained or is obtaining (see module doc)."""
    qs = BatchTranscriptRequest.objects.filter(student=student).exclude(state__in=NOT_COUNTED_STATES)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.count()


def _limit() -> int:
    return int(grade_settings()["BATCH_TRANSCRIPT_LIMIT"])


def _limit_problem(student, *, exclude_pk: int | None = None) -> str | None:
    count = route1_count(student, exclude_pk=exclude_pk)
    if count >= _limit():
        return force_str(BATCH_LIMIT_REACHED % {**_label(student), "count": count, "limit": _limit()})
    return None


def batch_transcript_validate(*, request) -> None:
    """U5B ``validate`` (on submission): the pipeline's rules and the three-times limit."""
    reason = pipeline_refusal(request.student, request.batch.language)
    if reason:
        raise ApplicationError(STUDENT_REFUSED % {**_label(request.student), "reason": reason})
    problem = _limit_problem(request.student, exclude_pk=request.pk)
    if problem:
        raise ApplicationError(problem)


def batch_problems(students, language: str) -> list[str]:
    """Every reason a student of a would-be batch cannot be in it (nothing is written here)."""
    problems = []
    open_by_student = dict(
        BatchTranscriptRequest.objects.filter(student__in=[s.pk for s in students])
        .exclude(state__in=(COMPLETED, WITHDRAWN))
        .values_list("student_id", "batch_id")
    )
    for student in students:
        reason = pipeline_refusal(student, language)
        if reason:
            problems.append(force_str(STUDENT_REFUSED % {**_label(student), "reason": reason}))
            continue
        if student.pk in open_by_student:
            problems.append(force_str(BATCH_ALREADY_OPEN % {**_label(student), "batch": open_by_student[student.pk]}))
            continue
        problem = _limit_problem(student)
        if problem:
            problems.append(problem)
    return problems


def _is_student_affairs(user) -> bool:
    return any(g.role == Role.STUDENT_AFFAIRS and g.scope == Scope.UNIVERSITY for g in grants(user))


@transaction.atomic
def transcript_batch_file(*, actor, purpose: str, language: str, note: str = "", students) -> TranscriptBatch:
    """Student Affairs files a route (1) batch: the batch and one submitted U5B request per student,
    all in one transaction. Any student who may not have one refuses the whole filing, listing
    every such student; nothing is written."""
    if not _is_student_affairs(actor):
        raise PermissionDenied(BATCH_ONLY_STUDENT_AFFAIRS)
    unique = list({s.pk: s for s in students}.values())
    if not unique:
        raise ApplicationError(BATCH_NO_STUDENTS)
    problems = batch_problems(unique, language)
    if problems:
        raise ApplicationError(BATCH_REFUSED % {"problems": "；".join(problems)}, extra={"problems": problems})
    batch = TranscriptBatch(purpose=purpose, language=language, note=note or "", filed_by=actor)
    batch.full_clean()
    batch.save()
    for student in sorted(unique, key=lambda s: (s.klass_id, s.student_number)):
        request_create(chain=BATCH_TRANSCRIPT, student=student, applicant=actor, data={"batch": batch}, submit=True)
    return batch


def batch_transcript_issue(*, request, actor) -> list[Document]:
    """U5B ``on_pass`` of ``academic_affairs_seal``: issue the batch's language(s) with both seals."""
    from registrar.documents.services import document_issue_for_request

    return [
        document_issue_for_request(doc_type=code, request=request, issued_by=actor)
        for code in doc_types_for(request.batch.language)
    ]


@dataclass
class SealResult:
    sealed: int = 0
    refused: list[str] = field(default_factory=list)
    class_print: ClassPrint | None = None


def seal_scope_check(*, actor, klass, stage: str) -> None:
    """404 outside the actor's scope (another college's secretary), 403 for a role that does not
    sign ``stage`` (Student Affairs, Academic Affairs at the college seal, …)."""
    if stage not in SEAL_STAGES:
        raise ApplicationError(SEAL_UNKNOWN_STAGE % {"stage": stage})
    roles = college_roles(actor, klass.college_id)
    if not roles & BATCH_VIEWER_ROLES:
        raise Http404
    if not roles & set(BATCH_TRANSCRIPT.signers(stage)):
        raise PermissionDenied


@transaction.atomic
def transcript_batch_seal_class(*, batch: TranscriptBatch, klass, actor, stage: str, opinion: str = "") -> SealResult:
    """Seal every request of ``klass`` in ``batch`` waiting at ``stage`` (approve, one transaction).

    A student the document rules now refuse (withdrawn automatically since the filing) is
    returned to Student Affairs with the reason instead, and gets no document. After the
    Academic Affairs seal the class's print (one merged PDF) is queued.
    """
    seal_scope_check(actor=actor, klass=klass, stage=stage)
    requests = list(
        BatchTranscriptRequest.objects.select_for_update(of=("self",))
        .filter(batch=batch, student__klass=klass, state=stage)
        .select_related("student")
        .order_by("student__student_number")
    )
    if not requests:
        raise ApplicationError(
            SEAL_NOTHING_WAITING % {"klass": klass.name, "stage": BATCH_TRANSCRIPT.state_label(stage)}
        )
    result = SealResult()
    approvable = []
    for req in requests:
        reason = pipeline_refusal(req.student, batch.language)
        if reason:
            request_act(
                chain=BATCH_TRANSCRIPT,
                request_id=req.pk,
                actor=actor,
                action="reject",
                opinion=force_str(SEAL_REFUSED_OPINION % {"reason": reason}),
            )
            result.refused.append(force_str(STUDENT_REFUSED % {**_label(req.student), "reason": reason}))
            continue
        approvable.append(req)
    if approvable:
        # the kernel's batch approval: one sign-off per student, sharing the batch's id; a student
        # the kernel refuses is listed with its reason and the others are sealed
        outcome = requests_batch_approve(
            chain=BATCH_TRANSCRIPT, ids=[r.pk for r in approvable], actor=actor, opinion=opinion, stage=stage
        )
        result.sealed = len(outcome.approved)
        by_pk = {r.pk: r for r in approvable}
        for pk, reason in outcome.failed:
            result.refused.append(force_str(STUDENT_REFUSED % {**_label(by_pk[pk].student), "reason": reason}))
    if stage == "academic_affairs_seal" and result.sealed:
        result.class_print = class_print_queue(batch=batch, klass=klass)
    return result


# --- class prints ----------------------------------------------------------------------------
def _enqueue_class_print(class_print_id: int) -> None:
    from registrar.background import enqueue
    from registrar.documents.types import document_queue

    try:
        enqueue("grades.transcript_tasks.build_class_print", args=[class_print_id], queue=document_queue())
    except Exception:  # the sealing has succeeded; the page offers to produce it again
        logger.exception("could not queue class print %s", class_print_id)


@transaction.atomic
def class_print_queue(*, batch: TranscriptBatch, klass) -> ClassPrint:
    """(Re)start the class's merged print; it is produced once the transcripts are rendered."""
    cp = ClassPrint.objects.select_for_update().filter(batch=batch, klass=klass).order_by("-created_at").first()
    if cp is None:
        cp = ClassPrint(batch=batch, klass=klass)
    cp.status = ClassPrint.Status.PENDING
    cp.progress = 0
    cp.error = ""
    cp.full_clean()
    cp.save()
    transaction.on_commit(lambda: _enqueue_class_print(cp.pk))
    return cp


CLASS_PRINT_NOT_RETRIABLE = _(
    "The print of %(klass)s is %(status)s: only a failed print, or one waiting for more "
    "than %(minutes)s minutes, is produced again."
)
#: a pending print older than this is considered stuck (its job lost) and may be produced again
CLASS_PRINT_STUCK_MINUTES = 10


@transaction.atomic
def class_print_retry(*, class_print: ClassPrint) -> ClassPrint:
    """Produce a failed (or stuck) class print again; a ready or running one is left alone.

    The class's transcripts that failed (a lock error on the embedded database, a worker that died)
    are produced again first — the same documents under their serials, never new ones — or the
    print would fail again on them."""
    from datetime import timedelta

    from django.utils import timezone

    from registrar.documents.services import document_retry

    cp = ClassPrint.objects.select_for_update().select_related("klass").get(pk=class_print.pk)
    stuck = cp.status == ClassPrint.Status.PENDING and cp.updated_at < timezone.now() - timedelta(
        minutes=CLASS_PRINT_STUCK_MINUTES
    )
    if cp.status != ClassPrint.Status.FAILED and not stuck:
        raise ApplicationError(
            CLASS_PRINT_NOT_RETRIABLE
            % {"klass": cp.klass.name, "status": cp.get_status_display(), "minutes": CLASS_PRINT_STUCK_MINUTES}
        )
    for document in class_print_documents(cp):
        if document.status == Document.Status.FAILED:
            document_retry(document=document)
    return class_print_queue(batch=cp.batch, klass=cp.klass)


def class_print_documents(class_print: ClassPrint) -> list[Document]:
    """The newest valid transcript(s) of each completed request of the class, in student-number
    order (Chinese before English)."""
    numbers = dict(
        BatchTranscriptRequest.objects.filter(
            batch_id=class_print.batch_id, student__klass_id=class_print.klass_id, state=COMPLETED
        ).values_list("pk", "student__student_number")
    )
    docs = Document.objects.filter(
        chain=BATCH_TRANSCRIPT.code,
        request_id__in=list(numbers),
        doc_type__in=(TRANSCRIPT, TRANSCRIPT_EN),
        revoked_at__isnull=True,
    ).order_by("-issued_at", "-id")
    newest: dict[tuple[int, str], Document] = {}
    for d in docs:
        newest.setdefault((d.request_id, d.doc_type), d)
    return sorted(newest.values(), key=lambda d: (numbers[d.request_id], d.doc_type != TRANSCRIPT))


def _class_print_update(pk: int, **fields) -> None:
    """Record progress; ``updated_at`` is also the job's sign of life for the sweeper (registrar/background.py)."""
    from django.utils import timezone

    ClassPrint.objects.filter(pk=pk).update(updated_at=timezone.now(), **fields)


def class_print_build(*, class_print_id: int, render_missing: bool = False, final: bool = True) -> ClassPrint:
    """Merge the class's rendered transcripts into one PDF (pypdf) once they are all ready.

    While some are still being rendered it records how many are ready (progress up to 60) and
    returns the print still ``pending`` (the task asks again later); with ``render_missing`` it
    renders them itself (idempotent: the pipeline stores each document once). A failed transcript
    fails the print with the serials concerned. An unexpected error fails the print with it — but a
    transient database error (a lock …) before the ``final`` attempt is raised for the task to retry.
    """
    from registrar.background import is_transient

    try:
        return _class_print_build(class_print_id, render_missing=render_missing, final=final)
    except Exception as exc:
        if not final and is_transient(exc):
            raise
        logger.exception("class print %s failed", class_print_id)
        _class_print_update(
            class_print_id, status=ClassPrint.Status.FAILED, progress=100, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return ClassPrint.objects.get(pk=class_print_id)


def _class_print_build(class_print_id: int, *, render_missing: bool, final: bool) -> ClassPrint:
    from pypdf import PdfReader, PdfWriter

    from registrar.documents.services import document_render

    cp = ClassPrint.objects.select_related("batch", "klass").get(pk=class_print_id)
    if cp.status == ClassPrint.Status.READY:
        return cp
    docs = class_print_documents(cp)
    if not docs:
        _class_print_update(cp.pk, status=ClassPrint.Status.FAILED, progress=100, error=str(CLASS_PRINT_NO_DOCUMENTS))
        cp.refresh_from_db()
        return cp
    if render_missing:
        for d in docs:
            if d.status == Document.Status.PENDING:
                document_render(document_id=d.pk, final=final)
                _class_print_update(cp.pk)
        docs = class_print_documents(cp)
    failed = [d.serial for d in docs if d.status == Document.Status.FAILED]
    if failed:
        _class_print_update(
            cp.pk,
            status=ClassPrint.Status.FAILED,
            progress=100,
            error=str(CLASS_PRINT_FAILED_DOCUMENTS % {"serials": ", ".join(failed)}),
        )
        cp.refresh_from_db()
        return cp
    ready = sum(1 for d in docs if d.status == Document.Status.READY)
    if ready < len(docs):
        _class_print_update(cp.pk, progress=int(60 * ready / len(docs)))
        cp.refresh_from_db()
        return cp
    writer = PdfWriter()
    for i, d in enumerate(docs, 1):
        with d.file.open("rb") as fh:
            writer.append(PdfReader(io.BytesIO(fh.read())))
        if i % 10 == 0:
            _class_print_update(cp.pk, progress=60 + int(35 * i / len(docs)))
    writer.add_metadata({"/Title": f"{cp.batch} · {cp.klass.name}"})
    out = io.BytesIO()
    writer.write(out)
    with transaction.atomic():
        cp = ClassPrint.objects.select_for_update().select_related("batch", "klass").get(pk=class_print_id)
        cp.file.save(f"batch{cp.batch_id}-{cp.klass.code}.pdf", ContentFile(out.getvalue()), save=False)
        cp.status = ClassPrint.Status.READY
        cp.progress = 100
        cp.error = ""
        cp.save(update_fields=["file", "status", "progress", "error", "updated_at"])
    return cp


# --- C8: graduates' two copies ---------------------------------------------------------------
def _copier_grants(actor) -> list:
    return [g for g in grants(actor) if g.role in (Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS)]


def may_print_graduate_copies(actor) -> bool:
    return bool(_copier_grants(actor))


@transaction.atomic
def graduate_transcripts_print(*, students, actor) -> list[GraduateTranscriptCopy]:
    """C8: two transcripts per graduate (college seal), recorded as one copy archived by the college
    and one handed to the student work office. Refused students (自动退学) refuse the whole print,
    listed; nothing is written."""
    from registrar.documents.services import document_issue, document_language

    copier = _copier_grants(actor)
    if not copier:
        raise PermissionDenied(GRADUATE_ROLE_REQUIRED)
    unique = list({s.pk: s for s in students}.values())
    if not unique:
        raise ApplicationError(GRADUATE_NO_STUDENTS)
    for student in unique:
        if not any(g.covers(student) for g in copier):
            raise Http404
    problems = []
    for student in unique:
        reason = pipeline_refusal(student, TranscriptLanguage.ZH)
        if reason:
            problems.append(force_str(STUDENT_REFUSED % {**_label(student), "reason": reason}))
    if problems:
        raise ApplicationError(GRADUATE_REFUSED % {"problems": "；".join(problems)}, extra={"problems": problems})
    copies = []
    destinations = GraduateTranscriptCopy.Destination
    for student in sorted(unique, key=lambda s: s.student_number):
        with translation.override(document_language()):
            snapshot = transcript_snapshot(student, language="zh", seals=(SEAL_COLLEGE,), route=ROUTE_GRADUATE)
            labels = {d.value: force_str(d.label) for d in destinations}
        for destination in (destinations.ARCHIVE, destinations.STUDENT_WORK_OFFICE):
            context = {**snapshot, "copy": destination.value, "copy_label": labels[destination.value]}
            document = document_issue(doc_type=TRANSCRIPT, student=student, context=context, issued_by=actor)
            copy = GraduateTranscriptCopy(
                student=student, document=document, destination=destination, recorded_by=actor
            )
            copy.full_clean()
            copy.save()
            copies.append(copy)
    return copies
