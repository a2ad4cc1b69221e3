"""Status changes end to end in Chromium (issue 3): the whole U1 休学 chain across its signers,
and the whole U3 退学 chain including the parallel clearance by six departments.

Every signer works in their own browser context, logged in once and reused from stage to
stage (``Desks``). Each sign-off goes the way a signer works: the inbox row, the request
page, the approve button, the stage form and the opinion, confirm. After each one the test
checks the database (state, sign-offs, the student's record, documents) and the page.

Assertions are language-independent: the database through the ORM, data attributes and
element names in the pages, data the test made (names, opinions, numbers), and labels
translated with Django's own catalogs into whatever language the page declares.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import translation

from registrar.approvals.chains import get_chain
from registrar.approvals.models import SignOff
from registrar.documents.selectors import documents_of_request
from statuschange.models import U1, U3, SuspensionRequest, WithdrawalRequest
from students.models import Student
from tests.statuschange.conftest import sc_world  # noqa: F401 - the fixture, shared with the service tests

pytestmark = [pytest.mark.browser]

EFFECTIVE = dt.date(2026, 3, 10)


def _expect():
    from playwright.sync_api import expect

    return expect


def _path_is(path: str):
    return lambda url: urlsplit(url).path == path


def _lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def _state_label(page, req) -> str:
    """``req``'s state label in the language the page is rendered in."""
    with translation.override(_lang(page)):
        return str(req.get_state_label())


def _signoffs(req) -> list[SignOff]:
    return list(SignOff.objects.for_object(req).order_by("pk"))


class Desks:
    """One logged-in page per user: a browser context made and logged in on first use, then reused."""

    def __init__(self, open_page, login):
        self._open_page, self._login, self._pages = open_page, login, {}

    def __call__(self, username: str):
        if username not in self._pages:
            page = self._open_page()
            self._login(page, username)
            self._pages[username] = page
        return self._pages[username]


def _fill(page, fields: dict) -> None:
    """Fill a stage form: ``True`` ticks a checkbox, a select gets its option, anything else is typed."""
    for name, value in fields.items():
        field = page.locator(f"main form [name={name}]")
        if value is True:
            field.check()
        elif field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def _apply(page, shot, chain_code: str, fields: dict, step: str) -> None:
    """The student opens the chain's application form from the home page, fills it and submits."""
    expect = _expect()
    create_url = reverse("approvals:create", args=[chain_code])
    page.goto(reverse("home"))
    page.locator(f'main a[href="{create_url}"]').click()
    page.wait_for_url(_path_is(create_url))
    _fill(page, fields)
    shot(page, f"{step}-form")
    page.locator("main button[name=submit]").click()
    detail = re.escape(reverse("approvals:detail", args=[chain_code, 0])).replace("0", r"\d+")
    page.wait_for_url(re.compile(detail + "$"))
    expect(page.locator(".messages .alert-success")).to_be_visible()


def _sign(
    page, req, *, opinion: str, fields: dict | None = None, shot=None, step: str = "", signs_next: bool = False
) -> None:
    """Open ``req`` from the signer's inbox, approve it with ``fields`` (the stage form) and ``opinion``.

    Afterwards the signer has no approve button any more, unless they also sign the next stage."""
    expect = _expect()
    code, url = req.chain.code, req.get_absolute_url()
    page.goto(reverse("approvals:inbox"))
    row = page.locator(f'#inbox-table tr[data-request="{code}-{req.pk}"]')
    expect(row).to_contain_text(req.student.name)
    row.locator(f'a[href="{url}"]').first.click()
    page.wait_for_url(_path_is(url))
    page.locator('#request-actions a[data-action="approve"]').click()
    page.wait_for_url(_path_is(reverse("approvals:act", args=[code, req.pk, "approve"])))
    _fill(page, fields or {})
    page.locator("main textarea[name=opinion]").fill(opinion)
    if shot and fields:
        shot(page, f"{step}-form")
    page.locator("main form[data-once] button[type=submit]").click()
    page.wait_for_url(_path_is(url))
    expect(page.locator(".messages .alert-success")).to_be_visible()
    expect(page.locator('#request-actions a[data-action="approve"]')).to_have_count(1 if signs_next else 0)
    if shot:
        shot(page, step)


# The page is rendered on the server and already loaded when these run, so one evaluate_all
# reads the whole stepper at once (no retrying locators needed, and one round trip).
_STEPPER_JS = """els => els.map(e => [e.dataset.stage, e.classList.contains('done') ? 'done'
    : e.getAttribute('aria-current') === 'step' ? 'current' : 'pending'])"""
_SIGNERS_JS = """els => els.map(e => {
    const check = e.querySelector('.text-success'); return check ? check.textContent.trim() : null; })"""


def _assert_stage(page, req, *, state: str, signoffs: int) -> None:
    """The database and the signer's page agree that ``req`` is at ``state`` with ``signoffs`` entries:
    the stepper shows the stages before it done, it current, the ones after it pending."""
    expect = _expect()
    req.refresh_from_db()
    assert req.state == state
    assert len(_signoffs(req)) == signoffs
    expect(page.locator("#request-state")).to_contain_text(_state_label(page, req))
    codes = get_chain(req.chain.code).stage_codes
    at = len(codes) if state == "completed" else codes.index(state)
    expected = [[code, "done" if i < at else "current" if i == at else "pending"] for i, code in enumerate(codes)]
    assert page.locator("#stepper li[data-stage]").evaluate_all(_STEPPER_JS) == expected


def _signed_items(page, req, stage: str, signed: dict[str, object]) -> None:
    """The stepper's ``stage`` shows a check with the signer's name exactly for the roles in ``signed``
    (the stepper lists a stage's signers in the chain's order)."""
    roles = get_chain(req.chain.code).signers(stage)
    found = page.locator(f'#stepper li[data-stage="{stage}"] ul.signers > li').evaluate_all(_SIGNERS_JS)
    assert found == [signed[role].display_name if role in signed else None for role in roles]


def _document(req, doc_type: str):
    docs = list(documents_of_request(req, doc_type))
    assert len(docs) == 1, f"expected one {doc_type}, found {len(docs)}"
    return docs[0]


def _assert_document_ready(page, req, doc_type: str) -> None:
    """``doc_type`` was issued once for ``req``, rendered (eager Celery), and its PDF downloads from the page."""
    expect = _expect()
    doc = _document(req, doc_type)
    assert doc.status == "ready" and doc.student_id == req.student_id
    link = page.locator(f'#request-documents a[href="{reverse("documents:download", args=[doc.pk])}"]')
    expect(link).to_be_visible()
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def _student_sees_completed(page, shot, req, signoff_count: int, opinions: list[str], step: str) -> None:
    expect = _expect()
    page.goto(reverse("home"))
    row_link = page.locator(f'main table a[href="{req.get_absolute_url()}"]').first
    expect(row_link).to_be_visible()
    expect(page.locator("main table")).to_contain_text(_state_label(page, req))
    row_link.click()
    page.wait_for_url(_path_is(req.get_absolute_url()))
    expect(page.locator("#request-state")).to_contain_text(_state_label(page, req))
    stages = page.locator("#stepper li[data-stage]").evaluate_all(_STEPPER_JS)
    assert stages == [[code, "done"] for code in get_chain(req.chain.code).stage_codes]
    expect(page.locator("ol.timeline > li")).to_have_count(signoff_count)
    expect(page.locator("ol.timeline > li.d-submit")).to_have_count(1)
    expect(page.locator("ol.timeline > li.d-approve")).to_have_count(signoff_count - 1)
    for opinion in opinions:
        expect(page.locator("ol.timeline")).to_contain_text(opinion)
    expect(page.locator("#request-actions a[data-action]")).to_have_count(0)
    shot(page, step)


# --- U1 休学 ----------------------------------------------------------------------------------
def test_u1_suspension_journey(open_page, login, shot, sc_world):
    expect = _expect()
    w = sc_world
    student = w["student"]
    desk = Desks(open_page, login)

    # 1. the student applies
    page = desk(student.user.username)
    _apply(
        page,
        shot,
        U1.code,
        {
            "reason": "personal",
            "period_start": "2026-03-01",
            "period_end": "2027-02-28",
            "reason_detail": "家中有事需休学一年 (family matters)",
        },
        "student-apply",
    )
    req = SuspensionRequest.objects.get(student=student)
    assert urlsplit(page.url).path == req.get_absolute_url()
    assert (req.reason, req.period_start, req.period_end) == ("personal", dt.date(2026, 3, 1), dt.date(2027, 2, 28))
    assert req.applicant == student.user
    _assert_stage(page, req, state="advisor_confirm", signoffs=1)
    expect(page.locator('#request-actions a[data-action="approve"]')).to_have_count(0)  # students don't sign
    shot(page, "student-submitted")

    # 2. the class advisor confirms
    _sign(desk("advisor"), req, opinion="advisor 同意", shot=shot, step="advisor")
    _assert_stage(desk("advisor"), req, state="college_review", signoffs=2)

    # 3. counsellor, college secretary and dean: one stage, three signers
    college = [("counsellor", "counsellor"), ("secretary", "college_secretary"), ("dean", "college_dean")]
    signed = {}
    for n, (username, role) in enumerate(college, start=1):
        page = desk(username)
        _sign(page, req, opinion=f"{role} 同意", shot=shot if username != "secretary" else None, step=username)
        signed[role] = w[username]
        last = n == len(college)
        _assert_stage(page, req, state="offices_review" if last else "college_review", signoffs=2 + n)
        if not last:
            _signed_items(page, req, "college_review", signed)
    assert Student.objects.get(pk=student.pk).status == Student.Status.ENROLLED

    # 4. Student Affairs and Academic Affairs
    _sign(desk("student_affairs"), req, opinion="student_affairs 同意", shot=shot, step="student-affairs")
    _assert_stage(desk("student_affairs"), req, state="offices_review", signoffs=6)
    _signed_items(desk("student_affairs"), req, "offices_review", {"student_affairs": w["student_affairs"]})
    _sign(desk("academic_affairs"), req, opinion="academic_affairs 同意", shot=shot, step="academic-affairs")
    _assert_stage(desk("academic_affairs"), req, state="leadership_review", signoffs=7)

    # 5. the university party committee and the vice-president in charge: both sign
    _sign(desk("party_committee"), req, opinion="party_committee 同意", shot=shot, step="party-committee")
    _assert_stage(desk("party_committee"), req, state="leadership_review", signoffs=8)
    _sign(desk("vice_president"), req, opinion="vice_president 批准", shot=shot, step="vice-president")
    _assert_stage(desk("vice_president"), req, state="registrar_issue", signoffs=9)
    assert not documents_of_request(req, "suspension_slip").exists()  # not before the registrar's stage

    # 6. the registrar (Academic Affairs) issues the slip with the effective date
    page = desk("academic_affairs")
    _sign(
        page,
        req,
        opinion="准予休学，出具异动单",
        fields={"effective_date": EFFECTIVE.isoformat()},
        shot=shot,
        step="registrar-issue",
    )
    _assert_stage(page, req, state="finance_receipt", signoffs=10)
    assert req.effective_date == EFFECTIVE
    student.refresh_from_db()
    assert student.status == Student.Status.SUSPENDED
    assert [
        (h.old_value, h.new_value, h.effective_date, h.request_id) for h in student.history.filter(field="status")
    ] == [("enrolled", "suspended", EFFECTIVE, req.pk)]
    _assert_document_ready(page, req, "suspension_slip")

    # 7. finance receives the slip
    _sign(desk("finance"), req, opinion="finance 已收异动单", shot=shot, step="finance")
    _assert_stage(desk("finance"), req, state="clearance", signoffs=11)

    # 8. library and dorm clear the student
    _sign(desk("library"), req, opinion="library 已清", shot=shot, step="library")
    _assert_stage(desk("library"), req, state="clearance", signoffs=12)
    _signed_items(desk("library"), req, "clearance", {"library": w["library"]})
    _sign(desk("dorm"), req, opinion="dorm 已清", shot=shot, step="dorm")
    _assert_stage(desk("dorm"), req, state="completed", signoffs=13)
    assert req.completed_at is not None
    assert [s.decision for s in _signoffs(req)] == ["submit"] + ["approve"] * 12
    assert len(documents_of_request(req, "suspension_slip")) == 1  # issued once, not again at completion

    # 9. the student sees the finished request, its timeline and the slip
    page = desk(student.user.username)
    _student_sees_completed(
        page, shot, req, 13, ["advisor 同意", "准予休学，出具异动单", "dorm 已清"], "student-completed"
    )
    _assert_document_ready(page, req, "suspension_slip")
    expect(page.locator("#request-fields")).to_contain_text(EFFECTIVE.isoformat())


# --- U3 退学 ----------------------------------------------------------------------------------
CLEARANCE_ORDER = ["textbook", "finance", "college_office", "library", "youth_league", "apartment"]


def test_u3_withdrawal_journey(open_page, login, shot, sc_world):
    expect = _expect()
    w = sc_world
    student = w["student"]
    desk = Desks(open_page, login)

    # 1. the student applies
    page = desk(student.user.username)
    _apply(page, shot, U3.code, {"reason_detail": "转学出国 (going abroad to study)"}, "student-apply")
    req = WithdrawalRequest.objects.get(student=student)
    assert req.applicant == student.user
    _assert_stage(page, req, state="advisor_confirm", signoffs=1)
    shot(page, "student-submitted")

    # 2. the class advisor confirms; then advisor, college secretary, college director sign
    count = 1
    for username, stage_after in [
        ("advisor", "college_review"),
        ("advisor", "college_review"),
        ("secretary", "college_review"),
        ("dean", "offices_review"),
    ]:
        _sign(
            desk(username),
            req,
            opinion=f"{username} 同意",
            shot=shot if username != "secretary" else None,
            step=f"{username}-{count}",
            signs_next=count == 1,
        )  # the advisor confirms, then signs the college stage too
        count += 1
        _assert_stage(desk(username), req, state=stage_after, signoffs=count)

    # 3. Student Affairs, Academic Affairs, the head in charge; 4. university leadership
    for username, stage_after in [
        ("student_affairs", "offices_review"),
        ("academic_affairs", "offices_review"),
        ("academic_affairs_head", "leadership_approval"),
        ("leadership", "registrar_notice"),
    ]:
        _sign(
            desk(username),
            req,
            opinion=f"{username} 同意",
            shot=shot if username != "academic_affairs" else None,
            step=username,
        )
        count += 1
        _assert_stage(desk(username), req, state=stage_after, signoffs=count)
    assert not documents_of_request(req).filter(doc_type__in=["leave_notice", "withdrawal_certificate"]).exists()

    # 5. the registrar issues the leave-school notice
    page = desk("academic_affairs")
    _sign(page, req, opinion="出具离校通知单", shot=shot, step="registrar-notice")
    count += 1
    _assert_stage(page, req, state="clearance", signoffs=count)
    _assert_document_ready(page, req, "leave_notice")
    _signed_items(page, req, "clearance", {})

    # 6. parallel clearance: six departments in their own order
    fields = {"finance": {"arrears": "0", "refund": "350.00"}}
    signed = {}
    for n, role in enumerate(CLEARANCE_ORDER, start=1):
        page = desk(role)
        _sign(page, req, opinion=f"{role} 已办结", fields=fields.get(role), shot=shot, step=f"clearance-{n}-{role}")
        count += 1
        signed[role] = w[role]
        last = n == len(CLEARANCE_ORDER)
        _assert_stage(page, req, state="registrar_certificate" if last else "clearance", signoffs=count)
        if not last:
            _signed_items(page, req, "clearance", signed)
            assert Student.objects.get(pk=student.pk).status == Student.Status.ENROLLED
        if role == "finance":
            assert (req.arrears, req.refund) == (Decimal("0"), Decimal("350.00"))
            expect(page.locator("#request-fields")).to_contain_text("350")
    _signed_items(page, req, "clearance", signed)  # the finished stage keeps all six names
    assert not documents_of_request(req, "withdrawal_certificate").exists()

    # 7. the registrar receives notice, photos, ID card and issues the withdrawal certificate
    page = desk("academic_affairs")
    _sign(
        page,
        req,
        opinion="材料齐全，出具退学证明",
        fields={
            "notice_returned": True,
            "photos_received": "2",
            "id_card_returned": True,
            "effective_date": EFFECTIVE.isoformat(),
        },
        shot=shot,
        step="registrar-certificate",
    )
    count += 1
    _assert_stage(page, req, state="dossier", signoffs=count)
    assert (req.notice_returned, req.photos_received, req.id_card_returned) == (True, 2, True)
    assert req.effective_date == EFFECTIVE
    student.refresh_from_db()
    assert student.status == Student.Status.WITHDRAWN
    assert student.withdrawal_kind == Student.WithdrawalKind.VOLUNTARY
    history = sorted((h.field, h.old_value, h.new_value, h.effective_date, h.request_id) for h in student.history.all())
    assert history == [
        ("status", "enrolled", "withdrawn", EFFECTIVE, req.pk),
        ("withdrawal_kind", "", "voluntary", EFFECTIVE, req.pk),
    ]
    _assert_document_ready(page, req, "withdrawal_certificate")

    # 8. Student Affairs records the dossier
    page = desk("student_affairs")
    _sign(
        page, req, opinion="档案已归档", fields={"dossier_filed_on": EFFECTIVE.isoformat()}, shot=shot, step="dossier"
    )
    count += 1
    _assert_stage(page, req, state="completed", signoffs=count)
    assert count == 18
    assert req.dossier_filed_on == EFFECTIVE and req.completed_at is not None
    assert [(s.stage, s.role) for s in _signoffs(req) if s.stage == "clearance"] == [
        ("clearance", role) for role in CLEARANCE_ORDER
    ]
    assert len(documents_of_request(req, "leave_notice")) == 1
    assert len(documents_of_request(req, "withdrawal_certificate")) == 1

    # 9. the (now withdrawn) student sees the finished request
    _student_sees_completed(
        desk(student.user.username),
        shot,
        req,
        count,
        ["advisor 同意", "finance 已办结", "档案已归档"],
        "student-completed",
    )
