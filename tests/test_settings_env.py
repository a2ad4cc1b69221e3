"""Environment wiring: which database and broker the settings pick, the docker-compose stack,
and a real Celery worker consuming, over the embedded filesystem broker, a task sent from Django.

Settings are read in fresh interpreters (``python -c``) because they are evaluated once per process.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_SECRET_KEY",
)

PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL,
    "transport_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
}))
"""

#: a secret key production accepts (long, varied, no placeholder words)
SECRET_KEY = "k3Y-" + "9f2a7c41e8d05b6a" * 4

needs_no_dotenv = pytest.mark.skipif((ROOT / ".env").exists(), reason="a local .env file overrides the environment")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["REGISTRAR_VAR_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def read_settings(tmp_path: Path, module: str = "registrar.settings.local", **extra: str) -> dict:
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE=module, **extra)
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# --- settings -------------------------------------------------------------------------------


@needs_no_dotenv
def test_no_environment_means_sqlite_and_filesystem_broker_in_the_data_folder(tmp_path):
    s = read_settings(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "var" / "registrar.sqlite3")
    assert s["broker"].startswith("filesystem://")
    assert s["transport_options"]["data_folder_in"] == str(tmp_path / "var" / "broker")
    assert s["cache"].endswith("LocMemCache")
    # Every folder the filesystem transport writes to (queues, processed, control/fanout) lies in
    # the data folder, not in the working directory, and exists as soon as settings are read.
    folders = [Path(v) for k, v in s["transport_options"].items() if k.endswith("_folder") or "_folder_" in k]
    assert {f.name for f in folders} >= {"broker", "broker-processed", "broker-control"}
    for folder in folders:
        assert folder.parent == tmp_path / "var" and folder.is_dir(), folder


@needs_no_dotenv
def test_database_url_switches_to_postgresql(tmp_path):
    s = read_settings(tmp_path, DATABASE_URL="postgres://registrar:pw@db.example:5432/registrar")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "registrar"
    assert s["broker"].startswith("filesystem://")


@needs_no_dotenv
def test_redis_url_switches_celery_and_cache_to_redis(tmp_path):
    s = read_settings(tmp_path, REDIS_URL="redis://cache.example:6379/0")
    assert s["broker"] == "redis://cache.example:6379/0"
    assert s["transport_options"] == {}
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["engine"] == "django.db.backends.sqlite3"


@needs_no_dotenv
def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="registrar.settings.production")
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "DJANGO_SECRET_KEY" in out.stderr

    s = read_settings(
        tmp_path,
        "registrar.settings.production",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL="postgres://u:p@postgres:5432/registrar",
        REDIS_URL="redis://redis:6379/0",
        REGISTRAR_PUBLIC_URL="https://xj.example.edu.cn",
    )
    assert s["debug"] is False
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["broker"] == "redis://redis:6379/0"


PRINT_PUBLIC_URL = "from django.conf import settings; print(settings.REGISTRAR['PUBLIC_URL'])"


@needs_no_dotenv
@pytest.mark.parametrize("value", ["", "localhost:8000", "not a url"])
def test_production_settings_refuse_to_start_without_the_public_url(tmp_path, value):
    env = clean_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="registrar.settings.production",
        DJANGO_SECRET_KEY=SECRET_KEY,
        REGISTRAR_PUBLIC_URL=value,
    )
    out = subprocess.run(
        [sys.executable, "-c", PRINT_PUBLIC_URL], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr and "REGISTRAR_PUBLIC_URL" in out.stderr


@needs_no_dotenv
@pytest.mark.parametrize("module", ["registrar.settings.production", "registrar.settings.local"])
def test_the_public_url_comes_from_the_environment(tmp_path, module):
    env = clean_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE=module,
        DJANGO_SECRET_KEY=SECRET_KEY,
        REGISTRAR_PUBLIC_URL="http://10.1.2.3:8123/",
    )
    out = subprocess.run(
        [sys.executable, "-c", PRINT_PUBLIC_URL], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "http://10.1.2.3:8123"


# --- docker compose -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_text(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else env


def test_compose_defines_the_whole_stack(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")

    web = command_text(services["web"])
    assert "collectstatic" in web
    assert "migrate" not in web  # the migrate service runs them, as the owner of the tables
    assert re.search(r"manage\.py\s+migrate", command_text(services["migrate"]))
    assert re.search(r"gunicorn\s.*registrar\.wsgi", web)
    assert re.search(r"celery\s+-A\s+registrar\s+worker", command_text(services["worker"]))
    assert re.search(r"celery\s+-A\s+registrar\s+beat", command_text(services["beat"]))
    assert any("8000" in str(p) for p in services["web"].get("ports", []))


def test_compose_app_services_share_production_settings_and_backing_services(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        env = environment(service)
        assert env["DJANGO_SETTINGS_MODULE"] == "registrar.settings.production", name
        assert "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["REDIS_URL"].startswith("redis://redis:6379"), name
        assert env.get("DJANGO_SECRET_KEY"), name
        assert "DJANGO_ALLOWED_HOSTS" in env, name
        # required: compose refuses to start without the address printed on documents
        assert re.fullmatch(r"\$\{REGISTRAR_PUBLIC_URL:\?.+\}", env["REGISTRAR_PUBLIC_URL"]), name
        assert {"postgres", "redis"} <= set(service["depends_on"]), name
    # Web and worker must see the same files: the worker writes the PDFs the web serves.
    web_volumes = {str(v).split(":")[0] for v in services["web"].get("volumes", [])}
    worker_volumes = {str(v).split(":")[0] for v in services["worker"].get("volumes", [])}
    assert web_volumes & worker_volumes


def test_dockerfile_installs_the_same_debian_packages_as_the_scripts():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm", dockerfile, re.M)
    lib = (ROOT / "bin" / "lib.sh").read_text()
    debs = re.search(r"^BASE_DEBS=\(([^)]*)\)", lib, re.M).group(1).split()
    assert debs
    for pkg in debs:
        assert re.search(rf"(^|\s){re.escape(pkg)}(\s|\\|$)", dockerfile, re.M), pkg


def _compose_command():
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="neither docker compose nor docker-compose is installed")
def test_docker_compose_config_validates():
    required = {"REGISTRAR_PUBLIC_URL": "https://xj.example.edu.cn", "DJANGO_SECRET_KEY": SECRET_KEY}
    env = {**os.environ, **required}
    out = subprocess.run(
        [*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    for name in required:  # compose refuses to start without either
        out = subprocess.run(
            [*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            cwd=ROOT,
            env={k: v for k, v in env.items() if k != name},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0 and name in out.stderr, name


# --- a real worker over the embedded broker ---------------------------------------------------


@needs_no_dotenv
def test_worker_on_the_filesystem_broker_consumes_a_task_sent_from_django(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="registrar.settings.local", PYTHONUNBUFFERED="1")
    log = tmp_path / "worker.log"
    celery = Path(sys.executable).with_name("celery")
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [
                str(celery),
                "-A",
                "registrar",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--hostname",
                f"test-{uuid.uuid4().hex[:8]}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)

        task_id = f"test-{uuid.uuid4()}"
        send = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from registrar.celery import app; "
                f"app.send_task('celery.accumulate', args=('ping',), task_id={task_id!r})",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert send.returncode == 0, send.stderr
        # The message went through the filesystem broker under the data folder, not anywhere else.
        assert (tmp_path / "var" / "broker").is_dir()

        deadline = time.monotonic() + 60
        while f"celery.accumulate[{task_id}] succeeded" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        # Consumed and acknowledged: no message is left waiting in the queue folder.
        assert not [p for p in (tmp_path / "var" / "broker").iterdir() if p.name.endswith(".msg")]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
