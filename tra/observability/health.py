"""Readiness checks for /api/health: DynamoDB table and GSIs, cache, Django database.

Each check runs off the event loop (aioboto3 for DynamoDB, the bounded pool or
sync_to_async for the rest) under a timeout, and reports a reason on failure.
"""

import asyncio
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


async def check_dynamodb() -> dict:
    client = await clients.get("dynamodb")
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
