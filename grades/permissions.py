"""Who may see and act on grade sheets: role + scope predicates shared by the services, selectors and views."""

from __future__ import annotations

from django.http import Http404

from registrar.approvals.permissions import grants
from registrar.roles import Role, Scope


def teaches(user, offering) -> bool:
    return offering.instructors.filter(pk=user.pk).exists()


def college_roles(user, college_id: int) -> set[str]:
    """Roles ``user`` holds over a college (college-scoped or university-wide)."""
    return {
        g.role
        for g in grants(user)
        if g.scope == Scope.UNIVERSITY or (g.scope == Scope.COLLEGE and g.college_id == college_id)
    }


def is_academic_affairs(user) -> bool:
    return user.is_superuser or any(
        g.role == Role.ACADEMIC_AFFAIRS and g.scope == Scope.UNIVERSITY for g in grants(user)
    )


def can_see_offering(user, offering) -> bool:
    """Instructors of the offering, the college's teaching secretary and dean, Academic Affairs."""
    if is_academic_affairs(user) or teaches(user, offering):
        return True
    return bool(
        college_roles(user, offering.college_id) & {Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}
    )


def offering_or_404(user, offering):
    if not can_see_offering(user, offering):
        raise Http404
    return offering


#: who may look at route (1) transcript batches at all (others get 403); the stage signers come from the chain
BATCH_VIEWER_ROLES = {Role.STUDENT_AFFAIRS, Role.ACADEMIC_AFFAIRS, Role.TEACHING_SECRETARY}
