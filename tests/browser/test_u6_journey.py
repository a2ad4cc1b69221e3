"""U6 (学生证补办, student ID card reissue) end to end in Chromium: the student applies with a
photo, the counsellor confirms, finance records the fee (after one rejected receipt number),
the registrar records the new card, and the student sees the finished request.

Assertions are language-independent: the database through the ORM, data attributes and
element names in the pages, data the test made (names, numbers, opinions), and labels
translated with Django's own catalogs into whatever language the page declares.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from registrar.approvals.models import SignOff
from registrar.approvals.selectors import request_attachments
from students.models import U6, IdCardReissueRequest
from tests.factories import png_bytes

pytestmark = [pytest.mark.browser]

COUNSELLOR_OPINION = "情况属实，同意补办 — confirmed by counsellor"
FINANCE_OPINION = "工本费已收 — fee received"
REGISTRAR_OPINION = "新卡已制作 — new card issued"


def _expect():
    from playwright.sync_api import expect

    return expect


def _path_is(path: str):
    return lambda url: urlsplit(url).path == path


def _detail_url_pattern():
    return re.compile(re.escape(reverse("approvals:detail", args=[U6.code, 0])).replace("0", r"\d+") + "$")


def _lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def _state_label(page, req) -> str:
    """``req``'s state label in the language the page is rendered in."""
    with translation.override(_lang(page)):
        return str(req.get_state_label())


def _signoffs(req) -> list[SignOff]:
    return list(SignOff.objects.for_object(req).order_by("pk"))


def _open_from_inbox(page, req, student_name: str) -> None:
    """Find ``req`` in the signer's inbox and open it."""
    expect = _expect()
    page.goto(reverse("approvals:inbox"))
    row = page.locator(f'#inbox-table tr[data-request="{U6.code}-{req.pk}"]')
    expect(row).to_contain_text(student_name)
    row.locator(f'a[href="{req.get_absolute_url()}"]').first.click()
    page.wait_for_url(_path_is(req.get_absolute_url()))


def _start_approval(page, req) -> None:
    page.locator('#request-actions a[data-action="approve"]').click()
    page.wait_for_url(_path_is(reverse("approvals:act", args=[U6.code, req.pk, "approve"])))


def _confirm(page):
    return page.locator("main form[data-once] button[type=submit]")


def test_u6_journey(open_page, login, shot, u6_world, tmp_path):
    expect = _expect()
    w = u6_world
    student = w["student"]
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())

    # --- 1. the student applies -------------------------------------------------------------
    page = open_page()
    login(page, student.user.username)
    shot(page, "student-home")
    create_url = reverse("approvals:create", args=[U6.code])
    page.locator(f'main a[href="{create_url}"]').click()
    page.wait_for_url(_path_is(create_url))
    expect(page.locator("main")).to_contain_text(student.student_number)
    page.locator("main select[name=reason]").select_option("lost")
    page.locator("main textarea[name=reason_detail]").fill("在公交车上遗失 (lost on the bus)")
    page.locator("main input[name=photo]").set_input_files(str(photo))
    shot(page, "student-form-filled")
    page.locator("main button[name=submit]").click()
    page.wait_for_url(_detail_url_pattern())

    req = IdCardReissueRequest.objects.get(student=student)
    assert urlsplit(page.url).path == req.get_absolute_url()
    assert req.state == "counsellor_confirm"
    assert req.reason == "lost" and req.applicant == student.user
    assert [s.decision for s in _signoffs(req)] == ["submit"]
    assert [(a.kind, a.mime_type) for a in request_attachments(req)] == [("photo", "image/png")]
    expect(page.locator("#request-state")).to_contain_text(_state_label(page, req))
    expect(page.locator('#stepper li[data-stage="counsellor_confirm"]')).to_have_attribute("aria-current", "step")
    expect(page.locator("main")).to_contain_text(student.name)
    expect(page.locator('#request-actions a[data-action="approve"]')).to_have_count(0)  # students don't sign
    shot(page, "student-submitted")

    # --- 2. the counsellor confirms -----------------------------------------------------------
    page = open_page()
    login(page, "counsellor")
    _open_from_inbox(page, req, student.name)
    shot(page, "counsellor-detail")
    _start_approval(page, req)
    page.locator("main textarea[name=opinion]").fill(COUNSELLOR_OPINION)
    shot(page, "counsellor-approve-form")
    _confirm(page).click()
    page.wait_for_url(_path_is(req.get_absolute_url()))

    req.refresh_from_db()
    assert req.state == "finance_payment"
    signoffs = _signoffs(req)
    assert [(s.decision, s.actor_id) for s in signoffs] == [
        ("submit", student.user.pk),
        ("approve", w["counsellor"].pk),
    ]
    assert signoffs[-1].opinion == COUNSELLOR_OPINION
    expect(page.locator(".messages .alert-success")).to_contain_text(_state_label(page, req))
    expect(page.locator('#stepper li[data-stage="counsellor_confirm"]')).to_have_class(re.compile(r"\bdone\b"))
    shot(page, "counsellor-approved")

    # --- 3. finance: a bad receipt number first, then the fee ---------------------------------
    page = open_page()
    login(page, "finance")
    _open_from_inbox(page, req, student.name)
    _start_approval(page, req)
    page.locator("main input[name=fee_amount]").fill("20.00")
    page.locator("main input[name=receipt_number]").fill("R#1 !")
    page.locator("main textarea[name=opinion]").fill(FINANCE_OPINION)
    _confirm(page).click()
    page.wait_for_load_state()
    expect(page.locator("#id_receipt_number_error")).to_be_visible()
    expect(page.locator("main input[name=receipt_number]")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(".messages .alert-danger")).to_be_visible()
    assert urlsplit(page.url).path == reverse("approvals:act", args=[U6.code, req.pk, "approve"])
    shot(page, "finance-invalid-receipt")
    req.refresh_from_db()
    assert req.state == "finance_payment"
    assert req.receipt_number == "" and req.fee_amount is None
    assert len(_signoffs(req)) == 2

    page.locator("main input[name=fee_amount]").fill("20.00")
    page.locator("main input[name=receipt_number]").fill("R2024001")
    page.locator("main textarea[name=opinion]").fill(FINANCE_OPINION)
    _confirm(page).click()
    page.wait_for_url(_path_is(req.get_absolute_url()))

    req.refresh_from_db()
    assert req.state == "registrar_reissue"
    assert req.fee_amount == Decimal("20.00") and req.receipt_number == "R2024001"
    signoffs = _signoffs(req)
    assert len(signoffs) == 3 and (signoffs[-1].decision, signoffs[-1].actor_id) == ("approve", w["finance"].pk)
    expect(page.locator("#request-fields")).to_contain_text("R2024001")
    shot(page, "finance-approved")

    # --- 4. the registrar reissues the card ---------------------------------------------------
    page = open_page()
    login(page, "registrar")
    _open_from_inbox(page, req, student.name)
    _start_approval(page, req)
    page.locator("main input[name=new_card_number]").fill("SC-000123")
    page.locator("main textarea[name=opinion]").fill(REGISTRAR_OPINION)
    shot(page, "registrar-approve-form")
    _confirm(page).click()
    page.wait_for_url(_path_is(req.get_absolute_url()))

    req.refresh_from_db()
    assert req.state == "completed" and req.completed_at is not None
    assert req.new_card_number == "SC-000123"
    signoffs = _signoffs(req)
    assert [(s.decision, s.actor_id) for s in signoffs] == [
        ("submit", student.user.pk),
        ("approve", w["counsellor"].pk),
        ("approve", w["finance"].pk),
        ("approve", w["registrar"].pk),
    ]
    student.refresh_from_db()
    assert student.card_number == "SC-000123"
    shot(page, "registrar-approved")

    # --- 5. the student sees the finished request ---------------------------------------------
    page = open_page()
    login(page, student.user.username)
    row_link = page.locator(f'main table a[href="{req.get_absolute_url()}"]').first
    expect(row_link).to_be_visible()
    expect(page.locator("main table")).to_contain_text(_state_label(page, req))
    shot(page, "student-home-completed")
    row_link.click()
    page.wait_for_url(_path_is(req.get_absolute_url()))
    expect(page.locator("#request-state")).to_contain_text(_state_label(page, req))
    for stage in ("counsellor_confirm", "finance_payment", "registrar_reissue"):
        expect(page.locator(f'#stepper li[data-stage="{stage}"]')).to_have_class(re.compile(r"\bdone\b"))
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(4)  # the submission and three sign-offs
    expect(page.locator("ol.timeline > li.d-submit")).to_have_count(1)
    expect(page.locator("ol.timeline > li.d-approve")).to_have_count(3)
    for opinion in (COUNSELLOR_OPINION, FINANCE_OPINION, REGISTRAR_OPINION):
        expect(page.locator("ol.timeline")).to_contain_text(opinion)
    for actor in (w["counsellor"], w["finance"], w["registrar"]):
        expect(page.locator("ol.timeline")).to_contain_text(actor.display_name)
    expect(page.locator("#request-fields")).to_contain_text("SC-000123")
    expect(page.locator("#request-actions a[data-action]")).to_have_count(0)
    shot(page, "student-completed")
    assert IdCardReissueRequest.objects.get(pk=req.pk).state == "completed"
    assert len(_signoffs(req)) == 4


def test_language_switch_changes_navbar(open_page, login, shot, u6_world):
    expect = _expect()
    page = open_page()  # Accept-Language: zh-CN → the default Chinese UI
    login(page, "counsellor")
    html = page.locator("html")
    home_link = page.locator(f'#nav-main a.nav-link[href="{reverse("home")}"]')
    inbox_link = page.locator(f'#nav-main a.nav-link[href="{reverse("approvals:inbox")}"]')
    with translation.override("zh-hans"):
        zh_home, zh_inbox = gettext("Home"), gettext("Inbox")
    assert (zh_home, zh_inbox) != ("Home", "Inbox"), "no Chinese translation for the navbar's links"

    expect(html).to_have_attribute("lang", "zh-hans")
    expect(home_link).to_have_text(zh_home)
    expect(inbox_link).to_have_text(zh_inbox)
    before = page.locator("#nav-main").inner_text()
    shot(page, "navbar-chinese")

    page.locator('form.lang-switch button[name=language][value="en"]').click()
    expect(html).to_have_attribute("lang", "en")
    assert urlsplit(page.url).path == reverse("home")  # back where the switch was pressed
    expect(home_link).to_have_text("Home")
    expect(inbox_link).to_have_text("Inbox")
    expect(page.locator('form.lang-switch button[value="en"]')).to_have_attribute("aria-pressed", "true")
    assert page.locator("#nav-main").inner_text() != before
    shot(page, "navbar-english")

    page.goto(reverse("approvals:inbox"))  # the choice sticks (language cookie)
    expect(html).to_have_attribute("lang", "en")
    expect(inbox_link).to_have_text("Inbox")
