"""Django settings, read from the environment through django-environ.

Every value has a default that works on a developer machine with nothing installed:
SQLite and a private Redis server under var/, and the provider sandbox on loopback.
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and the provider base URLs.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Twilio signs the URL it called: behind a TLS-terminating proxy the public scheme must be
# rebuilt from this header, or every status callback fails validation.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "campaigns",
    "messaging",
    "campaigns.api",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "campaigns.views.scope.current_sub_account_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchback.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, RQ workers and webhook handlers write concurrently: without WAL, a
    # busy timeout and immediate transactions, SQLite raises "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-switchback.sqlite3")}
    # SQLite cannot create the file without its folder, and a fresh clone has no var/ until
    # run.py makes it: manage.py would stop at "unable to open database file".
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A private redis-server under var/ listens on this socket when REDIS_URL is unset; the
# start and test commands launch it.
PRIVATE_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"unix://{PRIVATE_REDIS_SOCKET}?db=0")

# "events" applies provider webhooks. It is a queue of its own, listed first by every
# worker, so that a long dispatch job on "default" does not hold status updates back.
RQ_QUEUES = {
    "events": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
# Jobs run in the test process when tests ask for it; see tests/conftest.py.
RQ_SHOW_ADMIN_LINK = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# Provider endpoints. The defaults point at the sandbox on loopback, so nothing leaves the
# machine unless an operator sets the real hosts:
#   WHATSAPP_API_BASE_URL=https://graph.facebook.com/v21.0
#   TWILIO_API_BASE_URL=https://api.twilio.com
SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8025")
WHATSAPP_API_BASE_URL = env.str("WHATSAPP_API_BASE_URL", default=f"{SANDBOX_URL}/v21.0")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default=SANDBOX_URL)
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)

# Meta signs every webhook of the platform's app with one app secret.
META_APP_SECRET = env.str("META_APP_SECRET", default="dev-meta-app-secret")
META_VERIFY_TOKEN = env.str("META_VERIFY_TOKEN", default="dev-meta-verify-token")
# The address providers call back; Twilio's signature covers it, so it must be the public one.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Maximum sends that one dispatch job keeps claimed while they wait for a provider
# response. A send stays claimed for about 0.4 s, since it is claimed ahead of its slot,
# so this bounds a job's rate: 200 held a 1,000/s sender to 500 sends/s.
DISPATCH_BATCH_SIZE = env.int("DISPATCH_BATCH_SIZE", default=800)
# HTTP requests one dispatch job has in flight at once. This bounds a job's rate too, at
# this many divided by the provider's response time: 32 at 100 ms is 320 sends/s.
DISPATCH_CONCURRENCY = env.int("DISPATCH_CONCURRENCY", default=32)
# Share of each sender's configured messages/s that dispatch uses. Providers count
# arrivals in a moving second, and concurrent requests arrive a few milliseconds early or
# late, so sending at exactly the limit draws throttling errors (130429, 20429).
PACING_SHARE = env.float("PACING_SHARE", default=0.985)
# The sweeper releases attempts claimed but not sent after this many seconds (their worker
# died), and marks attempts sent without a response or webhook after this many as unknown.
SWEEP_QUEUED_AFTER_SECONDS = env.float("SWEEP_QUEUED_AFTER_SECONDS", default=60.0)
SWEEP_UNKNOWN_AFTER_SECONDS = env.float("SWEEP_UNKNOWN_AFTER_SECONDS", default=600.0)

# Retry backoff: the first retry waits about RETRY_BASE_SECONDS, each later one twice as
# long, never more than RETRY_CAP_SECONDS. Meta's pair rate limit (131056) waits
# RETRY_PAIR_RATE_BASE_SECONDS x 4^n instead.
RETRY_BASE_SECONDS = env.float("RETRY_BASE_SECONDS", default=2.0)
RETRY_CAP_SECONDS = env.float("RETRY_CAP_SECONDS", default=300.0)
RETRY_PAIR_RATE_BASE_SECONDS = env.float("RETRY_PAIR_RATE_BASE_SECONDS", default=4.0)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchback API",
    "DESCRIPTION": "Bulk WhatsApp template campaigns with automatic SMS fallback.",
    "VERSION": "1.0.0",
    # Swagger UI from the installed sidecar package: the docs work offline, without a CDN.
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tags operations by the path segment after /api/v1 ("contacts", "campaigns").
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Requests per API key; DRF's rate syntax ("600/minute").
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/minute")
# Outbound webhooks: tries per event, and the first retry delay (doubled each try).
OUTBOUND_WEBHOOK_TRIES = env.int("OUTBOUND_WEBHOOK_TRIES", default=6)
OUTBOUND_WEBHOOK_BACKOFF_SECONDS = env.float("OUTBOUND_WEBHOOK_BACKOFF_SECONDS", default=30.0)
# Endpoint URLs on private, link-local and other non-public networks are rejected. This
# lets loopback (127.0.0.0/8, ::1, localhost) through for a receiver on the same machine;
# DEBUG does the same.
OUTBOUND_WEBHOOK_ALLOW_LOOPBACK = env.bool("OUTBOUND_WEBHOOK_ALLOW_LOOPBACK", default=False)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "campaigns": {"level": LOG_LEVEL},
        "messaging": {"level": LOG_LEVEL},
        "reports": {"level": LOG_LEVEL},
        "rq.worker": {"level": "WARNING"},
    },
}

# The SMS send window defaults to fixed clock times (08:00-21:00), which is what this check
# warns about for date fields.
SILENCED_SYSTEM_CHECKS = ["fields.W161"]
