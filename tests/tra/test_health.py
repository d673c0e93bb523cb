"""GET /api/health: 200 when DynamoDB (table + GSIs), cache and database answer; 503 with a reason otherwise."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from devtools.local_dynamo.server import free_port
from devtools.tcp_proxy import CountingProxy, DynamoDBCountingProxy
from tests.support.loop_guard import blocking_calls_on_event_loop
from tra.dynamo.connection import botocore_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("aws_clients")]
METRICS_TOKEN = "health-test-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


async def get_health(headers: dict | None = None):
    """The health answer with its details (the METRICS_TOKEN bearer), or as `headers` say."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"} if headers is None else headers
    response = await AsyncClient().get("/api/health", headers=headers)
    return response.status_code, response.json()


async def test_anonymous_callers_get_ok_or_not_ok_only(dynamo_table):
    assert await get_health(headers={}) == (200, {"status": "ok"})
    assert await get_health(headers={"Authorization": "Bearer wrong-token"}) == (200, {"status": "ok"})
    botocore_client().delete_table(TableName=dynamo_table)
    assert await get_health(headers={}) == (503, {"status": "down"})


async def test_staff_get_the_details(dynamo_table):
    from django.contrib.auth import get_user_model

    from tests.support.api import make_user

    staff = await sync_to_async(make_user)("health-staff", staff=True)
    plain = await sync_to_async(get_user_model().objects.create_user)("health-plain", password="x")
    for user, details in ((staff, True), (plain, False)):
        client = AsyncClient()
        await client.aforce_login(user)
        body = (await client.get("/api/health")).json()
        assert ("checks" in body) is details, body
        assert body["status"] == "ok"


async def test_health_is_ok_with_the_table_and_every_index_active(dynamo_table):
    status, body = await get_health()
    assert status == 200, body
    assert body["status"] == "ok"
    dynamodb = body["checks"]["dynamodb"]
    assert dynamodb["table"] == "ACTIVE"
    assert set(dynamodb["indexes"]) >= {"by_owner", "by_status", "by_type", "links_by_document", "title_search"}
    assert set(dynamodb["indexes"].values()) == {"ACTIVE"}
    assert body["checks"]["cache"]["status"] == body["checks"]["database"]["status"] == "ok"


async def test_health_is_503_naming_a_missing_index(dynamo_table):
    botocore_client().update_table(
        TableName=dynamo_table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_status"}}]
    )
    status, body = await get_health()
    assert status == 503
    assert "index by_status is MISSING" in body["checks"]["dynamodb"]["reason"]
    assert "dynamo_migrate" in body["checks"]["dynamodb"]["reason"]


async def test_health_is_503_when_the_table_does_not_exist(dynamo_table):
    botocore_client().delete_table(TableName=dynamo_table)
    status, body = await get_health()
    assert status == 503
    assert "ResourceNotFoundException" in body["checks"]["dynamodb"]["reason"]


async def test_health_is_503_when_dynamodb_is_unreachable(dynamo_table, settings):
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    status, body = await get_health()
    assert status == 503
    assert body["checks"]["dynamodb"]["status"] == "down"
    assert "Could not connect" in body["checks"]["dynamodb"]["reason"]
    assert body["checks"]["database"]["status"] == "ok"


async def test_health_is_503_when_the_cache_is_down(dynamo_table, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    }
    status, body = await get_health()
    assert status == 503
    assert body["checks"]["cache"]["status"] == "down"
    assert "onnect" in body["checks"]["cache"]["reason"]


async def test_health_makes_no_blocking_call_on_the_event_loop(dynamo_table, aws_clients):
    await aws_clients.warm("dynamodb")  # as the ASGI lifespan does at start-up
    with blocking_calls_on_event_loop() as offences:
        for _ in range(3):
            status, _body = await get_health()
            assert status == 200
    assert offences == []


async def test_the_loop_guard_catches_a_sync_dynamodb_call_inside_async_code(dynamo_table):
    from assessments.models import Assessment

    with blocking_calls_on_event_loop() as offences, pytest.raises(Assessment.DoesNotExist):
        Assessment.get(*Assessment.key("missing"))
    assert any("botocore HTTP send" in offence for offence in offences)


async def test_health_checks_reuse_one_pooled_client(dynamo_table, dynamodb_server, settings, aws_clients):
    with CountingProxy("127.0.0.1", dynamodb_server.port) as proxy:
        settings.DYNAMODB_ENDPOINT_URL = proxy.endpoint_url
        settings.AWS_MAX_POOL_CONNECTIONS = 4
        created = aws_clients.created
        results = await asyncio.gather(*(get_health() for _ in range(40)))
        assert [status for status, _ in results] == [200] * 40
        assert aws_clients.created - created == 1

        assert 1 <= proxy.connections <= 4


async def test_health_describes_the_table_once_per_interval_and_probes_it_in_between(
    dynamo_table, dynamodb_server, settings
):
    """DescribeTable (a control-plane call; DynamoDB Local counts every item to answer it) at most once per
    HEALTH_SCHEMA_CHECK_SECONDS; the checks in between read one key that never exists."""
    with DynamoDBCountingProxy("127.0.0.1", dynamodb_server.port) as proxy:
        settings.DYNAMODB_ENDPOINT_URL = proxy.endpoint_url
        for _ in range(5):
            assert (await get_health())[0] == 200
        assert dict(proxy.requests) == {"DescribeTable": 1, "GetItem": 4}
        settings.HEALTH_SCHEMA_CHECK_SECONDS = 0
        proxy.reset()
        for _ in range(2):
            assert (await get_health())[0] == 200
        assert dict(proxy.requests) == {"DescribeTable": 2}


async def test_a_failed_probe_makes_the_next_check_describe_the_table_again(dynamo_table, dynamodb_server, settings):
    with DynamoDBCountingProxy("127.0.0.1", dynamodb_server.port) as proxy:
        settings.DYNAMODB_ENDPOINT_URL = proxy.endpoint_url
        assert (await get_health())[0] == 200  # described: a good schema check, remembered
        botocore_client().delete_table(TableName=dynamo_table)
        for _ in range(2):
            status, body = await get_health()  # the probe fails; then the table is described again
            assert status == 503 and "ResourceNotFoundException" in body["checks"]["dynamodb"]["reason"]
        assert dict(proxy.requests) == {"DescribeTable": 2, "GetItem": 1, "DeleteTable": 1}
