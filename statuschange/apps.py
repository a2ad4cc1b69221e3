from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatuschangeConfig(AppConfig):
    name = "statuschange"
    verbose_name = _("Status changes")

    def ready(self):
        from . import documents  # noqa: F401  (registers the chains' document types)
