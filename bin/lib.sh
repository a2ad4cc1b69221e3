# Shared steps of bin/run, bin/test and bin/bench. Source it; do not run it.
#
# Everything here is idempotent and cheap on a rerun: Debian packages are checked with
# dpkg-query before apt is touched, an existing .venv is reused, and pip runs only when
# pyproject.toml changed since the last install into that .venv.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

# What WeasyPrint and the document pipeline need (CJK fonts, Pango, HarfBuzz subsetting),
# pdffonts/pdftotext for the document tests, and gettext for compilemessages.
BASE_DEBS=(fonts-noto-cjk fontconfig libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils gettext)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The interpreter that creates .venv: Python 3.11 to 3.13 (pyproject's requires-python).
pick_python() {
  local cand
  for cand in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
      command -v "$cand"
      return 0
    fi
  done
  return 1
}

# ensure_debs PKG...: install the Debian packages that are missing; no apt at all when none is.
ensure_debs() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing Debian packages (${missing[*]}) and no apt-get: install them by hand"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing Debian packages (${missing[*]}); run as root or install sudo"
    sudo=(sudo)
  fi
  say "Installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# ensure_system EXTRA_PKG...: Debian packages, including venv support for the system Python.
ensure_system() {
  local debs=("${BASE_DEBS[@]}" "$@") base_py=""
  if [ ! -x "$PY" ]; then
    base_py="$(pick_python)" || {
      debs+=(python3 python3-venv)
    }
    if [ -n "$base_py" ] && ! "$base_py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
      debs+=(python3-venv)
    fi
  fi
  if command -v dpkg-query >/dev/null 2>&1; then
    ensure_debs "${debs[@]}"
  else
    say "No dpkg here: make sure these are installed: ${debs[*]}"
  fi
}

# ensure_venv [dev]: reuse .venv if it works, else create it; then install pyproject.toml's
# dependencies (with the dev extra when asked) unless that exact pyproject is installed already.
ensure_venv() {
  local want="${1:-}" stamp="$VENV/.registrar-installed" spec=".[dev]" hash have=""
  if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    local base_py
    base_py="$(pick_python)" || die "no Python 3.11–3.13 found (set PYTHON=/path/to/python3.11)"
    say "Creating $VENV with $("$base_py" --version 2>&1)"
    "$base_py" -m venv "$VENV"
  fi
  [ "$want" = dev ] || spec="."
  hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  # A dev install also satisfies a plain one.
  if [ "$have" = "$hash dev" ] || { [ "$want" != dev ] && [ "$have" = "$hash base" ]; }; then
    return 0
  fi
  say "Installing Python dependencies: pip install \"$spec\""
  (cd "$ROOT" && "$PY" -m pip install --disable-pip-version-check -q "$spec" </dev/null)
  if [ "$want" = dev ]; then echo "$hash dev" >"$stamp"; else echo "$hash base" >"$stamp"; fi
}

manage() { (cd "$ROOT" && "$PY" manage.py "$@"); }

# run_linters: the static checks bin/test runs before pytest, each a few seconds: ruff (lint and
# format), djLint on the templates, the import-linter layering contracts (pyproject.toml) and
# Django's system checks (a chain naming a dotted path that does not import). Every check runs;
# returns non-zero, with one line per failed check, when any failed.
run_linters() {
  local bin="$VENV/bin" failed=() started
  lint_step() {  # quiet when it passes; its whole output when it fails
    local label="$1" hint="$2" out; shift 2
    started=$SECONDS
    if out="$(cd "$ROOT" && "$@" 2>&1)"; then
      say "lint: $label passed ($((SECONDS - started)) s)"
    else
      printf '%s\n' "$out" >&2
      failed+=("$label: $hint")
    fi
  }
  lint_step "ruff check" "fix what it lists (many: .venv/bin/ruff check --fix .)" "$bin/ruff" check .
  lint_step "ruff format" "run .venv/bin/ruff format ." "$bin/ruff" format --check .
  lint_step "djlint" "fix the templates it lists (lint only: do not run djlint --reformat on the tree)" \
    "$bin/djlint" templates --lint
  lint_step "lint-imports" "an import breaks a layering contract of pyproject.toml [tool.importlinter]" \
    "$bin/lint-imports" --no-cache
  lint_step "manage.py check" "Django's system checks failed (see above)" "$PY" manage.py check --fail-level ERROR
  if [ ${#failed[@]} -gt 0 ]; then
    local f
    for f in "${failed[@]}"; do printf 'ERROR: lint failed: %s\n' "$f" >&2; done
    return 1
  fi
}

# Compile the shipped translations when there are any (.mo files are what Django reads).
compile_messages() {
  if [ -d "$ROOT/locale" ] && command -v msgfmt >/dev/null 2>&1; then
    manage compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 0
  fi
}

# 0 when PostgreSQL accepts connections at URL ($1).
pg_answers() {
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys
import psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
EOF
}

# 0 when Redis answers PING at URL ($1).
redis_answers() {
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys
import redis
sys.exit(0 if redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping() else 1)
EOF
}

# 0 when an HTTP server answers at URL ($1), whatever its status code.
http_answers() {
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys
import urllib.error
import urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
EOF
}

# celery_roundtrip LOGFILE: send a task from Django (the producer the web app uses) and wait
# until the worker that writes LOGFILE reports it succeeded. Returns non-zero after 60 s.
celery_roundtrip() {
  local log="$1" id
  id="$(cd "$ROOT" && "$PY" - <<'EOF'
import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar.settings.local")
import django

django.setup()
from registrar.celery import app

task_id = f"bin-run-check-{uuid.uuid4()}"
app.send_task("celery.accumulate", args=("ping",), task_id=task_id)
print(task_id)
EOF
)" || return 1
  local i
  for i in $(seq 1 120); do
    grep -q "celery.accumulate\[$id\] succeeded" "$log" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}
