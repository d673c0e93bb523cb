"""Whether the shared cache (Redis) answers, as this process last saw it.

    ERRORS                  what a cache call raises when Redis is down or unreachable
    available() -> bool     False for SHARED_CACHE_RETRY_SECONDS after a failure
    failed(what, error)     record a failure (logged once per outage)
    succeeded()             record a success (logs the recovery)
    outage() -> bool        whether the last call failed

Code that can do without the shared cache (the LLM cache and counters, the rate
limits) catches ERRORS, calls `failed()` and falls back to what this process
alone knows; while `available()` is False it does not try Redis at all, so an
outage costs one failed round trip per SHARED_CACHE_RETRY_SECONDS instead of one
(or a socket timeout) per call. After that window the next call tries again:
recovery needs no restart.
"""

import logging
import threading
import time

from django.conf import settings
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

ERRORS = (ConnectionInterrupted, RedisError, OSError)

_lock = threading.Lock()
_retry_at = 0.0  # time.monotonic() before which the cache is not tried
_down = False


def available() -> bool:
    return not _down or time.monotonic() >= _retry_at


def outage() -> bool:
    return _down


def failed(what: str, error: BaseException) -> None:
    global _down, _retry_at
    with _lock:
        first = not _down
        _down = True
        _retry_at = time.monotonic() + settings.SHARED_CACHE_RETRY_SECONDS
    if first:
        logger.warning("shared cache unavailable (%s): %s; using this process's own state", what, error)


def succeeded() -> None:
    global _down
    if _down:
        with _lock:
            _down = False
        logger.warning("shared cache available again")
