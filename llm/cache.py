"""The LLM response cache, with single-flight, on Django's `llm` cache.

    cache_key(*, task, model_id, system, messages, parameters) -> str
    ttl_for(task) -> int
    async get_or_compute(key, *, ttl, compute, refresh=False, bypass=False) -> Lookup
    Computed(value: dict, input_tokens=0, output_tokens=0, cost_micro_usd=0, cacheable=True)
    Lookup(value: dict, source: "hit" | "miss" | "coalesced" | "bypassed", key: str)

The key is a SHA-256 of everything that changes the answer and nothing else:
task, LLM_PROMPT_VERSION, model id, system prompt, messages and inference
parameters (canonical JSON). It is content-addressed: the same document text
gives the same key in every process, forever.

Single-flight, so concurrent identical misses make one call:
- in a process, the first request for a key starts one asyncio task per event
  loop; identical requests arriving while it runs await the same task (shielded,
  so one caller's cancellation does not cancel the others);
- across processes, that task takes a lock with `cache.add(lock, token,
  timeout=LLM_LOCK_TIMEOUT_SECONDS)` (django-redis: SET NX PX) before calling.
  A process that finds the lock taken polls (short asyncio.sleep, growing to
  0.25 s) for the result; if the lock disappears without a result (the holder
  failed, or crashed and its lock expired) a waiter takes the lock and calls.
  Results that must not be cached (errors, refusals, truncated outputs) are
  still handed to the waiters of that flight, under a key named by the
  holder's token that lives no longer than the lock.

While the shared cache is down (tra.shared_cache), a flight calls without it:
uncached, still one call per key in this process and within LLM_MAX_CONCURRENCY;
a cache write that fails after the call drops the write, never the answer.

`refresh` skips the cached value (the new one replaces it); `bypass` neither
reads nor writes the cache nor joins a flight. `compute` returns `Computed`;
only `cacheable` values are stored, for the task's TTL (LLM_CACHE_TTL_SECONDS).

Only the leader's `compute` spends, so only it is charged (llm/spending.py: the
payer travels with the flight's task, created by the leader); hits and waiters
are free. A waiter whose leader was refused (RateLimited) joins or leads a new
flight on its own account, up to 3 times.
"""

import asyncio
import functools
import hashlib
import json
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.conf import settings

from llm import metrics
from tra import shared_cache
from tra.errors import RateLimited, ServiceUnavailable

_TASK = re.compile(r"^[a-z][a-z0-9_.-]*$")
_FIRST_POLL_SECONDS = 0.02
_MAX_POLL_SECONDS = 0.25
_WAITER_ATTEMPTS = 3  # flights a request joins before a refusal of another request's call is its own


@dataclass(frozen=True)
class Computed:
    value: dict
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micro_usd: int = 0
    cacheable: bool = True


@dataclass(frozen=True)
class Lookup:
    value: dict
    source: str  # hit | miss | coalesced | bypassed
    key: str


@dataclass(frozen=True)
class _Outcome:
    entry: dict
    source: str  # hit | miss | remote (another process's flight)


def cache_key(*, task: str, model_id: str, system: str, messages: list, parameters: dict) -> str:
    if not _TASK.match(task):
        raise ValueError(f"task names are lowercase words: {task!r}")
    canonical = json.dumps(
        {
            "task": task,
            "prompt_version": settings.LLM_PROMPT_VERSION,
            "model": model_id,
            "system": system,
            "messages": messages,
            "parameters": parameters,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f"llm:{task}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def ttl_for(task: str) -> int:
    """The TTL of the task's family (`summary.chunk` lives as long as `summary`); the shortest if unknown."""
    ttls = settings.LLM_CACHE_TTL_SECONDS
    return ttls.get(task.split(".", 1)[0]) or min(ttls.values())


# event loop -> {(key, refresh): the task computing it}
_flights: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


async def get_or_compute(
    key: str,
    *,
    ttl: int,
    compute: Callable[[], Awaitable[Computed]],
    refresh: bool = False,
    bypass: bool = False,
) -> Lookup:
    if bypass:
        computed = await compute()
        await metrics.add(bypassed=1)
        return Lookup(value=computed.value, source="bypassed", key=key)
    loop = asyncio.get_running_loop()
    flights = _flights.setdefault(loop, {})
    flight = (key, refresh)
    for attempt in range(_WAITER_ATTEMPTS):
        task = flights.get(flight)
        leader = task is None
        if leader:
            task = loop.create_task(_fly(key, ttl, compute, refresh))
            flights[flight] = task
            task.add_done_callback(functools.partial(_land, flights, flight))
        try:
            outcome = await asyncio.shield(task)
            break
        except RateLimited:
            # The leader's payer refused the call (llm/spending.py): that is the leader's 429,
            # not this waiter's, which tries again on its own account.
            if leader or attempt == _WAITER_ATTEMPTS - 1:
                raise
    if outcome.source == "hit":
        source = "hit"
    elif leader and outcome.source == "miss":
        source = "miss"
    else:
        source = "coalesced"
    await _count(source, outcome.entry)
    return Lookup(value=outcome.entry["value"], source=source, key=key)


def _land(flights: dict, flight: tuple, task: asyncio.Task) -> None:
    if flights.get(flight) is task:
        del flights[flight]
    if not task.cancelled():
        task.exception()  # retrieved here too, in case every caller was cancelled


async def _count(source: str, entry: dict) -> None:
    if source == "miss":
        await metrics.add(misses=1)
        return
    # A hit or a coalesced wait saved the call that produced the entry.
    await metrics.add(
        **{"hits" if source == "hit" else "coalesced": 1},
        saved_input_tokens=entry["input_tokens"],
        saved_output_tokens=entry["output_tokens"],
        saved_cost_micro_usd=entry["cost_micro_usd"],
    )


def _lock_key(key: str) -> str:
    return f"{key}:lock"


def _handoff_key(key: str, token: str) -> str:
    return f"{key}:handoff:{token}"


def _entry(computed: Computed, token: str) -> dict:
    return {
        "value": computed.value,
        "input_tokens": computed.input_tokens,
        "output_tokens": computed.output_tokens,
        "cost_micro_usd": computed.cost_micro_usd,
        "token": token,
    }


async def _fly(key: str, ttl: int, compute, refresh: bool) -> _Outcome:
    """One flight of this process: through the shared cache, or, while it is down (tra.shared_cache),
    an uncached call; the in-process single-flight and LLM_MAX_CONCURRENCY still hold then."""
    if shared_cache.available():
        called = False

        async def tracked() -> Computed:
            nonlocal called
            called = True
            return await compute()

        try:
            outcome = await _fly_shared(key, ttl, tracked, refresh)
        except shared_cache.ERRORS as error:
            shared_cache.failed("LLM cache", error)
            if called:  # _hold absorbs cache failures after the call: this one came from the call itself
                raise ServiceUnavailable("The LLM cache failed during the call.", retry_after=5) from error
        else:
            shared_cache.succeeded()
            return outcome
    return _Outcome(_entry(await compute(), token=""), "miss")


async def _quietly(operation) -> None:
    """A cache write after the call: if the cache fails, the answer stands, uncached (a lock expires by itself)."""
    try:
        await operation
    except shared_cache.ERRORS as error:
        shared_cache.failed("LLM cache", error)


async def _fly_shared(key: str, ttl: int, compute, refresh: bool) -> _Outcome:
    cache = metrics.llm_cache()
    if not refresh and (entry := await cache.aget(key)) is not None:
        return _Outcome(entry, "hit")
    loop = asyncio.get_running_loop()
    lock_key = _lock_key(key)
    token = uuid.uuid4().hex
    lock_timeout = settings.LLM_LOCK_TIMEOUT_SECONDS
    deadline = loop.time() + 2 * lock_timeout
    poll = _FIRST_POLL_SECONDS
    holder = None  # token of the flight this process waits on
    try_lock = True
    while True:
        if try_lock and await cache.aadd(lock_key, token, timeout=lock_timeout):
            return await _hold(cache, key, token, ttl, compute, refresh)
        names = [key, lock_key] + ([_handoff_key(key, holder)] if holder else [])
        found = await cache.aget_many(names)
        entry = found.get(key)
        # A refresh only takes the value written by the flight it waited on, not the old one.
        if entry is not None and (not refresh or (holder is not None and entry.get("token") == holder)):
            return _Outcome(entry, "remote")
        if holder and (handoff := found.get(_handoff_key(key, holder))) is not None:
            if "error" in handoff:
                raise ServiceUnavailable(handoff["error"], retry_after=handoff["retry_after"])
            return _Outcome(handoff, "remote")
        current = found.get(lock_key)
        if current is not None:
            holder = current
        if loop.time() > deadline:
            raise ServiceUnavailable(
                "Timed out waiting for an identical LLM request in another process.", retry_after=lock_timeout
            )
        if current is None and not try_lock:
            try_lock = True  # released (or expired) without a usable result: take over at once
            continue
        try_lock = current is None  # a lock that add() could not take but get() cannot see: try again later
        await asyncio.sleep(poll)
        poll = min(poll * 1.5, _MAX_POLL_SECONDS)


async def _hold(cache, key: str, token: str, ttl: int, compute, refresh: bool) -> _Outcome:
    lock_key = _lock_key(key)
    lock_timeout = settings.LLM_LOCK_TIMEOUT_SECONDS
    try:
        # Another process may have stored the value between our miss and our lock.
        if not refresh and (entry := await cache.aget(key)) is not None:
            return _Outcome(entry, "remote")
        try:
            computed = await compute()
        except ServiceUnavailable as error:
            # Waiting processes fail with us rather than each retrying a struggling Bedrock.
            handoff = {"error": error.message, "retry_after": error.retry_after}
            await _quietly(cache.aset(_handoff_key(key, token), handoff, timeout=lock_timeout))
            raise
        entry = _entry(computed, token)
        if computed.cacheable:
            await _quietly(cache.aset(key, entry, timeout=ttl))
        else:
            await _quietly(cache.aset(_handoff_key(key, token), entry, timeout=lock_timeout))
        return _Outcome(entry, "miss")
    finally:
        await _quietly(_release(cache, lock_key, token))


async def _release(cache, lock_key: str, token: str) -> None:
    # Get-then-delete is not atomic: if our lock expired and another process took it in
    # between, we delete theirs and at worst one more identical call is made.
    if await cache.aget(lock_key) == token:
        await cache.adelete(lock_key)
