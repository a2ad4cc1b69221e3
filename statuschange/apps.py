from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatuschangeConfig(AppConfig):
    name = "statuschange"
    verbose_name = _("statuschange")
