"""Sign-in for the browser (session + CSRF) and API tokens for scripts.

Sign-in attempts are throttled per username and per client address across every
worker (tra/ratelimit.py): over either limit, a 429 with Retry-After, before the
password is checked.
"""

from datetime import datetime

from asgiref.sync import sync_to_async
from django.contrib.auth import aauthenticate, alogin, alogout
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Router, Schema, Status
from ninja.utils import check_csrf
from pydantic import Field, field_validator

from tra import ratelimit
from tra.errors import Forbidden, Unauthorized
from tra.http import auth
from tra.http.schemas import Error

router = Router(tags=["auth"])
# A JSON body that does not parse (400), is too large (413) or is not sent as application/json (415).
BODY_ERRORS = {400: Error, 413: Error, 415: Error}


class CsrfOut(Schema):
    csrf_token: str


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


# Every id in the API is a string - users' (here, and as owner_id, reviewer_id... elsewhere), tokens',
# assessments' and documents' - so a client compares them without converting.
ID_DESCRIPTION = "a string, like every id in the API"


class MeOut(Schema):
    id: str = Field(description=ID_DESCRIPTION)
    username: str
    is_staff: bool
    is_reviewer: bool


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: str = Field(description=ID_DESCRIPTION)
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_string(cls, value):
        return str(value)  # the database's integer key


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once: store it now")


def _me(actor: auth.Actor) -> MeOut:
    return MeOut(id=actor.user_id, username=actor.username, is_staff=actor.is_staff, is_reviewer=actor.is_reviewer)


@router.get("/csrf", auth=None, response=CsrfOut)
async def csrf(request: HttpRequest):
    """Sets the csrftoken cookie; send its value as X-CSRFToken on unsafe requests."""
    return {"csrf_token": get_token(request)}


@router.post("/login", auth=None, response={200: MeOut, **BODY_ERRORS, 401: Error, 403: Error, 422: Error, 429: Error})
async def login(request: HttpRequest, payload: LoginIn):
    """Sign in with a username and password: starts a session (cookie). Send X-CSRFToken from
    GET /api/auth/csrf. Throttled per username and per client address (429 with Retry-After)."""
    if check_csrf(request) is not None:
        raise Forbidden("CSRF check failed: GET /api/auth/csrf first and send X-CSRFToken")
    await ratelimit.charge_login(payload.username, ratelimit.client_address(request))
    user = await aauthenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise Unauthorized("invalid username or password")
    await alogin(request, user)
    return _me(await sync_to_async(auth.actor_for)(user))


@router.post("/logout", response={204: None, 401: Error})
async def logout(request: HttpRequest):
    """End the session."""
    await alogout(request)
    return Status(204, None)


@router.get("/me", response={200: MeOut, 401: Error})
async def me(request: HttpRequest):
    """Who I am (by session or API token): id (a string, like every id in the API), username, roles."""
    return _me(request.auth)


@router.post("/tokens", response={201: NewTokenOut, **BODY_ERRORS, 401: Error, 422: Error})
async def token_create(request: HttpRequest, payload: TokenIn):
    """Create an API token for scripts (Authorization: Bearer tra_...). The token is shown once."""
    record, token = await sync_to_async(auth.token_create)(user=request.user, name=payload.name)
    return Status(201, NewTokenOut(**TokenOut.from_orm(record).dict(), token=token))


@router.get("/tokens", response={200: list[TokenOut], 401: Error})
async def token_list(request: HttpRequest):
    """My active API tokens (their prefixes, never the tokens)."""
    return await sync_to_async(auth.token_list)(user=request.user)


@router.delete("/tokens/{token_id}", response={204: None, 401: Error, 404: Error, 422: Error})
async def token_revoke(request: HttpRequest, token_id: str):
    """Revoke one of my API tokens: it stops working at once."""
    await sync_to_async(auth.token_revoke)(user=request.user, token_id=token_id)
    return Status(204, None)
