"""The main pages work under the Content-Security-Policy (issue 8, defect 14; R7).

The demo institution is seeded and its people open their main pages in Chromium: every page must load
without a single CSP violation (the ``open_page`` fixture fails a test whose pages had one), the
sizes that used to be inline styles are applied (progress bars, chart heights), the scripts moved to
static files run (grade grid, weight total, select-all, status pollers) and Swagger UI renders from
the app's own static files, offline.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "demo12345"


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--students", "24", stdout=io.StringIO())


def _pages(username: str) -> list[str]:
    """The main pages of ``username`` in the demo, with one object of each kind it may open."""
    from grades.models import ImportJob, Offering, TranscriptBatch
    from registrar.approvals.chains import all_chains
    from registrar.approvals.selectors import visible_requests
    from registrar.documents.models import Document
    from registrar.models import User
    from students.selectors import student_list

    user = User.objects.get(username=username)
    pages = ["/", reverse("approvals:inbox"), reverse("notifications"), reverse("workflows")]
    request = next((r for c in all_chains() for r in visible_requests(user, c).order_by("pk")[:1]), None)
    if request is not None:
        pages.append(request.get_absolute_url())
    student = student_list(user=user).order_by("pk").first()
    if student is not None and username != "student":
        pages += [reverse("students:list"), reverse("students:detail", args=[student.pk])]
    if username == "registrar":
        pages += [
            reverse("statuschange:dashboard"),
            reverse("grades:offering_list"),
            reverse("grades:confirm_queue"),
            reverse("grades:late_dashboard"),
            reverse("grades:windows"),
            reverse("grades:imports"),
            reverse("grades:progression"),
            reverse("grades:transcript_batches"),
            "/api/docs/",
            "/admin/",
            "/admin/registrar/user/",
        ]
        job = ImportJob.objects.order_by("pk").first()
        if job is not None:
            pages.append(reverse("grades:import_job", args=[job.pk]))
        batch = TranscriptBatch.objects.order_by("pk").first()
        if batch is not None:
            pages.append(reverse("grades:transcript_batch_detail", args=[batch.pk]))
        document = Document.objects.order_by("pk").first()
        if document is not None:
            pages.append(reverse("documents:detail", args=[document.pk]))
    if username == "instructor":
        sheet = Offering.objects.filter(instructors=user).order_by("pk").first()
        pages += [reverse("grades:offering_list"), reverse("grades:offering_detail", args=[sheet.pk])]
    if username == "teaching_secretary":
        sheet = (
            Offering.objects.filter(
                college__in=[g.college_id for g in user.role_assignments.all()],
                sheet_state=Offering.SheetState.ENTERING,
            )
            .order_by("pk")
            .first()
        )
        if sheet is not None:
            pages.append(reverse("grades:offering_composition", args=[sheet.pk]))
    if username == "student":
        pages += [reverse("grades:my_grades")]
    return pages


@pytest.mark.parametrize("username", ["registrar", "student", "instructor", "teaching_secretary", "counsellor"])
def test_main_pages_load_without_a_policy_violation(demo, open_page, shot, username, csp_violations):
    from urllib.parse import urlsplit

    page = open_page()
    page.goto(reverse("login"))
    form = page.locator("main form:has(input[name=password])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path == reverse("home"))

    visited = _pages(username)
    assert len(visited) >= 4
    for url in visited:
        response = page.goto(url)
        assert response.status == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"], url
        page.wait_for_load_state("networkidle")
        if url == "/api/docs/":
            page.wait_for_selector(".swagger-ui .information-container")
            assert page.locator(".swagger-ui .opblock").count() > 10
        # sizes from data attributes are applied by app.js (no style="…" in the markup)
        for bar in page.locator("[data-progress]").all():
            assert bar.evaluate("el => el.style.width") == bar.get_attribute("data-progress") + "%"
        for chart in page.locator("[data-max-height]").all():
            assert chart.evaluate("el => el.style.maxHeight") == chart.get_attribute("data-max-height") + "px"
        shot(page, urlsplit(url).path.strip("/").replace("/", "-") or "home")
    assert not csp_violations, "\n".join(csp_violations)


def test_scripts_moved_to_static_files_still_run(demo, open_page, login, csp_violations):
    """The composition total, the confirmation queue's select-all and the grid run from static files."""
    from urllib.parse import urlsplit

    from grades.models import Offering

    def sign_in(username):
        page = open_page()
        page.goto(reverse("login"))
        form = page.locator("main form:has(input[name=password])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(DEMO_PASSWORD)
        form.locator("button[type=submit]").click()
        page.wait_for_url(lambda url: urlsplit(url).path == reverse("home"))
        return page

    registrar = sign_in("registrar")
    registrar.goto(reverse("grades:confirm_queue"))
    boxes = registrar.locator(".queue-check")
    if boxes.count():
        registrar.locator("#select-all").check()
        assert all(b.is_checked() for b in boxes.all())

    secretary = sign_in("teaching_secretary")
    sheet = (
        Offering.objects.filter(sheet_state=Offering.SheetState.ENTERING, grades__isnull=False).order_by("pk").first()
    )
    secretary.goto(reverse("grades:offering_composition", args=[sheet.pk]))
    if secretary.locator("#composition-table input.weight-input").count():
        first = secretary.locator("#composition-table input.weight-input").first
        first.fill("0")
        first.dispatch_event("input")
        assert secretary.locator("#weight-total").get_attribute("class") == "text-danger fw-semibold"
    assert not csp_violations, "\n".join(csp_violations)
