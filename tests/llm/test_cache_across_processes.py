"""Two worker processes sharing a real Redis: one Bedrock call between them, hits shared."""

import os
import uuid

import pytest
from django.core.cache import caches

from llm import services
from tests.support.workers import release_together

pytestmark = pytest.mark.redis


def run_workers(count: int, *, prefix: str, text: str, fake_bedrock, redis_url: str) -> list[dict]:
    """Start `count` workers, release them together once all are ready, return their summaries."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tra.settings.test",
        "REDIS_URL": redis_url,
        "LLM_PROVIDER": "bedrock",
        "BEDROCK_ENDPOINT_URL": fake_bedrock.endpoint_url,
        "BEDROCK_KB_ID": "",
    }
    return release_together([["tests.llm.flight_worker", prefix, text]] * count, environment)


@pytest.fixture
def shared_redis_cache(redis_url, settings):
    """The `llm` cache on Redis under a prefix of this test's own, as the workers will use it."""
    prefix = f"tra-llm-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "llm": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix},
    }
    yield prefix
    caches["llm"].delete_pattern("*")


def test_two_processes_asking_the_same_uncached_question_make_one_bedrock_call(
    fake_bedrock, redis_url, shared_redis_cache
):
    fake_bedrock.latency = 0.5  # long enough for the second worker to find the first one's lock
    text = f"Evidence {uuid.uuid4().hex}: backups are encrypted and restores are tested twice a year."
    summaries = run_workers(2, prefix=shared_redis_cache, text=text, fake_bedrock=fake_bedrock, redis_url=redis_url)
    assert fake_bedrock.converse_calls == 1
    assert summaries[0]["text"] == summaries[1]["text"] == f"FAKE {fake_bedrock.requests[0].digest}"
    assert sorted(summary["cache"] for summary in summaries) == ["coalesced", "miss"]
    counters = services.stats()  # counted by the workers, read here through the same Redis
    assert (counters["misses"], counters["coalesced"], counters["bedrock_calls"]) == (1, 1, 1)


async def test_another_process_finds_the_answer_this_one_cached(fake_bedrock, redis_url, shared_redis_cache):
    text = f"Evidence {uuid.uuid4().hex}: access reviews are quarterly."
    here = await services.summarize_text(text=text)
    [there] = run_workers(1, prefix=shared_redis_cache, text=text, fake_bedrock=fake_bedrock, redis_url=redis_url)
    assert (here.cache, there["cache"], there["text"]) == ("miss", "hit", here.text)
    assert fake_bedrock.converse_calls == 1
    counters = await services.astats()
    assert (counters["misses"], counters["hits"]) == (1, 1)
