"""Sign-in throttling: per username and per client address, for the API and the admin login.

Every attempt counts, right or wrong; over either budget (LOGIN_RATE_LIMIT_PER_USERNAME,
LOGIN_RATE_LIMIT_PER_ADDRESS) the attempt is a 429 with Retry-After before the password is checked, so
the right password after a guessing run is refused too. The counts live in the `default` cache: on Redis
every worker shares them. The clock is fixed (tra.ratelimit._now): counts are asserted, never times.
"""

import json
import os
import socket
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import AsyncClient, Client

from tests.conftest import skip_or_fail
from tests.support.api import make_user
from tra import ratelimit
from tra.errors import RateLimited

pytestmark = [pytest.mark.django_db(transaction=True)]

NOW = 1_000_000 * 3600 + 60.0  # a fixed instant early in an hour window of its own


@pytest.fixture(autouse=True)
def throttled(settings, monkeypatch):
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "3/hour"
    settings.LOGIN_RATE_LIMIT_PER_ADDRESS = "100/hour"
    monkeypatch.setattr(ratelimit, "_now", lambda: NOW)
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    else:
        # A shared Redis keeps counts between tests and runs (the clock is fixed): a key prefix of its own.
        default = {**settings.CACHES["default"], "KEY_PREFIX": f"tra-test-login-{uuid.uuid4().hex}"}
        settings.CACHES = {**settings.CACHES, "default": default}
    yield
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
async def olivia():
    return await sync_to_async(make_user)("olivia")


async def api_login(username: str, password: str, *, forwarded: str | None = None):
    """A sign-in from the test client's 127.0.0.1, through a proxy that says `forwarded` if given."""
    response = await AsyncClient().post(
        "/api/auth/login",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
        headers={"X-Forwarded-For": forwarded} if forwarded else None,
    )
    return response.status_code, json.loads(response.content), response.headers


def assert_throttled(status: int, body: dict, headers) -> None:
    assert status == 429, body
    assert body["error"]["code"] == "rate_limited" and "sign-in attempts" in body["error"]["message"]
    assert 1 <= int(headers["Retry-After"]) <= 2 * 3600


async def test_guessing_a_password_is_429_then_even_the_right_one_is_refused(olivia):
    statuses = [(await api_login("olivia", f"guess-{n}"))[0] for n in range(3)]
    assert statuses == [401, 401, 401]

    assert_throttled(*await api_login("olivia", "olivia-password-123"))
    assert_throttled(*await api_login("olivia", "another-guess"))
    # Another username from the same address still signs in: the username budget is per username.
    await sync_to_async(make_user)("peter")
    assert (await api_login("peter", "peter-password-123"))[0] == 200


async def test_spraying_usernames_from_one_address_is_429(settings, olivia):
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "100/hour"
    settings.LOGIN_RATE_LIMIT_PER_ADDRESS = "4/hour"
    settings.TRUSTED_PROXY_COUNT = 1  # REMOTE_ADDR is the proxy's, 127.0.0.1 here; the client is in the header
    statuses = [(await api_login(f"user-{n}", "password", forwarded="10.0.0.8"))[0] for n in range(4)]
    assert statuses == [401, 401, 401, 401]

    assert_throttled(*await api_login("olivia", "olivia-password-123", forwarded="10.0.0.8"))
    # Another address has its own budget.
    assert (await api_login("olivia", "olivia-password-123", forwarded="10.0.0.9"))[0] == 200


async def test_behind_a_proxy_the_forwarded_address_is_the_clients(settings, olivia):
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "100/hour"
    settings.LOGIN_RATE_LIMIT_PER_ADDRESS = "2/hour"
    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = "1.2.3.4, 203.0.113.7"  # the client wrote 1.2.3.4; the load balancer appended 203.0.113.7
    for _ in range(2):
        assert (await api_login("x", "y", forwarded=spoofed))[0] == 401
    assert_throttled(*await api_login("x", "y", forwarded="9.9.9.9, 203.0.113.7"))
    assert (await api_login("olivia", "olivia-password-123", forwarded="203.0.113.8"))[0] == 200
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy: the header is the client's say, and ignored
    assert (await api_login("olivia", "olivia-password-123", forwarded="203.0.113.7"))[0] == 200


def test_the_admin_login_is_throttled_and_shares_the_apis_budget(transactional_db):
    make_user("olivia", staff=True)
    admin = Client()
    for n in range(2):
        response = admin.post("/admin/login/", {"username": "olivia", "password": f"guess-{n}"})
        assert response.status_code == 200  # the form again, with its error
    from asgiref.sync import async_to_sync

    assert async_to_sync(api_login)("olivia", "guess-api")[0] == 401  # the third attempt, through the API

    refused = admin.post("/admin/login/", {"username": "olivia", "password": "olivia-password-123"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 2 * 3600
    assert b"sign-in attempts" in refused.content
    assert "_auth_user_id" not in admin.session
    assert admin.get("/admin/login/").status_code == 200  # showing the form is not an attempt


@pytest.fixture
def shared_redis(settings):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("no Redis server on 127.0.0.1:6379")
    prefix = f"tra-login-test-{uuid.uuid4().hex[:12]}"
    location = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location, "KEY_PREFIX": prefix},
    }
    yield
    caches["default"].delete_pattern("*")


@pytest.mark.redis
async def test_on_redis_every_worker_spends_the_same_budget(shared_redis, olivia):
    """Attempts counted by another worker's cache client (its own connection pool) leave this one one."""
    other_worker = caches.create_connection("default")
    assert other_worker.client is not caches["default"].client

    def attempt_elsewhere():
        original = caches["default"]
        caches["default"] = other_worker
        try:
            ratelimit.charge_login_sync("olivia", "127.0.0.1")
        finally:
            caches["default"] = original

    for _ in range(2):
        await sync_to_async(attempt_elsewhere)()
    assert (await api_login("olivia", "olivia-password-123"))[0] == 200  # the third of three
    assert_throttled(*await api_login("olivia", "olivia-password-123"))
    with pytest.raises(RateLimited):
        await sync_to_async(attempt_elsewhere)()
