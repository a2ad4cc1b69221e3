from .base import *  # noqa: F403
from .base import DATABASES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)  # a real worker sets false
STORAGES = {
    "default": {"BACKEND": "registrar.files.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEBUG = False
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
LANGUAGE_CODE = env.str("DJANGO_TEST_LANGUAGE", default="zh-hans")
# Login throttling off: the suite logs in thousands of times through Client.login(), which calls
# authenticate() without a request (django-axes needs one). tests/registrar/test_login_throttling.py
# turns it on.
AXES_ENABLED = False
