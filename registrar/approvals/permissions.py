"""Who may do what on a request: role + scope predicates shared by the FSM ``permission=``,
the views, the API and the templates' buttons."""

from __future__ import annotations

from django.db.models import Q

from registrar.roles import Role, Scope
from registrar.scopes import Grant, directory, grant_providers  # Grant is also importable from here


def grants(user) -> list[Grant]:
    """Every role ``user`` holds, with its scope: their own (what the registered grant providers
    give, registrar.scopes), then those of every signer who named them substitute for today (each
    marked with that principal); cached on the user object."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_registrar_grants", None)
    if cached is not None:
        return cached
    result = own_grants(user) + delegated_grants(user)
    user._registrar_grants = result
    return result


def delegated_grants(user) -> list[Grant]:
    """The own grants of every principal with a delegation to ``user`` in force today, marked with
    the principal. Only own grants: what the principal holds by delegation is not passed on."""
    from dataclasses import replace

    from .models import Delegation

    result = []
    principals = {
        d.principal_id: d.principal
        for d in Delegation.objects.active().filter(substitute=user).select_related("principal")
    }
    for principal_id, principal in principals.items():
        result += [replace(g, on_behalf_of=principal_id) for g in own_grants(principal)]
    return result


def own_grants(user) -> list[Grant]:
    """The roles ``user`` holds in their own right (what the grant providers give); cached on the user."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_registrar_own_grants", None)
    if cached is not None:
        return cached
    result = [grant for provider in grant_providers() for grant in provider(user)]
    user._registrar_own_grants = result
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
    """Roles in which ``user`` may sign the current stage of ``instance`` right now: roles they
    hold over its student (their own or by delegation), and roles Academic Affairs assigned them
    for this stage of this request (reassign)."""
    if instance.stage is None or user is None or not user.is_authenticated:
        return []
    mine = roles_covering(user, instance.student) | assigned_roles(instance, user)
    if not mine:
        return []
    pending = instance.pending_roles()
    return [r for r in pending if r in mine]


def assigned_roles(instance, user) -> set[str]:
    """Roles of the current stage Academic Affairs assigned ``user`` on ``instance`` (a standing
    ``reassign`` sign-off of this visit of the stage names them); cached on the instance."""
    key = (user.pk, instance.state, instance.round)
    cache = instance.__dict__.setdefault("_assigned_roles", {})
    if key not in cache:
        from .models import SignOff

        rows = (
            SignOff.objects.for_object(instance)
            .filter(
                decision=SignOff.Decision.REASSIGN, stage=instance.state, round=instance.round, data__assignee=user.pk
            )
            .standing()
            .values_list("data", flat=True)
        )
        cache[key] = {row.get("role") for row in rows if row.get("role")}
    return cache[key]


def signing_principal(instance, user, role: str) -> int | None:
    """Whom ``user`` signs ``role`` for on ``instance``: None in their own right (or as the assignee
    of a reassignment), else the id of the principal whose delegated grant covers it."""
    covering = [g for g in grants(user) if g.role == role and g.covers(instance.student)]
    if not covering or any(g.on_behalf_of is None for g in covering):
        return None
    if role in assigned_roles(instance, user):
        return None
    return covering[0].on_behalf_of


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
    # own grants only: a substitute signs for the principal, but opens nothing in their name
    return any(g.role in staff_roles and g.covers(student) for g in own_grants(user))


# --- who may look a request up (C3 look-up) -------------------------------------------------
# One rule, as a predicate (``can_view``) and as a query (``visible_q``); a test holds them equal.
# A user sees a request when they are its applicant or its student, when they signed it (any
# sign-off by them, or a reassignment naming them), or when they hold a role (their own or by
# delegation) that takes part in its chain (or Academic Affairs, which oversees every chain) in a
# scope that covers its student. Outside: 404.


def _participants(chain) -> set[str]:
    return chain.participant_roles() | {Role.ACADEMIC_AFFAIRS}


def _signed_by(user, chain):
    """The ids of ``chain``'s requests ``user`` has signed, or was assigned by Academic Affairs to
    sign (reassign), as sign-offs record (they are a generic relation)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import SignOff

    ct = ContentType.objects.get_for_model(chain.model)
    return SignOff.objects.filter(
        Q(actor=user) | Q(decision=SignOff.Decision.REASSIGN, data__assignee=user.pk), content_type=ct
    ).values("object_id")


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


# --- delegation and reassignment --------------------------------------------------------------------
def oversees_delegations(user) -> bool:
    """Academic Affairs (the university office, in its own right) and superusers see every delegation."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(
        g.role == Role.ACADEMIC_AFFAIRS and g.scope == Scope.UNIVERSITY for g in own_grants(user)
    )


def can_see_delegation(user, delegation) -> bool:
    return oversees_delegations(user) or user.pk in (delegation.principal_id, delegation.substitute_id)


def may_revoke_delegation(user, delegation) -> bool:
    return oversees_delegations(user) or user.pk == delegation.principal_id


def may_reassign(instance, user) -> bool:
    """Academic Affairs over the request's student (or a superuser) reassigns a stuck stage."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or Role.ACADEMIC_AFFAIRS in roles_covering(user, instance.student)
