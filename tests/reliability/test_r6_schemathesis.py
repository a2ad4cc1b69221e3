"""R6: schemathesis over the OpenAPI schema (``/api/schema/``), as a student and as the registrar.

The schema is loaded from the WSGI application (``schemathesis.openapi.from_wsgi``) in the demo world
(``seed_demo``, a few students). For every operation schemathesis generates requests that fit the
schema (positive) and requests that do not (negative), with free path parameters and with the ids of
real objects the caller may see (so transitions, grade entry and detail pages run on real rows), and
sends them with the caller's API token. Every answer must be below 500. The number of calls is
printed (``-s``) for the closing note.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.reliability.demo import _media, demo_media, demo_world  # noqa: F401

pytestmark = pytest.mark.django_db

EXAMPLES = 12  # per operation, mode and kind of path parameters
ROLES = ("student", "registrar")


@pytest.fixture
def app():
    """The WSGI application, keeping the test's database connection (and its transaction) across
    requests, as Django's test client does: no closing of "old" connections when a request ends."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _real_path_parameters(user) -> dict[str, list[dict]]:
    """For each templated path, path parameters naming objects ``user`` may see (a few of each)."""
    from grades.selectors.entry import offering_list
    from registrar.approvals.chains import all_chains
    from registrar.approvals.selectors import visible_requests
    from students.selectors import student_list

    requests = [
        {"chain": chain.code, "id": pk}
        for chain in all_chains()
        if chain.model is not None
        for pk in visible_requests(user, chain).order_by("-pk").values_list("pk", flat=True)[:2]
    ]
    students = [{"id": pk} for pk in student_list(user=user).order_by("pk").values_list("pk", flat=True)[:3]]
    try:
        offerings = [{"id": o.pk} for o in list(offering_list(user))[:3]]
    except Exception:  # noqa: BLE001 - a student may not list grade sheets
        offerings = []
    return {
        "/api/requests/{chain}/{id}/": requests,
        "/api/students/{id}/": students,
        "/api/grades/students/{id}/": students,
        "/api/grades/offerings/{id}/": offerings,
    }


def _candidates(path: str, real: dict[str, list[dict]]) -> list[dict]:
    return next((values for prefix, values in real.items() if path.startswith(prefix)), [])


@pytest.mark.parametrize("username", ROLES)
def test_no_generated_request_gets_a_server_error(demo_world, app, username):
    import schemathesis
    from rest_framework.authtoken.models import Token

    from registrar.models import User

    user = User.objects.get(username=username)
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    real = _real_path_parameters(user)

    calls: list[int] = []
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:
        if operation.path == "/api/auth/token/":
            continue  # it counts failed logins (tests/registrar/test_login_throttling.py)
        fixed = _candidates(operation.path, real)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode)]
            strategies += [operation.as_strategy(generation_mode=mode, path_parameters=p) for p in fixed]

            @given(case=st.one_of(strategies))
            @settings(
                max_examples=EXAMPLES * len(strategies),
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                response = case.call(headers=headers)
                calls.append(response.status_code)
                if response.status_code >= 500:
                    body = "" if type(case.body).__name__ == "NotSet" else str(case.body)[:200]
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query or ''} {body} → {response.status_code}"
                    )

            try:
                run()
            except Unsatisfiable:
                # nothing of this operation can break the schema (no parameter, no body): no negative case
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label

    by_status = Counter(calls)
    print(
        f"\nR6 {username}: {len(calls)} calls over {len(operations)} operations, "
        f"{sum(n for s, n in by_status.items() if s >= 500)} answers ≥ 500; by status {sorted(by_status.items())}"
    )
    assert not failures, "\n".join(failures[:30])
    assert sum(n for s, n in by_status.items() if s < 300) > len(calls) / 10  # signed in and reaching data
