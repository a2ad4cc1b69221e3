"""Issue 9, item 8: the phone-first inbox. At 390 × 664 (an iPhone 13) the counsellor's inbox is a list
of cards, not a table that scrolls sideways; one card's button approves its request, and ticking two
cards approves both with one opinion."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from registrar.approvals.models import SignOff
from registrar.approvals.services import request_create
from students.models import U6, IdCardReissueRequest
from tests.factories import StudentFactory, photo_upload

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 664}
BATCH_OPINION = "同意补办（批量）"


def _expect():
    from playwright.sync_api import expect

    return expect


def _u6(student):
    return request_create(
        chain=U6,
        student=student,
        applicant=student.user,
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide at {PHONE['width']}px"


def test_counsellor_approves_from_cards_on_a_phone(open_page, login, shot, u6_world):
    expect = _expect()
    w = u6_world
    klass = w["student"].klass
    reqs = [_u6(w["student"])] + [_u6(StudentFactory(klass=klass)) for _ in range(2)]
    first, *rest = reqs

    page = open_page()
    page.set_viewport_size(PHONE)
    login(page, "counsellor")
    page.goto(reverse("approvals:inbox"))
    expect(page.locator("#inbox-table thead")).to_be_hidden()  # no table header: cards
    cards = page.locator("#inbox-table tr.inbox-card")
    expect(cards).to_have_count(3)
    for req in reqs:
        card = page.locator(f'#inbox-table tr[data-request="{U6.code}-{req.pk}"]')
        expect(card).to_contain_text(req.student.name)
        assert card.evaluate("el => getComputedStyle(el).display") == "grid"
    _no_sideways_scroll(page)
    shot(page, "phone-inbox")

    # one card, one button
    page.locator(f'#inbox-table tr[data-request="{U6.code}-{first.pk}"] button.inbox-approve').click()
    page.wait_for_url(lambda url: urlsplit(url).path == reverse("approvals:inbox"))
    expect(page.locator(".messages .alert-success")).to_be_visible()
    expect(page.locator(f'#inbox-table tr[data-request="{U6.code}-{first.pk}"]')).to_have_count(0)
    assert IdCardReissueRequest.objects.get(pk=first.pk).state != "counsellor_confirm"
    _no_sideways_scroll(page)

    # tick the other two, one opinion, one button
    for req in rest:
        page.locator(f'#inbox-table tr[data-request="{U6.code}-{req.pk}"] input.inbox-card-check').check()
    batch = page.locator("form.inbox-batch")
    batch.locator("textarea[name=opinion]").fill(BATCH_OPINION)
    shot(page, "phone-batch")
    batch.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path == reverse("approvals:inbox"))
    expect(page.locator(".messages .alert-success")).to_be_visible()
    expect(page.locator("#inbox-table tr.inbox-card")).to_have_count(0)
    _no_sideways_scroll(page)
    shot(page, "phone-done")

    signed = SignOff.objects.filter(chain=U6.code, decision="approve", actor=w["counsellor"])
    assert sorted(s.object_id for s in signed) == sorted(r.pk for r in reqs)
    batch_signoffs = [s for s in signed if s.object_id in {r.pk for r in rest}]
    assert {s.opinion for s in batch_signoffs} == {BATCH_OPINION}
    assert len({s.data["batch"] for s in batch_signoffs}) == 1
    assert all(IdCardReissueRequest.objects.get(pk=r.pk).state != "counsellor_confirm" for r in reqs)
