"""Settings shared by every environment.

Everything is read from the environment (django-environ). With nothing set the
app runs on embedded defaults: SQLite in ``var/`` and Celery over kombu's
filesystem transport, so a laptop needs no server. ``DATABASE_URL`` switches to
PostgreSQL and ``REDIS_URL`` (or ``CELERY_BROKER_URL``) switches Celery to Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("REGISTRAR_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(str(BASE_DIR / ".env"), overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-registrar-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by the app (no CDN): /api/docs/ works offline
    "axes",  # login throttling: the login page, the admin and the API token
    "csp",
    "import_export",
    "registrar",
    "students",
    "statuschange.apps.StatuschangeConfig",
    "grades.apps.GradesConfig",
    "graduation",
    "correspondence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "registrar.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "registrar.urls"
WSGI_APPLICATION = "registrar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registrar.context_processors.navigation",
            ],
        },
    },
]

# An empty DATABASE_URL means the embedded default too.
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'registrar.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time. A transaction begun DEFERRED (its default) that reads and then
    # writes fails at once with "database is locked" when another connection wrote meanwhile: no
    # timeout helps it. IMMEDIATE takes the write lock at BEGIN and waits for it (up to the timeout);
    # WAL lets reads go on while one connection writes.
    _SQLITE_TIMEOUT = env.int("REGISTRAR_SQLITE_TIMEOUT", default=30)  # seconds
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": _SQLITE_TIMEOUT,
            "init_command": (
                f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={_SQLITE_TIMEOUT * 1000}"
            ),
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "registrar.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login throttling (django-axes) ------------------------------------------------
# Every login (the login page, the admin, POST /api/auth/token/) goes through django.contrib.auth's
# authenticate() with the request; after AXES_FAILURE_LIMIT failures in a row the account is locked
# for AXES_COOLOFF_TIME, the right password included (the lockout page, or 429 from the API). Staff
# unlock it in the admin (Users → "Unlock login", or Axes → Access attempts). Failures count per
# username (one account guessed at) and per client address (one address trying the sequential 学号
# usernames in turn); an office behind one NAT address shares the address's count. Behind proxies
# (production's TLS proxy) the client address is read from X-Forwarded-For (TRUSTED_PROXY_COUNT).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "registrar.lockout.client_ip"
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "registrar.lockout.locked_out_response"  # registration/locked_out.html, 429

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Stored files have no public URL and MEDIA_URL is never served: each is downloaded through a view
# that checks the permission of the object it belongs to (registrar/files.py, README "Stored files").
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "registrar.files.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="registrar@example.edu.cn")

# --- Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The filesystem transport ignores the host; naming one keeps kombu from warning on every publish.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "broker-control"),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
# Redis gives a task that a worker took but never acknowledged (the worker died) to another worker
# after this many seconds (kombu's default: an hour). It must exceed the longest task, countdowns included.
if _visibility_timeout := env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=0):
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = _visibility_timeout
# The embedded defaults need their folders: SQLite's file and the filesystem broker's queues.
for _folder in (VAR_DIR, VAR_DIR / "broker", VAR_DIR / "broker-processed", VAR_DIR / "broker-control"):
    _folder.mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "flag-overdue-requests": {
        "task": "registrar.approvals.tasks.flag_overdue_requests",
        "schedule": 60 * 60,
    },
    # status changes approved with a later effective date take effect on that date (idempotent)
    "apply-scheduled-record-changes": {
        "task": "students.tasks.scheduled_changes_apply",
        "schedule": 60 * 60,
    },
    # background jobs whose worker died (no progress for STALE_JOB_MINUTES) end as failed (registrar/background.py)
    "sweep-stale-jobs": {
        "task": "registrar.tasks.sweep_stale_jobs",
        "schedule": 5 * 60,
    },
}

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["rest_framework.filters.SearchFilter"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Registrar API / 学籍管理系统 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Enums stay inline where they are used: every chain's "state" (and "reason", "kind") has its own
    # choices, which one named component per field name cannot describe.
    "POSTPROCESSING_HOOKS": [],
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Content-Security-Policy (django-csp 4) -------------------------------------------
# Everything from the app's own origin: no inline script or style (scripts and styles are static
# files; sizes computed on the server arrive as data attributes that static/registrar/js/app.js
# applies), images also as data: URIs (Bootstrap's icons, Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}

# --- Registrar ------------------------------------------------------------------
_INSTITUTION_NAME = env.str("REGISTRAR_INSTITUTION_NAME", default="")
REGISTRAR = {
    "INSTITUTION_NAME": _INSTITUTION_NAME or "示范大学",
    "DOCUMENT_FONT": "Noto Serif CJK SC",
    "ATTACHMENT_MAX_BYTES": env.int("REGISTRAR_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024),
    # Every uploaded workbook (grade sheets, station results, Excel imports, admin imports) is checked
    # against these before it is parsed (registrar.spreadsheets). The 100,000-row grade import
    # (bench/grade_import.py: 2.7 MB, 27 MB unpacked) is well inside them.
    "SPREADSHEETS": {
        "MAX_UPLOAD_BYTES": env.int("REGISTRAR_SPREADSHEET_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024),
        "MAX_UNPACKED_BYTES": env.int("REGISTRAR_SPREADSHEET_MAX_UNPACKED_BYTES", default=100 * 1024 * 1024),
        "MAX_COMPRESSION_RATIO": env.int("REGISTRAR_SPREADSHEET_MAX_COMPRESSION_RATIO", default=100),
        "MAX_ROWS": env.int("REGISTRAR_SPREADSHEET_MAX_ROWS", default=200_000),
        "MAX_COLUMNS": env.int("REGISTRAR_SPREADSHEET_MAX_COLUMNS", default=64),
        "MAX_CELLS": env.int("REGISTRAR_SPREADSHEET_MAX_CELLS", default=4_000_000),
        "MAX_PARTS": env.int("REGISTRAR_SPREADSHEET_MAX_PARTS", default=1000),
    },
    # Who sends a stored file once its view has checked the permission: "django" (FileResponse),
    # "nginx" (X-Accel-Redirect to the internal location FILE_INTERNAL_PREFIX aliasing MEDIA_ROOT)
    # or "apache" (X-Sendfile, mod_xsendfile).
    "FILE_SERVING": env.str("REGISTRAR_FILE_SERVING", default="django"),
    "FILE_INTERNAL_PREFIX": env.str("REGISTRAR_FILE_INTERNAL_PREFIX", default="/protected-media/"),
    # The address users reach the app at (no trailing slash): verification links and QR codes
    # printed on documents, links in e-mails. bin/run sets it from the machine's address and port;
    # production refuses to start without it.
    "PUBLIC_URL": env.str("REGISTRAR_PUBLIC_URL", default="http://localhost:8000").rstrip("/"),
    # The institution's English name, for English documents (the English transcript); an
    # installation that sets its name but not this one gets its name on English documents too.
    "INSTITUTION_NAME_EN": env.str(
        "REGISTRAR_INSTITUTION_NAME_EN", default="" if _INSTITUTION_NAME else "Demonstration University"
    ),
    "STATUS_CHANGE": {
        "SUSPENSION_MAX_DAYS": env.int("REGISTRAR_SUSPENSION_MAX_DAYS", default=366),
        "SUSPENSION_TOTAL_MAX_DAYS": env.int("REGISTRAR_SUSPENSION_TOTAL_MAX_DAYS", default=731),
    },
    # Document types never issued to a student withdrawn automatically (U4).
    "AUTO_WITHDRAWAL_BANNED_DOCUMENTS": [
        "incomplete_certificate",
        "withdrawal_certificate",
        "transcript",
        "transcript_en",
    ],
    "GRADES": {
        # U5: grades are entered within this many days after the exam; later offerings are flagged late
        "ENTRY_DAYS_AFTER_EXAM": env.int("REGISTRAR_GRADE_ENTRY_DAYS", default=7),
        "PASS_SCORE": 60,
        # which attempt counts when a course was sat more than once: "best" or "latest"
        "COUNTED_ATTEMPT": env.str("REGISTRAR_COUNTED_ATTEMPT", default="best"),
        # a passed make-up / clearing exam is recorded at most at this score (None: as sat)
        "MAKEUP_SCORE_CAP": 60,
        # (lowest score, grade point), highest first; below the last entry the grade point is 0
        "GRADE_POINTS": [
            (90, 4.0),
            (85, 3.7),
            (82, 3.3),
            (78, 3.0),
            (75, 2.7),
            (72, 2.3),
            (68, 2.0),
            (64, 1.5),
            (60, 1.0),
        ],
        # five-level grades: the hundred-point equivalent used for the composite, averages and GPA
        "FIVE_LEVELS": [("优", 95), ("良", 85), ("中", 75), ("及格", 65), ("不及格", 0)],
        # score boundaries to derive a five-level grade from a composite: (lowest score, level)
        "FIVE_LEVEL_BOUNDS": [(90, "优"), (80, "良"), (70, "中"), (60, "及格"), (0, "不及格")],
        "PASS_FAIL_LEVELS": ["合格", "不合格"],
        # pass/fail courses earn credits but are left out of the GPA
        "PASS_FAIL_IN_GPA": False,
        # C10 progression: failing at least this share of a term's courses after make-ups → 留级 candidate
        "REPEAT_YEAR_SHARE": 0.5,
        # after the graduation clearing exam: failing at least this share of all courses → 肄业, else 结业
        "INCOMPLETE_SHARE": 1 / 3,
        # route (1) transcripts: at most this many per student
        "BATCH_TRANSCRIPT_LIMIT": 3,
    },
    # Background jobs (document renders, class prints, imports; registrar/background.py): a transient
    # database error (a lock, a serialization failure, a deadlock) is retried this many times with a
    # growing delay; a job with no progress for STALE_JOB_MINUTES is marked failed (its worker died).
    "JOB_RETRIES": env.int("REGISTRAR_JOB_RETRIES", default=5),
    "STALE_JOB_MINUTES": env.float("REGISTRAR_STALE_JOB_MINUTES", default=30),
    # manage.py seed_demo runs each app's demo seeder, f(*, students), in this order: an app after
    # the apps it builds on (students.management.demo.seed_demo).
    "DEMO_SEEDERS": [
        "students.management.demo.seed_students",
        "statuschange.demo.seed_status_changes",
        "grades.demo.seed_grades",
    ],
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

SILENCED_SYSTEM_CHECKS = ["models.W047"]  # SQLite (dev only) ignores nulls_distinct; PostgreSQL enforces it
