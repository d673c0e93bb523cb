"""Production: AWS, PostgreSQL, Redis, S3, Bedrock; secrets from the environment only.

`DJANGO_SETTINGS_MODULE=tra.settings.production python manage.py check --deploy`
is clean with the variables README lists.
"""

from .base import *  # noqa: F403
from .environment import env_bool, env_int, env_list, env_required

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = [env_required("DJANGO_ALLOWED_HOSTS")]

# TLS ends at the load balancer, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# /metrics is closed until METRICS_TOKEN is set (system check tra.W001 says so); no API docs unless asked.
METRICS_REQUIRE_TOKEN = env_bool("METRICS_REQUIRE_TOKEN", True)
API_DOCS_ENABLED = env_bool("API_DOCS_ENABLED", False)

# `manage.py collectstatic` (a deploy step) fills STATIC_ROOT with hashed, compressed files;
# WhiteNoise (tra/http/staticfiles.py) serves them with far-future cache headers.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}  # noqa: F405
