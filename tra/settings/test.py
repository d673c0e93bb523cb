"""Test settings: local defaults, fast password hashing, strict guards."""

from .base import *  # noqa: F403

DEBUG = False
# The tests run the development tools' commands (runlocal, seed_demo, benchmark).
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
# Static files straight from the apps (no collectstatic before the tests).
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DYNAMODB_SCAN_GUARD = "raise"
TRA_TABLE_NAME = "tra-test"
# Tests hit local servers: fail fast instead of waiting out AWS-sized timeouts.
AWS_CONNECT_TIMEOUT_SECONDS = 1.0
AWS_READ_TIMEOUT_SECONDS = 5.0
AWS_MAX_ATTEMPTS = 2
# High enough never to limit the other tests; tests/security/test_rate_limits.py lowers it.
LLM_RATE_LIMIT = "100000/hour"
LOGIN_RATE_LIMIT_PER_USERNAME = "100000/hour"
LOGIN_RATE_LIMIT_PER_ADDRESS = "100000/hour"
