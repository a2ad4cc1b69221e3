"""A real registrar process on the embedded default (``registrar.settings.local``: SQLite in a
temporary ``REGISTRAR_VAR_DIR``, the filesystem broker) and real HTTP sessions against it.

Tests that need several processes or threads writing one SQLite file at once (R3) use it; the
pytest-django test database is not involved (a server process cannot see it).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "live12345"
#: environment keys of the caller that would point the server somewhere else
FOREIGN_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of ``bash bin/run`` (embedded defaults) with its data in ``var_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_KEYS}
    env.update(
        DJANGO_SETTINGS_MODULE="registrar.settings.local",
        REGISTRAR_VAR_DIR=str(var_dir),
        DJANGO_ALLOWED_HOSTS="*",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def run_python(env: dict, code: str, timeout: float = 120) -> dict:
    """Run ``code`` in a fresh Django process; its last stdout line is JSON, returned parsed."""
    script = "import django, json\ndjango.setup()\n" + code
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class LiveServer:
    """``manage.py runserver --noreload`` (threaded, as ``bash bin/run`` starts it)."""

    env: dict
    var_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.var_dir / "registrar.sqlite3"

    @property
    def log(self) -> Path:
        return self.var_dir / "server.log"

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not answer in {timeout} s\n" + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def query(self, sql: str, params=()) -> list[tuple]:
        """Read the server's database directly (a read in WAL mode never waits for the writer)."""
        with sqlite3.connect(self.database, timeout=30) as db:
            return db.execute(sql, params).fetchall()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    url: str
    body: str
    redirected_from: int | None = None

    @property
    def messages(self) -> list[tuple[str, str]]:
        """The page's flash messages as (level, text)."""
        return [
            (m.group(1), re.sub(r"<[^>]+>", "", m.group(2)).strip())
            for m in re.finditer(r'class="alert alert-(\w+)[^"]*"[^>]*role="alert">(.*?)<', self.body, re.S)
        ]


class Browser:
    """One HTTP session: cookies, the CSRF token, redirects followed by hand (to see each status)."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def csrftoken(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def _open(self, method: str, url: str, data: dict | None) -> tuple[int, str, str, str | None]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, method=method)
        try:
            with self.opener.open(req, timeout=120) as resp:
                return resp.status, resp.url, resp.read().decode(errors="replace"), None
        except urllib.error.HTTPError as exc:
            return exc.code, url, exc.read().decode(errors="replace"), exc.headers.get("Location")

    def request(self, method: str, path: str, data: dict | None = None) -> Response:
        url = urllib.parse.urljoin(self.server.url, path)
        if method == "POST":
            data = {"csrfmiddlewaretoken": self.csrftoken(), **(data or {})}
        status, url, body, location = self._open(method, url, data)
        first = None
        for _ in range(5):
            if status not in (301, 302, 303) or not location:
                break
            first = first or status
            url = urllib.parse.urljoin(url, location)
            status, url, body, location = self._open("GET", url, None)
        return Response(status=status, url=url, body=body, redirected_from=first)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None) -> Response:
        return self.request("POST", path, data)

    def login(self, username: str, password: str = PASSWORD) -> Response:
        self.get("/login/")
        return self.post("/login/", {"username": username, "password": password})

    @property
    def logged_in(self) -> bool:
        return any(c.name == "sessionid" for c in self.jar)
