"""R2 random walks: the shared machinery of the state machines in test_r2_walks.py.

Each machine (a ``hypothesis.stateful.RuleBasedStateMachine``) acts on a world built once per test
(``world.build_world``); every example runs inside a savepoint that is rolled back at its end, so
examples never see each other's writes. A step is one action by one user, through the services
(most steps) or through the views and the REST API with the test client (a sample). After every
step the machine checks its invariants against what the database holds.

Size: ``R2_STEPS`` (default 300) steps per machine, as ``max_examples`` × ``stateful_step_count``.
Steps actually run are counted per machine and written to ``test-artifacts/r2/<machine>.json``
(``R2_ARTIFACTS`` names another folder) and printed with ``-s``. ``R2_PENDING`` enables invariants
that wait for another part's fix.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django_fsm import TransitionNotAllowed
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from registrar.exceptions import ApplicationError

STEPS_ENV = "R2_STEPS"
DEFAULT_STEPS = 300
ARTIFACTS = Path(os.environ.get("R2_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts/r2")

#: What a refused action may raise; anything else is a failure (a 500 in the UI).
REFUSALS = (PermissionDenied, Http404, ApplicationError, TransitionNotAllowed, ValidationError)

# Invariants that wait for another part's fix: a check guarded by ``pending_enabled("name")`` runs
# only with R2_PENDING=name,name (or "all") until the fix lands; then drop the guard. (The two kept
# here while issue 8 was being fixed — visible_q ⇔ can_view, defect 13, and one notification per stage
# change, defect 17 — landed and run by default.)
PENDING: dict[str, str] = {}


def pending_enabled(name: str) -> bool:
    wanted = {p.strip() for p in os.environ.get("R2_PENDING", "").split(",") if p.strip()}
    return name in wanted or "all" in wanted


def target_steps() -> int:
    return max(1, int(os.environ.get(STEPS_ENV, DEFAULT_STEPS)))


def walk_settings(step_count: int, steps: int) -> hypothesis_settings:
    """``steps`` steps in examples of ``step_count`` steps; random each run (no example database),
    ``print_blob`` so a failure prints what reproduces it."""
    return hypothesis_settings(
        max_examples=max(1, math.ceil(steps / step_count)),
        stateful_step_count=step_count,
        deadline=None,
        database=None,
        print_blob=True,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


# --- counting ----------------------------------------------------------------------------------
@dataclass
class Tally:
    name: str
    examples: int = 0
    steps: int = 0
    outcomes: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict:
        return {
            "machine": self.name,
            "examples": self.examples,
            "steps": self.steps,
            "seconds": round(time.monotonic() - self.started, 1),
            "target_steps": target_steps(),
            "events": dict(sorted(self.events.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


TALLIES: dict[str, Tally] = {}


def tally_for(name: str) -> Tally:
    if name not in TALLIES:
        TALLIES[name] = Tally(name)
    return TALLIES[name]


def report(name: str, *, failed: str | None = None) -> dict:
    """Print the machine's counts and write them to test-artifacts/r2/<name>.json."""
    data = tally_for(name).as_dict()
    if failed:
        data["failure"] = failed
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2))
    print(
        f"\nR2 {name}: {data['steps']} steps in {data['examples']} examples, {data['seconds']} s; "
        f"events {data['events']}"
    )
    return data


def run_walk(machine_class, *, step_count: int) -> dict:
    """Run ``machine_class`` for ``R2_STEPS`` steps and report what ran (also when it fails)."""
    from hypothesis.stateful import run_state_machine_as_test

    TALLIES.pop(machine_class.name, None)
    tally = tally_for(machine_class.name)
    try:
        # Rules that find nothing to do are not steps (and Hypothesis turns some rules off in some
        # examples): run again until the steps actually executed reach the target.
        for _round in range(10):
            remaining = target_steps() - tally.steps
            if remaining <= 0:
                break
            run_state_machine_as_test(machine_class, settings=walk_settings(step_count, remaining))
    except BaseException as exc:
        notes = "\n".join(getattr(exc, "__notes__", ()))  # Hypothesis's failing steps and reproduce_failure
        report(machine_class.name, failed=f"{type(exc).__name__}: {exc}\n{notes}"[:8000])
        raise
    return report(machine_class.name)


# --- the base machine ------------------------------------------------------------------------------
class Walk(RuleBasedStateMachine):
    """One example = one savepoint. Subclasses set ``name`` and ``world`` and implement
    ``setup_example`` (per-example preparation inside the savepoint)."""

    name = "walk"
    world = None

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self.tally = tally_for(self.name)
            self.tally.examples += 1
            self._clients: dict = {}
            self.setup_example()
        except BaseException:
            self._rollback()
            raise

    def setup_example(self) -> None:  # pragma: no cover - overridden
        pass

    def teardown(self):
        self._rollback()

    def _rollback(self):
        if self._atomic is not None:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
            self._atomic = None

    # --- counting --------------------------------------------------------------------------
    def count(self, rule: str, outcome: str) -> None:
        self.tally.steps += 1
        self.tally.outcomes[f"{rule}:{outcome}"] += 1

    def event(self, what: str) -> None:
        self.tally.events[what] += 1

    # --- calling the services, the views and the API ----------------------------------------
    @staticmethod
    def call(fn) -> tuple[str, object]:
        """Run a service call: ("ok", result) or (kind of refusal, exception)."""
        try:
            return "ok", fn()
        except Http404 as exc:
            return "404", exc
        except PermissionDenied as exc:
            return "403", exc
        except REFUSALS as exc:
            return "refused", exc

    def web(self, user):
        """A test client logged in as ``user`` (per example: sessions roll back with the example)."""
        from django.test import Client

        key = ("web", user.pk)
        if key not in self._clients:
            client = Client()
            client.force_login(user)
            self._clients[key] = client
        return self._clients[key]

    def api(self, user):
        from rest_framework.test import APIClient

        key = ("api", user.pk)
        if key not in self._clients:
            client = APIClient()
            client.force_authenticate(user)
            self._clients[key] = client
        return self._clients[key]

    # --- one step ---------------------------------------------------------------------------
    def snapshot(self) -> dict:  # pragma: no cover - overridden
        """Every row the walk's actions may write (a refused action must leave all of it as it was)."""
        raise NotImplementedError

    def check(self, before: dict, after: dict, info: dict) -> None:  # pragma: no cover - overridden
        """The machine's invariants after a step (``info["outcome"]`` says how it ended)."""
        raise NotImplementedError

    def after_action(self) -> None:
        """Forget what was read before the action (cached rows)."""

    def do(self, run, user, *, via: str, info: dict) -> str:
        """One step: ``run(user)`` calls a service (``via="service"``) or the views/API (returns the
        HTTP answer); then the snapshot, the refusal check (a refused action changes nothing), the
        count and the machine's invariants. Returns ok, 404, 403 or refused."""
        before = self.snap
        if via == "service":
            outcome, _result = self.call(lambda: run(user))
            self.after_action()
            after = self.snapshot()
        else:
            response = run(user)
            self.after_action()
            after = self.snapshot()
            outcome = self.http_outcome(response, before != after)
        info["outcome"] = outcome
        self.count(info["rule"], outcome if via == "service" else f"{via}-{outcome}")
        if outcome != "ok":
            for key in before:
                assert before[key] == after[key], f"after {info}: a refused action changed {key}"
        self.snap = after
        self.check(before, after, info)
        return outcome

    @staticmethod
    def http_outcome(response, changed: bool, *, ok_codes=(200, 201, 302)) -> str:
        """What an HTTP answer means, given whether the database changed: never a 5xx."""
        code = response.status_code
        assert code < 500, f"{code} from {response.request.get('PATH_INFO')}"
        if code == 404:
            return "404"
        if code == 403:
            return "403"
        if changed:
            assert code in ok_codes, f"the action was done but the answer is {code}"
            return "ok"
        return "refused"


def add_rule_copies(cls, method_name: str, times: int, **strategies) -> None:
    """Make ``cls.<method_name>`` a rule drawn ``times`` as often as a plain one and rarely turned off:
    Hypothesis switches rules off per example by name (swarm testing), so each copy gets its own name
    (``advance_1`` …). The walks use it for the natural next step, so examples get deep into chains.
    The arguments come as one ``how`` dictionary: Hypothesis orders rules by their number of
    arguments, and its first, simplest example then repeats ``advance_1`` with the first value of
    each strategy — the chain walked straight to its end — instead of a no-op rule."""
    from hypothesis.stateful import rule

    method = getattr(cls, method_name)
    for i in range(1, times + 1):

        def copy(self, how, _method=method):
            return _method(self, **how)

        copy.__name__ = copy.__qualname__ = f"{method_name}_{i}"
        setattr(cls, copy.__name__, rule(how=st.fixed_dictionaries(strategies))(copy))


def assert_prefix(old: list, new: list, what: str) -> None:
    """``new`` extends ``old``: append-only (no row changed, none removed)."""
    assert len(new) >= len(old), f"{what}: {len(old)} rows became {len(new)}"
    for a, b in zip(old, new, strict=False):
        assert a == b, f"{what}: a row changed:\n  {a}\n→ {b}"


def assert_documents_kept(old: list, new: list) -> None:
    """Documents are never deleted; what identifies them never changes; a revocation is never undone."""
    by_id = {d[0]: d for d in new}
    for d in old:
        assert d[0] in by_id, f"document {d[0]} disappeared"
        n = by_id[d[0]]
        assert d[:5] == n[:5], f"document {d[0]} changed identity: {d[:5]} → {n[:5]}"
        if d[5] is not None:
            assert n[5] == d[5] and n[6] == d[6], f"document {d[0]}: its revocation changed"
