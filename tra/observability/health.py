"""Readiness checks for /api/health: DynamoDB table and GSIs, cache, Django database.

The DynamoDB check describes the table at most once a minute per process and in between
reads one key that never exists (check_dynamodb says why). Each check runs off the event
loop (aioboto3 for DynamoDB, the bounded pool or sync_to_async for the rest) under a
timeout, and reports a reason on failure.
"""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from tra.aws import clients
from tra.dynamo.executor import run_sync
from tra.dynamo.schema import declared_index_names

OK = "ok"
DOWN = "down"


# The last good schema check of this process: (time.monotonic(), the check's result).
_schema_checked: tuple[float, dict] | None = None
# A key no item ever has: reading it proves the table answers, for half a read unit.
PROBE_KEY = {"pk": {"S": "HEALTH#probe"}, "sk": {"S": "HEALTH#probe"}}


async def check_dynamodb() -> dict:
    """The table and every declared GSI ACTIVE (DescribeTable), at most once per
    HEALTH_SCHEMA_CHECK_SECONDS per process; between those, a GetItem of PROBE_KEY proves the table
    still answers. DescribeTable is a control-plane call with low request limits, and DynamoDB Local
    answers it by counting every item of the table and its indexes (seconds at 100,000 items), while
    load balancers ask every few seconds; a schema change is rare and made by `dynamo_migrate`. Any
    failure forgets the last good check, so the next probe describes the table again."""
    global _schema_checked
    client = await clients.get("dynamodb")
    if _schema_checked is not None and time.monotonic() - _schema_checked[0] < settings.HEALTH_SCHEMA_CHECK_SECONDS:
        try:
            await client.get_item(TableName=settings.TRA_TABLE_NAME, Key=PROBE_KEY)
        except BaseException:
            _schema_checked = None
            raise
        return _schema_checked[1]
    _schema_checked = None
    result = await _describe(client)
    if result["status"] == OK:
        _schema_checked = (time.monotonic(), result)
    return result


def forget_schema_check() -> None:
    """The next check describes the table again (after a migration in this process; tests)."""
    global _schema_checked
    _schema_checked = None


async def _describe(client) -> dict:
    table = (await client.describe_table(TableName=settings.TRA_TABLE_NAME))["Table"]
    live = {index["IndexName"]: index.get("IndexStatus", "ACTIVE") for index in table.get("GlobalSecondaryIndexes", [])}
    indexes = {name: live.get(name, "MISSING") for name in declared_index_names()}
    problems = [f"index {name} is {status}" for name, status in indexes.items() if status != "ACTIVE"]
    if table["TableStatus"] != "ACTIVE":
        problems.insert(0, f"table {settings.TRA_TABLE_NAME} is {table['TableStatus']}")
    result = {"status": DOWN if problems else OK, "table": table["TableStatus"], "indexes": indexes}
    if problems:
        result["reason"] = "; ".join(problems) + " (run `manage.py dynamo_migrate`)"
    return result


def _cache_round_trip() -> None:
    cache = caches["default"]
    token = uuid.uuid4().hex
    key = f"tra:health:{token}"  # one key per check: concurrent checks must not overwrite each other
    cache.set(key, token, timeout=10)
    try:
        if cache.get(key) != token:
            raise RuntimeError("cache did not return the value just written")
    finally:
        cache.delete(key)


async def check_cache() -> dict:
    await run_sync(_cache_round_trip)
    return {"status": OK, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _database_round_trip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database() -> dict:
    await sync_to_async(_database_round_trip)()
    return {"status": OK, "vendor": connection.vendor}


CHECKS = {"dynamodb": check_dynamodb, "cache": check_cache, "database": check_database}


async def _run(name: str, check) -> dict:
    try:
        return await asyncio.wait_for(check(), timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return {"status": DOWN, "reason": f"{name} did not answer within {settings.HEALTH_CHECK_TIMEOUT_SECONDS}s"}
    except Exception as error:  # noqa: BLE001 - any failure is reported, never raised
        return {"status": DOWN, "reason": f"{type(error).__name__}: {error}"}


async def health() -> dict:
    results = await asyncio.gather(*(_run(name, check) for name, check in CHECKS.items()))
    checks = dict(zip(CHECKS, results, strict=True))
    status = OK if all(result["status"] == OK for result in checks.values()) else DOWN
    return {"status": status, "checks": checks}
