"""Redis down, with the Bedrock provider: a real redis-server of this test's own, killed and restarted.

While it is down the LLM features answer uncached (no 500), identical calls in this process still
make one Bedrock call (single-flight) and the per-user rate limit still holds (per process);
/api/llm/stats and /metrics answer with this process's figures and say the shared ones are
unavailable; health says the cache is down. After a restart the same process uses Redis again:
answers are cached and the figures are shared. Counts and statuses are asserted, never times.
"""

import asyncio
import shutil
import subprocess
import time
import uuid

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient

from devtools.fake_bedrock import FakeBedrock
from devtools.local_dynamo.server import free_port, port_in_use
from llm import cache as llm_cache
from tests.conftest import skip_or_fail
from tests.support.dynamo_faults import INJECTED
from tra import shared_cache

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

SOC2 = "Acme Cloud SOC 2 Type II report.\n\nAll customer data at rest is encrypted with AES-256.\n\nMFA is enforced."
LLM_TIER_MESSAGE = "what does the soc 2 report say about encryption?"


class RedisServer:
    """redis-server on a free port, no persistence: kill() and start() it at will."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(500):
            if port_in_use(self.port):
                return
            assert self.process.poll() is None, "redis-server exited"
            time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        INJECTED["redis killed"] += 1


@pytest.fixture
def redis_server(settings):
    server = RedisServer()
    if server.binary is None:
        skip_or_fail("no redis-server binary")
    server.start()
    original = settings.CACHES
    prefix = f"tra-outage-{uuid.uuid4().hex[:8]}"
    options = {"SOCKET_CONNECT_TIMEOUT": 1.0, "SOCKET_TIMEOUT": 1.0}
    settings.CACHES = {
        name: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"{prefix}-{name}",
            "OPTIONS": options,
        }
        for name in ("default", "llm")
    }
    settings.SHARED_CACHE_RETRY_SECONDS = 0  # try Redis on every call: recovery is seen at once
    yield server
    settings.CACHES = original  # before the server goes: the autouse fixtures clear the `llm` cache
    if server.process.poll() is None:
        server.kill()
    shared_cache.succeeded()


@pytest.fixture
async def world(settings, tmp_path, users, redis_server):
    settings.MEDIA_ROOT = tmp_path
    with FakeBedrock() as bedrock:
        settings.BEDROCK_ENDPOINT_URL = bedrock.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = ""
        owner = users["owner"]
        file = SimpleUploadedFile("soc2.txt", SOC2.encode(), content_type="text/plain")
        document = (await owner.request("post", "/documents", data={"file": file})).body
        assessment = (await owner.post("/assessments", {"title": "Acme Cloud"})).body
        path = f"/assessments/{assessment['id']}"
        question = (await owner.post(f"{path}/questions", {"text": "Is customer data encrypted at rest?"})).body
        await owner.post(f"{path}/documents", {"document_ids": [document["id"]]})
        session = (await owner.post("/chat/sessions", {"title": "Acme", "assessment_id": assessment["id"]})).body
        yield {
            "bedrock": bedrock,
            "redis": redis_server,
            "summary": f"/documents/{document['id']}/summary",
            "suggestion": f"{path}/questions/{question['id']}/suggestion",
            "messages": f"/chat/sessions/{session['id']}/messages",
        }


async def metrics_text() -> tuple[int, str]:
    response = await AsyncClient().get("/metrics")
    return response.status_code, response.content.decode()


async def health(settings) -> tuple[int, dict]:
    settings.METRICS_TOKEN = "outage-test"
    response = await AsyncClient().get("/api/health", headers={"Authorization": "Bearer outage-test"})
    settings.METRICS_TOKEN = ""
    return response.status_code, response.json()


async def test_llm_features_answer_while_redis_is_down_and_recover_without_a_restart(users, world, settings):
    owner, staff, bedrock = users["owner"], users["staff"], world["bedrock"]
    first = await owner.post(world["summary"])
    assert first.status == 200 and first.body["cached"] is False
    assert (await owner.post(world["summary"])).body["cached"] is True  # Redis works: a hit
    assert bedrock.converse_calls == 1

    world["redis"].kill()

    summary = await owner.post(f"{world['summary']}?refresh=true")
    assert summary.status == 200, summary.body
    assert summary.body["cached"] is False and bedrock.converse_calls == 2
    suggestion = await owner.post(world["suggestion"])
    assert suggestion.status == 200, suggestion.body
    assert suggestion.body["suggestion"]["provider"] == "bedrock"
    message = await owner.post(world["messages"], {"text": LLM_TIER_MESSAGE})
    assert message.status == 201, message.body
    stats = await staff.get("/llm/stats")
    assert stats.status == 200, stats.body
    assert stats.body["shared"] is False and stats.body["bedrock_calls"] >= 3  # this process's own figures
    status, text = await metrics_text()
    assert status == 200 and "tra_llm_shared 0" in text
    status, body = await health(settings)
    assert status == 503 and body["checks"]["cache"]["status"] == "down"

    world["redis"].start()  # empty: no persistence

    again = await owner.post(f"{world['summary']}?refresh=true")
    assert again.status == 200 and again.body["cached"] is False
    hit = await owner.post(world["summary"])
    assert hit.status == 200 and hit.body["cached"] is True  # cached in Redis again
    stats = await staff.get("/llm/stats")
    assert stats.body["shared"] is True and stats.body["bedrock_calls"] == 1  # the call since the restart
    status, text = await metrics_text()
    assert status == 200 and "tra_llm_shared 1" in text
    assert (await health(settings))[0] == 200


async def test_the_rate_limit_holds_per_process_while_redis_is_down(users, world, settings):
    settings.LLM_RATE_LIMIT = "2/hour"
    owner = users["owner"]
    world["redis"].kill()

    statuses = [(await owner.post(f"{world['summary']}?refresh=true")).status for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert world["bedrock"].converse_calls == 2
    assert (await users["other"].post(f"{world['summary']}?refresh=true")).status == 404  # not limited: not found


async def test_identical_calls_in_one_process_make_one_call_while_redis_is_down(world):
    world["redis"].kill()
    calls, entered, release = [], asyncio.Event(), asyncio.Event()

    async def compute():
        calls.append(1)
        entered.set()
        await release.wait()
        return llm_cache.Computed(value={"text": "answer"})

    lookups = [
        asyncio.ensure_future(llm_cache.get_or_compute("llm:test:outage", ttl=60, compute=compute)) for _ in range(5)
    ]
    await entered.wait()
    for _ in range(10):
        await asyncio.sleep(0)  # every caller has joined the one flight
    release.set()
    results = await asyncio.gather(*lookups)

    assert len(calls) == 1
    assert sorted(result.source for result in results) == ["coalesced"] * 4 + ["miss"]
    assert {result.value["text"] for result in results} == {"answer"}


async def test_redis_killed_under_load_gives_no_server_error(users, world, settings):
    owner, bedrock = users["owner"], world["bedrock"]
    bedrock.latency = 0.05
    paths = [f"{world['summary']}?refresh=true", world["suggestion"]]

    async def wave(n: int) -> list:
        return await asyncio.gather(*(owner.post(paths[i % 2]) for i in range(n)))

    before = await wave(10)
    load = asyncio.ensure_future(wave(20))
    await asyncio.sleep(0.05)
    world["redis"].kill()  # while the second wave runs
    during = await load
    after_kill = await wave(10)
    world["redis"].start()
    after_restart = await wave(10)

    answers = before + during + after_kill + after_restart
    statuses = sorted({response.status for response in answers})
    assert set(statuses) <= {200, 503}, [response.body for response in answers if response.status not in (200, 503)]
    for response in answers:
        if response.status == 503:
            assert int(response.headers["Retry-After"]) >= 1
    assert [response.status for response in after_kill + after_restart] == [200] * 20
    assert port_in_use(world["redis"].port) and caches["llm"].get("probe") is None
