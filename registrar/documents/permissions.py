"""Who may see, download and revoke an issued document (``(user, document) -> bool``).

A document is seen by exactly those who may see what it documents, never by "any role whose
scope covers the holder" (a suspension slip prints the reason; the canteen has no business with
it). ``can_access`` is the one rule, used by the document page, the download, the student page's
list and the revocation services:

- the holder, Academic Affairs within its scope, a superuser;
- a document issued from a request: whoever may see that request
  (``registrar.approvals.permissions.can_view``: its applicant, those who signed it, the roles of
  its chain in scope);
- any other document (a graduate's transcript copy): whom its type's ``viewers`` names
  (``DocType.viewers``, declared by the app that registers the type); nobody else by default.

Outside these rules a document does not exist for the user (views answer 404)."""

from __future__ import annotations

from registrar.approvals import permissions as approval_perms
from registrar.roles import Role

from .types import find_doc_type


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
    """The holder, Academic Affairs in scope, whoever may see the document's request — or, for a
    document issued without a request, whom its type's ``viewers`` names."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    student = document.student
    if student.user_id is not None and student.user_id == user.pk:
        return True
    if Role.ACADEMIC_AFFAIRS in approval_perms.roles_covering(user, student):
        return True
    if document.chain or document.request_id:
        request = _request_of(document)
        return request is not None and approval_perms.can_view(user, request)
    doc_type = find_doc_type(document.doc_type)
    return doc_type is not None and doc_type.may_view(user, document)


def can_revoke(user, document) -> bool:
    """Academic Affairs (registrar section) within its scope, or a superuser."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Role.ACADEMIC_AFFAIRS in approval_perms.roles_covering(user, document.student)
