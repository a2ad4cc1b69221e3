from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradesConfig(AppConfig):
    name = "grades"
    verbose_name = _("Grades")

    def ready(self):
        from . import documents  # noqa: F401  (registers the transcript and grade-sheet document types)
