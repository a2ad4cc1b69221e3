"""Roles, scopes and students as the kernel sees them, provided by the app that keeps them.

The kernel (approvals, documents, the inbox, the API) needs to know which roles a user holds in
which scope, who holds a role over a student, and which students a user may see. It imports no
app: the students app registers a grant provider and the student directory here in its
``AppConfig.ready()``, and the kernel asks through ``grant_providers()`` and ``directory()``.

``registrar.approvals.permissions.grants(user)`` combines the grant providers (and caches the
result on the user); a provider is ``f(user) -> Iterable[Grant]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from registrar.roles import Scope


@dataclass(frozen=True)
class Grant:
    """A role held within a scope (a RoleAssignment, or implied by being a class's advisor/counsellor)."""

    role: str
    scope: str
    college_id: int | None = None
    klass_id: int | None = None
    station_id: int | None = None
    #: the principal's user id when held by delegation (registrar.approvals Delegation), None when one's own
    on_behalf_of: int | None = None

    def covers(self, student) -> bool:
        if self.scope == Scope.UNIVERSITY:
            return True
        if self.scope == Scope.COLLEGE:
            return student.college_id == self.college_id
        if self.scope == Scope.CLASS:
            return student.klass_id == self.klass_id
        if self.scope == Scope.STATION:
            return student.station_id == self.station_id
        return False

    def student_q(self, prefix: str = "") -> Q:
        """A Q over the students this grant covers (``prefix`` leads from the queried model to them).

        Never the empty ``Q()``: Django drops an empty Q from an OR (``Q(x) | Q()`` is ``Q(x)``), so a
        university grant ORed with narrower ones would vanish and the user would see less, not all.
        University scope is a condition that always holds instead."""
        if self.scope == Scope.UNIVERSITY:
            return Q(**{f"{prefix}pk__isnull": False})
        if self.scope == Scope.COLLEGE:
            return Q(**{f"{prefix}college_id": self.college_id})
        if self.scope == Scope.CLASS:
            return Q(**{f"{prefix}klass_id": self.klass_id})
        return Q(**{f"{prefix}station_id": self.station_id})


GrantProvider = Callable[[Any], Iterable[Grant]]

_grant_providers: list[GrantProvider] = []


def register_grant_provider(provider: GrantProvider) -> GrantProvider:
    """Add ``provider`` (``f(user) -> Iterable[Grant]``) to the sources of ``grants(user)``; once."""
    if provider not in _grant_providers:
        _grant_providers.append(provider)
    return provider


def grant_providers() -> tuple[GrantProvider, ...]:
    return tuple(_grant_providers)


class StudentDirectory(Protocol):
    """The students and the organisation, as far as the kernel needs them."""

    def student_of(self, user) -> Any | None:
        """The student record whose login ``user`` is, or None."""

    def students_visible(self, user, *, search: str = "") -> QuerySet:
        """The students ``user`` may see (their scope), optionally searched, ordered by 学号."""

    def student_get_visible(self, user, pk) -> Any:
        """The student if ``user`` may see them; ``Http404`` otherwise."""

    def role_holders(self, *, roles: Iterable[str], student) -> set[int]:
        """Ids of the users holding one of ``roles`` in a scope that covers ``student``."""

    def colleges_visible(self, user) -> QuerySet:
        """The colleges of the students ``user`` may see (id and name), for filters."""

    def pending_changes(self, student) -> QuerySet:
        """Changes of the student's record approved with an effective date still to come."""


_directory: StudentDirectory | None = None


def register_directory(directory_: StudentDirectory) -> None:
    global _directory  # one directory per installation, set once at start-up
    _directory = directory_


def directory() -> StudentDirectory:
    if _directory is None:
        raise ImproperlyConfigured("No student directory is registered (the students app registers one).")
    return _directory
