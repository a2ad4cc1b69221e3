"""Template context for every page: institution name and the user's navigation facts.

Everything is computed lazily (a page that never shows the navbar runs no query)."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings


class Navigation:
    def __init__(self, user):
        self.user = user

    @cached_property
    def is_student(self) -> bool:
        from registrar.approvals.permissions import is_student_user

        return is_student_user(self.user)

    @cached_property
    def roles(self) -> set[str]:
        from registrar.approvals.permissions import grants

        return {g.role for g in grants(self.user)}

    @cached_property
    def is_staff_member(self) -> bool:
        """Holds at least one scoped role (has an inbox and sees students)."""
        return bool(self.roles) or self.user.is_superuser

    @cached_property
    def unread(self) -> int:
        from registrar.notifications.models import Notification

        return Notification.objects.filter(user=self.user, read_at__isnull=True).count()


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "institution_name": settings.REGISTRAR["INSTITUTION_NAME"],
        "nav": Navigation(user) if user is not None and user.is_authenticated else None,
    }
