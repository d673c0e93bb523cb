"""The cache against a real Redis server (django-redis), as production runs it."""

import socket
import uuid

import pytest
from django.core.cache import caches

from tests.conftest import skip_or_fail

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("no Redis server on 127.0.0.1:6379")
    prefix = f"tra-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        name: {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": f"{prefix}-{name}"}
        for name in ("default", "llm")
    }
    yield caches
    for name in ("default", "llm"):
        caches[name].clear()


@pytest.mark.redis
def test_django_redis_add_is_set_if_absent_with_a_sub_second_expiry(redis_cache):
    cache = redis_cache["llm"]
    assert cache.add("lock", "holder-1", timeout=0.5) is True
    assert cache.add("lock", "holder-2", timeout=0.5) is False
    assert cache.get("lock") == "holder-1"
    # django-redis sets PX in milliseconds; Django's built-in backend would round 0.5 s.
    ttl_ms = cache.client.get_client().pttl(cache.make_key("lock"))
    assert 0 < ttl_ms <= 500


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_health_reports_the_redis_cache(redis_cache, dynamo_table, aws_clients, settings):
    from django.test import AsyncClient

    settings.METRICS_TOKEN = "health-details"
    response = await AsyncClient().get("/api/health", headers={"Authorization": "Bearer health-details"})
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == {"status": "ok", "backend": "RedisCache"}
