"""Site-wide pages: the role-aware home, login, notifications and the workflow diagrams."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from registrar import params
from registrar.approvals import permissions as perms
from registrar.approvals import selectors as approval_selectors
from registrar.approvals.chains import all_chains
from registrar.roles import Role
from registrar.scopes import directory
from registrar.todo import todo_items

HOME_INBOX_ROWS = 8


@login_required
def home(request):
    """Students see their requests and what they may apply for; staff see their inbox."""
    user = request.user
    context: dict = {}
    own_requests = approval_selectors.requests_of_student_user(user)
    student = perms.student_of(user)
    if student is not None:
        open_by_chain = {r.chain.code: r for r in own_requests if r.is_open and r.student_id == student.pk}
        # an open request of an exclusive group (e.g. status changes) blocks every chain of the group
        open_by_group = {r.chain.exclusive_group: r for r in open_by_chain.values() if r.chain.exclusive_group}
        context["student"] = student
        # an approved change dated later (a 休学 from next term) is shown, not yet in effect: the chains
        # on offer follow the status the student has today
        context["pending_changes"] = directory().pending_changes(student)
        context["apply"] = [
            {"chain": chain, "open_request": open_by_chain.get(chain.code) or open_by_group.get(chain.exclusive_group)}
            for chain in all_chains()
            if Role.STUDENT in chain.initiator_roles
            and perms.may_initiate(chain, user, student)
            and (not chain.allowed_statuses or student.status in chain.allowed_statuses)
        ]
    context["own_requests"] = own_requests
    context["todo"] = todo_items(user)  # besides sign-offs: an instructor's grade sheets to enter …
    my_roles = {g.role for g in perms.grants(user)}
    if my_roles:
        rows, counts, total = approval_selectors.inbox_page_rows(user, offset=0, limit=HOME_INBOX_ROWS)
        context["inbox_rows"] = rows
        context["inbox_total"] = total
        context["inbox_counts"] = [
            ({"code": code, "name": name}, count) for code, name, count in approval_selectors.inbox_kinds(counts)
        ]
        context["staff_apply"] = [
            c for c in all_chains() if my_roles & (set(c.initiator_roles) - {Role.STUDENT}) and not c.opened_elsewhere
        ]
        context["my_roles"] = sorted({Role(r).label for r in my_roles}, key=str)
    return render(request, "registrar/home.html", context)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def notifications(request):
    from registrar.notifications.models import Notification

    page_obj = params.page_of(request, Notification.objects.filter(user=request.user), 30)
    return render(request, "registrar/notifications.html", {"page_obj": page_obj})


@login_required
@require_POST
def notifications_mark_read(request):
    from registrar.notifications.services import notification_mark_read

    count = notification_mark_read(user=request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications")


@cache_control(max_age=24 * 60 * 60, public=True)
def favicon(request):
    """``/favicon.ico`` (no login): the icon among the static files, wherever they are served from."""
    return redirect(static("registrar/img/favicon.ico"))


@login_required
def workflows(request):
    """Every chain as a diagram and a table (the same data as ``manage.py workflows``)."""
    return render(request, "registrar/workflows.html", {"chains": [c.describe() for c in all_chains()]})


# --- what falls due, month by month ---------------------------------------------------------------
class MonthField(forms.DateField):
    """A month as ``YYYY-MM`` (2000–2100)."""

    input_formats = ["%Y-%m"]

    def validate(self, value):
        super().validate(value)
        if value and not (2000 <= value.year <= 2100):
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))


def _calendar_query(request):
    from registrar.approvals.calendar import may_see_calendar

    if not may_see_calendar(request.user):
        raise PermissionDenied
    q = params.parse_query(
        request.GET, month=MonthField(required=False), college=params.IdField(), station=params.IdField()
    )
    month = q["month"] or timezone.localdate().replace(day=1)
    return month, q["college"], q["station"]


@login_required
def due_calendar(request):
    """What falls due in a month, for staff: the academic calendar's dates, open requests' due dates
    and grade sheets, each in the user's scope, grouped per college and per station."""
    from registrar.approvals import calendar

    month, college_id, station_id = _calendar_query(request)
    first, last = calendar.month_bounds(month.year, month.month)
    everything = calendar.due_items(request.user, first, last)
    items = calendar.narrow(everything, college_id=college_id, station_id=station_id)  # one read, filtered
    colleges, stations = calendar.scope_choices(everything)
    previous = first - dt.timedelta(days=1)
    following = last + dt.timedelta(days=1)
    return render(
        request,
        "registrar/calendar.html",
        {
            "month": first,
            "previous": f"{previous:%Y-%m}",
            "following": f"{following:%Y-%m}",
            "this_month": f"{timezone.localdate():%Y-%m}",
            "groups": calendar.group_items(items),
            "count": len(items),
            "colleges": colleges,
            "stations": stations,
            "college_id": college_id,
            "station_id": station_id,
            "kind_labels": calendar.KIND_LABELS,
        },
    )


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


@login_required
def due_calendar_ics(request):
    """The same month as an iCalendar file (all-day events), for a desktop calendar."""
    from django.conf import settings

    from registrar.approvals import calendar

    month, college_id, station_id = _calendar_query(request)
    first, last = calendar.month_bounds(month.year, month.month)
    items = calendar.due_items(request.user, first, last, college_id=college_id, station_id=station_id)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    base = settings.REGISTRAR["PUBLIC_URL"]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//registrar//calendar//EN", "CALSCALE:GREGORIAN"]
    for n, item in enumerate(items):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{first:%Y%m}-{n}-{item.kind}@registrar",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{item.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{item.date + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_ics_text(item.title)}",
            *([f"DESCRIPTION:{_ics_text(item.detail)}"] if item.detail else []),
            *([f"URL:{base}{item.url}"] if item.url else []),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    response = HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calendar-{first:%Y-%m}.ics"'
    return response
