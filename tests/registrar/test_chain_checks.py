"""The system check refuses to start when a chain names a dotted path that does not import."""

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from registrar.approvals import chains
from registrar.approvals.chains import Chain, Stage
from registrar.approvals.checks import DOTTED_PATH_DOES_NOT_IMPORT, chain_paths_check

BROKEN = Chain(
    code="ZZ_BROKEN",
    name="Broken chain",
    validate="registrar.approvals.services.no_such_validator",
    on_complete="no_such_app.services.apply",
    stages=(
        Stage(
            "review",
            "Review",
            ("academic_affairs",),
            form="statuschange.forms.NoSuchForm",
            on_pass="registrar.approvals.services.request_act",  # imports: no error
            role_forms=(("finance", "students.forms.FeePaymentForm"), ("library", "students.nowhere.Form")),
        ),
    ),
)


@pytest.fixture
def broken_chain(monkeypatch):
    monkeypatch.setitem(chains._REGISTRY, BROKEN.code, BROKEN)
    return BROKEN


def test_the_registered_chains_name_only_paths_that_import():
    assert chain_paths_check() == []
    assert not [e for e in run_checks() if e.id == DOTTED_PATH_DOES_NOT_IMPORT]


def test_a_wrong_dotted_path_is_an_error_naming_the_chain_the_place_and_the_path(broken_chain):
    errors = chain_paths_check()
    assert all(isinstance(e, Error) and e.id == "registrar.E001" for e in errors)
    messages = sorted(e.msg for e in errors)
    assert len(messages) == 4
    assert [m.split(", which")[0] for m in messages] == [
        "Chain ZZ_BROKEN: on_complete names 'no_such_app.services.apply'",
        "Chain ZZ_BROKEN: stage 'review' form names 'statuschange.forms.NoSuchForm'",
        "Chain ZZ_BROKEN: stage 'review' role_forms['library'] names 'students.nowhere.Form'",
        "Chain ZZ_BROKEN: validate names 'registrar.approvals.services.no_such_validator'",
    ]
    assert all("does not import" in m for m in messages)


def test_manage_py_check_fails_at_startup(broken_chain):
    with pytest.raises(SystemCheckError, match=r"registrar\.E001.*ZZ_BROKEN"):
        call_command("check")
