"""A student's grade record (their own, or read by staff in scope) and the make-up / clearing
exam page. Thin views: scope, one selector or one service, a message, a redirect."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from registrar import params
from registrar.approvals.permissions import student_of
from registrar.exceptions import ApplicationError
from registrar.roles import Role

from ..forms.records import MakeupCreateForm, RecordsFilterForm, instructor_queryset
from ..models import Offering
from ..scoring import conf
from ..selectors.dashboards import default_term, pick_college, scoped_college_ids
from ..selectors.records import ATTEMPT_LABELS, record_page, record_student, record_visible_student
from ..services.attempts import clearing_candidates, makeup_candidates, makeup_offering_create

MAKEUP_ROLES = {Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS}
PAGE_SIZE = 25
GPA_CHART = {"width": 640, "height": 200, "left": 36, "right": 16, "top": 18, "bottom": 36}


def gpa_chart(terms) -> dict | None:
    """Geometry of a small inline SVG line chart: the GPA of each term (None without any)."""
    points = [(t.term, t.gpa) for t in terms if t.gpa is not None]
    if not points:
        return None
    top = max(Decimal(str(p)) for _lowest, p in conf()["GRADE_POINTS"])
    c = GPA_CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    slot = plot_w / len(points)
    dots = []
    for i, (term, value) in enumerate(points):
        x = c["left"] + slot * (i + 0.5)
        y = c["top"] + plot_h * float(1 - value / top)
        dots.append({"x": round(x, 1), "y": round(y, 1), "value": value, "label": term.code, "name": str(term)})
    grid = [{"value": f"{top * k / 4:.1f}", "y": round(c["top"] + plot_h * (1 - k / 4), 1)} for k in range(5)]
    return {
        **c,
        "dots": dots,
        "grid": grid,
        "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "axis_y": c["height"] - c["bottom"],
        "right_x": c["width"] - c["right"],
    }


def _render_record(request, student, *, own: bool):
    page = record_page(student)
    return render(
        request,
        "grades/records_student.html",
        {
            "page": page,
            "student": student,
            "record": page.record,
            "own": own,
            "chart": gpa_chart(page.terms),
            "attempt_labels": ATTEMPT_LABELS,
        },
    )


@login_required
def my_grades(request):
    """The student's own confirmed grades per term, credits, GPA and open failures."""
    own = student_of(request.user)
    if own is None:
        raise PermissionDenied
    return _render_record(request, record_student(own.pk), own=True)


@login_required
def student_grades(request, pk):
    """A student's record for counsellors, advisors, teaching secretaries, deans (in scope) and
    Academic Affairs; 404 outside the scope."""
    return _render_record(request, record_visible_student(request.user, pk), own=False)


# --- make-ups and clearing exams -------------------------------------------------------------------
def _scope(request):
    """(filter form, term, college or None, graduation year) of the make-up page, within scope."""
    from students.models import College

    allowed = scoped_college_ids(request.user, MAKEUP_ROLES)
    colleges = College.objects.all() if allowed is None else College.objects.filter(pk__in=allowed)
    form = RecordsFilterForm(request.GET or None, colleges=colleges)
    college = pick_college(request.GET.get("college"), allowed)
    term = form.value("term") or default_term()
    year = form.value("year") or (term.end_date.year if term else None)
    return form, term, college, year


@login_required
def makeups(request):
    """Make-up (补考) candidates of a term per course, and clearing-exam (毕业清考) candidates of a
    graduation year, with the action to create each sheet."""
    form, term, college, year = _scope(request)
    view = "clearing" if request.GET.get("view") == "clearing" else "makeup"
    groups = []
    if term is not None:
        groups = (
            clearing_candidates(year=year, college=college, term=term)
            if view == "clearing"
            else makeup_candidates(term=term, college=college)
        )
    search = params.search_of(request).lower()
    if search:
        groups = [g for g in groups if search in g.course.code.lower() or search in g.course.name.lower()]
    page_obj = params.page_of(request, groups, PAGE_SIZE)
    sources = [g.source for g in page_obj if g.source is not None]
    prefetch_related_objects(sources, "instructors")
    return render(
        request,
        "grades/records_makeups.html",
        {
            "form": form,
            "term": term,
            "college": college,
            "year": year,
            "view": view,
            "page_obj": page_obj,
            "instructors": list(instructor_queryset()),
            "kind": Offering.Kind.CLEARING if view == "clearing" else Offering.Kind.MAKEUP,
            "totals": {"courses": len(groups), "students": sum(len(g.candidates) for g in groups)},
        },
    )


@login_required
@require_POST
def makeup_create(request):
    """Create one make-up or clearing-exam sheet (teaching secretary of the college, Academic Affairs)."""
    allowed = scoped_college_ids(request.user, MAKEUP_ROLES)
    form = MakeupCreateForm(request.POST)
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("grades:makeups")
    if not form.is_valid():
        messages.error(
            request,
            _("The make-up sheet was not created: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{form.fields[k].label}: {' '.join(v)}" if k in form.fields else " ".join(v)
                    for k, v in form.errors.items()
                )
            },
        )
        return redirect(back)
    if allowed is not None and form.cleaned_data["college"].pk not in allowed:
        raise Http404
    try:
        offering = makeup_offering_create(actor=request.user, **form.service_kwargs())
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        _("%(kind)s sheet %(code)s created with %(count)s students.")
        % {"kind": offering.get_kind_display(), "code": offering.code, "count": offering.grades.count()},
    )
    return redirect(back)


urlpatterns = [
    path("my-grades/", my_grades, name="my_grades"),
    path("students/<int:pk>/grades/", student_grades, name="student_grades"),
    path("makeups/", makeups, name="makeups"),
    path("makeups/new/", makeup_create, name="makeup_create"),
]
