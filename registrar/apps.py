from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrarConfig(AppConfig):
    name = "registrar"
    verbose_name = _("Registrar kernel")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from registrar.approvals import config
        from registrar.approvals.models import StageConfig

        post_save.connect(config.invalidate, sender=StageConfig, dispatch_uid="stageconfig-saved")
        post_delete.connect(config.invalidate, sender=StageConfig, dispatch_uid="stageconfig-deleted")
