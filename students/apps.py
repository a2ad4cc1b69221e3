from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("students")

    def ready(self):
        # The kernel learns roles, scopes and students from this app (registrar.scopes).
        from registrar import scopes

        from .directory import StudentDirectory, role_grants

        scopes.register_grant_provider(role_grants)
        scopes.register_directory(StudentDirectory())
