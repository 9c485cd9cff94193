"""Standby settings, read from the environment.

Local use needs nothing set: SQLite under var/, DEBUG on, the SMS simulator.
With DEBUG off, anything unsafe or missing stops start-up with a clear message
rather than running a force's callouts on a guessed configuration.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.keys import installation_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STANDBY_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEV_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"
if not SECRET_KEY.strip():
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = DEV_SECRET_KEY
elif not DEBUG and (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 10
    or SECRET_KEY.strip() != SECRET_KEY
    or SECRET_KEY == DEV_SECRET_KEY
):
    # Django's own deploy check asks for 50 characters and some variety; spaces, a
    # repeated character or the development key would sign every session guessably.
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak: use at least 50 random characters when DEBUG is off, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS=* accepts any Host header (password-reset and cache poisoning): "
        "name the host names Standby is served on"
    )

# The address Twilio calls us on: webhook signatures are computed over it, and
# status-callback URLs are built from it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not PUBLIC_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must start with http:// or https://")
if not DEBUG and not PUBLIC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must use https when DEBUG is off")

INSTALLED_APPS = [
    "config.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "cadre",
    "roster",
    "callouts",
    "reports",
]

MIDDLEWARE = [
    "config.logs.request_id_middleware",
    # NUL bytes and lone surrogates refused with a 400, for every request, webhooks too.
    "config.input_check.refuse_unsafe_input",
    # Twilio's webhooks go on through WEBHOOK_MIDDLEWARE only (config/webhook_middleware.py).
    "config.webhook_middleware.WebhookShortcut",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After OTPMiddleware (it needs request.user.is_verified) and htmx (a polled partial is
    # sent to the code page as a whole-page redirect).
    "cadre.middleware.TwoFactorMiddleware",
    "cadre.middleware.ChooseForceMiddleware",
]
# Twilio's signed webhooks need no session, login or CSRF token: only the layers that shape
# the answer, each also in MIDDLEWARE and in the same order (the same headers go back).
WEBHOOK_PREFIX = "/twilio/"
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
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
                "django.template.context_processors.csp",
                "cadre.context_processors.roles",
                "callouts.web.context_processors.provider",
            ],
        },
    },
]

# Databases: SQLite by default (zero set-up), PostgreSQL through psycopg 3 with
# its connection pool when DATABASE_URL says so.
SQLITE_PATH = VAR_DIR / "standby.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
    )
}
_engine = DATABASES["default"]["ENGINE"]
if _engine == "django.db.backends.sqlite3":
    # The web process and the queue worker share the file: WAL lets readers
    # run beside a writer, IMMEDIATE takes the write lock up front so that two
    # writers queue instead of failing halfway with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif _engine == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # qcluster forks its workers after opening connections, and a pool shared
    # across a fork hands the same socket to several processes (django-q2 issue
    # #209: "the last operation didn't produce records"); there, plain connections.
    if sys.argv[1:2] == ["qcluster"]:
        # Each worker keeps its connection from task to task instead of opening one per
        # task (django-q2 closes "old" connections around every task and every look at
        # the queue): a new connection costs PostgreSQL a process and cold caches, which a
        # storm of replies paid hundreds of times a minute. Checked before reuse, so one
        # dropped by a database restart is replaced, not used.
        DATABASES["default"]["CONN_MAX_AGE"] = 300
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    else:
        from config import database

        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 10),
            # Each connection is tried (an empty query) before it is handed out, so after
            # a database restart a request gets a live connection, not a dead one and a 500.
            "check": database.check_connection,
            # How long a request waits for a connection. Each process has fewer threads
            # than connections, so only an outage makes it wait: then a request fails
            # (and the SMS webhook spools) in seconds, well inside Twilio's 15 s.
            "timeout": env_int("DB_POOL_TIMEOUT", 3),
            # A connection the pool cannot make is retried after 1 s, 2 s, 4 s... for
            # reconnect_timeout, and no other is tried meanwhile: after a 30 s outage the
            # next try could be 30 s after the database came back. Given up after 2 s, the
            # next request that needs a connection starts a new try at once.
            "reconnect_timeout": 2,
        }
else:
    raise ImproperlyConfigured(f"DATABASE_URL names an unsupported database ({_engine})")
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Inbound SMS that the webhook could not store (the database was down) wait here, one
# file each, until they are taken in (callouts.engine.intake.take_in_spool). On the
# web server's own disk: keep it on a persistent volume.
SPOOL_DIR = Path(os.environ.get("SPOOL_DIR") or VAR_DIR / "spool")
# While this web process has spooled messages, it tries to take them in this often
# (seconds; 0: leave it to the next webhook request and the escalator's clock).
SPOOL_RETRY_SECONDS = env_int("SPOOL_RETRY_SECONDS", 1)
# Seconds after a database failure during which the SMS webhook spools without trying
# the database (each try waits DB_POOL_TIMEOUT; a whole outage of them would queue).
SPOOL_DIRECT_SECONDS = env_int("SPOOL_DIRECT_SECONDS", 2)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# The cache, shared by every web process and machine: Redis with REDIS_URL, otherwise a
# table in the database (made by a migration). The login-throttle counters are not kept
# here but in a table of their own (cadre.throttle), counted atomically.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "standby",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "standby_cache",
        }
    }

# Failed logins per username and per client address inside the window (seconds, from the
# first failure; cadre.throttle).
LOGIN_THROTTLE_ATTEMPTS = env_int("LOGIN_THROTTLE_ATTEMPTS", 5)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 15 * 60)

# Two-factor login (docs/access.md): coordinators, supervisors and superusers
# must enter a code from an authenticator app after their password; on by default in
# production, off for local use. Anyone with a device set up is asked for a code either way.
REQUIRE_TWO_FACTOR = env_bool("REQUIRE_TWO_FACTOR", not DEBUG)
OTP_TOTP_ISSUER = "Standby"
# Wrong codes are limited like wrong passwords (cadre.throttle: LOGIN_THROTTLE_ATTEMPTS per
# window, in the database), with one clear message. django-otp's own back-off (1, 2,
# 4... s per device) would also refuse a right code typed quickly after a wrong one.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# The admin's device pages show no secret key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # Behind a TLS proxy that sets X-Forwarded-Proto (see the production guide).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The task queue. The ORM broker keeps the queue in the same database and the
# same transaction as the data; REDIS_URL switches to Redis to scale out.
# timeout < retry so that a task is never run twice only because it is slow.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": "standby",
    "workers": env_int("Q_WORKERS", 4),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 0,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "poll": 0.2,
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    if _engine == "django.db.backends.postgresql":
        # A task queued wakes the cluster at once (NOTIFY), not after its poll.
        Q_CLUSTER["broker_class"] = "config.broker.ListeningORM"

# Messages go out through this gateway: "simulator" (local, the default) or
# "twilio" (needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER).
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "simulator")
if SMS_GATEWAY not in {"simulator", "twilio"}:
    raise ImproperlyConfigured("SMS_GATEWAY must be 'simulator' or 'twilio'")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")
# What the phone simulator plays Twilio with when no account or number is configured.
SIMULATOR_ACCOUNT_SID = "AC" + "0" * 32
SIMULATOR_NUMBER = "+447700900000"
# Our numbers, comma-separated: an inbound SMS webhook sent `To` any other is refused (403),
# as is any webhook for another AccountSid than TWILIO_ACCOUNT_SID (callouts.web.webhooks).
TWILIO_NUMBERS = env_list("TWILIO_NUMBERS", [TWILIO_FROM_NUMBER or SIMULATOR_NUMBER])
if SMS_GATEWAY == "twilio":
    missing = [
        name
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        if not os.environ.get(name)
    ]
    if missing:
        raise ImproperlyConfigured(f"SMS_GATEWAY=twilio needs {', '.join(missing)}")
elif not DEBUG and not env_bool("ALLOW_SIMULATOR", False):
    raise ImproperlyConfigured(
        "SMS_GATEWAY is the simulator with DEBUG off: no callout would reach a phone. "
        "Set SMS_GATEWAY=twilio (or ALLOW_SIMULATOR=true for a demo server)."
    )
# Callout sending (callouts/messaging/sending.py): the budget of provider requests in
# flight at once, shared by every send of every process on this machine (Twilio's
# default account limit is 100 concurrent requests);
# how long a send may stay "sending" before the provider is asked whether it
# took it (longer than the 10 s HTTP timeout, so nothing is still in flight);
# how long a queued send may wait for a worker before the escalator sends it.
CALLOUTS_PROVIDER_CONCURRENCY = env_int("CALLOUTS_PROVIDER_CONCURRENCY", 100)
CALLOUTS_SENDING_LEASE = env_int("CALLOUTS_SENDING_LEASE", 30)
CALLOUTS_DISPATCH_GRACE = env_int("CALLOUTS_DISPATCH_GRACE", 20)
# Hours a stand-down, answer or alert is retried through a provider outage.
CALLOUTS_GIVE_UP_AFTER_HOURS = env_int("CALLOUTS_GIVE_UP_AFTER_HOURS", 6)
# Throughput tuning (docs/architecture.md): replies per reply task (several workers share a
# burst, each task pays its overhead once); how long a reply handed to a task that has not
# started it may wait before a task that is pulling more takes it (ms); a step with more
# messages than this offers the rest to other workers; messages claimed per transaction when
# a batch starts sending; a web process sends the clock at most one wake-up this often (ms).
CALLOUTS_REPLY_CHUNK = env_int("CALLOUTS_REPLY_CHUNK", 20)
CALLOUTS_REPLY_TAKEOVER_MS = env_int("CALLOUTS_REPLY_TAKEOVER_MS", 500)
CALLOUTS_SHARE_STEP_ABOVE = env_int("CALLOUTS_SHARE_STEP_ABOVE", 100)
CALLOUTS_CLAIM_CHUNK = env_int("CALLOUTS_CLAIM_CHUNK", 100)
CALLOUTS_WAKE_COALESCE_MS = env_int("CALLOUTS_WAKE_COALESCE_MS", 50)

# The simulator signs its webhooks as Twilio would, with this token: unless one is set, a
# random key made on first start and kept in VAR_DIR (config/keys.py), never a constant.
if not TWILIO_AUTH_TOKEN and SMS_GATEWAY == "simulator":
    TWILIO_AUTH_TOKEN = installation_key(VAR_DIR, "simulator-signing-key")

# One JSON object a line in production (LOG_FORMAT=plain to read them by eye); phone numbers
# and secrets masked in every format (config/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask": {"()": "config.logs.MaskingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["mask"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django sets its own logger to INFO: without this, LOG_LEVEL=ERROR still logged
        # a warning per refused webhook (20,000 lines in one benchmark).
        "django": {"level": LOG_LEVEL},
        "django.db.backends": {"level": "WARNING"},
        # twilio.http_client logs every request's headers at INFO: ten lines per SMS.
        "twilio.http_client": {"level": "WARNING"},
    },
}

# Reports (reports/): a welfare follow-up falls due this many hours after each person who
# went is stood down; purge_history strips message bodies, reply texts and phone numbers
# from incidents older than this many years.
WELFARE_FOLLOW_UP_HOURS = env_int("WELFARE_FOLLOW_UP_HOURS", 72)
HISTORY_RETENTION_YEARS = env_int("HISTORY_RETENTION_YEARS", 7)
# Days of past incidents `seed_demo` plays out for the demo force (reports/demo.py).
DEMO_HISTORY_DAYS = env_int("DEMO_HISTORY_DAYS", 365)
