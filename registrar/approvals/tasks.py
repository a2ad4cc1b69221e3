"""Periodic kernel jobs (Celery beat)."""

from datetime import datetime, time

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .chains import all_chains


@shared_task(name="registrar.approvals.tasks.flag_overdue_requests")
def flag_overdue_requests() -> int:
    """Remind the signers of every overdue stage, at most once a day per request: a request reminded
    since local midnight is skipped, however often the task runs."""
    from registrar.notifications.services import notify

    from .selectors import users_awaited_by

    now = timezone.now()
    today_began = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    reminded = 0
    for chain in all_chains():
        overdue = (
            chain.model.objects.filter(stage_due_at__lt=now, state__in=chain.stage_codes)
            .exclude(reminded_at__gte=today_began)
            .select_related("student", "student__klass")
        )
        for req in overdue:
            with transaction.atomic():
                notify(
                    users=users_awaited_by(req),
                    message=_("Overdue: %(chain)s #%(id)s (%(name)s) has waited since %(since)s.")
                    % {
                        "chain": chain.name,
                        "id": req.pk,
                        "name": req.student.name,
                        "since": timezone.localtime(req.stage_entered_at).strftime("%Y-%m-%d"),
                    },
                    url=req.get_absolute_url(),
                )
                chain.model.objects.filter(pk=req.pk).update(reminded_at=now)
            reminded += 1
    return reminded
