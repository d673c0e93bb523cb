"""Per-user rate limits for costly requests, shared by every process through the `default` cache.

    async charge(actor, scope="llm")               count one request; RateLimited (429) once over the budget
    charge_sync(user_id, scope="llm", rate=None) -> int   the same from sync code; the count in this window

The budget of the "llm" scope is LLM_RATE_LIMIT ("60/minute": N/second|minute|hour; 0 or empty: no
limit). It protects the requests that can spend LLM money: a document summary, a suggestion (one
question or all unanswered), a chat message that goes to the LLM tier or runs an LLM-backed tool.
The services charge, first thing (a 429 reads and stores nothing): documents' document_summarize,
assessments' suggestion_create and suggestions_for_unanswered, chat's message_post (only it knows
the route). A caller that has counted the request already (a chat message's tool: one message counts
once) or that is no user's request (a management command) passes `rate_limited=False`.

A sliding-window counter (the weighted two-window estimate): one counter per user and window
(`ratelimit:llm:<user>:<window start>`), created once by `cache.add(key, 0)` (SET NX EX on Redis) and
counted by `cache.incr(key)` (INCRBY on Redis, atomic across processes; under the cache's lock on the
local-memory cache, which is one process's own). A request is allowed while

    previous window's count x (share of the previous window still inside the last `window` seconds)
    + this window's count  <=  limit

so a burst across a window boundary cannot reach twice the limit, as a fixed window would let it.
A refused request takes its count back (`cache.decr`): hammering while refused spends nothing.
Retry-After is the time until the estimate leaves room for one more request. The estimate assumes
the previous window's requests were spread evenly; that is the price of two counters per user and
three round trips per request instead of a log of timestamps.

The cache is reached off the event loop (a thread, like the LLM counters). If the cache itself
fails, the request is let through and logged: an outage of the cache must not take the LLM
endpoints down with it (health reports it).
"""

import logging
import math
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches

from tra.errors import RateLimited
from tra.http.auth import Actor
from tra.settings.environment import parse_rate

logger = logging.getLogger(__name__)

SCOPES = {"llm": "LLM_RATE_LIMIT"}  # scope -> the setting holding its rate
_now = time.time  # the wall clock every worker shares (tests move it across window boundaries)


def _key(scope: str, user_id: str, window_start: int) -> str:
    return f"ratelimit:{scope}:{user_id}:{window_start}"


def _increment(cache, key: str, lifetime: int) -> int:
    for _ in range(3):
        cache.add(key, 0, timeout=lifetime)
        try:
            return cache.incr(key)
        except ValueError:  # the key expired (or was evicted) between add and incr: create it again
            continue
    raise RuntimeError(f"could not count {key}")


def charge_sync(user_id: str, scope: str = "llm", rate: str | None = None) -> int:
    """Count one request of `user_id` in `scope`; the count so far in this window (0: no limit).

    Raises RateLimited when the sliding-window estimate would pass the limit."""
    parsed = parse_rate(getattr(settings, SCOPES[scope]) if rate is None else rate)
    if parsed is None:
        return 0
    limit, window = parsed
    now = _now()
    window_start = int(now // window) * window
    remaining = window_start + window - now  # seconds left in this window
    cache = caches["default"]
    key = _key(scope, user_id, window_start)
    try:
        # Kept through the next window too, where it is the previous window's count.
        count = _increment(cache, key, math.ceil(remaining + window) + 1)
        previous = cache.get(_key(scope, user_id, window_start - window), 0)
    except Exception:  # noqa: BLE001 - a cache outage lets the request through (module docstring)
        logger.warning("rate limit %s not checked for user %s: the cache failed", scope, user_id, exc_info=True)
        return 0
    if previous * remaining / window + count > limit:
        try:
            cache.decr(key)  # refused: it does not spend the budget
        except Exception:  # noqa: BLE001 - the key expired meanwhile: nothing left to take back
            logger.warning("rate limit %s: could not take back a refused request of user %s", scope, user_id)
        retry_after = retry_after_seconds(limit, window, previous=previous, current=count - 1, remaining=remaining)
        raise RateLimited(
            f"too many requests: at most {limit} per {_unit(window)} may use the language model; "
            f"retry in {retry_after} s",
            retry_after=retry_after,
            extra={"scope": scope, "limit": limit, "window_seconds": window, "retry_after": retry_after},
        )
    return count


def retry_after_seconds(limit: int, window: int, *, previous: int, current: int, remaining: float) -> int:
    """Whole seconds until `previous * weight + current + 1 <= limit` holds again (at least 1).

    Within this window only the previous window's weight falls, linearly to 0 at its end; after it,
    this window's count becomes the previous one and its weight falls the same way."""
    room = limit - 1 - current
    if room >= 0:
        wait = remaining - window * room / previous if previous else 0.0
    else:
        wait = remaining + window * (1 - (limit - 1) / current)
    return max(1, math.ceil(wait))


def _unit(seconds: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour"}.get(seconds, f"{seconds} s")


async def charge(actor: Actor, scope: str = "llm") -> int:
    """charge_sync for the actor, run on a worker thread (the cache call may block on the network)."""
    return await sync_to_async(charge_sync, thread_sensitive=False)(actor.user_id, scope)
