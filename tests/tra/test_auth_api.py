"""Signing in: session with CSRF for the browser, API tokens for scripts."""

import json

import pytest
from django.test import AsyncClient

from tests.support.api import ApiClient, make_user

pytestmark = [pytest.mark.django_db(transaction=True)]


async def login(client: AsyncClient, username: str, password: str, csrf: str | None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return await client.post(
        "/api/auth/login",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
        headers=headers,
    )


async def test_a_browser_signs_in_with_csrf_and_reads_who_it_is():
    from asgiref.sync import sync_to_async

    await sync_to_async(make_user)("olivia")
    client = AsyncClient(enforce_csrf_checks=True)
    csrf = (await client.get("/api/auth/csrf")).json()["csrf_token"]

    assert (await login(client, "olivia", "olivia-password-123", None)).status_code == 403
    assert (await login(client, "olivia", "wrong", csrf)).status_code == 401
    signed_in = await login(client, "olivia", "olivia-password-123", csrf)
    assert signed_in.status_code == 200
    assert signed_in.json()["username"] == "olivia"

    me = await client.get("/api/auth/me")
    assert me.json() == {"id": me.json()["id"], "username": "olivia", "is_staff": False, "is_reviewer": False}

    csrf = client.cookies["csrftoken"].value  # rotated at sign-in
    no_token = await client.post("/api/assessments", data="{}", content_type="application/json")
    assert no_token.status_code == 403  # session writes need the CSRF header
    logout = await client.post("/api/auth/logout", headers={"X-CSRFToken": csrf})
    assert logout.status_code == 204
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_api_tokens_are_created_once_listed_and_revoked():
    from asgiref.sync import sync_to_async

    from tests.support.api import client_for

    owner = await sync_to_async(client_for)(await sync_to_async(make_user)("olivia"))
    created = await owner.post("/auth/tokens", {"name": "ci script"})
    assert created.status == 201
    token = created.body["token"]
    assert token.startswith("tra_") and created.body["prefix"] == token[:12]

    script = ApiClient(token)
    me = (await script.get("/auth/me")).body
    assert me["username"] == "olivia"
    assert isinstance(me["id"], str) and isinstance(created.body["id"], str)  # one type for every id
    listed = await owner.get("/auth/tokens")
    assert "token" not in listed.body[0]  # never shown again
    assert (await owner.delete(f"/auth/tokens/{created.body['id']}")).status == 204
    revoked = await script.get("/auth/me")
    assert revoked.status == 401 and revoked.body["error"]["message"] == "invalid or revoked API token"
    assert (await owner.delete("/auth/tokens/not-a-number")).status == 404
    assert (await owner.delete("/auth/tokens/99999999999999999999999")).status == 404


async def test_a_bad_token_is_told_apart_from_no_credentials():
    nobody = await ApiClient(None).get("/auth/me")
    wrong = await ApiClient("tra_not-a-real-token").get("/auth/me")
    assert nobody.status == wrong.status == 401
    assert nobody.body["error"]["message"] == "sign in or send an API token"
    assert wrong.body["error"]["message"] == "invalid or revoked API token"


async def test_a_token_of_another_user_cannot_be_revoked():
    from asgiref.sync import sync_to_async

    from tests.support.api import client_for

    owner = await sync_to_async(client_for)(await sync_to_async(make_user)("olivia"))
    other = await sync_to_async(client_for)(await sync_to_async(make_user)("oscar"))
    created = await owner.post("/auth/tokens", {"name": "mine"})
    assert (await other.delete(f"/auth/tokens/{created.body['id']}")).status == 404


async def test_a_failed_last_used_write_does_not_fail_the_request(monkeypatch):
    """Recording a token's use is bookkeeping: a locked database answers the request anyway."""
    from asgiref.sync import sync_to_async
    from django.db import OperationalError
    from django.db.models import QuerySet

    from tests.support.api import client_for

    client = await sync_to_async(lambda: client_for(make_user("lou")))()

    def locked(self, **kwargs):
        raise OperationalError("database table is locked")

    monkeypatch.setattr(QuerySet, "update", locked)
    response = await client.get("/auth/me")
    assert response.status == 200 and response.body["username"] == "lou"


async def test_an_unreachable_user_database_is_a_503_with_retry_after(monkeypatch):
    """No connection to Django's database (down, or its pool exhausted) → 503 + Retry-After, not a 500."""
    from asgiref.sync import sync_to_async
    from django.db import OperationalError
    from django.db.models import QuerySet

    from tests.support.api import client_for

    client = await sync_to_async(lambda: client_for(make_user("una")))()

    def unreachable(self):
        raise OperationalError("couldn't get a connection after 10.00 sec")

    monkeypatch.setattr(QuerySet, "first", unreachable)
    response = await client.get("/assessments")
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert response.body["error"]["message"] == "the user database is unavailable; retry shortly"
