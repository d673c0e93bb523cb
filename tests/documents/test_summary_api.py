"""A document summary costs what its answer needs (issue 16, items 1 and 2), through the API on a fake Bedrock.

- A summary stored on the document and current (same text fingerprint, provider, model, prompt
  version) is answered from the one GetItem that reads the document: no chunk Query, no cache
  lookup, no write.
- Storing it is a conditional UpdateItem of the summary fields: 100 concurrent identical requests
  are 100 x 200 with one model call, and a second wave makes no model call and no write.
- Only a request that makes a model call is charged against LLM_RATE_LIMIT: cache hits, stored
  summaries and coalesced waiters are free, and are answered over the limit.
Counts come from the capacity meter (tra/dynamo/metering.py) and the fake's call counter.
"""

import asyncio
import uuid

import aiohttp
import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from devtools.fake_bedrock import FakeBedrock
from tests.support.api import upload_document
from tests.support.served import uvicorn_in_thread
from tra.dynamo.metering import WRITE_OPERATIONS, meter

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

SOC2 = (
    "Acme Cloud completed a SOC 2 Type II examination in 2024.\n\n"
    "All customer data at rest is encrypted with AES-256, and keys are rotated every 90 days.\n\n"
    "Backups are taken nightly and restored in a quarterly recovery test."
)
POLICY = "Access policy.\n\nMulti-factor authentication is enforced for all administrative accounts."


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Default settings for the budget; the caches under prefixes of this test's own."""
    settings.MEDIA_ROOT = tmp_path
    settings.LLM_RATE_LIMIT = "60/minute"  # the production default
    prefix = f"tra-summary-test-{uuid.uuid4().hex[:12]}"
    changed = {}
    for name in ("default", "llm"):
        configured = settings.CACHES[name]
        if "django_redis" in configured["BACKEND"]:
            changed[name] = {**configured, "KEY_PREFIX": f"{prefix}-{name}"}
        else:
            changed[name] = {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"{prefix}-{name}",
                "OPTIONS": {"MAX_ENTRIES": 100_000},
            }
    settings.CACHES = {**settings.CACHES, **changed}
    yield
    for name in ("default", "llm"):
        cache = caches[name]
        if isinstance(cache, RedisCache):
            cache.delete_pattern("*")  # this prefix only
        elif isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture
def bedrock(settings):
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = ""
        yield fake


async def upload(client, name: str = "soc2.txt", text: str = SOC2) -> dict:
    response = await upload_document(client, text.encode(), name=name)
    assert response.status in (200, 201), response.body
    return response.body


def writes() -> int:
    return sum(meter.calls(operation) for operation in WRITE_OPERATIONS)


async def test_100_concurrent_identical_summaries_are_100_200s_one_model_call_and_a_second_wave_writes_nothing(
    users, bedrock
):
    owner = users["owner"]
    path = f"/documents/{(await upload(owner))['id']}/summary"

    first = await asyncio.gather(*(owner.post(path) for _ in range(100)))
    assert [response.status for response in first] == [200] * 100, {r.status for r in first}
    assert bedrock.converse_calls == 1
    assert len({response.body["summary"] for response in first}) == 1
    assert sum(not response.body["cached"] for response in first) == 1  # the leader's; the rest waited on it

    meter.reset()
    second = await asyncio.gather(*(owner.post(path) for _ in range(100)))
    assert [response.status for response in second] == [200] * 100
    assert bedrock.converse_calls == 1
    assert writes() == 0
    assert meter.calls() == meter.calls("GetItem") == 100  # one read each, nothing else
    assert {response.body["summary"] for response in second} == {first[0].body["summary"]}
    assert all(response.body["cached"] for response in second)


async def test_on_the_offline_provider_too_100_concurrent_identical_summaries_are_100_200s_and_computed_once(users):
    """The default provider: the summary is computed once (one passage Query), then answered from the store."""
    owner = users["owner"]
    path = f"/documents/{(await upload(owner))['id']}/summary"
    meter.reset()
    first = await asyncio.gather(*(owner.post(path) for _ in range(100)))
    assert [response.status for response in first] == [200] * 100
    assert {response.body["provider"] for response in first} == {"extractive"}
    assert meter.calls("Query") == 1  # the text was read once: computed once
    meter.reset()
    second = await asyncio.gather(*(owner.post(path) for _ in range(100)))
    assert [response.status for response in second] == [200] * 100
    assert (meter.calls(), meter.calls("GetItem"), writes()) == (100, 100, 0)


async def test_a_stored_current_summary_is_one_getitem_no_text_read_no_cache_lookup(users, bedrock):
    owner = users["owner"]
    document = await upload(owner)
    path = f"/documents/{document['id']}/summary"
    assert (await owner.post(path)).status == 200
    llm_before = (await users["staff"].get("/llm/stats")).body

    meter.reset()
    response = await owner.post(path)
    assert response.status == 200 and response.body["cached"] is True
    assert meter.calls() == meter.calls("GetItem", "table") == 1
    llm_after = (await users["staff"].get("/llm/stats")).body
    assert (llm_after["hits"], llm_after["misses"]) == (llm_before["hits"], llm_before["misses"])
    stored = (await owner.get(f"/documents/{document['id']}")).body
    assert (stored["summary"], stored["status"]) == (response.body["summary"], "summarized")


async def test_the_same_text_in_another_document_is_a_cache_hit_without_reading_its_text(users, bedrock):
    """Keyed on the content fingerprint: the other owner's copy costs a GetItem, a cache read and
    the UpdateItem that stores it, no chunk Query and no model call."""
    mine = await upload(users["owner"])
    assert (await users["owner"].post(f"/documents/{mine['id']}/summary")).status == 200
    theirs = await upload(users["other"])

    meter.reset()
    response = await users["other"].post(f"/documents/{theirs['id']}/summary")
    assert response.status == 200 and response.body["cached"] is True
    assert bedrock.converse_calls == 1
    assert meter.calls("Query") == 0
    assert (meter.calls("GetItem"), meter.calls("UpdateItem"), meter.calls()) == (1, 1, 2)


async def test_a_summary_store_leaves_other_edits_alone_and_a_refresh_replaces_it(users, bedrock):
    owner = users["owner"]
    document = await upload(owner)
    path = f"/documents/{document['id']}/summary"
    bedrock.responder = lambda request: "the first summary"
    assert (await owner.post(path)).body["summary"] == "the first summary"
    bedrock.responder = lambda request: "a newer summary"
    refreshed = await owner.post(path + "?refresh=true")
    assert (refreshed.status, refreshed.body["summary"], refreshed.body["cached"]) == (200, "a newer summary", False)
    stored = (await owner.get(f"/documents/{document['id']}")).body
    assert stored["summary"] == "a newer summary"
    assert stored["version"] == document["version"] + 2  # each store moved the version on; nothing overwrote it
    assert (await owner.post(path)).body["summary"] == "a newer summary"
    assert bedrock.converse_calls == 2


async def test_a_changed_prompt_version_or_model_makes_the_stored_summary_stale(users, bedrock, settings):
    owner = users["owner"]
    path = f"/documents/{(await upload(owner))['id']}/summary"
    assert (await owner.post(path)).status == 200
    settings.LLM_PROMPT_VERSION = "2"
    assert (await owner.post(path)).body["cached"] is False
    settings.BEDROCK_MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
    assert (await owner.post(path)).body["model"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert bedrock.converse_calls == 3


async def test_only_the_request_that_calls_the_model_is_charged(users, bedrock, settings):
    """Budget 1: one model call spends it. 100 concurrent identical requests (one leader, 99 waiters)
    and then stored summaries are all answered; a new text is a 429."""
    settings.LLM_RATE_LIMIT = "1/hour"
    owner = users["owner"]
    document = await upload(owner)
    path = f"/documents/{document['id']}/summary"
    first = await asyncio.gather(*(owner.post(path) for _ in range(100)))
    assert [response.status for response in first] == [200] * 100
    assert [response.status for response in await asyncio.gather(*(owner.post(path) for _ in range(20)))] == [200] * 20
    assert bedrock.converse_calls == 1

    fresh = await upload(owner, "policy.txt", POLICY)
    refused = await owner.post(f"/documents/{fresh['id']}/summary")
    assert refused.status == 429 and refused.headers["Retry-After"]
    assert (await owner.get(f"/documents/{fresh['id']}")).body["summary"] is None
    assert bedrock.converse_calls == 1

    # Another owner's copy of the first text is a cache hit: free, so their one call is still theirs.
    copy = await upload(users["other"])
    assert (await users["other"].post(f"/documents/{copy['id']}/summary")).status == 200
    assert bedrock.converse_calls == 1
    policy = await upload(users["other"], "policy.txt", POLICY)
    assert (await users["other"].post(f"/documents/{policy['id']}/summary")).status == 200
    assert bedrock.converse_calls == 2
    third = await upload(users["other"], "third.txt", "Incident response.\n\nIncidents are triaged within one hour.")
    assert (await users["other"].post(f"/documents/{third['id']}/summary")).status == 429


@pytest.fixture
def served(users, bedrock):
    """The ASGI app under uvicorn on 127.0.0.1, in a thread of this process (it shares the settings,
    the fake Bedrock, the test database and the capacity meter): its base URL."""
    with uvicorn_in_thread() as base_url:
        yield base_url


async def test_through_uvicorn_100_concurrent_identical_summaries_then_a_second_wave(users, bedrock, served):
    headers = dict(users["owner"]._headers)
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def post(path: str, **kwargs) -> tuple[int, dict]:
            async with session.post(served + path, headers=headers, **kwargs) as response:
                return response.status, await response.json()

        form = aiohttp.FormData()
        form.add_field("file", SOC2.encode(), filename="soc2.txt", content_type="text/plain")
        status, document = await post("/documents", data=form)
        assert status == 201, document
        path = f"/documents/{document['id']}/summary"
        first = await asyncio.gather(*(post(path) for _ in range(100)))
        assert [status for status, _ in first] == [200] * 100
        assert bedrock.converse_calls == 1
        meter.reset()
        second = await asyncio.gather(*(post(path) for _ in range(100)))
        assert [status for status, _ in second] == [200] * 100
        assert (bedrock.converse_calls, writes(), meter.calls()) == (1, 0, 100)
        assert {body["summary"] for _, body in first + second} == {first[0][1]["summary"]}
