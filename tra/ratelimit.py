"""Per-user rate limits for costly requests, shared by every process through the `default` cache.

    async charge(actor, scope="llm")               count one request; RateLimited (429) once over the budget
    charge_sync(user_id, scope="llm", rate=None) -> int   the same from sync code; the count in this window

The budget of the "llm" scope is LLM_RATE_LIMIT ("60/minute": N/second|minute|hour; 0 or empty: no
limit). It protects the requests that can spend LLM money: a document summary, a suggestion (one
question or all unanswered), a chat message that goes to the LLM tier or runs an LLM-backed tool.

A fixed-window counter per user and window: the key names the window
(`ratelimit:llm:<user>:<window start>`), `cache.add(key, 0)` creates it once with the window's
remaining lifetime (SET NX EX on Redis) and `cache.incr(key)` counts the request (INCRBY on Redis,
atomic across processes; under the cache's lock on the local-memory cache, which is one process's
own). A request that makes the count pass the limit is refused with the seconds until the window
ends as Retry-After; a new window starts at zero. A burst can reach twice the limit across a
window boundary: the price of one round trip per request and no clock shared between workers but
the wall clock.

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

from tra.auth import Actor
from tra.errors import RateLimited
from tra.settings.environment import parse_rate

logger = logging.getLogger(__name__)

SCOPES = {"llm": "LLM_RATE_LIMIT"}  # scope -> the setting holding its rate


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

    Raises RateLimited when the count is over the limit."""
    parsed = parse_rate(getattr(settings, SCOPES[scope]) if rate is None else rate)
    if parsed is None:
        return 0
    limit, window = parsed
    now = time.time()
    window_start = int(now // window) * window
    window_end = window_start + window
    try:
        count = _increment(caches["default"], _key(scope, user_id, window_start), math.ceil(window_end - now) + 1)
    except Exception:  # noqa: BLE001 - a cache outage lets the request through (module docstring)
        logger.warning("rate limit %s not checked for user %s: the cache failed", scope, user_id, exc_info=True)
        return 0
    if count > limit:
        retry_after = max(1, math.ceil(window_end - now))
        raise RateLimited(
            f"too many requests: at most {limit} per {_unit(window)} may use the language model; "
            f"retry in {retry_after} s",
            retry_after=retry_after,
            extra={"scope": scope, "limit": limit, "window_seconds": window, "retry_after": retry_after},
        )
    return count


def _unit(seconds: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour"}.get(seconds, f"{seconds} s")


async def charge(actor: Actor, scope: str = "llm") -> int:
    """charge_sync for the actor, run on a worker thread (the cache call may block on the network)."""
    return await sync_to_async(charge_sync, thread_sensitive=False)(actor.user_id, scope)
