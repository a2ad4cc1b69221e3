"""/workflows/ speaks to every user in their words: stage, document, action and role labels, never
the internal codes (``suspension_slip``, ``send_back``, ``registrar_issue``)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from registrar.approvals.chains import all_chains
from registrar.documents.types import get_doc_type
from registrar.roles import Role
from tests.factories import StudentFactory


def _visible_text(html: str) -> str:
    """What the page shows: the text outside tags (SVG <title> hover text included)."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_workflows_page_shows_labels_not_codes(client, db, language):
    client.force_login(StudentFactory().user)
    client.cookies["django_language"] = language
    with translation.override(language):
        html = client.get(reverse("workflows"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        text = _visible_text(html)
        chains = [c.describe() for c in all_chains()]
        codes = {s["code"] for c in chains for s in c["stages"]} | {d for c in chains for d in c["documents"]}
        codes |= {t["name"] for c in chains for t in c["transitions"]} | {r.value for r in Role}
        if language == "en":  # "approve", "finance" are English words too: only snake_case codes stand out
            codes = {c for c in codes if "_" in c}
        shown = set(re.findall(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|\b[a-z]+\b", text))
        assert not (codes & shown), sorted(codes & shown)
        assert str(get_doc_type("suspension_slip").label) in text
        assert str(get_doc_type("approval_form").label) in text
        assert "<code>" not in html
