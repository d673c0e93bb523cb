"""tra.shared_cache: after a Redis failure a process skips Redis for SHARED_CACHE_RETRY_SECONDS, then tries again."""

import pytest

from devtools.local_dynamo.server import free_port
from llm import metrics
from tra import ratelimit, shared_cache


@pytest.fixture
def clock(monkeypatch, settings):
    settings.SHARED_CACHE_RETRY_SECONDS = 5.0
    now = [1000.0]
    monkeypatch.setattr(shared_cache.time, "monotonic", lambda: now[0])
    yield now
    shared_cache.succeeded()


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        name: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
        for name in ("default", "llm")
    }


def test_a_failure_opens_the_breaker_for_the_retry_window_then_redis_is_tried_again(clock):
    assert shared_cache.available() and not shared_cache.outage()
    shared_cache.failed("test", ConnectionError("refused"))
    assert not shared_cache.available() and shared_cache.outage()
    clock[0] += 4.9
    assert not shared_cache.available()
    clock[0] += 0.2
    assert shared_cache.available() and shared_cache.outage()  # tried again; still down until a success
    shared_cache.succeeded()
    assert shared_cache.available() and not shared_cache.outage()


def test_counters_and_rate_limits_fall_back_to_the_process_while_redis_is_down(clock, redis_down, monkeypatch):
    monkeypatch.setattr(ratelimit, "_now", lambda: 2_000_000 * 3600 + 10.0)  # one window throughout
    before = metrics.stats()  # the first call fails and opens the breaker
    assert before["shared"] is False and shared_cache.outage()
    metrics.add_sync(hits=2, misses=1)
    after = metrics.stats()
    assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (2, 1)
    assert metrics.usage_totals() == {}  # no partial figure is written as the fleet's total
    counts = [ratelimit.charge_sync("u-breaker", rate="2/hour") for _ in range(2)]
    assert counts == [1, 2]
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.charge_sync("u-breaker", rate="2/hour")
