"""R1, the permission matrix: every URL of the URLconf and every operation of the OpenAPI schema,
asked by every role in scope and out of scope, anonymous and a superuser, for one object of every
chain (the world and the policy are in ``tests/reliability/matrix.py``).

- ``test_cell``: one URL case × one person; GET, and POST (or the API's methods) where the URL
  changes state. Never 5xx; anonymous → login (web) or 401/403 (API); out of scope → 404; wrong
  role → 403; allowed → served; a refusal writes nothing and names nobody; a served page shows
  nothing the person may not see.
- ``test_every_url_is_covered`` / ``test_every_schema_operation_is_covered``: a URL name or an
  operation the matrix does not list (nor ``PUBLIC`` with a reason) fails, naming it.
- ``test_admin``: the Django admin answers only staff (everyone else is sent to its login).

The world is built once for the module inside a transaction rolled back at the end; each cell runs
in a savepoint rolled back after it, so a POST that succeeds changes nothing for the next cell.
The number of cells is printed and written to ``test-artifacts/r1-cells.txt``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from statuschange.models import U1
from tests.reliability import matrix
from tests.reliability.matrix import ANON, PEOPLE, PUBLIC, SUPERUSER

pytestmark = pytest.mark.django_db  # the test database is set up only for modules that ask for it

CASES = matrix.all_cases()
STATS: Counter = Counter()
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "r1-cells.txt"

#: cells failing today because of a defect of issue 8 another part is fixing: (case id, person) → reason.
#: They run as their own tests marked xfail(strict=True): when the fix lands the cell passes, the mark
#: fails, and the cell is removed from here (and checked again with the rest of its URL).
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _known_cells():
    for case in CASES:
        for key in PEOPLE:
            reason = KNOWN_DEFECTS.get((case.id, key))
            if reason:
                yield pytest.param(
                    case, key, id=f"{case.id}-{key}", marks=pytest.mark.xfail(strict=True, reason=reason)
                )


@pytest.fixture
def _media():
    """The world's files live in the module's media folder (tests/conftest.py would move it per test)."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory, pytestconfig):
    media = tmp_path_factory.mktemp("r1-media")
    # a local cache: the matrix asks ~15,000 pages, and the shared Redis cache adds a round trip per
    # stage-configuration read (the cache's behaviour is not what this suite tests)
    local_cache = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "r1"}}
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, CACHES=local_cache), transaction.atomic():
        w = matrix.build_world()
        w.log_in_everyone()
        yield w
        transaction.set_rollback(True)
    _report(pytestconfig)


@pytest.fixture
def cell(world, db):
    """The world, inside the savepoint pytest-django's ``db`` opens around each test and rolls back."""
    return world


def _report(config):
    if not STATS["cells"]:
        return
    lines = [
        f"R1 permission matrix: {STATS['cells']} URL×role cells checked "
        f"({STATS['requests']} requests; {STATS['admin_cells']} admin cells among them)",
        f"URL cases: {len({c.id for c in CASES})} over {len(matrix.covered_names())} URL names "
        f"(+{len(PUBLIC)} public names listed); {len(PEOPLE)} people, of whom each URL is asked by everyone "
        "in scope, anonymous, the superuser and the right roles out of scope",
        f"schema operations covered: {STATS['schema_operations']}",
    ]
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown with -q too, not only when a test fails
        print("\n" + "\n".join(lines))
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- the cells ---------------------------------------------------------------------------------------
def _run(w, case, keys) -> list[str]:
    """Check ``case`` for each person of ``keys``, each cell in a savepoint rolled back after it."""
    problems = []
    for key in keys:
        with transaction.atomic():
            problems += matrix.check_cell(w, case, key)
            transaction.set_rollback(True)
        STATS["cells"] += 1
        STATS["requests"] += len(case.methods)
    return problems


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_url(cell, case):
    """One URL case asked by its people (``Case.people``; the known defects' cells are left to
    ``test_known_defect``)."""
    problems = _run(cell, case, [k for k in case.people(cell) if (case.id, k) not in KNOWN_DEFECTS])
    assert not problems, f"{len(problems)} broken cells:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("case", "key"),
    list(_known_cells()) or [pytest.param(None, None, marks=pytest.mark.skip(reason="no known defect left"))],
)
def test_known_defect(cell, case, key):
    """A cell that fails today for a defect being fixed elsewhere (strict xfail: it must still fail)."""
    problems = _run(cell, case, [key])
    assert not problems, "\n".join(problems)


# --- coverage ------------------------------------------------------------------------------------------
def _url_names(patterns=None, namespace=None):
    """(name with namespace, route) of every URL pattern, the admin's left out."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            if ns == "admin":
                continue
            yield from _url_names(p.url_patterns, ns or None)
        elif isinstance(p, URLPattern):
            yield (
                f"{namespace}:{p.name}" if namespace and p.name else p.name or f"<unnamed {p.pattern}>",
                str(p.pattern),
            )


def test_every_url_is_covered(db):
    covered = matrix.covered_names()
    names = {name for name, _route in _url_names()}
    missing = sorted(names - set(covered) - set(PUBLIC))
    assert not missing, (
        "URLs the permission matrix does not cover (add a Case to tests/reliability/matrix.py, or list the "
        f"name in PUBLIC with the reason): {missing}"
    )
    stale = sorted(set(covered) - names)
    assert not stale, f"the matrix lists URL names that no longer exist: {stale}"


def test_every_chain_is_in_the_world(db):
    from registrar.approvals.chains import all_chains

    assert sorted(c.code for c in all_chains()) == sorted(matrix.CHAINS), (
        "a chain was added or removed: give the matrix's world a request of it (build_world, CHAINS)"
    )


def test_every_schema_operation_is_covered(cell):
    world = cell
    response = world.client_for(None).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    covered = matrix.covered_names()
    missing = []
    count = 0
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{chain\}", U1.code, path)
        concrete = re.sub(r"\{kind\}", "grades", concrete)
        concrete = re.sub(r"\{[^}]+\}", "1", concrete)
        name = resolve(concrete).view_name
        for method in operations:
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            count += 1
            if name not in PUBLIC and method.upper() not in covered.get(name, set()):
                missing.append(f"{method.upper()} {path} ({name})")
    STATS["schema_operations"] = count
    assert count, "the schema lists no operation"
    assert not missing, f"schema operations the permission matrix does not try: {missing}"


# --- the admin -------------------------------------------------------------------------------------------
ADMIN_PEOPLE = (ANON, matrix.STUDENT, "academic_affairs", "canteen", SUPERUSER)
ADMIN_PUBLIC = {"admin:login", "admin:logout"}


def _admin_urls(w):
    from django.contrib import admin
    from django.contrib.contenttypes.models import ContentType

    resolver = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "admin")
    models = {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns)
            elif p.name:
                yield p

    for p in walk(resolver.url_patterns):
        name = f"admin:{p.name}"
        params = set(p.pattern.regex.groupindex)
        kwargs = {}
        model = next((m for prefix, m in models.items() if p.name.startswith(prefix + "_")), None)
        for param in {"object_id", "id"} & params:
            obj = model._default_manager.order_by("pk").first() if model else None
            kwargs[param] = obj.pk if obj else 0
        if "app_label" in params:
            kwargs["app_label"] = "students"
        if "content_type_id" in params:
            kwargs["content_type_id"] = ContentType.objects.get_for_model(w.students["主"]).pk
            kwargs["object_id"] = w.students["主"].pk
        yield name, reverse(name, kwargs=kwargs or None)


@pytest.mark.parametrize("key", ADMIN_PEOPLE)
def test_admin(cell, key):
    w = cell
    user = None if key == ANON else w.user(key)
    client = w.client_for(user)
    login = reverse("admin:login")
    problems = []
    for name, url in _admin_urls(w):
        if name in ADMIN_PUBLIC:
            continue
        with transaction.atomic():
            response = client.get(url)
            transaction.set_rollback(True)
        STATS["cells"] += 1
        STATS["admin_cells"] += 1
        STATS["requests"] += 1
        if response.status_code >= 500:
            problems.append(f"GET {url} as {key}: {response.status_code}")
        elif key != SUPERUSER and not (response.status_code == 302 and response["Location"].startswith(login)):
            problems.append(f"GET {url} as {key}: {response.status_code}, expected the admin login redirect")
    assert not problems, "\n".join(problems)
