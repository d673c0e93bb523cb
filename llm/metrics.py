"""LLM counters shared by every process, kept in the `llm` cache.

    stats() -> dict           every counter (ints) plus cost_usd, saved_cost_usd, hit_ratio
    async astats() -> dict    the same from async code
    async add(**deltas)       atomic increments (one pipeline round trip on Redis)
    cost_micro_usd(model_id, input_tokens, output_tokens) -> int
    usage_totals(), prometheus_families()   the counters as llm/apps.py registers them
                                            for the usage dashboard and GET /metrics

Counters (dollars as integer micro-dollars, so increments stay atomic integers):

    hits, misses, coalesced, bypassed   requests answered from the cache / by a call of their own /
                                        by waiting on an identical request in flight (this process
                                        or another) / with the cache bypassed
    bedrock_calls, bedrock_errors, bedrock_retries, bedrock_latency_ms
    offline_calls                       summaries and answers computed by the offline (extractive) provider
    input_tokens, output_tokens, cost_micro_usd          what the calls cost
    saved_input_tokens, saved_output_tokens, saved_cost_micro_usd
                                        what hits and coalesced waits would have cost
    knowledge_base_retrievals

On Redis (django-redis) an increment is INCRBY, atomic across processes; on the
local-memory cache, `add` then `incr` under the cache's lock (one process).

Each process also counts what it added itself. While the shared cache is down
(tra.shared_cache) an increment is kept only there, and stats() answers with
this process's figures and `"shared": False` (True when the figures are every
process's); usage_totals() then answers nothing rather than a partial total.
"""

import logging
import threading
from collections import Counter

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache

from tra import shared_cache
from tra.observability.registry import MetricFamily, Sample

logger = logging.getLogger("llm")

COUNTERS = (
    "hits",
    "misses",
    "coalesced",
    "bypassed",
    "bedrock_calls",
    "bedrock_errors",
    "bedrock_retries",
    "bedrock_latency_ms",
    "offline_calls",
    "input_tokens",
    "output_tokens",
    "cost_micro_usd",
    "saved_input_tokens",
    "saved_output_tokens",
    "saved_cost_micro_usd",
    "knowledge_base_retrievals",
)


_local: Counter = Counter()  # what this process added since it started
_local_lock = threading.Lock()


def llm_cache():
    return caches["llm"]


def _key(name: str) -> str:
    return f"llm:counter:{name}"


def cost_micro_usd(model_id: str, input_tokens: int, output_tokens: int) -> int:
    """Estimated cost from LLM_PRICES (USD per 1,000 tokens), in millionths of a dollar."""
    prices = settings.LLM_PRICES.get(model_id) or settings.LLM_PRICES["default"]
    dollars = input_tokens / 1000 * prices["input"] + output_tokens / 1000 * prices["output"]
    return round(dollars * 1_000_000)


def add_sync(**deltas: int) -> None:
    deltas = {name: int(delta) for name, delta in deltas.items() if delta}
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown LLM counters: {sorted(unknown)}")
    if not deltas:
        return
    with _local_lock:
        _local.update(deltas)
    if not shared_cache.available():
        return
    try:
        _add_shared(deltas)
    except shared_cache.ERRORS as error:
        shared_cache.failed("LLM counters", error)
        return
    shared_cache.succeeded()


def _add_shared(deltas: dict[str, int]) -> None:
    cache = llm_cache()
    if isinstance(cache, RedisCache):
        # INCRBY creates a missing counter at 0: no check-then-set race between processes.
        pipeline = cache.client.get_client(write=True).pipeline(transaction=False)
        for name, delta in deltas.items():
            pipeline.incrby(cache.make_key(_key(name)), delta)
        pipeline.execute()
        return
    for name, delta in deltas.items():
        if not cache.add(_key(name), delta, timeout=None):
            cache.incr(_key(name), delta)


async def add(**deltas: int) -> None:
    await sync_to_async(add_sync)(**deltas)


def _shared_values() -> dict[str, int] | None:
    """Every counter summed over all processes sharing the cache; None while the cache is down."""
    if not shared_cache.available():
        return None
    try:
        found = llm_cache().get_many([_key(name) for name in COUNTERS])
    except shared_cache.ERRORS as error:
        shared_cache.failed("LLM counters", error)
        return None
    shared_cache.succeeded()
    return {name: int(found.get(_key(name)) or 0) for name in COUNTERS}


def stats() -> dict:
    """Every counter, summed over all processes sharing the cache, with derived figures and
    `shared: True`; while the cache is down, this process's own counts and `shared: False`."""
    values = _shared_values()
    shared = values is not None
    if values is None:
        with _local_lock:
            values = {name: int(_local[name]) for name in COUNTERS}
    answered = values["hits"] + values["misses"] + values["coalesced"]
    return {
        **values,
        "cost_usd": values["cost_micro_usd"] / 1_000_000,
        "saved_cost_usd": values["saved_cost_micro_usd"] / 1_000_000,
        "hit_ratio": round((values["hits"] + values["coalesced"]) / answered, 4) if answered else 0.0,
        "shared": shared,
    }


async def astats() -> dict:
    return await sync_to_async(stats)()


def usage_totals() -> dict[str, int]:
    """The counters as daily usage figures (`llm.<counter>`): totals shared by every process
    (none while the cache is down: one process's figures are not the total)."""
    values = _shared_values()
    return {f"llm.{name}": values[name] for name in COUNTERS} if values is not None else {}


def prometheus_families() -> list[MetricFamily]:
    """Every counter and derived figure as `tra_llm_<name>`; the hit ratio is a gauge, and so is
    `tra_llm_shared` (1: the figures are every worker's; 0: the cache is down, they are this worker's)."""
    current = stats()
    return [
        MetricFamily(f"tra_llm_{name}", "gauge" if name in ("hit_ratio", "shared") else "counter", (Sample(value),))
        for name, value in sorted({**current, "shared": int(current["shared"])}.items())
    ]


async def record_call(
    *, task: str, model_id: str, input_tokens: int, output_tokens: int, latency_ms: int, retries: int, cost: int
) -> None:
    logger.info(
        "bedrock converse task=%s model=%s input_tokens=%d output_tokens=%d latency_ms=%d retries=%d cost_usd=%.6f",
        task,
        model_id,
        input_tokens,
        output_tokens,
        latency_ms,
        retries,
        cost / 1_000_000,
    )
    await add(
        bedrock_calls=1,
        bedrock_retries=retries,
        bedrock_latency_ms=latency_ms,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_micro_usd=cost,
    )
