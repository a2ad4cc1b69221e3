"""The inbox's rows (``registrar_ui.inbox_rows``, one format string per row, not a template): every
value is escaped, and a row carries its checkbox and approve button only where the item allows."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from registrar.approvals.services import request_create
from students.models import U6
from tests.factories import StudentFactory, photo_upload

pytestmark = pytest.mark.django_db


def _u6(student):
    return request_create(
        chain=U6,
        student=student,
        applicant=student.user,
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )


def test_rows_escape_what_users_typed_and_offer_batch_and_single_approval(u6_world):
    w = u6_world
    w["student"].name = '<script>alert("x")</script>'
    w["student"].save(update_fields=["name"])
    reqs = [_u6(w["student"]), _u6(StudentFactory(klass=w["student"].klass))]
    client = Client()
    client.force_login(w["counsellor"])
    html = client.get(reverse("approvals:inbox")).content.decode()

    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    for req in reqs:
        assert f'data-request="{U6.code}-{req.pk}"' in html
        assert f'name="ids" value="{req.pk}" form="batch-1"' in html  # two at one stage: batchable
        assert f'<input type="hidden" name="ids" value="{req.pk}">' in html  # its own approve button
    assert html.count("inbox-approve") == 2
    assert html.count('name="csrfmiddlewaretoken"') >= 3  # the batch form and each row's form
