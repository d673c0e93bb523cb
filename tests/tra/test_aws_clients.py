"""The aioboto3 client registry: one long-lived client per (event loop, service)."""

import asyncio

import pytest

from tra.aws import ClientRegistry


@pytest.fixture
def registry(dynamodb_server):
    return ClientRegistry()


async def test_concurrent_first_uses_on_one_loop_create_one_client(registry):
    got = await asyncio.gather(*(registry.get("dynamodb") for _ in range(20)))
    assert registry.created == 1
    assert all(client is got[0] for client in got)
    await registry.close()


def test_each_event_loop_gets_its_own_client_and_closed_loops_are_dropped(registry):
    first = asyncio.new_event_loop()
    client_a = first.run_until_complete(registry.get("dynamodb"))
    first.run_until_complete(registry.close())
    first.close()

    second = asyncio.new_event_loop()
    try:
        client_b = second.run_until_complete(registry.get("dynamodb"))
        again = second.run_until_complete(registry.get("dynamodb"))
        assert client_b is again
        assert client_b is not client_a
        assert registry.created == 2
        second.run_until_complete(registry.close())
    finally:
        second.close()


async def test_a_client_answers_through_the_local_server_and_close_releases_it(registry, dynamo_table):
    client = await registry.get("dynamodb")
    table = await client.describe_table(TableName=dynamo_table)
    assert table["Table"]["TableStatus"] == "ACTIVE"
    await registry.close()
    assert await registry.get("dynamodb") is not client
    await registry.close()


async def test_a_settings_change_retires_clients_and_close_still_closes_them(registry, settings):
    client = await registry.get("dynamodb")
    registry.reset()
    assert await registry.get("dynamodb") is not client
    await registry.close()
    assert registry._retired == []


async def test_bedrock_clients_read_with_their_own_timeout_and_dynamodb_keeps_its_short_one(registry, settings):
    settings.AWS_READ_TIMEOUT_SECONDS = 3.0
    settings.BEDROCK_READ_TIMEOUT_SECONDS = 45.0
    settings.BEDROCK_ENDPOINT_URL = "http://127.0.0.1:9"  # never called
    dynamodb = await registry.get("dynamodb")
    bedrock = await registry.get("bedrock-runtime")
    agent = await registry.get("bedrock-agent-runtime")
    assert dynamodb.meta.config.read_timeout == 3.0
    assert bedrock.meta.config.read_timeout == agent.meta.config.read_timeout == 45.0
    assert dynamodb.meta.config.retries["total_max_attempts"] == bedrock.meta.config.retries["total_max_attempts"]
    await registry.close()
