"""Every setting of the service, read from the environment (and `.env`) in one typed place.

`Env` is the typed view of the environment; the Django settings below are derived from it and
nothing else in the code reads `os.environ`. See docs/operations.md for the meaning of each.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from pathlib import Path
from typing import Literal

import dj_database_url
import phonenumbers
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from analytics.security.jwt_keys import hmac_secret_check, jwt_keys_parse, rsa_key_pair_check, rsa_public_key_check
from analytics.security.transport import cleartext_credentials
from loopin_backend.clickhouse_target import clickhouse_target
from loopin_backend.error_tracking import error_tracking_init

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"

# A key that only development may use. Production refuses it (and anything that looks like it).
DEVELOPMENT_SECRET_KEY = "loopin-analytics-development-secret-key-not-for-production"  # noqa: S105
_INSECURE_MARKERS = ("django-insecure", "development", "changeme", "change-me", "secret-key-here")


class Env(BaseSettings):
    """The environment, typed. Field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=BASE_DIR / ".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    DEBUG: bool = False
    SECRET_KEY: str = ""
    ALLOWED_HOSTS: str = "*"
    DATABASE_URL: str = ""
    # PostgreSQL connections each process keeps open and lends to requests and tasks (0: a new connection
    # each time). docs/operations.md "Database connections".
    ANALYTICS_DB_POOL_SIZE: int = Field(default=8, ge=0, le=100)
    ANALYTICS_DATA_DIR: Path = Path("var")
    CELERY_BROKER_URL: str = ""
    CELERY_RESULT_BACKEND: str = ""
    ANALYTICS_ENABLED: bool = True
    ANALYTICS_BATCH_SIZE: int = Field(default=1000, ge=1, le=10_000)
    # ≥ 120: the metrics read up to ~95 days back (a month, the month before it for churn and growth, and
    # 30-day retention maturing), so a shorter horizon would freeze periods still being measured.
    ANALYTICS_RETENTION_DAYS: int = Field(default=395, ge=120, le=36_500)
    ANALYTICS_PHONE_REGIONS: str = "IN"
    ANALYTICS_SESSION_RETENTION_DAYS: int = Field(default=395, ge=30, le=36_500)
    ANALYTICS_FAILED_EVENT_RETENTION_DAYS: int = Field(default=30, ge=1, le=36_500)
    ANALYTICS_AUDIT_RETENTION_DAYS: int = Field(default=730, ge=30, le=36_500)
    ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS: int = Field(default=30, ge=1, le=36_500)
    ANALYTICS_TIME_ZONE: str = "Asia/Kolkata"
    ANALYTICS_TRUSTED_PROXIES: str = ""
    ANALYTICS_SWEEP_INTERVAL_SECONDS: float = Field(default=60.0, gt=0)
    ANALYTICS_WORKER_HEARTBEAT_SECONDS: float = Field(default=15.0, gt=0)
    ANALYTICS_EMBEDDED_SCHEDULER: bool = True
    # Redis broker: a message taken by a worker that died unacknowledged goes back to the queue after this
    # long. Above the longest task's hard time limit (3,600 s), or a task still running is delivered twice.
    ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS: int = Field(default=3900, ge=5, le=86_400)
    ANALYTICS_DELIVERY_LEASE_SECONDS: int = Field(default=300, ge=5, le=86_400)
    # Embedded mode (tasks in-process): an exception in a task fails its caller instead of being logged.
    ANALYTICS_TASKS_PROPAGATE_ERRORS: bool = False
    ANALYTICS_BUFFER_SIZE: int = Field(default=10_000, ge=1, le=1_000_000)
    ANALYTICS_BUFFER_FLUSH_SECONDS: float = Field(default=1.0, gt=0, le=300)
    # Slow and large uploads (analytics/api/uploads.py, docs/api.md "Slow and large uploads").
    ANALYTICS_HEADER_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=300)
    ANALYTICS_BODY_IDLE_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=300)
    ANALYTICS_BODY_TIMEOUT_SECONDS: float = Field(default=60.0, gt=0, le=3600)
    ANALYTICS_UPLOADS_PER_IP_PREFIX: int = Field(default=16, ge=1, le=10_000)
    ANALYTICS_UPLOAD_BYTES_PER_IP_PREFIX: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    ANALYTICS_UPLOAD_BUFFER_BYTES: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    ANALYTICS_INGEST_CONCURRENCY: int = Field(default=4, ge=1, le=256)
    ANALYTICS_SKIP_PATHS: str = "health,healthz,/static/,/media/,/admin/,/favicon.ico,/api/analytics/"
    POSTHOG_API_KEY: str = ""
    POSTHOG_HOST: str = "https://us.i.posthog.com"
    # Erasure reaches PostHog only with both (docs/operations.md, "Subject requests").
    POSTHOG_PERSONAL_API_KEY: str = ""
    POSTHOG_FORWARD_SENSITIVE_TEXT: bool = False
    FIELD_ENCRYPTION_KEYS: str = ""
    POSTHOG_PROJECT_ID: str = ""
    POSTHOG_API_HOST: str = ""  # the private API's host; empty = derived from POSTHOG_HOST
    POSTHOG_DELETION_DELAY_SECONDS: int = Field(default=360, ge=0, le=86_400)
    OPENAI_API_KEY: str = ""
    OPENAI_BASE_URL: str = "https://api.openai.com/v1"
    OPENAI_MODEL: str = "gpt-4o-mini"
    OPENAI_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=60)
    AI_SERVICES_ENABLED: bool = True
    JWT_ALGORITHM: Literal["HS256", "RS256"] = "HS256"
    JWT_SECRET_KEY: str = ""
    JWT_PRIVATE_KEY: str = ""
    JWT_PUBLIC_KEY: str = ""
    JWT_KEY_ID: str = ""
    # Verification-only keys for a rotation overlap: {"<kid>": {"alg": "HS256"|"RS256", "key": "..."}}.
    JWT_KEYS: str = ""
    JWT_LEEWAY_SECONDS: int = Field(default=30, ge=0, le=300)
    JWT_AUDIENCE: str = "loopin-analytics"
    JWT_ISSUER: str = "loopin"
    JWT_DEFAULT_TTL_MINUTES: int = Field(default=60, ge=1, le=60 * 24 * 30)
    LOG_LEVEL: str = "INFO"
    # Alerting (analytics/metrics/alerting/, docs/operations.md "Alerting").
    # work_mem of one large analysis statement (funnels, retention, rollup rebuilds) on PostgreSQL
    # Model lifecycle (analytics/intelligence/registry.py): a candidate worse than the active version by
    # more than this on its fresh evaluation's primary metric (ROC-AUC, …) is not promoted.
    ANALYTICS_MODEL_PROMOTION_MARGIN: float = Field(default=0.02, ge=0, le=1)
    ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS: float = Field(default=168.0, gt=0, le=24 * 90)
    # The analytics engine (docs/operations.md, "Analytics engine"): chdb:///path, http(s)://…, or off/empty.
    ANALYTICS_CLICKHOUSE_URL: str = ""
    ANALYTICS_CLICKHOUSE_CLUSTER: str = Field(default="", pattern=r"^([A-Za-z_][A-Za-z0-9_]{0,63})?$")
    ANALYTICS_CLICKHOUSE_BATCH_SIZE: int = Field(default=50_000, ge=100, le=1_000_000)
    ANALYTICS_ANALYSIS_WORK_MEM: str = Field(default="256MB", pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$")
    ANALYTICS_ALERT_COOLDOWN_MINUTES: int = Field(default=60, ge=0, le=60 * 24 * 30)
    ANALYTICS_ALERT_BREAKDOWNS: bool = False
    ANALYTICS_ALERT_WEBHOOK_URL: str = ""
    ANALYTICS_ALERT_WEBHOOK_SECRET: str = ""
    ANALYTICS_ALERT_WEBHOOK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=60)
    ANALYTICS_ALERT_EMAILS: str = ""
    ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS: int = Field(default=8, ge=1, le=50)
    # Digests (docs/reports.md): recipients, and the business-time hour after which a period's goes out.
    ANALYTICS_REPORT_EMAILS: str = ""
    ANALYTICS_REPORT_HOUR: int = Field(default=7, ge=0, le=23)
    EMAIL_BACKEND: str = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST: str = "localhost"
    EMAIL_PORT: int = Field(default=25, ge=1, le=65535)
    EMAIL_HOST_USER: str = ""
    EMAIL_HOST_PASSWORD: str = ""
    EMAIL_USE_TLS: bool = False
    EMAIL_USE_SSL: bool = False
    EMAIL_TIMEOUT: float = Field(default=10.0, gt=0, le=120)
    DEFAULT_FROM_EMAIL: str = "loopin-analytics@localhost"
    # Rate limits (docs/operations.md, "Rate limits"): the store is Redis when a URL is given (or the broker
    # is Redis), else this process's memory.
    # Production refuses connections that send a password in clear to another machine, unless this says the
    # network is private and trusted (docs/operations.md, "TLS in transit").
    ANALYTICS_ALLOW_CLEARTEXT_CREDENTIALS: bool = False
    ANALYTICS_RATE_LIMITS: bool = True
    ANALYTICS_RATE_LIMIT_REDIS_URL: str = ""
    # Error tracking (docs/operations.md, "Error tracking"): off while empty.
    SENTRY_DSN: str = ""
    SENTRY_ENVIRONMENT: str = ""
    # Scraping /metrics (analytics/api/metrics_gate.py, docs/operations.md "Scraping /metrics").
    METRICS_TOKEN: str = ""
    # Flower (`make flower`, the compose file's flower service) asks for this user:password; it never runs open.
    FLOWER_BASIC_AUTH: str = ""
    METRICS_ALLOWED_NETWORKS: str = ""

    @field_validator("METRICS_TOKEN")
    @classmethod
    def _scrape_token(cls, value: str) -> str:
        value = value.strip()
        if value and (len(value) < 32 or not value.isascii() or not value.isprintable() or " " in value):
            raise ValueError("METRICS_TOKEN must be at least 32 printable ASCII characters without spaces")
        return value

    @field_validator("METRICS_ALLOWED_NETWORKS")
    @classmethod
    def _scrape_networks(cls, value: str) -> str:
        return ",".join(str(network) for network in _networks("METRICS_ALLOWED_NETWORKS", value))

    @field_validator("ANALYTICS_ALERT_WEBHOOK_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("ANALYTICS_ALERT_WEBHOOK_URL must be an http:// or https:// URL")
        return value

    @field_validator("OPENAI_BASE_URL")
    @classmethod
    def _openai_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("OPENAI_BASE_URL must be an http:// or https:// URL")
        return value

    @field_validator("ANALYTICS_TIME_ZONE")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


def _networks(name: str, value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of CIDRs (a bare address is its /32 or /128); anything else is refused."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as exc:
            raise ValueError(f"{name}: {entry!r} is not a network in CIDR notation ({exc})") from exc
    return tuple(networks)


def _looks_insecure(secret: str) -> bool:
    lowered = secret.lower()
    return len(secret) < 32 or any(marker in lowered for marker in _INSECURE_MARKERS)


def _pem(value: str) -> str:
    """PEM keys may arrive with literal `\\n` from an env file."""
    return value.replace("\\n", "\n").strip()


ENV = Env()

DEBUG = ENV.DEBUG
if ENV.SECRET_KEY:
    SECRET_KEY = ENV.SECRET_KEY
elif DEBUG:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
else:
    raise ImproperlyConfigured("SECRET_KEY is not set; production mode (DEBUG off) refuses to start without it")
if not DEBUG and _looks_insecure(SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY is a development or weak key; production mode refuses it")

ALLOWED_HOSTS = [host.strip() for host in ENV.ALLOWED_HOSTS.split(",") if host.strip()]

DATA_DIR = ENV.ANALYTICS_DATA_DIR if ENV.ANALYTICS_DATA_DIR.is_absolute() else BASE_DIR / ENV.ANALYTICS_DATA_DIR
DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- JWT (docs/operations.md, "Tokens and keys") ---------------------------------------------------
JWT_ALGORITHM = ENV.JWT_ALGORITHM
JWT_AUDIENCE = ENV.JWT_AUDIENCE
JWT_ISSUER = ENV.JWT_ISSUER
JWT_DEFAULT_TTL_MINUTES = ENV.JWT_DEFAULT_TTL_MINUTES
JWT_LEEWAY_SECONDS = ENV.JWT_LEEWAY_SECONDS
if JWT_ALGORITHM == "HS256":
    if ENV.JWT_SECRET_KEY:
        JWT_SIGNING_KEY = ENV.JWT_SECRET_KEY
    elif DEBUG:
        # The server and `issue_token` derive the same development key from SECRET_KEY.
        JWT_SIGNING_KEY = hmac.new(SECRET_KEY.encode(), b"loopin-analytics-jwt-dev", hashlib.sha256).hexdigest()
    else:
        raise ImproperlyConfigured("JWT_SECRET_KEY is not set; production mode refuses to start without it")
    if not DEBUG and _looks_insecure(JWT_SIGNING_KEY):
        raise ImproperlyConfigured("JWT_SECRET_KEY is a development or weak key; production mode refuses it")
    try:
        hmac_secret_check(JWT_SIGNING_KEY)
    except ValueError as exc:
        raise ImproperlyConfigured(f"JWT_SECRET_KEY {exc}") from exc
    JWT_VERIFYING_KEY = JWT_SIGNING_KEY
else:
    JWT_SIGNING_KEY = _pem(ENV.JWT_PRIVATE_KEY)
    JWT_VERIFYING_KEY = _pem(ENV.JWT_PUBLIC_KEY)
    if not JWT_VERIFYING_KEY:
        raise ImproperlyConfigured("JWT_ALGORITHM=RS256 needs JWT_PUBLIC_KEY (and JWT_PRIVATE_KEY to sign)")
    try:
        rsa_public_key_check(JWT_VERIFYING_KEY)
    except ValueError as exc:
        raise ImproperlyConfigured(f"JWT_PUBLIC_KEY {exc}") from exc
    if JWT_SIGNING_KEY:
        try:
            rsa_key_pair_check(JWT_SIGNING_KEY, JWT_VERIFYING_KEY)
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
JWT_KEY_ID = ENV.JWT_KEY_ID or hashlib.sha256(JWT_VERIFYING_KEY.encode()).hexdigest()[:16]
# Verification-only keys by key id; the signing key above verifies too, under JWT_KEY_ID.
try:
    JWT_KEYS = jwt_keys_parse(ENV.JWT_KEYS)
except ValueError as exc:
    raise ImproperlyConfigured(f"JWT_KEYS {exc}") from exc
if JWT_KEY_ID in JWT_KEYS:
    raise ImproperlyConfigured(
        f"JWT_KEYS names the signing key's id {JWT_KEY_ID!r}; a key id may name one key only (JWT_KEY_ID)"
    )
for _kid, _key in JWT_KEYS.items():
    if _key.alg == "HS256" and not DEBUG and _looks_insecure(_key.key):
        raise ImproperlyConfigured(f"JWT_KEYS key {_kid!r} is a development or weak key; production mode refuses it")

# --- Analytics -------------------------------------------------------------------------------------
ANALYTICS_ENABLED = ENV.ANALYTICS_ENABLED
ANALYTICS_BATCH_SIZE = ENV.ANALYTICS_BATCH_SIZE
# Regions whose national phone formats scrubbing reads as phone numbers (international ones are read in any
# region): ISO 3166 codes libphonenumber knows, comma-separated (analytics/privacy/scrubbing.py).
ANALYTICS_PHONE_REGIONS = ENV.ANALYTICS_PHONE_REGIONS
_unknown_regions = [
    region
    for region in (r.strip().upper() for r in ANALYTICS_PHONE_REGIONS.split(","))
    if region and region not in phonenumbers.SUPPORTED_REGIONS
]
if _unknown_regions:
    raise ImproperlyConfigured(f"ANALYTICS_PHONE_REGIONS names unknown regions: {', '.join(_unknown_regions)}")
# Retention (analytics/privacy/retention.py, docs/operations.md "Retention"): tracked events and the
# per-person rows derived from them; sessions; quarantined events; the audit log; forwarding rows PostHog
# refused. The daily task `cleanup_old_analytics_data` applies them.
ANALYTICS_RETENTION_DAYS = ENV.ANALYTICS_RETENTION_DAYS
ANALYTICS_SESSION_RETENTION_DAYS = ENV.ANALYTICS_SESSION_RETENTION_DAYS
ANALYTICS_FAILED_EVENT_RETENTION_DAYS = ENV.ANALYTICS_FAILED_EVENT_RETENTION_DAYS
ANALYTICS_AUDIT_RETENTION_DAYS = ENV.ANALYTICS_AUDIT_RETENTION_DAYS
ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS = ENV.ANALYTICS_PARKED_OUTBOX_RETENTION_DAYS
ANALYTICS_TIME_ZONE = ENV.ANALYTICS_TIME_ZONE
ANALYTICS_TRUSTED_PROXIES = [p.strip() for p in ENV.ANALYTICS_TRUSTED_PROXIES.split(",") if p.strip()]
ANALYTICS_SWEEP_INTERVAL_SECONDS = ENV.ANALYTICS_SWEEP_INTERVAL_SECONDS
# How long a row claimed for sending (PostHog forwarding and deletions, alert notifications) is leased to the
# run that took it: longer than those tasks' hard time limits (150 s), so a lease runs out only when its
# sender is gone; the row is then sent again.
ANALYTICS_DELIVERY_LEASE_SECONDS = ENV.ANALYTICS_DELIVERY_LEASE_SECONDS
ANALYTICS_WORKER_HEARTBEAT_SECONDS = ENV.ANALYTICS_WORKER_HEARTBEAT_SECONDS
# Embedded mode only: the server process runs the beat schedule itself (no beat process exists).
ANALYTICS_EMBEDDED_SCHEDULER = ENV.ANALYTICS_EMBEDDED_SCHEDULER
# Host-side collection (request middleware, signal bridge): an in-process buffer written in bulk.
ANALYTICS_BUFFER_SIZE = ENV.ANALYTICS_BUFFER_SIZE
ANALYTICS_BUFFER_FLUSH_SECONDS = ENV.ANALYTICS_BUFFER_FLUSH_SECONDS
# Slow and large uploads: deadlines for a request's headers (the server protocol, loopin_backend/server_protocol.py)
# and body, concurrent uploads and buffered bytes per IP prefix and per process, parsing slots.
ANALYTICS_HEADER_TIMEOUT_SECONDS = ENV.ANALYTICS_HEADER_TIMEOUT_SECONDS
ANALYTICS_BODY_IDLE_TIMEOUT_SECONDS = ENV.ANALYTICS_BODY_IDLE_TIMEOUT_SECONDS
ANALYTICS_BODY_TIMEOUT_SECONDS = ENV.ANALYTICS_BODY_TIMEOUT_SECONDS
ANALYTICS_UPLOADS_PER_IP_PREFIX = ENV.ANALYTICS_UPLOADS_PER_IP_PREFIX
ANALYTICS_UPLOAD_BYTES_PER_IP_PREFIX = ENV.ANALYTICS_UPLOAD_BYTES_PER_IP_PREFIX
ANALYTICS_UPLOAD_BUFFER_BYTES = ENV.ANALYTICS_UPLOAD_BUFFER_BYTES
ANALYTICS_INGEST_CONCURRENCY = ENV.ANALYTICS_INGEST_CONCURRENCY
ANALYTICS_SKIP_PATHS = [p.strip() for p in ENV.ANALYTICS_SKIP_PATHS.split(",") if p.strip()]
# Host model changes → tracked events (analytics/collection/signal_bridge.py). Python, not the
# environment: a host project sets it in its own settings module. Empty = the bridge is off.
ANALYTICS_SIGNAL_BRIDGE: list[dict[str, object]] = []
POSTHOG_API_KEY = ENV.POSTHOG_API_KEY
POSTHOG_HOST = ENV.POSTHOG_HOST
# PostHog person deletion on erasure (analytics/privacy/posthog_deletion.py): a personal API key with the
# person:write scope, the project's id, and the private API's host (PostHog Cloud's ingestion host
# `us.i.posthog.com` answers capture only; its API lives on `us.posthog.com`).
POSTHOG_PERSONAL_API_KEY = ENV.POSTHOG_PERSONAL_API_KEY
# Review and feedback texts are stored encrypted and left out of what PostHog receives unless this is on
# (then sent decrypted): analytics/privacy/encryption.py.
POSTHOG_FORWARD_SENSITIVE_TEXT = ENV.POSTHOG_FORWARD_SENSITIVE_TEXT
# Fernet keys for encryption at rest, comma-separated, newest first (the newest encrypts, all decrypt);
# empty = one key derived from SECRET_KEY. `python manage.py rotate_keys` moves every text to the newest.
FIELD_ENCRYPTION_KEYS = ENV.FIELD_ENCRYPTION_KEYS
for _fernet_key in (k.strip() for k in FIELD_ENCRYPTION_KEYS.split(",") if k.strip()):
    try:
        Fernet(_fernet_key.encode())
    except (ValueError, TypeError) as _exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from _exc
POSTHOG_PROJECT_ID = ENV.POSTHOG_PROJECT_ID
POSTHOG_API_HOST = ENV.POSTHOG_API_HOST
# How long after an erasure PostHog is asked to delete the person: past the forwarder's lease (300 s), so a
# batch already on its way when the erasure committed lands before the deletion and goes with it.
POSTHOG_DELETION_DELAY_SECONDS = ENV.POSTHOG_DELETION_DELAY_SECONDS
OPENAI_API_KEY = ENV.OPENAI_API_KEY
# The OpenAI-compatible chat-completions endpoint (analytics/intelligence/llm.py), used only while a key
# is set and AI_SERVICES_ENABLED is on; every call times out after OPENAI_TIMEOUT_SECONDS.
OPENAI_BASE_URL = ENV.OPENAI_BASE_URL
OPENAI_MODEL = ENV.OPENAI_MODEL
OPENAI_TIMEOUT_SECONDS = ENV.OPENAI_TIMEOUT_SECONDS
AI_SERVICES_ENABLED = ENV.AI_SERVICES_ENABLED
ANALYTICS_ANALYSIS_WORK_MEM = ENV.ANALYTICS_ANALYSIS_WORK_MEM
# The analytics engine: None = the SQL engine (this database answers every analysis); else a ClickHouse
# target (loopin_backend/clickhouse_target.py). A malformed URL stops start-up here.
try:
    ANALYTICS_CLICKHOUSE = clickhouse_target(ENV.ANALYTICS_CLICKHOUSE_URL)
except ValueError as _exc:
    raise ImproperlyConfigured(f"ANALYTICS_CLICKHOUSE_URL is malformed: {_exc}") from None
ANALYTICS_CLICKHOUSE_CLUSTER = ENV.ANALYTICS_CLICKHOUSE_CLUSTER
ANALYTICS_CLICKHOUSE_BATCH_SIZE = ENV.ANALYTICS_CLICKHOUSE_BATCH_SIZE
ANALYTICS_MODEL_PROMOTION_MARGIN = ENV.ANALYTICS_MODEL_PROMOTION_MARGIN
# Retraining of every prediction model by beat (weekly by default).
ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS = ENV.ANALYTICS_MODEL_TRAINING_INTERVAL_HOURS
# Alerting: a resolved alert's key does not reopen within the cooldown; channels switch on when set.
ANALYTICS_ALERT_COOLDOWN_MINUTES = ENV.ANALYTICS_ALERT_COOLDOWN_MINUTES
ANALYTICS_ALERT_BREAKDOWNS = ENV.ANALYTICS_ALERT_BREAKDOWNS
ANALYTICS_ALERT_WEBHOOK_URL = ENV.ANALYTICS_ALERT_WEBHOOK_URL
ANALYTICS_ALERT_WEBHOOK_SECRET = ENV.ANALYTICS_ALERT_WEBHOOK_SECRET
ANALYTICS_ALERT_WEBHOOK_TIMEOUT_SECONDS = ENV.ANALYTICS_ALERT_WEBHOOK_TIMEOUT_SECONDS
ANALYTICS_ALERT_EMAILS = [a.strip() for a in ENV.ANALYTICS_ALERT_EMAILS.split(",") if a.strip()]
ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS = ENV.ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS
# Digests: daily, weekly and monthly reports by e-mail (none while no recipient is set).
ANALYTICS_REPORT_EMAILS = [a.strip() for a in ENV.ANALYTICS_REPORT_EMAILS.split(",") if a.strip()]
ANALYTICS_REPORT_HOUR = ENV.ANALYTICS_REPORT_HOUR
# Django's e-mail backend (alert e-mails and digests).
if ENV.EMAIL_USE_TLS and ENV.EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive")
EMAIL_BACKEND = ENV.EMAIL_BACKEND
EMAIL_HOST = ENV.EMAIL_HOST
EMAIL_PORT = ENV.EMAIL_PORT
EMAIL_HOST_USER = ENV.EMAIL_HOST_USER
EMAIL_HOST_PASSWORD = ENV.EMAIL_HOST_PASSWORD
EMAIL_USE_TLS = ENV.EMAIL_USE_TLS
EMAIL_USE_SSL = ENV.EMAIL_USE_SSL
EMAIL_TIMEOUT = ENV.EMAIL_TIMEOUT
DEFAULT_FROM_EMAIL = ENV.DEFAULT_FROM_EMAIL
SERVER_EMAIL = ENV.DEFAULT_FROM_EMAIL

# --- Scraping /metrics -----------------------------------------------------------------------------
# A bearer scrape token or a client address in one of the networks; nothing else (not even loopback)
# unless DEBUG is on (analytics/api/metrics_gate.py).
METRICS_TOKEN = ENV.METRICS_TOKEN
FLOWER_BASIC_AUTH = ENV.FLOWER_BASIC_AUTH
METRICS_ALLOWED_NETWORKS = _networks("METRICS_ALLOWED_NETWORKS", ENV.METRICS_ALLOWED_NETWORKS)

# --- Django ----------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "analytics.security.admin_app.TwoFactorAdminConfig",  # django.contrib.admin with two-factor logins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): passed two-factor at login
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "loopin_backend.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [
            BASE_DIR / "analytics" / "dashboard" / "templates",
            BASE_DIR / "analytics" / "metrics" / "reports" / "templates",
            BASE_DIR / "analytics" / "security" / "templates",  # the admin login page with its code field
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "loopin_backend.asgi.application"

_database_url = ENV.DATABASE_URL or f"sqlite:///{DATA_DIR / 'analytics.sqlite3'}"
# No persistent per-thread connections (CONN_MAX_AGE=0): on PostgreSQL a request or task borrows from the
# process's pool below and hands the connection back when it ends.
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    # A file, not Django's in-memory default: the API reaches the ORM from worker threads, which
    # must see committed rows exactly as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_analytics.sqlite3")}
else:
    # Bounded waits on a database that stops answering: connect in 5 s, and TCP keepalives plus a
    # user timeout so a dead peer is noticed in about 30 s instead of the kernel's minutes.
    # JIT off: the service's queries are short, and compiling a large analysis statement cost more than it
    # saved (1.9 s of a 15.7 s funnel on 5.9 M events, docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "options": "-c jit=off",
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30000,
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
    if ENV.ANALYTICS_DB_POOL_SIZE:
        # A pool of open connections per process (psycopg_pool through Django): opening two connections per
        # request cost a third of the ingestion rate (docs/benchmarks.md). Each connection lent is checked
        # first (CONN_HEALTH_CHECKS: one empty round trip), so a database restart leaves no broken
        # connection behind; a database that does not answer fails a request within `timeout` with the same
        # OperationalError as a refused connection (503 at the API, a retry in tasks). Forked children drop
        # their parent's pool (loopin_backend/db_pool.py).
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": ENV.ANALYTICS_DB_POOL_SIZE,
            "timeout": 5.0,
            "max_idle": 60.0,
            # A failed reconnection is retried with a doubling delay (1, 2, 4 … s) until this many seconds, and
            # a request waits for it: with an hour, the first requests after a minute-long outage still got
            # 503 for up to a minute. Given up after 5 s, the next request starts a new attempt at once.
            "reconnect_timeout": 5.0,
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE columns) are a PostgreSQL optimisation of the analysis reads; SQLite builds the
# same indexes without the extra columns, which is all the embedded mode needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
LOGIN_URL = "/dashboard/login/"
OTP_TOTP_ISSUER = "Loopin Analytics"  # the name authenticator apps show beside the account
LOGIN_REDIRECT_URL = "/dashboard/"
STATIC_ROOT = DATA_DIR / "static"

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": ENV.LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Celery ----------------------------------------------------------------------------------------
# Tasks run in-process (same code paths) whenever CELERY_BROKER_URL is unset: the embedded mode.
CELERY_EMBEDDED = not ENV.CELERY_BROKER_URL
CELERY_BROKER_URL = ENV.CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = ENV.CELERY_RESULT_BACKEND or None
CELERY_TASK_ALWAYS_EAGER = CELERY_EMBEDDED
# In-process tasks log their exceptions and let the caller go on (a failed processing run is retried by the
# sweeper; a request that stored its events must not fail because processing did) unless
# ANALYTICS_TASKS_PROPAGATE_ERRORS is on — as every test tier runs, so that a failing task fails its test.
CELERY_TASK_EAGER_PROPAGATES = ENV.ANALYTICS_TASKS_PROPAGATE_ERRORS
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Celery's file-backed scheduler, stamping each message with its slot: one run per slot even with two beats.
CELERY_BEAT_SCHEDULER = "analytics.tasks.beat:SlotScheduler"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": ENV.ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS,
    # How often a Redis consumer looks for messages past the visibility timeout (a dead worker's): kombu's
    # default scans every 10th sweep of 10 s, so a short timeout could wait 100 s more; one cheap scan per
    # sweep, every fifth of the timeout (at most 10 s).
    "unacked_restore_interval": max(1, min(10, ENV.ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS // 5)),
    "unacked_restore_throttle": 1,
}

# `python manage.py test analytics` runs the pytest tiers (tests/tiers.py).
TEST_RUNNER = "loopin_backend.test_runner.PytestTierRunner"

# --- Rate limits ------------------------------------------------------------------------------------
ANALYTICS_RATE_LIMITS = ENV.ANALYTICS_RATE_LIMITS
ANALYTICS_RATE_LIMIT_REDIS_URL = ENV.ANALYTICS_RATE_LIMIT_REDIS_URL or (
    ENV.CELERY_BROKER_URL if ENV.CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)

# --- TLS in transit ---------------------------------------------------------------------------------
_cleartext = cleartext_credentials(
    urls={
        "DATABASE_URL": ENV.DATABASE_URL,
        "CELERY_BROKER_URL": ENV.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": ENV.CELERY_RESULT_BACKEND,
        "ANALYTICS_RATE_LIMIT_REDIS_URL": ENV.ANALYTICS_RATE_LIMIT_REDIS_URL,
    },
    email_host=ENV.EMAIL_HOST,
    email_password=ENV.EMAIL_HOST_PASSWORD,
    email_tls=ENV.EMAIL_USE_TLS,
    email_ssl=ENV.EMAIL_USE_SSL,
)
if _cleartext and not DEBUG and not ENV.ANALYTICS_ALLOW_CLEARTEXT_CREDENTIALS:
    raise ImproperlyConfigured(
        "; ".join(_cleartext) + " (or set ANALYTICS_ALLOW_CLEARTEXT_CREDENTIALS=true on a private, trusted network)"
    )

# --- Error tracking ---------------------------------------------------------------------------------
# Sentry when SENTRY_DSN is set, personal data stripped before sending (loopin_backend/error_tracking.py).
SENTRY_ENABLED = error_tracking_init(
    dsn=ENV.SENTRY_DSN,
    environment=ENV.SENTRY_ENVIRONMENT or ("development" if DEBUG else "production"),
    release=VERSION,
)
