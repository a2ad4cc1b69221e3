"""Browser tests: Playwright (sync API) driving Debian's Chromium against ``live_server``.

Each test gets ``open_page(name)``: a fresh browser context (its own cookies, i.e. its own
login) whose pages are screenshotted step by step into
``test-artifacts/browser/<test>/<NN>-<step>.png`` (gitignored) through ``shot(page, step)``.
When a test fails, every open page is screenshotted once more as ``zz-failure-<n>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "pass12345"  # tests.factories.UserFactory's password
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (started only when a browser test needs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    # Playwright's sync API runs an asyncio loop in this thread, so Django's "async unsafe"
    # guard would refuse the ORM calls the tests (and pytest-django's flush) make meanwhile.
    # Allow them only while Playwright runs: the rest of the suite keeps the guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def artifacts_dir(request) -> Path:
    """``test-artifacts/browser/<test>/``, emptied at the start of the test."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def shot(artifacts_dir):
    """``shot(page, "step-name")`` saves a numbered full-page screenshot of ``page``."""
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = artifacts_dir / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def csp_violations():
    """What Chromium refused under the Content-Security-Policy in this test's pages ("url: message")."""
    return []


@pytest.fixture
def open_page(browser, live_server, artifacts_dir, request, csp_violations):
    """``open_page()`` → a page in a new browser context (no cookies: nobody logged in).

    Contexts send ``Accept-Language: zh-CN`` like the office's browsers, so pages start in
    the default Chinese UI; ``page.goto("/…")`` is relative to the live server. Every page is
    watched for Content-Security-Policy violations: a test whose pages had one fails at teardown."""
    contexts = []

    def watch(message):
        if "Content Security Policy" in message.text:
            csp_violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def make(locale: str = "zh-CN"):
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", watch)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))
    n = 0
    for context in contexts:
        if failed:
            for page in context.pages:
                n += 1
                try:
                    page.screenshot(path=str(artifacts_dir / f"zz-failure-{n}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - best effort: the page may have crashed
                    pass
        context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture
def login():
    """``login(page, username)``: log in through the login form and wait for the home page."""
    from urllib.parse import urlsplit

    from django.urls import reverse

    def do(page, username: str, password: str = PASSWORD) -> None:
        page.goto(reverse("login"))
        form = page.locator("main form:has(input[name=password])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()
        page.wait_for_url(lambda url: urlsplit(url).path == reverse("home"))

    return do
