"""Settings for Studio, read from environment variables.

Every knob is an environment variable read through the typed helpers in
``project.env``, which refuse values that do not parse. The defaults run on one
machine with nothing else installed: SQLite, django-q2's ORM broker, media on the
local disk, and the built-in sandbox gateway while ``DEBUG`` is on.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from project.env import env_bool, env_choice, env_database, env_int, env_list, env_redis_url, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "ninja",  # the API's docs page served from our own static files (CSP: scripts only from us)
    "accounts",
    "videos",
    "videos.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language, or the cookie the account page sets) for
    # everyone; accounts.middleware.MemberPreferencesMiddleware then applies a member's own.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentTeamMiddleware",
    "accounts.middleware.MemberPreferencesMiddleware",
    "videos.sandbox.faults.SandboxFaultMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.team",
                "videos.web.live.badges",  # the nav badges, one query (notifications, review, approvals)
            ],
        },
    },
]

# SQLite tuned so the web process and the worker share it without "database is locked":
# with default options 140 of 400 tasks failed under a 2-worker cluster and web load on a
# 2-core machine; with these, none did (docs/architecture.md, "The embedded setup").
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"),
        },
    }
}
# Scale-out: DATABASE_URL (PostgreSQL through psycopg 3) replaces the SQLite file.
_DATABASE = env_database("DATABASE_URL", conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
if _DATABASE is not None:
    DATABASES = {"default": _DATABASE}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages a member may choose (accounts.User.language); the browser's Accept-Language
# picks among them for everyone else.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# The anonymous visitor's chosen language; a member's is kept on their account.
# The project's one catalog (zh-Hans), kept with its compiled .mo file.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The server's zone: anonymous pages and members who have not set theirs (User.time_zone).
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Scale-out: S3_BUCKET puts media (videos, posters, reference images) in an
# S3-compatible bucket through django-storages. Credentials come from boto3's own chain
# (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, an instance role, ...). Uploads go up in
# multipart parts of S3_PART_MB, never whole in memory.
S3_BUCKET = env_str("S3_BUCKET")
S3_ENDPOINT_URL = env_url("S3_ENDPOINT_URL")  # MinIO, R2, Ceph...; empty: AWS
if S3_BUCKET:
    from videos.lib.storage import bucket_options

    # Where the bucket is and how its objects are addressed; path-style
    # (https://host/bucket/key) suits MinIO and most self-hosted stores.
    _BUCKET_ADDRESS = {
        "endpoint_url": S3_ENDPOINT_URL,
        "region": env_str("S3_REGION"),
        "addressing_style": env_choice(
            "S3_ADDRESSING_STYLE", "path" if S3_ENDPOINT_URL else "virtual", ("path", "virtual")
        ),
    }
    STORAGES["default"] = {
        "BACKEND": "videos.lib.storage.BucketStorage",
        "OPTIONS": bucket_options(
            S3_BUCKET,
            **_BUCKET_ADDRESS,
            location=env_str("S3_PREFIX"),
            part_bytes=env_int("S3_PART_MB", 5, minimum=5, maximum=512) * 1024 * 1024,
        ),
    }
# How members' browsers get stored videos and images: "studio" streams them through
# the web process (with Range support; works for any bucket, private networks included);
# "signed" (S3 only) answers a redirect to a presigned URL valid STUDIO_MEDIA_URL_SECONDS,
# so the bytes go from the bucket straight to the browser.
STUDIO_MEDIA_DELIVERY = env_choice("STUDIO_MEDIA_DELIVERY", "studio", ("studio", "signed"))
if STUDIO_MEDIA_DELIVERY == "signed" and not S3_BUCKET:
    raise ImproperlyConfigured("STUDIO_MEDIA_DELIVERY=signed needs S3_BUCKET (local files have no signed URLs)")
STUDIO_MEDIA_URL_SECONDS = env_int("STUDIO_MEDIA_URL_SECONDS", 300, minimum=30, maximum=7 * 24 * 3600)
# The browser-facing origin of presigned URLs, for the Content Security Policy: the one
# botocore builds the links with, unless a proxy or CDN in front of the bucket differs.
STUDIO_MEDIA_ORIGIN = env_url("STUDIO_MEDIA_ORIGIN")
if STUDIO_MEDIA_DELIVERY == "signed" and not STUDIO_MEDIA_ORIGIN:
    from videos.lib.storage import bucket_origin

    STUDIO_MEDIA_ORIGIN = bucket_origin(S3_BUCKET, **_BUCKET_ADDRESS)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Content Security Policy from the first commit: scripts only from us with a
# nonce, no inline handlers, no eval.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:", *([STUDIO_MEDIA_ORIGIN] if STUDIO_MEDIA_ORIGIN else [])],
    "media-src": [CSP.SELF, "blob:", *([STUDIO_MEDIA_ORIGIN] if STUDIO_MEDIA_ORIGIN else [])],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# HTTPS and browser hardening; the production values are in the README ("Production"),
# and `manage.py check --deploy --fail-level WARNING` is clean with them (tests/test_security.py).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# A probe on the app's own port (no TLS proxy in between) gets "ok", not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, and take the client's
# address from X-Forwarded-For, TRUSTED_PROXY_COUNT entries from the right (the entry
# our outermost proxy appended; anything left of it the client could have written).
_BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _BEHIND_TLS_PROXY else None
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if _BEHIND_TLS_PROXY else 0, minimum=0, maximum=5)
# For a check the deployment knowingly declines (e.g. "security.W021" without HSTS preload).
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# Login throttling (accounts/throttle.py): failed sign-ins allowed per username from one
# client address, and per client address (an IPv6 /64), within a rolling window, before the
# password is checked.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 20, minimum=1, maximum=100)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60, minimum=1, maximum=24 * 3600)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The throttle's counters, in the database so every web process shares them (a
    # LocMem cache is per process: it would multiply the limits by the worker count).
    # `migrate` creates the table (accounts/migrations/0003); after renaming it, run
    # `manage.py createcachetable`.
    "login_throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "studio_login_throttle",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

# Django 6.1 mailers; the console backend until an SMTP one is configured.
MAILERS = {"default": {"BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}}
if MAILERS["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 0, minimum=0, maximum=65535) or None,  # None: 25, 465 or 587
        "username": env_str("EMAIL_HOST_USER") or None,
        "password": env_str("EMAIL_HOST_PASSWORD") or None,
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=300),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# django-q2: the database is the source of truth, a queued message only a nudge (the ORM
# broker delivers at least once, Redis may lose a message in a crash: docs/architecture.md).
# ``retry`` must exceed ``timeout`` or tasks run twice.
# REDIS_URL makes Redis the broker instead of the database (scale-out: many workers on
# many machines); either way the database holds every task's state.
REDIS_URL = env_redis_url("REDIS_URL")
Q_CLUSTER = {
    "name": "studio",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
    "workers": env_int("Q_WORKERS", 2, minimum=1, maximum=64),
    "timeout": 300,
    "retry": 420,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "sync": env_bool("Q_SYNC", False),
    "save_limit": 500,
}

# Studio
STUDIO_ENCRYPTION_KEYS = env_list("STUDIO_ENCRYPTION_KEYS")
if not STUDIO_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("STUDIO_ENCRYPTION_KEYS must hold at least one Fernet key when DEBUG is off")
    # Development default only: a fixed Fernet key so a local database stays readable.
    STUDIO_ENCRYPTION_KEYS = ["ZGV2LW9ubHktc3R1ZGlvLWtleS1ub3QtZm9yLXByb2Q="]
STUDIO_SANDBOX_ENABLED = env_bool("STUDIO_SANDBOX_ENABLED", DEBUG)
# Where the worker reaches the built-in sandbox (the web process serves it).
STUDIO_SANDBOX_URL = env_url("STUDIO_SANDBOX_URL", "http://127.0.0.1:8000/sandbox")
# A request through the sandbox is a rehearsal: priced as the real gateway would price it,
# recorded "not billed", counted against no budget. True counts it as spend (the test suite,
# whose sandbox stands in for paid gateways).
STUDIO_SANDBOX_BILLED = env_bool("STUDIO_SANDBOX_BILLED", False)
# The studio's public address: URL-only gateways fetch uploaded reference images from it.
STUDIO_PUBLIC_URL = env_url("STUDIO_PUBLIC_URL", "http://127.0.0.1:8000" if DEBUG else "")
STUDIO_REFERENCE_URL_SECONDS = env_int("STUDIO_REFERENCE_URL_SECONDS", 24 * 3600, minimum=60)
STUDIO_HTTP_TIMEOUT = env_int("STUDIO_HTTP_TIMEOUT", 30, minimum=1, maximum=600)
STUDIO_MAX_VIDEO_BYTES = env_int("STUDIO_MAX_VIDEO_BYTES", 2 * 1024**3, minimum=1)
STUDIO_DOWNLOAD_SECONDS = env_int("STUDIO_DOWNLOAD_SECONDS", 900, minimum=1)
# Wall-clock deadlines of one gateway call, whole answer read (a host that trickles bytes
# is cut off), and the largest answer read from a gateway's API (not a video), bytes.
STUDIO_STATUS_SECONDS = env_int("STUDIO_STATUS_SECONDS", 10, minimum=1, maximum=600)
STUDIO_SUBMIT_SECONDS = env_int("STUDIO_SUBMIT_SECONDS", 120, minimum=1, maximum=3600)
# Wall-clock deadline of one webhook delivery attempt (docs/webhooks.md).
STUDIO_WEBHOOK_SECONDS = env_int("STUDIO_WEBHOOK_SECONDS", 10, minimum=1, maximum=60)
# API requests per access token per minute (docs/api.md, "Rate limits").
STUDIO_API_RATE_LIMIT = env_int("STUDIO_API_RATE_LIMIT", 120, minimum=1, maximum=100_000)
# An audit action name missing from videos.audit.ACTIONS raises (tests) instead of only logging.
STUDIO_AUDIT_STRICT = env_bool("STUDIO_AUDIT_STRICT", False)
STUDIO_MAX_ANSWER_BYTES = env_int("STUDIO_MAX_ANSWER_BYTES", 4 * 1024**2, minimum=1024)
# How long a worker's claim on a task lasts; a worker that dies loses it after this long.
STUDIO_LEASE_SECONDS = env_int("STUDIO_LEASE_SECONDS", 120, minimum=1, maximum=3600)
# Sandbox fault injection, e.g. "5xx=0.1,429=0.05,garbage=0.05,slow=0.05,ghost=0.05,reset=0.05"
# (probability per request; off by default). For resilience testing only.
STUDIO_SANDBOX_FAULTS = env_str("STUDIO_SANDBOX_FAULTS", "")
# A task still running after this many hours fails (reAPI's own cap, 48 h, wins for reAPI).
STUDIO_MAX_TASK_HOURS = env_int("STUDIO_MAX_TASK_HOURS", 24, minimum=1, maximum=24 * 30)
# Sweep loops polling at once, across every worker machine (each holds one django-q2
# worker while it runs); more than one only helps with thousands of tasks in flight.
STUDIO_SWEEPERS = env_int("STUDIO_SWEEPERS", 1, minimum=1, maximum=64)
STUDIO_SWEEP_BATCH = env_int("STUDIO_SWEEP_BATCH", 200, minimum=1, maximum=10_000)
# Status queries in flight at once during a sweep (threads sharing the one HTTP client).
STUDIO_POLL_CONCURRENCY = env_int("STUDIO_POLL_CONCURRENCY", 16, minimum=1, maximum=256)
# At most this many status queries in flight to one gateway host, so a slow host cannot
# take every slot from the others.
STUDIO_POLL_PER_HOST = env_int(
    "STUDIO_POLL_PER_HOST", max(1, STUDIO_POLL_CONCURRENCY // 2), minimum=1, maximum=STUDIO_POLL_CONCURRENCY
)
STUDIO_MAX_REFERENCE_BYTES = env_int("STUDIO_MAX_REFERENCE_BYTES", 10 * 1024 * 1024, minimum=1)
STUDIO_MAX_REFERENCE_PIXELS = env_int("STUDIO_MAX_REFERENCE_PIXELS", 40_000_000, minimum=1)
# SSRF guard (videos/lib/http.py): the studio connects only to public addresses, except to the
# registered gateways' default hosts, the sandbox, and these comma-separated host[:port]
# items (no port: any port), e.g. a self-hosted gateway "gw.internal:8443,10.0.0.5".
# Hosts match as written in the key's or video's URL, not by the address they resolve to.
STUDIO_ALLOWED_PRIVATE_HOSTS = env_list("STUDIO_ALLOWED_PRIVATE_HOSTS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "videos.lib.vault.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}

# The sandbox's pace: how long a normal sandbox task takes, and a "[slow]" one (seconds).
STUDIO_SANDBOX_RUN_SECONDS = env_int("STUDIO_SANDBOX_RUN_SECONDS", 8, minimum=0, maximum=3600)
STUDIO_SANDBOX_SLOW_SECONDS = env_int("STUDIO_SANDBOX_SLOW_SECONDS", 60, minimum=0, maximum=3600)
# Render sandbox videos in a background thread (off in tests: rendered when first asked for).
STUDIO_SANDBOX_BACKGROUND_RENDER = env_bool("STUDIO_SANDBOX_BACKGROUND_RENDER", True)
