"""Reads for the transcript pages: route (1) batches as each role sees them, their classes with
counts per stage, class prints, each student's documents, and graduates' transcript copies.

Scope: Student Affairs and Academic Affairs (university) see every batch and class; a college
teaching secretary sees the batches holding students of their college, and only those classes.
Anyone else may not look at batches (403); a batch or class outside the scope does not exist (404).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from registrar.approvals.chains import COMPLETED, RETURNED, WITHDRAWN
from registrar.approvals.permissions import grants
from registrar.documents.models import Document
from registrar.roles import Role, Scope
from students.models import Class, Student

from ..models import BATCH_TRANSCRIPT, BatchTranscriptRequest, ClassPrint, GraduateTranscriptCopy, TranscriptBatch
from ..models.transcripts import SEAL_STAGES, TRANSCRIPT, TRANSCRIPT_EN
from ..permissions import BATCH_VIEWER_ROLES

#: students a class pick adds (a withdrawn student is only taken when named by number)
CLASS_PICK_EXCLUDED = (Student.Status.WITHDRAWN,)


def _batch_grants(user) -> list:
    return [g for g in grants(user) if g.role in BATCH_VIEWER_ROLES]


def may_see_batches(user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(_batch_grants(user)))


def may_file_batches(user) -> bool:
    return any(g.role == Role.STUDENT_AFFAIRS and g.scope == Scope.UNIVERSITY for g in grants(user))


def require_batch_viewer(user) -> None:
    if not may_see_batches(user):
        raise PermissionDenied


def student_q(user, prefix: str = "student__") -> Q | None:
    """Q over the students whose batch transcripts ``user`` sees; ``Q()`` everything, None nothing."""
    if user.is_superuser:
        return Q()
    q = None
    for g in _batch_grants(user):
        if g.scope == Scope.UNIVERSITY:
            return Q()
        part = g.student_q(prefix)
        q = part if q is None else q | part
    return q


def seal_stages_for(user, klass) -> set[str]:
    """The sealing stages ``user`` signs for ``klass`` (teaching secretary: college; AA: Academic Affairs)."""
    stages = set()
    for g in grants(user):
        covers = g.scope == Scope.UNIVERSITY or (g.scope == Scope.COLLEGE and g.college_id == klass.college_id)
        if not covers:
            continue
        for stage in SEAL_STAGES:
            if g.role in BATCH_TRANSCRIPT.signers(stage):
                stages.add(stage)
    return stages


# --- batches ------------------------------------------------------------------------------------
def batch_list(user, *, search: str = "") -> QuerySet[TranscriptBatch]:
    """Batches with at least one student in ``user``'s scope (all for university roles), newest
    first, with the number of students and classes in scope."""
    q = student_q(user, "requests__student__")
    if q is None:
        return TranscriptBatch.objects.none()
    qs = TranscriptBatch.objects.select_related("filed_by")
    if q:
        qs = qs.filter(q)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(note__icontains=search)
            | Q(requests__student__name__icontains=search)
            | Q(requests__student__student_number=search)
            | Q(requests__student__klass__name__icontains=search)
        )
    ids = qs.values("pk")
    students = Count("requests", filter=q or Q(), distinct=True)
    classes = Count("requests__student__klass", filter=q or Q(), distinct=True)
    completed = Count("requests", filter=(q or Q()) & Q(requests__state=COMPLETED), distinct=True)
    return (
        TranscriptBatch.objects.filter(pk__in=ids)
        .select_related("filed_by")
        .annotate(n_students=students, n_classes=classes, n_completed=completed)
        .order_by("-created_at", "-id")
    )


def batch_get(user, pk: int) -> TranscriptBatch:
    """The batch if it holds a student in ``user``'s scope; 403 for roles that never see batches."""
    require_batch_viewer(user)
    batch = batch_list(user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@dataclass
class ClassRow:
    klass: Class
    counts: dict[str, int]
    total: int
    class_print: ClassPrint | None = None
    seal_stages: set[str] = field(default_factory=set)
    requests: list = field(default_factory=list)

    @property
    def can_seal_college(self) -> bool:
        return "college_seal" in self.seal_stages and self.counts.get("college_seal", 0) > 0

    @property
    def can_seal_academic_affairs(self) -> bool:
        return "academic_affairs_seal" in self.seal_stages and self.counts.get("academic_affairs_seal", 0) > 0

    @property
    def completed(self) -> int:
        return self.counts.get(COMPLETED, 0)

    @property
    def stage_counts(self) -> list[tuple[str, str, int]]:
        """(state, label, count) for the chain's stages and outcomes, in order."""
        order = [*BATCH_TRANSCRIPT.stage_codes, COMPLETED, RETURNED, WITHDRAWN]
        return [(s, BATCH_TRANSCRIPT.state_label(s), self.counts.get(s, 0)) for s in order]


def batch_class_rows(user, batch: TranscriptBatch, *, search: str = "") -> list[ClassRow]:
    """The batch's classes in ``user``'s scope (matching ``search``: class, student name or number),
    with the number of requests per state (one aggregate query)."""
    q = student_q(user)
    if q is None:
        return []
    qs = BatchTranscriptRequest.objects.filter(batch=batch).filter(q)
    search = (search or "").strip()
    if search:
        matching = qs.filter(
            Q(student__klass__name__icontains=search)
            | Q(student__klass__code__iexact=search)
            | Q(student__name__icontains=search)
            | Q(student__student_number=search)
        )
        qs = qs.filter(student__klass_id__in=matching.values("student__klass_id"))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for klass_id, state, n in qs.values_list("student__klass_id", "state").annotate(n=Count("id")).order_by():
        counts[klass_id][state] = n
    classes = Class.objects.filter(pk__in=list(counts)).select_related("college").order_by("college__code", "code")
    return [
        ClassRow(klass=k, counts=counts[k.pk], total=sum(counts[k.pk].values()), seal_stages=seal_stages_for(user, k))
        for k in classes
    ]


def attach_class_details(batch: TranscriptBatch, rows: list[ClassRow]) -> None:
    """Fill the class prints and the students (with their transcripts) of ``rows`` — the classes on
    one page — in three queries whatever their number."""
    if not rows:
        return
    by_class = {r.klass.pk: r for r in rows}
    for cp in ClassPrint.objects.filter(batch=batch, klass_id__in=list(by_class)).order_by("created_at"):
        by_class[cp.klass_id].class_print = cp  # newest wins
    requests = list(
        BatchTranscriptRequest.objects.filter(batch=batch, student__klass_id__in=list(by_class))
        .select_related("student")
        .order_by("student__student_number")
    )
    docs: dict[int, list[Document]] = defaultdict(list)
    for d in Document.objects.filter(
        chain=BATCH_TRANSCRIPT.code,
        request_id__in=[r.pk for r in requests],
        doc_type__in=(TRANSCRIPT, TRANSCRIPT_EN),
        revoked_at__isnull=True,
    ).order_by("doc_type", "-issued_at"):
        if not any(x.doc_type == d.doc_type for x in docs[d.request_id]):
            docs[d.request_id].append(d)
    for r in requests:
        r.transcripts = docs.get(r.pk, [])
        by_class[r.student.klass_id].requests.append(r)


def batch_class(user, batch: TranscriptBatch, class_id: int) -> Class:
    """A class of the batch within ``user``'s scope (404 otherwise)."""
    q = student_q(user)
    if q is None:
        raise Http404
    klass = Class.objects.select_related("college").filter(pk=class_id).first()
    if klass is None or not BatchTranscriptRequest.objects.filter(batch=batch, student__klass=klass).filter(q).exists():
        raise Http404
    return klass


def class_print_get(user, pk: int) -> ClassPrint:
    require_batch_viewer(user)
    cp = ClassPrint.objects.select_related("batch", "klass").filter(pk=pk).first()
    if cp is None:
        raise Http404
    batch_class(user, cp.batch, cp.klass_id)
    return cp


def class_print_status(cp: ClassPrint) -> dict:
    from django.urls import reverse

    ready = cp.status == ClassPrint.Status.READY and bool(cp.file)
    return {
        "id": cp.pk,
        "status": cp.status,
        "status_label": str(cp.get_status_display()),
        "progress": cp.progress,
        "ready": ready,
        "failed": cp.status == ClassPrint.Status.FAILED,
        "error": cp.error,
        "download_url": reverse("grades:transcript_class_print_download", args=[cp.pk]) if ready else None,
    }


# --- picking students -------------------------------------------------------------------------
def pickable_classes(user) -> QuerySet[Class]:
    from students.selectors import student_scope_q

    scope = student_scope_q(user)
    if scope is None:
        return Class.objects.none()
    if scope:
        return Class.objects.filter(pk__in=Student.objects.filter(scope).values("klass_id")).select_related("college")
    return Class.objects.select_related("college").order_by("code")


def class_students(classes, *, statuses=None) -> list[Student]:
    qs = Student.objects.filter(klass__in=list(classes)).select_related("college", "major", "klass")
    qs = qs.filter(status__in=statuses) if statuses else qs.exclude(status__in=CLASS_PICK_EXCLUDED)
    return list(qs.order_by("klass__code", "student_number"))


# --- graduates' copies ------------------------------------------------------------------------
def graduate_copy_list(user, *, search: str = "") -> QuerySet[GraduateTranscriptCopy]:
    qs = GraduateTranscriptCopy.objects.select_related("student", "student__klass", "document", "recorded_by")
    if not user.is_superuser:
        q = None
        for g in grants(user):
            if g.role in (Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS):
                part = Q() if g.scope == Scope.UNIVERSITY else g.student_q("student__")
                q = part if q is None else q | part
        if q is None:
            return qs.none()
        qs = qs.filter(q)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(student__name__icontains=search)
            | Q(student__student_number=search)
            | Q(student__klass__name__icontains=search)
            | Q(document__serial__iexact=search)
        )
    return qs.order_by("-recorded_at", "-id")
