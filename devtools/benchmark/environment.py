"""Where the benchmark runs: its own throwaway servers and database, never the developer's data.

`isolated()` gives a fresh local DynamoDB server (moto, the project's default:
it implements the whole API the application uses, transactions included) with
the table migrated from the models, a fake Bedrock server on 127.0.0.1
(devtools/fake_bedrock.py, the same one the tests use), and a throwaway
Django database for the users and API tokens the API sections need, and
local-memory caches. Settings are overridden for the duration and every pooled
client is re-pointed.

`dynamodb_server(backend)` switches to another fresh server for a section:
the read section uses dynalite, which computes consumed capacity the way
DynamoDB does (moto reports a constant) but has no transactions.
"""

import contextlib
import uuid
from dataclasses import dataclass

from django.test.utils import override_settings, setup_databases, teardown_databases

from devtools.fake_bedrock import FakeBedrock
from devtools.local_dynamo.server import LocalDynamoServer
from tra.aws import clients
from tra.dynamo import migrate
from tra.dynamo.connection import botocore_client, reset_connection
from tra.dynamo.metering import meter
from tra.dynamo.schema import table_definition


@dataclass
class Environment:
    dynamodb: LocalDynamoServer
    bedrock: FakeBedrock


def create_table() -> None:
    client = botocore_client()
    definition = table_definition()
    migrate.apply(client, migrate.plan(client, definition), definition, timeout_seconds=60)


@contextlib.contextmanager
def dynamodb_server(backend: str):
    """A fresh local DynamoDB server with the table, every client pointed at it for the duration."""
    with (
        LocalDynamoServer(backend=backend) as server,
        override_settings(
            DYNAMODB_ENDPOINT_URL=server.endpoint_url, TRA_TABLE_NAME=f"tra-benchmark-{uuid.uuid4().hex[:8]}"
        ),
    ):
        reset_connection()
        clients.reset()
        try:
            create_table()
            meter.reset()
            yield server
        finally:
            reset_connection()
            clients.reset()
    reset_connection()
    clients.reset()


@contextlib.contextmanager
def isolated(*, own_database: bool = True):
    """`own_database=False` uses the current database as it is (the tests' own, already isolated)."""
    databases = setup_databases(verbosity=0, interactive=False, aliases={"default"}) if own_database else None
    try:
        with (
            dynamodb_server("moto") as dynamodb,
            FakeBedrock() as bedrock,
            override_settings(
                LLM_PROVIDER="bedrock",
                BEDROCK_ENDPOINT_URL=bedrock.endpoint_url,
                BEDROCK_KB_ID="",
                # Caches of its own: a shared Redis keeps answers between runs (a first wave would find
                # the summary cached by the last run) and is the developer's, not the benchmark's.
                CACHES={
                    name: {
                        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                        "LOCATION": f"bench-{uuid.uuid4().hex}",
                    }
                    for name in ("default", "llm")
                },
            ),
        ):
            yield Environment(dynamodb=dynamodb, bedrock=bedrock)
    finally:
        if databases is not None:
            teardown_databases(databases, verbosity=0)
