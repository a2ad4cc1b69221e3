"""What every benchmark shares: a throwaway database (PostgreSQL when DATABASE_URL names one, else a
temporary SQLite file) and timing a page with its query count. Import from a benchmark script
(bench/ is on sys.path when a script in it runs)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def pg_execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def pg_urls(url: str, name: str) -> tuple[str, str]:
    """(URL of the server's own database for CREATE/DROP, URL of the benchmark database ``name``)."""
    parts = urlsplit(url)
    admin = url if parts.path not in ("", "/") else urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{name}"))


class ThrowawayDatabase:
    """Points DATABASE_URL (and REGISTRAR_VAR_DIR) at fresh places before Django starts; drops
    them at the end. ``name`` is the PostgreSQL database's name (and the temporary folders' prefix)."""

    def __init__(self, name: str):
        self.name = name
        self.url = os.environ.get("DATABASE_URL", "")
        self.tmpdir = None
        self.admin_url = None
        self.label = ""

    def __enter__(self):
        prefix = self.name.replace("_", "-") + "-"
        if self.url.startswith(("postgres://", "postgresql://", "pgsql://")):
            self.admin_url, bench_url = pg_urls(self.url, self.name)
            pg_execute(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            pg_execute(self.admin_url, f"CREATE DATABASE {self.name}")
            os.environ["DATABASE_URL"] = bench_url
            self.label = f"PostgreSQL ({self.name})"
        else:
            self.tmpdir = tempfile.TemporaryDirectory(prefix=prefix)
            os.environ["DATABASE_URL"] = f"sqlite:///{self.tmpdir.name}/bench.sqlite3"
            self.label = "SQLite (temporary file)"
        # Uploaded files and other var/ state go to a temporary folder too.
        self.vardir = tempfile.TemporaryDirectory(prefix=prefix + "var-")
        os.environ["REGISTRAR_VAR_DIR"] = self.vardir.name
        Path(self.vardir.name, "staticfiles").mkdir()  # STATIC_ROOT (WhiteNoise warns when it is missing)
        return self

    def __exit__(self, *exc):
        from django.db import connections

        connections.close_all()
        if self.admin_url:
            pg_execute(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        if self.tmpdir:
            self.tmpdir.cleanup()
        self.vardir.cleanup()
        if self.url:
            os.environ["DATABASE_URL"] = self.url
        return False


def measure_get(user, url: str, repeat: int, params: dict | None = None) -> dict:
    """GET ``url`` as ``user`` once to warm up, then ``repeat`` times: median/min/max time, the
    query count (the largest seen), the slowest query, the size; ``response`` is the last one."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    warm = client.get(url, params or {})
    assert warm.status_code == 200, (url, warm.status_code)
    times, counts = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params or {})
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        counts.append(len(ctx.captured_queries))
    return {
        "queries": max(counts),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "min_ms": round(min(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "slowest_query_ms": round(max((float(q["time"]) for q in ctx.captured_queries), default=0) * 1000, 1),
        "bytes": len(response.content),
        "response": response,
    }
