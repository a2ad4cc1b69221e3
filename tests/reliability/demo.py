"""The demo institution (``manage.py seed_demo`` with a few students) as a module-wide world.

``seed_demo`` gives every role a login (password ``demo12345``) and data in every state: requests of
every chain at every stage, grade sheets, imports, batches, documents. Seeding takes a few seconds,
so a module seeds once inside a transaction that each test's own transaction nests in (a savepoint)
and that is rolled back when the module ends: the database is left as it was.

Use it in a module with ``from tests.reliability.demo import _media, demo_media, demo_world  # noqa: F401`` and
mark the tests ``django_db``.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

PASSWORD = "demo12345"
STUDENTS = 24


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture
def _media(settings, demo_media):
    """Override the suite's per-test MEDIA_ROOT: the seeded files live in the module's folder."""
    settings.MEDIA_ROOT = demo_media


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker, demo_media):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=demo_media):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", "--students", str(STUDENTS), stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
