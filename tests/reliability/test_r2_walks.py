"""R2 random walks (issue 8): a Hypothesis state machine per chain of the approval kernel, for the grade
sheet and for station submissions. See tests/reliability/kernel.py and grades_walks.py for what each
step may do and what is checked after it; walks.py for the size (``R2_STEPS``) and the counts."""

import logging

import pytest

from registrar.approvals.chains import all_chains

from .grades_walks import SheetWalk, StationWalk, station_world
from .kernel import chain_walk
from .specs import SPECS
from .walks import run_walk
from .world import build_world

CHAIN_CODES = [c.code for c in all_chains()]


@pytest.fixture
def r2(settings, monkeypatch):
    """What every walk runs with: C4 may be filed all year (the filing window has its own tests), and
    documents get a stub PDF should anything render — the walks check document rows and their status,
    not the pages (examples never commit, so the after-commit rendering does not run anyway); the
    stage configuration read from a local cache."""
    from registrar.approvals.deadlines import windows_waived

    waived = windows_waived()
    waived.__enter__()
    # The kernel reads the stage configuration through the cache dozens of times per action; a local
    # cache keeps the walks about the chains, not the Redis round trips (the cache has its own tests).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "r2"}}
    monkeypatch.setattr("registrar.documents.render.render_pdf", lambda html, **kw: b"%PDF-1.4\n% R2 stub\n%%EOF\n")
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the walks' many 403/404s are expected
    yield
    waived.__exit__(None, None, None)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


def test_every_registered_chain_has_a_walk():
    assert sorted(CHAIN_CODES) == sorted(SPECS), "a chain without a walk spec (tests/reliability/specs.py)"


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_chain_walk(code, r2, db):
    spec = SPECS[code]
    machine = chain_walk(spec, build_world())
    result = run_walk(machine, step_count=machine.step_count)
    assert result["steps"] >= 1


def test_grade_sheet_walk(r2, db):
    machine = type("WalkGradeSheet", (SheetWalk,), {"world": build_world()})
    assert run_walk(machine, step_count=machine.step_count)["steps"] >= 1


def test_station_submissions_walk(r2, db):
    machine = type("WalkStationSubmissions", (StationWalk,), {"world": station_world(build_world())})
    assert run_walk(machine, step_count=machine.step_count)["steps"] >= 1
