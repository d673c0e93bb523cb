"""Fixtures every test inherits.

- `dynamodb_server`: one real DynamoDB-compatible server process (moto in server
  mode) for the session, reached over HTTP through the real botocore/PynamoDB and
  aioboto3 code. `dynamo_table` gives a test an empty, freshly migrated table.
- The scan guard (tests/support/scan_guard.py) fails any test that issued a Scan
  outside `batch_job()`, even if the test swallowed the exception.
- The capacity meter is reset before each test, so tests assert on exact counts.
"""

import os

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections

from devtools.local_dynamo.server import LocalDynamoServer
from tra.aws import clients
from tra.dynamo import migrate
from tra.dynamo.connection import botocore_client, reset_connection
from tra.dynamo.metering import meter
from tra.dynamo.schema import table_definition
from tra.observability import health

pytest_plugins = ["tests.support.scan_guard", "pytester"]

# CI sets this so that a test needing Redis, dynalite or PostgreSQL fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("TRA_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (TRA_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def point_dynamodb_at(endpoint_url: str | None) -> None:
    """Re-point every DynamoDB client (PynamoDB and aioboto3) at `endpoint_url`."""
    settings.DYNAMODB_ENDPOINT_URL = endpoint_url
    reset_connection()
    clients.reset()


@pytest.fixture(scope="session")
def dynamodb_server():
    previous = settings.DYNAMODB_ENDPOINT_URL
    with LocalDynamoServer(backend="moto") as server:
        point_dynamodb_at(server.endpoint_url)
        yield server
    point_dynamodb_at(previous)


def recreate_table() -> None:
    health.forget_schema_check()  # /api/health describes the new table, not the last one it saw
    client = botocore_client()
    if migrate.describe_table(client, settings.TRA_TABLE_NAME) is not None:
        client.delete_table(TableName=settings.TRA_TABLE_NAME)
    definition = table_definition()
    migrate.apply(client, migrate.plan(client, definition), definition, timeout_seconds=30)


@pytest.fixture
def dynamo_table(dynamodb_server):
    """An empty TRA table with every GSI, on the session's local server."""
    recreate_table()
    meter.reset()
    yield settings.TRA_TABLE_NAME


@pytest.fixture(autouse=True)
def close_thread_sensitive_db_connections():
    """Async code reaches the ORM through sync_to_async's one shared thread, whose
    connection would otherwise outlive the test and block dropping the test database
    (Django closes it at the end of a real request)."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
async def aws_clients():
    """The loop-bound aioboto3 client registry, closed at the end of the test's loop."""
    yield clients
    await clients.close()


@pytest.fixture
def users(transactional_db):
    """Four callers with API tokens: two owners, a reviewer, and a staff user who is not a reviewer."""
    from tests.support.api import client_for, make_user

    return {
        "owner": client_for(make_user("olivia")),
        "other": client_for(make_user("oscar")),
        "reviewer": client_for(make_user("rita", reviewer=True)),
        "staff": client_for(make_user("sam", staff=True)),
    }
