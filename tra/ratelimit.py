"""Per-user rate limits for costly requests, shared by every process through the `default` cache.

    async charge(actor, scope="llm")               count one request; RateLimited (429) once over the budget
    async charge_login(username, address)           count one sign-in attempt (charge_login_sync from sync code)
    client_address(request) -> str                  REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT
    charge_sync(user_id, scope="llm", rate=None) -> int   the same from sync code; the count in this window

The budget of the "llm" scope is LLM_RATE_LIMIT ("60/minute": N/second|minute|hour; 0 or empty: no
limit). It protects the requests that can spend LLM money: a document summary, a suggestion (one
question or all unanswered), a chat message that goes to the LLM tier or runs an LLM-backed tool.
It charges spending, not asking: documents' document_summarize and assessments' suggestion_create
and suggestions_for_unanswered hand `charge` to the LLM layer, which awaits it right before a model
call the request itself leads (llm/spending.py; once per request): a stored summary, a cache hit or
a wait on an identical call in flight is free, and answered over the limit; a 429 stores nothing.
Chat's message_post charges first thing (only it knows the route). A caller that has counted the
request already (a chat message's tool: one message counts once) or that is no user's request (a
management command) passes `rate_limited=False`.

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
fails, the process counts in a local-memory cache of its own instead (tra.shared_cache): the
same limit per process, not none, and not an outage of the LLM endpoints (health reports it).
Redis is tried again SHARED_CACHE_RETRY_SECONDS later; the two counts are not merged.

Sign-in uses the same counters (tra/auth_api.py, tra/admin.py): `login-username` keyed by a
digest of the username (LOGIN_RATE_LIMIT_PER_USERNAME) and `login-address` by the client
address (LOGIN_RATE_LIMIT_PER_ADDRESS); every attempt counts, right or wrong.
"""

import hashlib
import logging
import math
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from tra import shared_cache
from tra.errors import RateLimited
from tra.http.auth import Actor
from tra.settings.environment import parse_rate

logger = logging.getLogger(__name__)

# scope -> (the setting holding its rate, what the limit is on: for the 429's message)
SCOPES = {
    "llm": ("LLM_RATE_LIMIT", "requests that use the language model"),
    "login-username": ("LOGIN_RATE_LIMIT_PER_USERNAME", "sign-in attempts for one username"),
    "login-address": ("LOGIN_RATE_LIMIT_PER_ADDRESS", "sign-in attempts from one address"),
}
_local = LocMemCache("tra-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})  # while the cache is down
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
    setting, what = SCOPES[scope]
    parsed = parse_rate(getattr(settings, setting) if rate is None else rate)
    if parsed is None:
        return 0
    limit, window = parsed
    now = _now()
    window_start = int(now // window) * window
    remaining = window_start + window - now  # seconds left in this window
    key = _key(scope, user_id, window_start)
    lifetime = math.ceil(remaining + window) + 1  # kept through the next window: its previous count
    cache = caches["default"] if shared_cache.available() else _local
    try:
        count = _increment(cache, key, lifetime)
        previous = cache.get(_key(scope, user_id, window_start - window), 0)
        if cache is not _local:
            shared_cache.succeeded()
    except shared_cache.ERRORS as error:  # the shared cache is down: this process's own count (docstring)
        shared_cache.failed("rate limits", error)
        cache = _local
        count = _increment(cache, key, lifetime)
        previous = cache.get(_key(scope, user_id, window_start - window), 0)
    if previous * remaining / window + count > limit:
        try:
            cache.decr(key)  # refused: it does not spend the budget
        except Exception:  # noqa: BLE001 - the key expired meanwhile: nothing left to take back
            logger.warning("rate limit %s: could not take back a refused request of user %s", scope, user_id)
        retry_after = retry_after_seconds(limit, window, previous=previous, current=count - 1, remaining=remaining)
        raise RateLimited(
            f"too many requests: at most {limit} {what} per {_unit(window)}; retry in {retry_after} s",
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


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the X-Forwarded-For
    entry they vouch for (the one that many from the right; the ones left of it are the client's say)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "unknown"


def charge_login_sync(username: str, address: str) -> None:
    """Count one sign-in attempt from `address` for `username`; RateLimited over either limit."""
    charge_sync(address, "login-address")
    charge_sync(hashlib.sha256(username.encode()).hexdigest()[:32], "login-username")


async def charge_login(username: str, address: str) -> None:
    await sync_to_async(charge_login_sync, thread_sensitive=False)(username, address)


async def charge(actor: Actor, scope: str = "llm") -> int:
    """charge_sync for the actor, run on a worker thread (the cache call may block on the network)."""
    return await sync_to_async(charge_sync, thread_sensitive=False)(actor.user_id, scope)
