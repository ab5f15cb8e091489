"""Settings for fwsiem, read from ``FWSIEM_*`` environment variables.

A fresh checkout runs with no variable set: SQLite under ``var/``, DEBUG on,
the listener bound to 127.0.0.1. Every variable is listed in the README.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable; anything but a known word is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default

    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Read an integer variable; a malformed value is an error."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default

    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list; blanks around items are ignored."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Core
DEBUG = env_bool("FWSIEM_DEBUG", True)
INSECURE_DEV_KEY = "django-insecure-fwsiem-local-development-only"
SECRET_KEY = os.environ.get("FWSIEM_SECRET_KEY", INSECURE_DEV_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEV_KEY:
    raise ImproperlyConfigured("Set FWSIEM_SECRET_KEY when FWSIEM_DEBUG is off.")
ALLOWED_HOSTS = env_list("FWSIEM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("FWSIEM_CSRF_TRUSTED_ORIGINS", [])
VAR_DIR = Path(os.environ.get("FWSIEM_VAR_DIR", BASE_DIR / "var"))

# Applications
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "events",
    "geo",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fwsiem.urls"
WSGI_APPLICATION = "fwsiem.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'fwsiem.sqlite3'}"
DATABASE_URL = os.environ.get("FWSIEM_DATABASE_URL", "") or DEFAULT_SQLITE_URL
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASE_ENGINE = DATABASES["default"]["ENGINE"]
if DATABASE_ENGINE == "django.db.backends.sqlite3":
    # SQLite cannot create the directory of its file; a fresh checkout has
    # no var/ yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the listener write while the admin reads; the busy timeout
    # and IMMEDIATE transactions make concurrent writers wait for the lock
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=30000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASE_ENGINE == "django.db.backends.mysql":
    DATABASES["default"]["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": (
            "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
        ),
        "isolation_level": "read committed",
    }
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("FWSIEM_TEST_DATABASE_NAME")
        or f"test_{DATABASES['default']['NAME']}",
        "CHARSET": "utf8mb4",
        "COLLATION": "utf8mb4_unicode_ci",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Internationalization
LANGUAGE_CODE = os.environ.get("FWSIEM_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("FWSIEM_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the installed plotly package, for report charts.
    "dashboards.staticfinders.PlotlyFinder",
]

# Listener
SYSLOG_UDP = env_list("FWSIEM_SYSLOG_UDP", ["127.0.0.1:5514"])
SYSLOG_TCP = env_list("FWSIEM_SYSLOG_TCP", ["127.0.0.1:5514"])
ACCEPT_UNKNOWN_DEVICES = env_bool("FWSIEM_ACCEPT_UNKNOWN_DEVICES", True)
INGEST_QUEUE_SIZE = env_int("FWSIEM_INGEST_QUEUE_SIZE", 50_000)
INGEST_QUEUE_MB = env_int("FWSIEM_INGEST_QUEUE_MB", 128)
INGEST_BATCH_SIZE = env_int("FWSIEM_INGEST_BATCH_SIZE", 2_000)
INGEST_FLUSH_MS = env_int("FWSIEM_INGEST_FLUSH_MS", 500)
INGEST_MAX_MESSAGE_BYTES = env_int("FWSIEM_INGEST_MAX_MESSAGE_BYTES", 65_536)
INGEST_UDP_RCVBUF = env_int("FWSIEM_INGEST_UDP_RCVBUF", 16 * 1024 * 1024)
INGEST_TCP_MAX_CONNECTIONS = env_int("FWSIEM_INGEST_TCP_MAX_CONNECTIONS", 512)
INGEST_TCP_IDLE_SECONDS = env_int("FWSIEM_INGEST_TCP_IDLE_SECONDS", 900)
INGEST_SUMMARY_SECONDS = env_int("FWSIEM_INGEST_SUMMARY_SECONDS", 60)
INGEST_HEALTH_SECONDS = env_int("FWSIEM_INGEST_HEALTH_SECONDS", 60)
INGEST_HEALTH_DAYS = env_int("FWSIEM_INGEST_HEALTH_DAYS", 90)
if not 1 <= INGEST_HEALTH_SECONDS <= 60 or 60 % INGEST_HEALTH_SECONDS:
    raise ImproperlyConfigured(
        "FWSIEM_INGEST_HEALTH_SECONDS must divide 60 (1, 2, 3, 5, ..., 30, 60)."
    )

# Reports: every run is bounded in time and size; a capped run says so.
REPORT_TIME_LIMIT = env_int("FWSIEM_REPORT_TIME_LIMIT", 20)
REPORT_MAX_DAYS = env_int("FWSIEM_REPORT_MAX_DAYS", 400)
REPORT_MAX_TOP_N = env_int("FWSIEM_REPORT_MAX_TOP_N", 50)
REPORT_MAX_BUCKETS = env_int("FWSIEM_REPORT_MAX_BUCKETS", 2000)
# A dashboard page's panels share this budget; later panels get what is left.
DASHBOARD_TIME_LIMIT = env_int("FWSIEM_DASHBOARD_TIME_LIMIT", 60)
# Hourly counts: an hour is counted once no event was written to it for this
# long (until then reports read its events); the job runs every few minutes.
ROLLUP_SETTLE_SECONDS = env_int("FWSIEM_ROLLUP_SETTLE_SECONDS", 120)

# Geo data: the registries' delegated files (RIR statistics exchange format)
GEO_REGISTRY_URLS = {
    registry: os.environ.get(f"FWSIEM_GEO_URL_{registry.upper()}", url)
    for registry, url in {
        "afrinic": "https://ftp.afrinic.net/pub/stats/afrinic/"
        "delegated-afrinic-extended-latest",
        "apnic": "https://ftp.apnic.net/stats/apnic/delegated-apnic-extended-latest",
        "arin": "https://ftp.arin.net/pub/stats/arin/delegated-arin-extended-latest",
        "lacnic": "https://ftp.lacnic.net/pub/stats/lacnic/"
        "delegated-lacnic-extended-latest",
        "ripencc": "https://ftp.ripe.net/pub/stats/ripencc/"
        "delegated-ripencc-extended-latest",
    }.items()
}
GEO_REGISTRIES = env_list(
    "FWSIEM_GEO_REGISTRIES", ["afrinic", "apnic", "arin", "lacnic", "ripencc"]
)
GEO_DOWNLOAD_TIMEOUT = env_int("FWSIEM_GEO_DOWNLOAD_TIMEOUT", 120)
GEO_MAX_FILE_BYTES = env_int("FWSIEM_GEO_MAX_FILE_BYTES", 100 * 1024 * 1024)
# Longer than a registry load can take, shorter than the job's retry.
GEO_LOCK_SECONDS = env_int("FWSIEM_GEO_LOCK_SECONDS", 1800)

# Scheduled jobs (django-q2, ORM broker: no extra service to run)
Q_CLUSTER = {
    "name": "fwsiem",
    "orm": "default",
    "workers": env_int("FWSIEM_Q_WORKERS", 1),
    "timeout": 1800,
    "retry": 3600,
    "max_attempts": 1,
    "catch_up": False,
    "poll": 5,
    "label": _("Scheduled jobs"),
}

# Logging
LOG_LEVEL = os.environ.get("FWSIEM_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "events": {"level": LOG_LEVEL},
        "geo": {"level": LOG_LEVEL},
        "dashboards": {"level": LOG_LEVEL},
        # Listed so that django-q2 does not install its own handler and stop
        # propagation (it does when the logger has no handler configured).
        "django-q": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# Admin browsing and export
# Destination ports offered by the event changelist's port filter.
FWSIEM_COMMON_PORTS = [
    int(port)
    for port in env_list(
        "FWSIEM_COMMON_PORTS",
        ["22", "23", "80", "443", "445", "3389", "5555", "6881", "8080", "37215"],
    )
]
# Largest export of events; a larger one is refused with a message.
FWSIEM_EXPORT_MAX_ROWS = env_int("FWSIEM_EXPORT_MAX_ROWS", 100_000)
# django-import-export: importing needs the model's add permission (so
# viewers and analysts cannot import); event exports check their own
# permission (events.export_event, see events/roles.py).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
