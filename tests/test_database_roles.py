"""Production's two database roles (docker-compose.yml, docker/postgres/10-app-role.sh): migrations run
as the owner of the tables; web, worker and beat connect as a role that owns nothing. That role
writes rows, but cannot change an append-only log, truncate it, or drop or disable its triggers.

The script runs as the postgres image runs it (before any migration), against a throwaway database
on the local PostgreSQL; then the migrations run as the owner, then the app role tries its luck."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docker" / "postgres" / "10-app-role.sh"


def needs_postgres(test):
    for mark in (
        pytest.mark.postgres,
        pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles exist on PostgreSQL only"),
        pytest.mark.skipif(shutil.which("psql") is None, reason="the init script runs psql"),
    ):
        test = mark(test)
    return test


def _services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_migrates_as_the_owner_and_runs_the_app_as_the_app_role():
    services = _services()
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    app = services["postgres"]["environment"]["REGISTRAR_DB_APP_USER"]
    assert owner != app
    assert any(
        str(v).startswith("./docker/postgres:/docker-entrypoint-initdb.d") for v in services["postgres"]["volumes"]
    )
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith(f"postgres://{owner}:")
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith(f"postgres://{app}:"), name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert "migrate" not in str(service.get("command", "")), name


def _connect(dbname: str, user: str):
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=user,
        password=settings["PASSWORD"] if user == settings["USER"] else None,
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture
def throwaway():
    """A database owned by a fresh owner role (CREATEROLE, not a superuser); dropped afterwards with
    the app role the script creates."""
    suffix = uuid.uuid4().hex[:8]
    names = {"owner": f"reg_owner_{suffix}", "app": f"reg_app_{suffix}", "db": f"reg_roles_{suffix}"}
    admin_user = connection.settings_dict["USER"]
    with _connect("postgres", admin_user) as admin:
        admin.execute(f'CREATE ROLE "{names["owner"]}" LOGIN CREATEROLE')
        admin.execute(f'CREATE DATABASE "{names["db"]}" OWNER "{names["owner"]}"')
    try:
        yield names
    finally:
        with _connect("postgres", admin_user) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{names["app"]}"')
            admin.execute(f'DROP ROLE IF EXISTS "{names["owner"]}"')


def _run(args, **env):
    out = subprocess.run(args, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


@needs_postgres
def test_the_app_role_writes_rows_but_cannot_touch_the_logs_or_their_triggers(throwaway):
    import psycopg

    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", str(settings["PORT"] or 5432)
    owner, app, db = throwaway["owner"], throwaway["app"], throwaway["db"]
    # 1. the postgres image's first start: the init script, as the owner (POSTGRES_USER)
    _run(
        ["sh", str(SCRIPT)],
        PGHOST=host,
        PGPORT=port,
        POSTGRES_USER=owner,
        POSTGRES_DB=db,
        REGISTRAR_DB_APP_USER=app,
        REGISTRAR_DB_APP_PASSWORD="app-secret",
    )
    # 2. the migrate service, as the owner
    _run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        DJANGO_SETTINGS_MODULE="registrar.settings.test",
        DATABASE_URL=f"postgres://{owner}@{host}:{port}/{db}",
    )
    # 3. web, worker and beat, as the app role
    with _connect(db, app) as conn:
        user_id = conn.execute(
            "INSERT INTO registrar_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, full_name) VALUES ('x', false, 'probe', '', '', '', false, true, now(), 'P') "
            "RETURNING id"
        ).fetchone()[0]
        conn.execute("UPDATE registrar_user SET full_name = 'Probe' WHERE id = %s", [user_id])
        ct = conn.execute(
            "SELECT id FROM django_content_type WHERE app_label = 'students' AND model = 'idcardreissuerequest'"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO registrar_signoff (content_type_id, object_id, chain, stage, round, role, actor_id, "
            "actor_label, decision, opinion, source_state, target_state, data, created_at, on_behalf_of_label) "
            "VALUES (%s, 1, 'id_card', 'x', 1, 'counsellor', %s, 'P', 'note', '', 'x', 'x', '{}', now(), '')",
            [ct, user_id],
        )
        assert conn.execute("SELECT count(*) FROM registrar_signoff").fetchone()[0] == 1

        refused = {
            "UPDATE registrar_signoff SET opinion = 'tampered'": "append-only",
            "DELETE FROM registrar_signoff": "append-only",
            "TRUNCATE registrar_signoff": "permission denied",
            "TRUNCATE grades_gradechange": "permission denied",
            "DROP TRIGGER registrar_signoff_append_only ON registrar_signoff": "must be owner",
            "ALTER TABLE registrar_signoff DISABLE TRIGGER registrar_signoff_append_only": "must be owner",
            "DROP FUNCTION registrar_append_only() CASCADE": "must be owner",
            "SET session_replication_role = replica": "permission denied",
            "CREATE TABLE registrar_probe (id int)": "permission denied",
        }
        for sql, message in refused.items():
            with pytest.raises(psycopg.Error, match=message):
                conn.execute(sql)
        assert conn.execute("SELECT count(*), min(opinion) FROM registrar_signoff").fetchone() == (1, "")
