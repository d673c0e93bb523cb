"""Who is calling: Django session (browser, CSRF-checked) or bearer API token (scripts).

`SessionOrToken` is the NinjaAPI's default auth. It resolves the caller once per
request into an `Actor`, the only identity services and selectors see.
Roles: every authenticated user is an owner of what they create; a reviewer is
a staff user with the `tra.review_assessments` permission.
"""

import logging
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from tra.errors import NotFound
from tra.models import ApiToken, hash_token

logger = logging.getLogger(__name__)
REVIEW_PERMISSION = "tra.review_assessments"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Actor:
    user_id: str
    username: str
    is_staff: bool
    is_reviewer: bool


def actor_for(user) -> Actor:
    """Sync: reads the user's permissions (a database query the first time)."""
    return Actor(
        user_id=str(user.pk),
        username=user.get_username(),
        is_staff=user.is_staff,
        is_reviewer=user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION),
    )


def _user_for_token(token: str):
    record = ApiToken.objects.active().select_related("user").filter(key_hash=hash_token(token)).first()
    if record is None or not record.user.is_active:
        return None
    # Write at most once a minute: a busy script must not turn every call into an UPDATE.
    now = timezone.now()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        try:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        except DatabaseError:
            # Bookkeeping only: a locked or briefly unavailable database must not fail the request.
            logger.warning("could not record the use of API token %s", record.prefix, exc_info=True)
    return record.user


def _session_actor(user) -> Actor | None:
    return actor_for(user) if user.is_authenticated and user.is_active else None


def _token_caller(token: str) -> tuple:
    """(user, actor) for a bearer token, (None, None) for a wrong one; sync, in one thread trip."""
    user = _user_for_token(token)
    return (user, actor_for(user)) if user is not None else (None, None)


def _session_caller(request: HttpRequest) -> tuple:
    """(user, actor) for the request's session (AnonymousUser, None without one); sync, one trip."""
    user = get_user(request)
    return user, _session_actor(user)


class SessionOrToken(AuthBase):
    """ninja auth: a bearer token if the request carries one, else the session."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = "an API token (Authorization: Bearer tra_...) or a session cookie with X-CSRFToken"

    def __init__(self) -> None:
        super().__init__()
        self.is_async = True

    async def __call__(self, request: HttpRequest) -> Actor | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # One trip to the request's thread for the token, its user and their permissions.
            user, actor = await sync_to_async(_token_caller)(header.removeprefix("Bearer ").strip())
            if user is None:
                # Not the message of a request with no credentials: the script sent a token that is wrong.
                raise AuthenticationError(401, "invalid or revoked API token")
            request.user = user
        else:
            # One trip for the session, its user and their permissions (request.auser() and then
            # actor_for would make three).
            user, actor = await sync_to_async(_session_caller)(request)
            if isinstance(user, AnonymousUser):
                return None
            request.user = user  # resolved: views may read it without a query on the loop
            if request.method not in SAFE_METHODS and check_csrf(request) is not None:
                raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value in X-CSRFToken")
        request.actor = actor
        return actor


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new API token for `user`; the token itself is returned once and never stored."""
    token, prefix, key_hash = ApiToken.generate()
    record = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=key_hash)
    return record, token


def token_list(*, user) -> list[ApiToken]:
    return list(ApiToken.objects.active().filter(user=user))


def token_revoke(*, user, token_id: str) -> None:
    # A token id is a string of digits (the database key); anything else, or past 64 bits, names no token.
    valid = token_id.isascii() and token_id.isdigit() and len(token_id) <= 18
    tokens = ApiToken.objects.active().filter(user=user, pk=int(token_id)) if valid else None
    updated = tokens.update(revoked_at=timezone.now()) if tokens is not None else 0
    if not updated:
        raise NotFound(f"API token {token_id} not found", extra={"field": "token_id"})
