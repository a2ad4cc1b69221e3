from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrarConfig(AppConfig):
    name = "registrar"
    verbose_name = _("Registrar kernel")

    def ready(self):
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from registrar.approvals.checks import chain_paths_check

        checks.register(chain_paths_check)  # every dotted path a chain names must import

        from registrar.approvals import config
        from registrar.approvals.models import StageConfig

        post_save.connect(config.invalidate, sender=StageConfig, dispatch_uid="stageconfig-saved")
        post_delete.connect(config.invalidate, sender=StageConfig, dispatch_uid="stageconfig-deleted")
        # every process knows the document task the services queue by name (registrar.background.enqueue);
        # a document whose rendering stopped (its worker died) ends as failed, never "being produced"
        from registrar import background
        from registrar.documents import tasks  # noqa: F401

        background.watch(
            "registrar.Document",
            in_progress=["pending"],
            heartbeat="heartbeat_at",
            failed=lambda message, now: {"status": "failed", "progress": 100, "error": message},
        )
