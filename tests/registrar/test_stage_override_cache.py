"""StageConfig overrides are held in each process and checked against a version in the shared cache
at most once per request: a change made in one process (the admin) takes effect in every other on
its next request, and a page that asks for a hundred stages' signers reads the cache once."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started

from registrar.approvals import config
from registrar.approvals.chains import get_chain
from registrar.approvals.models import StageConfig
from students.models import U6

pytestmark = pytest.mark.django_db

STAGE = "counsellor_confirm"


class _Request:
    """Inside ``with``: what Django's handler signals around one request, to the override cache's own
    receivers only (the full ``request_finished`` would also close the test's database connection)."""

    def __enter__(self):
        assert config._request_started in _receivers(request_started)
        config._request_started()

    def __exit__(self, *exc):
        assert config._request_finished in _receivers(request_finished)
        config._request_finished()


def _receivers(signal):
    return [ref() for _key, ref, *_rest in signal.receivers]


def _other_process_copy():
    """What another process holds: its rows and the version it read them under."""
    return config._copy.data, config._copy.version


def _become(copy):
    config._copy.data, config._copy.version = copy


def test_a_change_in_one_process_reaches_another_on_its_next_request(django_capture_on_commit_callbacks):
    chain = get_chain(U6.code)
    with _Request():
        assert chain.signers(STAGE) == ("counsellor",)
    stale = _other_process_copy()
    assert stale[0] is not None

    # the admin (this process) adds a second signer; the version moves at once and at commit
    with django_capture_on_commit_callbacks(execute=True):
        StageConfig.objects.create(chain=U6.code, stage=STAGE, signers=["counsellor", "advisor"])
    assert cache.get(config.VERSION_KEY) != stale[1]

    _become(stale)  # the other process still holds the rows without the override
    with _Request():
        assert chain.signers(STAGE) == ("counsellor", "advisor")

    # and deleting it takes effect the same way
    stale = _other_process_copy()
    with django_capture_on_commit_callbacks(execute=True):
        StageConfig.objects.filter(chain=U6.code, stage=STAGE).delete()
    _become(stale)
    with _Request():
        assert chain.signers(STAGE) == ("counsellor",)


def test_the_version_is_read_once_per_request_and_the_rows_only_when_it_moved(django_assert_num_queries):
    chain = get_chain(U6.code)
    with _Request():
        chain.signers(STAGE)  # the rows are loaded once
    with mock.patch.object(config.cache, "get", wraps=cache.get) as get:
        with _Request(), django_assert_num_queries(0):
            for _ in range(100):
                chain.signers(STAGE)
                chain.deadline_spec(STAGE)
        assert [c.args[0] for c in get.call_args_list] == [config.VERSION_KEY]
        with _Request(), django_assert_num_queries(0):
            chain.signers(STAGE)
        assert get.call_count == 2


def test_outside_a_request_a_copy_is_rechecked_after_a_second(monkeypatch):
    chain = get_chain(U6.code)
    chain.signers(STAGE)
    stale = _other_process_copy()
    StageConfig.objects.create(chain=U6.code, stage=STAGE, signers=["counsellor", "advisor"])
    cache.set(config.VERSION_KEY, "moved-by-another-process", None)  # as the commit's bump would
    _become(stale)
    now = config.time.monotonic()
    monkeypatch.setattr(config.time, "monotonic", lambda: now + config.RECHECK_SECONDS + 0.1)
    assert chain.signers(STAGE) == ("counsellor", "advisor")
