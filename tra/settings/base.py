"""Settings shared by every environment; each value comes from the environment.

Sections: Django core, Django's own database, cache, storage, DynamoDB, AWS
clients, LLM, API. README.md documents every variable and its default.
"""

from pathlib import Path

import dj_database_url

from .environment import env_bool, env_float, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = Path(env_str("TRA_LOCAL_DIR", str(BASE_DIR / ".local")))  # dev data: SQLite, media, local DynamoDB

# --- Django core -------------------------------------------------------------
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "tra.admin_config.TraAdminConfig",  # django.contrib.admin with TRA's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the OpenAPI UI assets locally (no CDN)
    "tra",
    "assessments",
    "documents",
    "chat",
    "llm",
]

# Django's own middleware, subclassed to run on the event loop (tra/http/middleware.py): the same
# behaviour without a thread hop per step. Django's deploy checks find its middleware by dotted
# path, so tra/http/checks.py runs them for these classes and re-issues the three "middleware
# missing" warnings silenced here (as tra.W011-W013, when neither class is in MIDDLEWARE).
MIDDLEWARE = [
    "tra.http.middleware.SecurityMiddleware",
    "tra.http.staticfiles.StaticFilesMiddleware",  # WhiteNoise: /static/ from the app itself
    "tra.http.middleware.SessionMiddleware",
    "tra.http.middleware.CommonMiddleware",
    "tra.http.middleware.CsrfViewMiddleware",
    "tra.http.middleware.AuthenticationMiddleware",
    "tra.http.middleware.MessageMiddleware",
    "tra.http.middleware.XFrameOptionsMiddleware",
]
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]  # = tra.http.checks.SILENCED

ROOT_URLCONF = "tra.urls"
ASGI_APPLICATION = "tra.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# --- Django's own database (users, sessions, admin log) ----------------------
# SQLite by default; PostgreSQL in production (DATABASE_URL=postgres://...).
# No persistent connections: under ASGI each request runs its sync code in a thread of
# its own, and Django keeps a persistent connection per thread, so they would pile up
# (one per request, until PostgreSQL refuses clients). PostgreSQL gets a process-wide
# psycopg pool instead: at most DATABASE_POOL_MAX_SIZE connections per worker process,
# a request waits up to DATABASE_POOL_TIMEOUT seconds for one, then gets a 503.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{LOCAL_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }

# --- Cache --------------------------------------------------------------------
# django-redis when REDIS_URL is set: its add() is SET NX PX, which the LLM
# single-flight lock relies on (the built-in RedisCache rounds sub-second
# timeouts). Local memory otherwise.
REDIS_URL = env_str("REDIS_URL")
# After a failed Redis call, a process does without the shared cache (uncached LLM answers, its own
# counters and rate limits) for this long before trying Redis again (tra/shared_cache.py).
SHARED_CACHE_RETRY_SECONDS = env_float("SHARED_CACHE_RETRY_SECONDS", 5.0)


def _cache(prefix: str) -> dict:
    if REDIS_URL:
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT_SECONDS", 1.0),
                "SOCKET_TIMEOUT": env_float("REDIS_TIMEOUT_SECONDS", 1.0),
            },
        }
    # Room for the LLM cache and its counters: the default 300 entries would cull them.
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": prefix,
        "OPTIONS": {"MAX_ENTRIES": env_int("LOCAL_CACHE_MAX_ENTRIES", 100_000)},
    }


CACHES = {"default": _cache("tra"), "llm": _cache("tra-llm")}

# --- File storage (uploaded evidence) ----------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(LOCAL_DIR / "media")))
MEDIA_URL = "media/"
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": AWS_S3_ENDPOINT_URL,
                "region_name": AWS_S3_REGION_NAME,
                "default_acl": None,
                "file_overwrite": False,
            },
        }
        if AWS_STORAGE_BUCKET_NAME
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Evidence documents ------------------------------------------------------------
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)
DOCUMENT_ALLOWED_TYPES = env_list(
    "DOCUMENT_ALLOWED_TYPES",
    [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "text/markdown",
    ],
)
# Bounds on extraction, so a small file cannot expand into unbounded work (zip bombs).
DOCUMENT_MAX_PAGES = env_int("DOCUMENT_MAX_PAGES", 500)
DOCUMENT_MAX_EXTRACTED_CHARS = env_int("DOCUMENT_MAX_EXTRACTED_CHARS", 2_000_000)
DOCUMENT_MAX_UNCOMPRESSED_BYTES = env_int("DOCUMENT_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024)
DOCUMENT_CHUNK_CHARS = env_int("DOCUMENT_CHUNK_CHARS", 1500)
DOCUMENT_CHUNK_OVERLAP_CHARS = env_int("DOCUMENT_CHUNK_OVERLAP_CHARS", 200)
# Django refuses larger request bodies outright; uploads get their own, larger limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- DynamoDB -------------------------------------------------------------------
# Empty endpoint = AWS. `make run` points it at the local server it starts (local.py).
DYNAMODB_ENDPOINT_URL = env_str("DYNAMODB_ENDPOINT_URL") or None
# `make run` (devtools' runlocal) writes its DynamoDB server's URL here; local settings read it.
LOCAL_DYNAMODB_ENDPOINT_FILE = LOCAL_DIR / "dynamodb.json"
LOCAL_DYNAMODB_PORT = env_int("LOCAL_DYNAMODB_PORT", 8001)
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))
TRA_TABLE_NAME = env_str("TRA_TABLE_NAME", "tra")
# PAY_PER_REQUEST or PROVISIONED (then the capacity below is used for the table and each GSI).
DYNAMODB_BILLING_MODE = env_str("DYNAMODB_BILLING_MODE", "PAY_PER_REQUEST")
DYNAMODB_READ_CAPACITY = env_int("DYNAMODB_READ_CAPACITY", 5)
DYNAMODB_WRITE_CAPACITY = env_int("DYNAMODB_WRITE_CAPACITY", 5)
# "raise": a Scan outside a batch job raises ScanNotAllowed; "log": it is logged.
DYNAMODB_SCAN_GUARD = env_str("DYNAMODB_SCAN_GUARD", "raise")
# The bounded pool that runs sync PynamoDB calls for async views; sized like the
# HTTP pool so no thread waits for a connection.
DYNAMODB_THREAD_POOL_SIZE = env_int("DYNAMODB_THREAD_POOL_SIZE", 0)  # 0 = AWS_MAX_POOL_CONNECTIONS

# --- AWS clients (DynamoDB, Bedrock, S3) -----------------------------------------
AWS_MAX_POOL_CONNECTIONS = env_int("AWS_MAX_POOL_CONNECTIONS", 50)
AWS_CONNECT_TIMEOUT_SECONDS = env_float("AWS_CONNECT_TIMEOUT_SECONDS", 2.0)
AWS_READ_TIMEOUT_SECONDS = env_float("AWS_READ_TIMEOUT_SECONDS", 10.0)
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 4)  # first try + retries
AWS_RETRY_MODE = env_str("AWS_RETRY_MODE", "standard")  # standard | adaptive | legacy
AWS_TCP_KEEPALIVE = env_bool("AWS_TCP_KEEPALIVE", True)
# Credentials come from botocore's usual chain (env, profile, instance role).
# Only used to decide whether a local endpoint gets dummy credentials: local
# servers do not check signatures, but botocore refuses to sign without any.
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")

# --- LLM -------------------------------------------------------------------------
BEDROCK_MODEL_ID = env_str("BEDROCK_MODEL_ID", "anthropic.claude-3-5-haiku-20241022-v1:0")
LLM_PROVIDER = env_str("LLM_PROVIDER", "extractive")  # extractive (offline) | bedrock
BEDROCK_REGION = env_str("BEDROCK_REGION", AWS_REGION)
BEDROCK_ENDPOINT_URL = env_str("BEDROCK_ENDPOINT_URL") or None
BEDROCK_KB_ID = env_str("BEDROCK_KB_ID")
# A model answers in seconds to tens of seconds, so Bedrock gets its own read timeout (DynamoDB keeps
# AWS_READ_TIMEOUT_SECONDS). A Converse call that timed out is not retried: it may have been billed.
BEDROCK_READ_TIMEOUT_SECONDS = env_float("BEDROCK_READ_TIMEOUT_SECONDS", 45.0)
# The longest one model call may take, its wait for a concurrency slot and its retries included; then a
# 503 with Retry-After. Below a load balancer's usual 60 s idle timeout.
BEDROCK_DEADLINE_SECONDS = env_float("BEDROCK_DEADLINE_SECONDS", 55.0)
# Bedrock calls in flight at once per worker process (its one event loop): a
# burst queues here instead of meeting Bedrock's requests-per-minute quota.
LLM_MAX_CONCURRENCY = env_int("LLM_MAX_CONCURRENCY", 16)
# How long a cached answer lives, per task: a document's summary depends only on
# its text (content-addressed), so it can live long.
LLM_CACHE_TTL_SECONDS = {
    "summary": env_int("LLM_CACHE_TTL_SUMMARY_SECONDS", 30 * 24 * 3600),
    "suggestion": env_int("LLM_CACHE_TTL_SUGGESTION_SECONDS", 7 * 24 * 3600),
    "chat": env_int("LLM_CACHE_TTL_CHAT_SECONDS", 24 * 3600),
}
# The cross-process single-flight lock expires after this, so a crashed holder
# cannot block its waiters for longer; above one call with its retries.
LLM_LOCK_TIMEOUT_SECONDS = env_int("LLM_LOCK_TIMEOUT_SECONDS", 60)
LLM_MAX_OUTPUT_TOKENS = env_int("LLM_MAX_OUTPUT_TOKENS", 1024)
# Part of every cache key: bump it when a prompt's wording changes.
LLM_PROMPT_VERSION = env_str("LLM_PROMPT_VERSION", "1")
# Documents longer than this are summarised map-reduce: each chunk, then the summaries.
LLM_SUMMARY_CHUNK_CHARS = env_int("LLM_SUMMARY_CHUNK_CHARS", 20_000)
# Cost protection: requests per user that may spend LLM money (summaries, suggestions, chat messages
# for the LLM tier), counted in the `default` cache across every worker (tra/ratelimit.py).
# N/second, N/minute or N/hour; 0 or empty: no limit.
LLM_RATE_LIMIT = env_rate("LLM_RATE_LIMIT", "60/minute")
# USD per 1,000 input / output tokens (Bedrock on-demand list prices), for cost
# estimates; a model missing here is counted at "default".
LLM_PRICES = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": {"input": 0.0008, "output": 0.004},
    "anthropic.claude-3-haiku-20240307-v1:0": {"input": 0.00025, "output": 0.00125},
    "anthropic.claude-3-5-sonnet-20241022-v2:0": {"input": 0.003, "output": 0.015},
    "default": {"input": 0.003, "output": 0.015},
}

# --- API -------------------------------------------------------------------------
# How often each worker writes its usage figures for the admin dashboard.
USAGE_FLUSH_SECONDS = env_int("USAGE_FLUSH_SECONDS", 60)
# How long a state-changing action the chat proposes ("submit it") may be confirmed; then it is refused (409).
CHAT_PROPOSAL_TTL_SECONDS = env_int("CHAT_PROPOSAL_TTL_SECONDS", 600)
# /metrics is open when empty; set it to require `Authorization: Bearer <token>` (the scraper's).
# Production settings warn (system check tra.W001) while it is empty. The token also shows
# /api/health's details.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# With no METRICS_TOKEN, /metrics is closed (403) rather than open; production turns it on.
METRICS_REQUIRE_TOKEN = env_bool("METRICS_REQUIRE_TOKEN", False)
# The interactive docs (/api/docs) and the schema (/api/openapi.json); off in production by default.
API_DOCS_ENABLED = env_bool("API_DOCS_ENABLED", True)
# Sign-in attempts (API and admin), counted in the `default` cache across every worker (tra/ratelimit.py):
# per username and per client address; over either, a 429 with Retry-After. 0 or empty: no limit.
LOGIN_RATE_LIMIT_PER_USERNAME = env_rate("LOGIN_RATE_LIMIT_PER_USERNAME", "10/minute")
LOGIN_RATE_LIMIT_PER_ADDRESS = env_rate("LOGIN_RATE_LIMIT_PER_ADDRESS", "30/minute")
# Proxies in front of the app that append to X-Forwarded-For (1 behind a load balancer): the client
# address is the entry that many from the right. 0: REMOTE_ADDR (no proxy; the header is ignored).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 100)
HEALTH_CHECK_TIMEOUT_SECONDS = env_float("HEALTH_CHECK_TIMEOUT_SECONDS", 3.0)
# How long a good DescribeTable (table and indexes ACTIVE) stands in /api/health: tra/observability/health.py.
HEALTH_SCHEMA_CHECK_SECONDS = env_float("HEALTH_SCHEMA_CHECK_SECONDS", 60.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # pynamodb.settings logs at INFO on every start that it found no global settings file.
    "loggers": {"pynamodb": {"level": "WARNING"}},
}
