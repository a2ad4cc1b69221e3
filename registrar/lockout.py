"""Login throttling (django-axes): the lockout answer of the login page and the API, and unlocking.

Axes counts failed logins through ``authenticate(request=…)`` (settings: ``AXES_*``). A locked-out
login gets ``locked_out_response`` (settings.AXES_LOCKOUT_CALLABLE): the page
``registration/locked_out.html`` with HTTP 429; ``POST /api/auth/token/`` answers 429 with the same
message (``registrar.api.views.TokenView``). Staff unlock a user in the admin (``login_unlock``).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy

LOCKED_OUT = gettext_lazy(
    "Too many failed logins: this account is locked for %(minutes)s minutes. Try again later, or ask "
    "Academic Affairs to unlock it."
)
UNLOCKED = gettext_lazy("Login unlocked for %(count)s user(s).")


def lockout_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)) if settings.AXES_COOLOFF_TIME else 0


def lockout_message() -> str:
    return str(LOCKED_OUT % {"minutes": lockout_minutes()})


def locked_out_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the lockout page, 429 Too Many Requests."""
    return render(
        request, "registration/locked_out.html", {"message": lockout_message()}, status=settings.AXES_HTTP_RESPONSE_CODE
    )


def is_locked_out(request) -> bool:
    """Whether axes refused (or has just locked) the login attempted with ``request``."""
    return bool(getattr(request, "axes_locked_out", False))


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address. Behind ``TRUSTED_PROXY_COUNT`` proxies (the TLS
    proxy of a deployment) it is the address the outermost one saw, the last it appended to
    X-Forwarded-For (what the client put there itself is not trusted); else REMOTE_ADDR."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def login_unlock(*, usernames) -> int:
    """Forget the failed logins of these users (unlocks them); returns how many records went."""
    from axes.utils import reset

    return sum(reset(username=username) for username in usernames)
