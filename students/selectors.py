"""Reads of the people register, scoped to what the asking user may see.

Scope comes from ``registrar.approvals.permissions.grants``: a university-scoped role
sees every student, a college/class/station-scoped role the students of that college,
class or station; a student user sees only themself; a superuser sees everyone. Outside
the scope a student does not exist (404).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from registrar.approvals.permissions import grants
from registrar.roles import Scope

from .models import ScheduledChange, StatusHistory, Student


def student_scope_q(user) -> Q | None:
    """A Q over Student for ``user``'s scope: ``Q()`` for everything, ``None`` for nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    q: Q | None = None
    for grant in grants(user):
        if grant.scope == Scope.UNIVERSITY:
            return Q()
        part = grant.student_q()
        q = part if q is None else q | part
    own = Q(user=user)
    return own if q is None else q | own


def student_list(*, user, search: str = "", college_id: int | None = None, klass_id: int | None = None,
                 status: str | None = None) -> QuerySet[Student]:
    """The students ``user`` may see, filtered; ordered by 学号."""
    qs = Student.objects.select_related("college", "major", "klass", "station", "user")
    scope = student_scope_q(user)
    if scope is None:
        return qs.none()
    qs = qs.filter(scope)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(student_number__icontains=search) | Q(id_number__iexact=search)
            | Q(klass__name__icontains=search)
        )
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
    return (ScheduledChange.objects.filter(student=student, state=ScheduledChange.State.PENDING)
            .order_by("effective_date", "id"))
