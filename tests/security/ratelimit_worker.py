"""One worker process for test_rate_limits: spends a user's LLM budget through a shared Redis.

    python -m tests.security.ratelimit_worker <redis url> <cache key prefix> <user id> <rate> <attempts>

Prints "ready" once Django is set up, waits for a line on stdin (the test releases every worker at
once), then charges the user `attempts` times and prints, as JSON, the count each allowed request
got and the Retry-After of each refused one.
"""

import json
import sys

import django


def main(redis_url: str, prefix: str, user_id: str, rate: str, attempts: int) -> None:
    django.setup()
    from django.conf import settings

    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix},
    }

    from tra import ratelimit
    from tra.errors import RateLimited

    print("ready", flush=True)
    sys.stdin.readline()
    counts, refusals = [], []
    for _ in range(attempts):
        try:
            counts.append(ratelimit.charge_sync(user_id, rate=rate))
        except RateLimited as error:
            refusals.append(error.retry_after)
    print(json.dumps({"counts": counts, "refusals": refusals}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
