import re

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False

# A real secret: required (no default), and neither a placeholder nor short.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or re.search(r"insecure|change-?me|secret-?key", SECRET_KEY, re.I):
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY to a long random string (at least 50 characters), e.g. "
        "DJANGO_SECRET_KEY=$(openssl rand -hex 32)."
    )

# HTTPS. The app runs behind a proxy that terminates TLS and says so in X-Forwarded-Proto (compose's
# default, DJANGO_BEHIND_TLS_PROXY=true): HTTP is redirected to HTTPS, browsers are told to stay on
# HTTPS (HSTS, a year, subdomains, preload — DJANGO_SECURE_HSTS_PRELOAD=false if the domain must not
# be submitted to the browsers' preload list), cookies are sent over HTTPS only, and the client's
# address is the one the proxy puts in X-Forwarded-For (login throttling). DJANGO_BEHIND_TLS_PROXY=false
# serves plain HTTP without any of this: a trial on one machine only (check --deploy says so).
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=BEHIND_TLS_PROXY)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=BEHIND_TLS_PROXY)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=BEHIND_TLS_PROXY)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=BEHIND_TLS_PROXY)
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1 if BEHIND_TLS_PROXY else 0)
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
