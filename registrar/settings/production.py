import re

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

# The address users reach the app at: printed on every document (verification link, QR code) and
# in e-mails. No default here: a wrong one makes every issued document point nowhere.
_PUBLIC_URL = env.str("REGISTRAR_PUBLIC_URL", default="").strip().rstrip("/")
if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", _PUBLIC_URL):
    raise ImproperlyConfigured(
        "Set REGISTRAR_PUBLIC_URL to the address users reach the app at, e.g. https://xj.example.edu.cn "
        "(it is printed on every document and encoded in its QR code)."
    )
REGISTRAR = {**REGISTRAR, "PUBLIC_URL": _PUBLIC_URL}  # noqa: F405
