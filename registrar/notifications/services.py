"""In-app notifications plus e-mail (sent after commit) when a request moves."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registrar.common import public_url

from .models import Notification


def notify(*, users, message: str, url: str = "") -> None:
    users = list({u.pk: u for u in users if u is not None}.values())
    if not users:
        return
    Notification.objects.bulk_create([Notification(user=u, message=message[:255], url=url) for u in users])
    mails = [
        (message[:120], f"{message}\n\n{public_url(url)}", settings.DEFAULT_FROM_EMAIL, [u.email])
        for u in users
        if u.email
    ]
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))


def notify_request_moved(*, request, actor, source: str, action: str) -> None:
    from registrar.approvals.selectors import users_awaited_by

    """Tell the applicant and the next signers, once per stage change: a signer of a parallel stage
    whose sign-off leaves the request where it is tells nobody (the applicant heard when the stage
    began; the others who must still sign were told then too)."""
    if request.state == source:
        return
    url = request.get_absolute_url()
    label = request.get_state_label()
    head = f"{request.chain.name} #{request.pk}（{request.student.name}）"
    if request.applicant_id != actor.pk:
        notify(
            users=[request.applicant], message=_("%(head)s: now “%(state)s”.") % {"head": head, "state": label}, url=url
        )
    waiting = [u for u in users_awaited_by(request) if u.pk != actor.pk]
    notify(
        users=waiting,
        message=_("%(head)s awaits your sign-off at “%(state)s”.") % {"head": head, "state": label},
        url=url,
    )


def notification_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
