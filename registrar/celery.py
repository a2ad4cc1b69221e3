import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar.settings.local")

app = Celery("registrar")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The kernel's sub-packages are not Django apps of their own: discover their tasks too.
app.autodiscover_tasks(["registrar.approvals", "registrar.documents"])
