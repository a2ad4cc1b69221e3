"""Who may do what on a request: role + scope predicates shared by the FSM ``permission=``,
the views, the API and the templates' buttons."""

from __future__ import annotations

from django.db.models import Q

from registrar.roles import Role, Scope
from registrar.scopes import Grant, directory, grant_providers  # Grant is also importable from here


def grants(user) -> list[Grant]:
    """Every role ``user`` holds, with its scope: what the registered grant providers give
    (registrar.scopes); cached on the user object."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_registrar_grants", None)
    if cached is not None:
        return cached
    result = [grant for provider in grant_providers() for grant in provider(user)]
    user._registrar_grants = result
    return result


def roles_of(user) -> set[str]:
    roles = {g.role for g in grants(user)}
    if is_student_user(user):
        roles.add(Role.STUDENT)
    return roles


def is_student_user(user) -> bool:
    return _has_student(user)


def _has_student(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    cached = getattr(user, "_registrar_student", "unset")
    if cached == "unset":
        cached = directory().student_of(user)
        user._registrar_student = cached
    return cached is not None


def student_of(user):
    return getattr(user, "_registrar_student", None) if _has_student(user) else None


def roles_covering(user, student) -> set[str]:
    return {g.role for g in grants(user) if g.covers(student)}


# --- predicates used as FSM permissions (instance, user) ------------------------------
def eligible_roles(instance, user) -> list[str]:
    """Roles in which ``user`` may sign the current stage of ``instance`` right now."""
    if instance.stage is None:
        return []
    mine = roles_covering(user, instance.student)
    if not mine:
        return []
    pending = instance.pending_roles()
    return [r for r in pending if r in mine]


def may_sign(instance, user) -> bool:
    return bool(eligible_roles(instance, user))


def kernel_only(instance, user) -> bool:
    """No user performs this transition: the kernel does, inside another (``advance``)."""
    return False


def may_submit(instance, user) -> bool:
    return user.is_authenticated and instance.applicant_id == user.pk


def may_withdraw(instance, user) -> bool:
    return user.is_authenticated and instance.applicant_id == user.pk


def may_initiate(chain, user, student) -> bool:
    """Whether ``user`` may open a request of ``chain`` for ``student``."""
    if Role.STUDENT in chain.initiator_roles and student.user_id == user.pk:
        return True
    staff_roles = [r for r in chain.initiator_roles if r != Role.STUDENT]
    return any(g.role in staff_roles and g.covers(student) for g in grants(user))


# --- who may look a request up (C3 look-up) -------------------------------------------------
# One rule, as a predicate (``can_view``) and as a query (``visible_q``); a test holds them equal.
# A user sees a request when they are its applicant or its student, when they signed it (any
# sign-off by them), or when they hold a role that takes part in its chain (or Academic Affairs,
# which oversees every chain) in a scope that covers its student. Outside: 404.


def _participants(chain) -> set[str]:
    return chain.participant_roles() | {Role.ACADEMIC_AFFAIRS}


def _signed_by(user, chain):
    """The ids of ``chain``'s requests ``user`` has signed (sign-offs are a generic relation)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import SignOff

    ct = ContentType.objects.get_for_model(chain.model)
    return SignOff.objects.filter(content_type=ct, actor=user).values("object_id")


def can_view(user, instance) -> bool:
    """Scope rule: outside it the object does not exist for the user (404)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if instance.applicant_id == user.pk or instance.student.user_id == user.pk:
        return True
    participants = _participants(instance.chain)
    if any(g.role in participants and g.covers(instance.student) for g in grants(user)):
        return True
    return _signed_by(user, instance.chain).filter(object_id=instance.pk).exists()


def visible_q(user, chain) -> Q:
    """A Q over the chain's request model for what ``user`` may see (the rule of ``can_view``)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = Q(applicant=user) | Q(student__user=user) | Q(pk__in=_signed_by(user, chain))
    participants = _participants(chain)
    for g in grants(user):
        if g.role in participants:
            if g.scope == Scope.UNIVERSITY:
                return Q()  # every request of the chain
            q |= g.student_q("student__")
    return q
