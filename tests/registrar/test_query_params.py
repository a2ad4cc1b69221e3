"""Query parameters never cause a 500 (issue 8, defect 11; STYLE.md §9).

Every list URL of the URLconf (web and API, each chain's API list) is requested by a user who can see
it with hostile values (junk, exponents, negatives, zero, 25 and 400 digits, NUL, empty) in every
query parameter the views read: the answer is 2xx–4xx, never 5xx. The world is the demo seed, so the
lists have rows and the filters reach real queries. Also: the shared parsing of ``registrar.params``,
the inbox past its last page, and U5B, which is filed as a batch and not opened through the API.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from grades.models import BATCH_TRANSCRIPT
from registrar import params
from registrar.approvals.chains import all_chains
from tests.reliability.demo import PASSWORD, _media, demo_media, demo_world  # noqa: F401

pytestmark = pytest.mark.django_db

HOSTILE = ["abc", "1e3", "-1", "0", "9" * 25, "9" * 400, "%00", "", "1.5"]
#: every query parameter a list view reads (git grep "request.GET|query_params")
PARAMS = [
    "page",
    "gpage",
    "college",
    "klass",
    "term",
    "station",
    "state",
    "status",
    "chain",
    "type",
    "q",
    "search",
    "year",
    "kind",
    "k",
    "offering",
    "late",
    "overdue",
    "view",
    "classes",
    "format",
    "lang",
    "student",
]
#: not lists, or not for GET
SKIP = {"logout/", "notifications/read/", "i18n/setlang/", "api/auth/token/"}
#: slow to answer (the schema is generated on each request) and reads no list parameter: all at once only
SLOW = {"/api/schema/"}
#: who tries each list: the first of these who gets 200 on the bare URL
USERS = [
    "registrar",
    "student",
    "station",
    "instructor",
    "teaching_secretary",
    "student_affairs",
    "counsellor",
    "admin",
]


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("admin/"):
                continue
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def list_urls() -> list[str]:
    """Every URL of the URLconf that takes no argument, and each chain's API list."""
    urls = []
    for route in _patterns(get_resolver().url_patterns):
        if route in SKIP:
            continue
        if route == "api/requests/<str:chain>/":
            urls += [f"/api/requests/{c.code}/" for c in all_chains() if c.model is not None]
        elif "<" not in route:
            urls.append("/" + route)
    return urls


LIST_URLS = list_urls()


def test_the_sweep_covers_the_lists():
    assert {
        "/requests/",
        "/students/",
        "/api/inbox/",
        "/api/students/",
        "/api/requests/id_card/",
        "/api/grades/offerings/",
        "/grades/sheets/",
        "/status-changes/",
    } <= set(LIST_URLS)
    assert len(LIST_URLS) > 30


def _client_for(url: str) -> Client | None:
    """A client of the first demo user (then anonymous) who gets 200 on ``url``, else 2xx/3xx; None if
    nobody may GET it (a form posted to, e.g. /grades/makeups/new/)."""
    fallback = None
    for username in [*USERS, None]:
        client = Client(raise_request_exception=False)
        if username:
            assert client.login(username=username, password=PASSWORD), username
        status = client.get(url).status_code
        if status == 200:
            return client
        if status < 400 and fallback is None:
            fallback = client
    return fallback


@pytest.mark.parametrize("url", LIST_URLS)
def test_hostile_query_parameters_never_answer_5xx(demo_world, url):
    client = _client_for(url)
    if client is None:
        pytest.skip(f"nobody may GET {url}")
    failures = []
    for value in HOSTILE:
        # every parameter at once; then each alone when that was refused (4xx: one parameter's refusal
        # may have hidden another's handling)
        together = "&".join(f"{name}={value}" for name in PARAMS)
        status = client.get(f"{url}?{together}").status_code
        alone = 400 <= status < 500 and url not in SLOW
        queries = [f"{name}={value}" for name in PARAMS] if alone else []
        if status >= 500:
            failures.append(f"{url}?{together[:60]}… → {status}")
        for query in queries:
            status = client.get(f"{url}?{query}").status_code
            if status >= 500:
                failures.append(f"{url}?{query[:80]} → {status}")
    assert not failures, "\n".join(failures)


def _user_with_inbox() -> Client:
    from students.management.demo import STAFF

    for username, *_rest in STAFF:
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        if client.get("/api/inbox/").json()["count"] > 0:
            return client
    pytest.fail("nobody in the demo has anything to sign")


# --- the shared parsing ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7),
        (" 7 ", 7),
        ("abc", None),
        ("1e3", None),
        ("-1", None),
        ("0", None),
        ("\x00", None),
        ("1.5", None),
        (str(params.ID_MAX), params.ID_MAX),
        (str(params.ID_MAX + 1), None),
        ("9" * 25, None),
        ("9" * 400, None),
        ("9" * 5000, None),
    ],
)
def test_an_id_is_an_integer_within_bigint(raw, expected):
    assert params.id_or_none(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("abc", 1),
        ("1e3", 1),
        ("-1", 1),
        ("0", 1),
        ("\x00", 1),
        ("9" * 25, params.PAGE_MAX),
        ("9" * 400, params.PAGE_MAX),
    ],
)
def test_a_page_number_is_bounded(raw, expected):
    assert params.page_number(raw) == expected


def test_a_search_is_cut_and_refused_with_a_nul():
    assert params.parse_query({"q": "  x" * 40}, q=params.SearchField())["q"] == ("  x" * 40).strip()[:64]
    assert params.parse_query({"q": "a\x00b"}, q=params.SearchField())["q"] is None


def test_a_list_of_ids_is_checked_before_the_query(demo_world):
    """ModelMultipleChoiceField sends every value to ``pk__in``; SQLite's driver cannot take one beyond
    64 bits (OverflowError). The forms of blank sheets, windows, make-ups and batches use this field."""
    from django import forms

    from students.models import Class

    class PickForm(forms.Form):
        classes = params.ModelIdMultipleChoiceField(queryset=Class.objects.all())

    some = Class.objects.first()
    assert PickForm({"classes": [str(some.pk)]}).is_valid()
    for bad in ("9" * 25, "abc", "-1", "0", "\x00"):
        form = PickForm({"classes": [str(some.pk), bad]})
        assert not form.is_valid() and "classes" in form.errors, bad


# --- the inbox, web and API -------------------------------------------------------------------------
def test_api_inbox_answers_404_for_a_page_that_does_not_exist(demo_world):
    client = _user_with_inbox()
    first = client.get("/api/inbox/")
    assert first.status_code == 200 and 0 < first.json()["count"] <= 50
    assert client.get("/api/inbox/?page=1").json() == first.json()
    for page in ("abc", "1e3", "0", "-1", "9" * 25, "2"):
        assert client.get(f"/api/inbox/?page={page}").status_code == 404, page
    assert client.get("/api/inbox/?chain=NOPE").status_code == 400
    assert client.get("/api/inbox/?search=%00").status_code == 400


def test_web_inbox_shows_the_last_page_past_the_end(demo_world):
    client = _user_with_inbox()
    first = client.get("/requests/")
    page = client.get("/requests/?page=" + "9" * 25)
    assert page.status_code == 200
    assert page.context["page_obj"].number == first.context["page_obj"].paginator.num_pages
    assert [r.pk for r in page.context["rows"]]


def test_api_filters_answer_400_for_bad_values(demo_world):
    client = Client()
    assert client.login(username="registrar", password=PASSWORD)
    assert client.get("/api/grades/offerings/?college=" + "9" * 25).status_code == 400
    assert client.get("/api/grades/offerings/?term=abc").status_code == 400
    assert client.get("/api/grades/offerings/?college=1").status_code == 200


# --- U5B: filed as a batch, not opened through the API ----------------------------------------------
def test_u5b_is_not_opened_through_the_api(demo_world):
    from grades.models import BatchTranscriptRequest
    from students.models import Student

    client = Client()
    assert client.login(username="student_affairs", password=PASSWORD)
    before = BatchTranscriptRequest.objects.count()
    for body in ({}, {"student": Student.objects.first().pk}, {"student": "abc", "submit": True}):
        response = client.post("/api/requests/transcript_batch/", body, content_type="application/json")
        assert response.status_code == 405, response.content
        assert response.json()["detail"] == str(BatchTranscriptRequest.chain.opened_elsewhere)
        assert "POST" not in response["Allow"]
    assert BatchTranscriptRequest.objects.count() == before
    assert client.get("/api/requests/transcript_batch/").status_code == 200  # still listed
    # the web form sends the user to the batch page's explanation instead of an error
    page = client.get("/requests/transcript_batch/new/")
    assert page.status_code == 302


def test_the_schema_says_u5b_is_not_opened_here():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/api/requests/{chain}/"]["post"]
    assert "405" in create["responses"]
    assert BATCH_TRANSCRIPT.code in create["description"]
