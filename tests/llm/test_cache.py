"""The response cache: keys, TTLs, refresh/bypass, single-flight in a process and across processes."""

import asyncio
import time

import pytest
from django_redis.cache import RedisCache

from llm import cache, metrics
from llm.cache import Computed, cache_key, get_or_compute, ttl_for
from tra.errors import ServiceUnavailable

BASE = {
    "task": "summary",
    "model_id": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "system": "Summarise.",
    "messages": [{"role": "user", "content": [{"text": "The document text."}]}],
    "parameters": {"maxTokens": 1024, "temperature": 0.0},
}


class CountingCompute:
    """A stand-in for a Bedrock call: counts calls, can wait for a release, fail or truncate."""

    def __init__(self, *, cacheable=True, error=None, release: asyncio.Event | None = None):
        self.calls = 0
        self.cacheable, self.error, self.release = cacheable, error, release

    async def __call__(self) -> Computed:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        if self.error is not None:
            raise self.error
        return Computed(
            value={"text": f"answer {self.calls}"},
            input_tokens=100,
            output_tokens=20,
            cost_micro_usd=160,
            cacheable=self.cacheable,
        )


def test_the_key_is_stable_for_the_same_request():
    reordered = {**BASE, "parameters": {"temperature": 0.0, "maxTokens": 1024}}
    assert cache_key(**BASE) == cache_key(**reordered) == cache_key(**dict(BASE))


@pytest.mark.parametrize(
    "change",
    [
        {"task": "suggestion"},
        {"model_id": "anthropic.claude-3-haiku-20240307-v1:0"},
        {"system": "Summarise briefly."},
        {"messages": [{"role": "user", "content": [{"text": "The document text!"}]}]},
        {"parameters": {"maxTokens": 512, "temperature": 0.0}},
        {"parameters": {"maxTokens": 1024, "temperature": 0.5}},
    ],
    ids=["task", "model", "system", "text", "max_tokens", "temperature"],
)
def test_changing_anything_that_changes_the_answer_changes_the_key(change):
    assert cache_key(**{**BASE, **change}) != cache_key(**BASE)


def test_changing_the_prompt_version_changes_the_key(settings):
    before = cache_key(**BASE)
    settings.LLM_PROMPT_VERSION = "2"
    assert cache_key(**BASE) != before


def test_settings_that_do_not_change_the_answer_leave_the_key_alone(settings):
    before = cache_key(**BASE)
    settings.LLM_CACHE_TTL_SECONDS = {"summary": 1, "suggestion": 1, "chat": 1}
    settings.LLM_LOCK_TIMEOUT_SECONDS = 5
    settings.LLM_MAX_CONCURRENCY = 1
    settings.AWS_MAX_POOL_CONNECTIONS = 3
    settings.BEDROCK_REGION = "eu-west-1"
    assert cache_key(**BASE) == before


def test_each_task_family_has_its_own_ttl(settings):
    settings.LLM_CACHE_TTL_SECONDS = {"summary": 300, "suggestion": 200, "chat": 100}
    assert (ttl_for("summary"), ttl_for("summary.part"), ttl_for("suggestion"), ttl_for("chat")) == (300, 300, 200, 100)
    assert ttl_for("unknown") == 100


def remaining_ttl(llm_cache, key: str) -> float:
    if isinstance(llm_cache, RedisCache):
        return llm_cache.ttl(key)
    return llm_cache._expire_info[llm_cache.make_key(key)] - time.time()  # local memory keeps expiry times


async def test_a_stored_value_lives_for_the_ttl_it_was_given(llm_cache):
    await get_or_compute("llm:test:ttl", ttl=300, compute=CountingCompute())
    assert 290 < remaining_ttl(llm_cache, "llm:test:ttl") <= 300


async def test_a_miss_computes_once_and_the_next_request_is_a_hit():
    compute = CountingCompute()
    first = await get_or_compute("llm:test:a", ttl=60, compute=compute)
    second = await get_or_compute("llm:test:a", ttl=60, compute=compute)
    assert compute.calls == 1
    assert (first.source, second.source) == ("miss", "hit")
    assert first.value == second.value == {"text": "answer 1"}
    counters = await metrics.astats()
    assert (counters["misses"], counters["hits"]) == (1, 1)
    assert (counters["saved_input_tokens"], counters["saved_output_tokens"], counters["saved_cost_micro_usd"]) == (
        100,
        20,
        160,
    )


async def test_concurrent_identical_misses_share_one_computation():
    release = asyncio.Event()
    compute = CountingCompute(release=release)
    requests = [asyncio.create_task(get_or_compute("llm:test:b", ttl=60, compute=compute)) for _ in range(50)]
    await asyncio.sleep(0.05)
    release.set()
    lookups = await asyncio.gather(*requests)
    assert compute.calls == 1
    assert sorted(lookup.source for lookup in lookups).count("coalesced") == 49
    counters = await metrics.astats()
    assert (counters["misses"], counters["coalesced"], counters["hits"]) == (1, 49, 0)


async def test_a_cancelled_caller_does_not_cancel_the_shared_computation():
    release = asyncio.Event()
    compute = CountingCompute(release=release)
    impatient = asyncio.create_task(get_or_compute("llm:test:c", ttl=60, compute=compute))
    patient = asyncio.create_task(get_or_compute("llm:test:c", ttl=60, compute=compute))
    await asyncio.sleep(0.02)
    impatient.cancel()
    release.set()
    assert (await patient).value == {"text": "answer 1"}
    assert compute.calls == 1


async def test_refresh_recomputes_and_replaces_the_cached_value():
    compute = CountingCompute()
    await get_or_compute("llm:test:d", ttl=60, compute=compute)
    refreshed = await get_or_compute("llm:test:d", ttl=60, compute=compute, refresh=True)
    after = await get_or_compute("llm:test:d", ttl=60, compute=compute)
    assert compute.calls == 2
    assert (refreshed.source, refreshed.value, after.value) == ("miss", {"text": "answer 2"}, {"text": "answer 2"})


async def test_bypass_neither_reads_nor_writes_the_cache():
    compute = CountingCompute()
    await get_or_compute("llm:test:e", ttl=60, compute=compute)
    bypassed = await get_or_compute("llm:test:e", ttl=60, compute=compute, bypass=True)
    assert bypassed.source == "bypassed"
    assert bypassed.value == {"text": "answer 2"}
    assert (await get_or_compute("llm:test:e", ttl=60, compute=compute)).value == {"text": "answer 1"}
    assert (await metrics.astats())["bypassed"] == 1


async def test_uncacheable_results_reach_every_waiter_but_are_not_stored():
    release = asyncio.Event()
    compute = CountingCompute(cacheable=False, release=release)
    requests = [asyncio.create_task(get_or_compute("llm:test:f", ttl=60, compute=compute)) for _ in range(5)]
    await asyncio.sleep(0.02)
    release.set()
    lookups = await asyncio.gather(*requests)
    assert compute.calls == 1
    assert {lookup.value["text"] for lookup in lookups} == {"answer 1"}
    assert (await get_or_compute("llm:test:f", ttl=60, compute=compute)).source == "miss"
    assert compute.calls == 2


async def test_errors_reach_every_waiter_and_are_not_cached():
    compute = CountingCompute(error=ServiceUnavailable("Bedrock is throttling", retry_after=10))
    requests = [get_or_compute("llm:test:g", ttl=60, compute=compute) for _ in range(5)]
    results = await asyncio.gather(*requests, return_exceptions=True)
    assert compute.calls == 1
    assert all(isinstance(result, ServiceUnavailable) for result in results)
    await asyncio.gather(get_or_compute("llm:test:g", ttl=60, compute=compute), return_exceptions=True)
    assert compute.calls == 2
    assert await metrics.llm_cache().aget("llm:test:g") is None


async def test_the_lock_is_released_after_a_computation(llm_cache):
    await get_or_compute("llm:test:h", ttl=60, compute=CountingCompute())
    assert await llm_cache.aget("llm:test:h:lock") is None


# --- Across processes: another process is played by writing to the shared cache directly.


async def test_a_waiter_takes_the_result_stored_by_the_process_holding_the_lock(llm_cache):
    await llm_cache.aadd("llm:test:i:lock", "other-process", timeout=30)
    compute = CountingCompute()
    waiting = asyncio.create_task(get_or_compute("llm:test:i", ttl=60, compute=compute))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    entry = {"value": {"text": "theirs"}, "input_tokens": 7, "output_tokens": 3, "cost_micro_usd": 9}
    await llm_cache.aset("llm:test:i", {**entry, "token": "other-process"}, timeout=60)
    await llm_cache.adelete("llm:test:i:lock")
    lookup = await waiting
    assert (lookup.source, lookup.value, compute.calls) == ("coalesced", {"text": "theirs"}, 0)
    assert (await metrics.astats())["coalesced"] == 1


async def test_a_crashed_holders_lock_expires_and_a_waiter_takes_over(llm_cache, settings):
    settings.LLM_LOCK_TIMEOUT_SECONDS = 0.3
    await llm_cache.aadd("llm:test:j:lock", "crashed-process", timeout=0.3)
    compute = CountingCompute()
    lookup = await get_or_compute("llm:test:j", ttl=60, compute=compute)
    assert (lookup.source, compute.calls) == ("miss", 1)
    assert await llm_cache.aget("llm:test:j") is not None


async def test_a_holders_error_is_handed_to_the_processes_waiting_on_it(llm_cache, monkeypatch):
    await llm_cache.aadd("llm:test:k:lock", "other-process", timeout=30)
    # The waiter learns who holds the lock from its first look (aget_many); hand off only after it,
    # or a slow machine lets it start after the release and take the lock itself.
    looked = asyncio.Event()
    look = type(llm_cache).aget_many

    async def aget_many(self, *args, **kwargs):
        found = await look(self, *args, **kwargs)
        looked.set()
        return found

    monkeypatch.setattr(type(llm_cache), "aget_many", aget_many)
    compute = CountingCompute()
    waiting = asyncio.create_task(get_or_compute("llm:test:k", ttl=60, compute=compute))
    await looked.wait()
    await llm_cache.aset(
        cache._handoff_key("llm:test:k", "other-process"), {"error": "Bedrock is down", "retry_after": 7}, timeout=30
    )
    await llm_cache.adelete("llm:test:k:lock")
    with pytest.raises(ServiceUnavailable) as raised:
        await waiting
    assert (raised.value.retry_after, compute.calls) == (7, 0)


async def test_a_refresh_waits_for_the_running_flight_instead_of_taking_the_old_value(llm_cache):
    old = {"value": {"text": "old"}, "input_tokens": 1, "output_tokens": 1, "cost_micro_usd": 1, "token": "before"}
    await llm_cache.aset("llm:test:l", old, timeout=60)
    await llm_cache.aadd("llm:test:l:lock", "other-process", timeout=30)
    waiting = asyncio.create_task(get_or_compute("llm:test:l", ttl=60, compute=CountingCompute(), refresh=True))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await llm_cache.aset("llm:test:l", {**old, "value": {"text": "new"}, "token": "other-process"}, timeout=60)
    assert (await waiting).value == {"text": "new"}


async def test_a_lock_that_can_be_neither_taken_nor_seen_ends_in_503_without_spinning(llm_cache, settings, monkeypatch):
    # A backend that swallows errors (django-redis IGNORE_EXCEPTIONS while Redis is down) answers so.
    settings.LLM_LOCK_TIMEOUT_SECONDS = 0.2
    attempts = []

    async def refused_add(self, *args, **kwargs):
        attempts.append(args[0])
        return False

    monkeypatch.setattr(type(llm_cache), "aadd", refused_add)
    compute = CountingCompute()
    with pytest.raises(ServiceUnavailable):
        await get_or_compute("llm:test:m", ttl=60, compute=compute)
    assert compute.calls == 0
    assert 2 <= len(attempts) <= 12  # polled with backoff until the deadline, not in a tight loop
