"""Who may see, download and revoke an issued document (``(user, document) -> bool``).

Outside these rules a document does not exist for the user (views answer 404)."""

from __future__ import annotations

from registrar.approvals import permissions as approval_perms
from registrar.roles import Role


def _request_of(document):
    if not document.chain or not document.request_id:
        return None
    from registrar.approvals.chains import get_chain

    try:
        chain = get_chain(document.chain)
    except Exception:  # noqa: BLE001 - an unknown chain code (old data) simply grants nothing
        return None
    if chain.model is None:
        return None
    return chain.model.objects.select_related("student").filter(pk=document.request_id).first()


def can_access(user, document) -> bool:
    """The holder; staff who can see the request it came from; any role whose scope covers the holder."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    student = document.student
    if student.user_id is not None and student.user_id == user.pk:
        return True
    if approval_perms.roles_covering(user, student):
        return True
    request = _request_of(document)
    return request is not None and approval_perms.can_view(user, request)


def can_revoke(user, document) -> bool:
    """Academic Affairs (registrar section) within its scope, or a superuser."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Role.ACADEMIC_AFFAIRS in approval_perms.roles_covering(user, document.student)
