"""Django ORM models of the platform itself (the domain lives in DynamoDB).

Users, sessions and the admin log are Django's own tables; TRA adds API tokens
and the reviewer permission. The platform's one DynamoDB entity, UsageCounter,
is imported here so that it loads with the app, as the domain apps' models do,
and the table registry (tra.dynamo.registry.registered_models) sees it.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models

from tra.observability.models import UsageCounter  # noqa: F401 - registers the entity on the table

TOKEN_PREFIX = "tra"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for scripts. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="the token's first characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new token: (token, prefix, hash)."""
        secret = secrets.token_urlsafe(32)
        token = f"{TOKEN_PREFIX}_{secret}"
        return token, token[:12], hash_token(token)


class Reviewing(models.Model):
    """No table: it carries the permission that makes a staff user a reviewer.

    Grant "tra | reviewing | Can review assessments" (or a group holding it) to
    staff users who work the review queue.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("review_assessments", "Can review assessments")]

    def __str__(self) -> str:
        return "reviewing"
