"""Site-wide pages: the role-aware home, login, notifications and the workflow diagrams."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from registrar import params
from registrar.approvals import permissions as perms
from registrar.approvals import selectors as approval_selectors
from registrar.approvals.chains import all_chains
from registrar.roles import Role
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
        from students.selectors import pending_changes

        context["student"] = student
        # an approved change dated later (a 休学 from next term) is shown, not yet in effect: the chains
        # on offer follow the status the student has today
        context["pending_changes"] = pending_changes(student)
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
        context["inbox_counts"] = [(chain, counts[chain.code]) for chain in all_chains() if chain.code in counts]
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
