"""The students app as the kernel's provider of roles, scopes and students (registrar.scopes),
registered in ``StudentsConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Q, QuerySet

from registrar.roles import Role, Scope
from registrar.scopes import Grant

from .models import Class, College, RoleAssignment, Student
from .selectors import pending_changes, student_get_visible, student_list


def role_grants(user) -> Iterator[Grant]:
    """The user's role assignments, then the classes they advise or counsel."""
    for a in RoleAssignment.objects.filter(user=user):
        yield Grant(a.role, a.scope, a.college_id, a.klass_id, a.station_id)
    for klass_id, advisor_id, counsellor_id in Class.objects.filter(Q(advisor=user) | Q(counsellor=user)).values_list(
        "id", "advisor_id", "counsellor_id"
    ):
        if advisor_id == user.pk:
            yield Grant(Role.ADVISOR, Scope.CLASS, klass_id=klass_id)
        if counsellor_id == user.pk:
            yield Grant(Role.COUNSELLOR, Scope.CLASS, klass_id=klass_id)


class StudentDirectory:
    """``registrar.scopes.StudentDirectory`` over the students app's models and selectors."""

    def student_of(self, user) -> Student | None:
        return Student.objects.filter(user=user).first()

    def students_visible(self, user, *, search: str = "") -> QuerySet[Student]:
        return student_list(user=user, search=search)

    def student_get_visible(self, user, pk) -> Student:
        return student_get_visible(user, pk)

    def role_holders(self, *, roles: Iterable[str], student) -> set[int]:
        roles = list(roles)
        scope_q = (
            Q(scope=Scope.UNIVERSITY)
            | Q(scope=Scope.COLLEGE, college_id=student.college_id)
            | Q(scope=Scope.CLASS, klass_id=student.klass_id)
        )
        if student.station_id:
            scope_q |= Q(scope=Scope.STATION, station_id=student.station_id)
        user_ids = set(RoleAssignment.objects.filter(scope_q, role__in=roles).values_list("user_id", flat=True))
        klass = student.klass
        if Role.ADVISOR in roles and klass.advisor_id:
            user_ids.add(klass.advisor_id)
        if Role.COUNSELLOR in roles and klass.counsellor_id:
            user_ids.add(klass.counsellor_id)
        return user_ids

    def colleges_visible(self, user) -> QuerySet[College]:
        return College.objects.filter(pk__in=student_list(user=user).values("college_id")).only("id", "name")

    def pending_changes(self, student) -> QuerySet:
        return pending_changes(student)
