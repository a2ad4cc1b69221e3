"""Reads of the people register, scoped to what the asking user may see.

Who may look up whom is decided in ``students.permissions`` (look-up roles within their
scope, request initiators within theirs, everyone else only the students of the requests
they may see; a student user sees only themself; a superuser everyone). Outside it a
student does not exist (404). Personal fields are masked there too (``personal_data``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import ScheduledChange, StatusHistory, Student
from .permissions import personal_data_q, student_lookup_q


def student_scope_q(user) -> Q | None:
    """A Q over Student for the students ``user`` may look up: ``Q()`` for everything, ``None`` for nothing."""
    return student_lookup_q(user)


def student_list(
    *, user, search: str = "", college_id: int | None = None, klass_id: int | None = None, status: str | None = None
) -> QuerySet[Student]:
    """The students ``user`` may see, filtered; ordered by 学号."""
    qs = Student.objects.select_related("college", "major", "klass", "station", "user")
    scope = student_scope_q(user)
    if scope is None:
        return qs.none()
    qs = qs.filter(scope)
    search = (search or "").strip()
    if search:
        match = Q(name__icontains=search) | Q(student_number__icontains=search) | Q(klass__name__icontains=search)
        shown_in_full = personal_data_q(user)
        if shown_in_full is not None:  # an identity number finds only students whose number the user sees
            by_id = Q(id_number__iexact=search)
            match |= (by_id & shown_in_full) if shown_in_full else by_id
        qs = qs.filter(match)
    if college_id:
        qs = qs.filter(college_id=college_id)
    if klass_id:
        qs = qs.filter(klass_id=klass_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("student_number")


def student_get_visible(user, pk) -> Student:
    """The student if ``user`` may see them; ``Http404`` otherwise (scope leaks nothing)."""
    try:
        return student_list(user=user).get(pk=pk)
    except (Student.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def student_history(student: Student) -> QuerySet[StatusHistory]:
    """The student's effective-dated record history, newest first."""
    return (
        StatusHistory.objects.filter(student=student)
        .select_related("recorded_by")
        .order_by("-effective_date", "-created_at", "-id")
    )


def pending_changes(student: Student) -> QuerySet[ScheduledChange]:
    """Changes of the student's record approved with an effective date still to come, soonest first."""
    return ScheduledChange.objects.filter(student=student, state=ScheduledChange.State.PENDING).order_by(
        "effective_date", "id"
    )
