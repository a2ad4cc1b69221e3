"""R7: production hygiene (issue 8, defect 14).

- ``manage.py check --deploy`` is clean with the production settings and the environment
  docker-compose.yml gives the web service (required variables get dummy values);
- the compose file and the production settings accept no default or placeholder secret key;
- every HTML page carries a Content-Security-Policy without 'unsafe-inline', and no template the
  browser renders holds an inline script, inline style or event-handler attribute it would refuse;
- /api/docs/ is served from the app (drf-spectacular-sidecar), not a CDN, and the schema generates
  without a warning.

The login throttling part of R7 is tests/registrar/test_login_throttling.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: values for the variables compose requires (``${VAR:?…}``)
DUMMIES = {
    "DJANGO_SECRET_KEY": "k3Y-" + "9f2a7c41e8d05b6a" * 4,
    "REGISTRAR_PUBLIC_URL": "https://xj.example.edu.cn",
}
#: the parent environment variables the check must not inherit
ISOLATE = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
)


def compose_environment(service: str = "web") -> dict[str, str]:
    """The service's environment as compose would set it with nothing exported: ``${VAR:-default}``
    → default, ``${VAR:?message}`` → the dummy of ``DUMMIES`` (the test fails for a new one)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"][service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)

    def substitute(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if op == ":?":
            assert name in DUMMIES, f"compose requires {name}: give the test a dummy value"
            return DUMMIES[name]
        return arg or ""

    pattern = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")
    return {k: pattern.sub(substitute, str(v)) for k, v in env.items()}


def run_manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ISOLATE}
    full.update(env)
    full["REGISTRAR_VAR_DIR"] = str(tmp_path / "var")  # the compose path /app/var does not exist here
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def test_compose_requires_a_secret_key_and_runs_behind_a_tls_proxy():
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["environment"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", raw["DJANGO_SECRET_KEY"]), raw["DJANGO_SECRET_KEY"]
    env = compose_environment()
    assert env["DJANGO_SETTINGS_MODULE"] == "registrar.settings.production"
    assert env["DJANGO_BEHIND_TLS_PROXY"] == "true"


def test_check_deploy_is_clean_with_the_compose_environment(tmp_path):
    out = run_manage(["check", "--deploy", "--fail-level", "WARNING"], compose_environment(), tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize(
    "secret", ["", "change-me-to-a-long-random-string", "dev-insecure-registrar-key-change-me", "short", "x" * 60]
)
def test_production_refuses_a_missing_or_placeholder_secret_key(tmp_path, secret):
    env = {**compose_environment(), "DJANGO_SECRET_KEY": secret}
    out = run_manage(["check"], env, tmp_path)
    assert out.returncode != 0
    assert "DJANGO_SECRET_KEY" in out.stderr


def test_production_settings_turn_https_on_behind_the_proxy_and_off_without(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, s.TRUSTED_PROXY_COUNT)"
    )
    on = run_manage(["shell", "-c", code], compose_environment(), tmp_path)
    assert on.returncode == 0, on.stderr
    assert on.stdout.splitlines()[-1].split() == [
        "True",
        "31536000",
        "True",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "1",
    ]
    off = run_manage(["shell", "-c", code], {**compose_environment(), "DJANGO_BEHIND_TLS_PROXY": "false"}, tmp_path)
    assert off.returncode == 0, off.stderr
    assert off.stdout.splitlines()[-1].split() == ["False", "0", "False", "False", "False", "False", "None", "0"]


# --- Content-Security-Policy ----------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/login/", "/", "/requests/", "/students/", "/workflows/", "/api/docs/", "/verify/", "/admin/"]
)
def test_html_pages_carry_a_strict_content_security_policy(client, url):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in (p.strip() for p in policy.split(";")) if d)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def _browser_templates() -> list[Path]:
    """Templates a browser renders: all but the PDF ones (WeasyPrint reads those, not a browser)."""
    out = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        if path.name.endswith("_pdf.html") or "base_pdf" in text or path.name in ("base_pdf.html", "page_style.html"):
            continue
        out.append(path)
    return out


INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"\sstyle=[\"']", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=[\"']", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_what_the_policy_refuses():
    templates = _browser_templates()
    assert len(templates) > 50
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert not found, "\n".join(found)


def test_no_python_code_writes_a_style_attribute_into_a_page():
    """HTML built in Python (template tags, SVG charts and diagrams) follows the same rule."""
    attribute = re.compile(r"""[\s'"]style=\\?["']""")
    found = []
    for package in ("registrar", "students", "statuschange", "grades", "graduation", "correspondence"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if attribute.search(line)
            ]
    assert not found, "\n".join(found)


# --- the API documentation ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_api_docs_are_served_by_the_app_not_a_cdn(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "cdn" not in html.lower() and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
    script = next(a for a in assets if "script" in a and "swagger-ui" not in a)
    init = client.get(script.replace("&amp;", "&"))
    assert init.status_code == 200 and b"SwaggerUIBundle" in init.content


def test_the_static_files_of_swagger_ui_are_collected():
    from django.contrib.staticfiles import finders

    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}"), name


def test_the_schema_generates_without_a_warning(tmp_path):
    out = run_manage(
        ["spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")],
        {"DJANGO_SETTINGS_MODULE": "registrar.settings.test"},
        tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    # the request list and detail operations are in it, not dropped
    assert {"get", "post"} <= set(schema["paths"]["/api/requests/{chain}/"])
    assert {"get", "patch"} <= set(schema["paths"]["/api/requests/{chain}/{id}/"])
