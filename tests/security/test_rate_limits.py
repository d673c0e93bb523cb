"""Cost protection: a per-user budget (LLM_RATE_LIMIT) on the requests that spend LLM money.

A request is charged when it is about to make a model call (on the offline provider: to compute a
new summary or suggestion; `?refresh=true` always does); a summary stored on the document or a
cached answer is free and still answered over the budget (tests/documents/test_summary_api.py
counts the Bedrock case). Over the budget a request is a 429 in the one error shape with
Retry-After, refused before its model call: nothing is stored. The budget is per user, a chat
message the free tiers route does not touch it, and the count lives in the `default` cache, so on
Redis every process shares it (two processes, and four racing ones, below). Windows are an hour
long and only counts are asserted, never times.
"""

import os
import time
import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile

from chat import routing
from tests.conftest import skip_or_fail
from tests.support.workers import release_together
from tra import ratelimit
from tra.errors import RateLimited
from tra.settings.environment import env_rate, parse_rate

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

HOUR = 3600
SOC2 = "Acme Cloud SOC 2 Type II report.\n\nAll customer data at rest is encrypted with AES-256.\n\nMFA is enforced."
LLM_TIER_MESSAGE = "what does the soc 2 report say about encryption?"  # neither regex nor the classifier is sure
FREE_MESSAGES = ("/help", "show my assessments", "which documents are linked?", "hello")


def clear_local_caches() -> None:
    # Never clear() a Redis cache: django-redis would FLUSHDB, other tests' keys included.
    for name in ("default", "llm"):
        if isinstance(caches[name], LocMemCache):
            caches[name].clear()


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Fresh counters: user ids restart with each test database, so on a Redis that outlives test runs
    the counts go under a key prefix of this test's own (and are deleted after it)."""
    settings.MEDIA_ROOT = tmp_path
    settings.LLM_RATE_LIMIT = "3/hour"
    default = settings.CACHES["default"]
    on_redis = "KEY_PREFIX" in default and default["BACKEND"].startswith("django_redis")
    if on_redis:
        prefix = f"{default['KEY_PREFIX']}-ratelimit-test-{uuid.uuid4().hex[:12]}"
        settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}
    clear_local_caches()
    yield
    if on_redis:
        caches["default"].delete_pattern("*")
    clear_local_caches()


async def upload(client, name: str = "soc2-report.txt", text: str = SOC2) -> dict:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/plain")
    response = await client.request("post", "/documents", data={"file": file})
    assert response.status == 201, response.body
    return response.body


@pytest.fixture
async def world(users):
    """The owner's document, assessment (one question, the document linked) and a chat tied to it."""
    owner = users["owner"]
    document = await upload(owner)
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud hosting"})).body
    path = f"/assessments/{assessment['id']}"
    imported = await owner.post(f"{path}/questions/import", {"questions": [{"text": "Is data encrypted at rest?"}]})
    await owner.post(f"{path}/documents", {"document_ids": [document["id"]]})
    session = (await owner.post("/chat/sessions", {"title": "Acme", "assessment_id": assessment["id"]})).body
    return {
        "document": document,
        "path": path,
        "question": imported.body["questions"][0],
        "session": session,
    }


def assert_rate_limited(response, *, limit: int = 3, window: int = HOUR) -> None:
    assert response.status == 429, response.body
    assert set(response.body) == {"error"}
    assert set(response.error) == {"code", "message", "details"}
    assert response.error["code"] == "rate_limited"
    assert f"at most {limit} requests that use the language model per hour" in response.error["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2 * window  # past this window's end: its count still weighs on the next one
    assert response.error["details"] == {
        "scope": "llm",
        "limit": limit,
        "window_seconds": window,
        "retry_after": retry_after,
    }


async def test_the_fourth_summary_in_the_hour_is_429_with_retry_after(users, world):
    owner, summary = users["owner"], f"/documents/{world['document']['id']}/summary"
    for _ in range(3):
        assert (await owner.post(summary + "?refresh=true")).status == 200
    assert_rate_limited(await owner.post(summary + "?refresh=true"))
    assert_rate_limited(await owner.post(summary + "?refresh=true"))  # and it stays refused within the window
    stored = await owner.post(summary)  # the summary stored on the document costs no model call
    assert (stored.status, stored.body["cached"]) == (200, True)


async def test_a_refused_suggestion_stores_nothing(users, world):
    owner, path, question = users["owner"], world["path"], world["question"]
    for _ in range(3):  # the budget is shared by every LLM-backed endpoint
        assert (await owner.post(f"/documents/{world['document']['id']}/summary?refresh=true")).status == 200
    assert_rate_limited(await owner.post(f"{path}/questions/{question['id']}/suggestion"))
    assert_rate_limited(await owner.post(f"{path}/suggestions"))
    [stored] = (await owner.get(f"{path}/questions")).body["items"]
    assert stored["suggestion"] is None
    assert stored["version"] == question["version"]


async def test_a_refused_summary_stores_nothing(users, world, settings):
    settings.LLM_RATE_LIMIT = "1/hour"
    owner = users["owner"]
    fresh = await upload(owner, "policy.txt", "Access policy.\n\nMFA is enforced for all administrators.")
    assert (await owner.post(f"{world['path']}/suggestions")).status == 200
    assert_rate_limited(await owner.post(f"/documents/{fresh['id']}/summary"), limit=1)
    assert (await owner.get(f"/documents/{fresh['id']}")).body["summary"] is None


async def test_a_refused_chat_message_stores_nothing(users, world):
    owner, session = users["owner"], world["session"]
    messages = f"/chat/sessions/{session['id']}/messages"
    assert routing.route_fast(LLM_TIER_MESSAGE) is None
    for _ in range(3):
        response = await owner.post(messages, {"text": LLM_TIER_MESSAGE})
        assert response.status == 201, response.body
        assert response.body["reply"]["tier"] == "llm"
    assert_rate_limited(await owner.post(messages, {"text": LLM_TIER_MESSAGE}))
    assert len((await owner.get(messages, limit=100)).body["items"]) == 6  # three turns, not four
    assert (await owner.get(f"/chat/sessions/{session['id']}")).body["message_count"] == 6


async def test_the_limit_is_per_user(users, world):
    owner, other = users["owner"], users["other"]
    for _ in range(3):
        assert (await owner.post(f"/documents/{world['document']['id']}/summary?refresh=true")).status == 200
    assert_rate_limited(await owner.post(f"/documents/{world['document']['id']}/summary?refresh=true"))
    mine = await upload(other)
    for _ in range(3):
        assert (await other.post(f"/documents/{mine['id']}/summary?refresh=true")).status == 200
    assert_rate_limited(await other.post(f"/documents/{mine['id']}/summary?refresh=true"))


async def test_a_message_the_fast_tiers_route_is_free(users, world, settings):
    settings.LLM_RATE_LIMIT = "1/hour"
    owner, messages = users["owner"], f"/chat/sessions/{world['session']['id']}/messages"
    for text in FREE_MESSAGES * 3:  # twelve free messages on a budget of one
        assert routing.route_fast(text) is not None
        reply = await owner.post(messages, {"text": text})
        assert reply.status == 201, reply.body
        assert reply.body["reply"]["tier"] in ("regex", "classifier")
    assert (await owner.post(messages, {"text": LLM_TIER_MESSAGE})).status == 201  # the budget is still whole
    assert_rate_limited(await owner.post(messages, {"text": LLM_TIER_MESSAGE}), limit=1)
    assert (await owner.post(messages, {"text": "/help"})).status == 201  # free messages still go through


async def test_a_fast_routed_tool_that_calls_the_model_is_charged(users, world, settings):
    """Summaries and suggestions asked for in the chat spend the same money as through their endpoints."""
    settings.LLM_RATE_LIMIT = "2/hour"
    owner, messages = users["owner"], f"/chat/sessions/{world['session']['id']}/messages"
    for text in ("summarize soc2-report.txt", "suggest an answer for question 1"):
        reply = await owner.post(messages, {"text": text})
        assert reply.status == 201 and reply.body["reply"]["tier"] in ("regex", "classifier"), reply.body
    assert_rate_limited(await owner.post(messages, {"text": "/summarize soc2-report.txt"}), limit=2)
    assert_rate_limited(await owner.post(f"/documents/{world['document']['id']}/summary?refresh=true"), limit=2)


async def test_another_users_object_costs_no_data_and_a_404(users, world):
    """The budget check comes first, but authorisation still decides: another user's object is a 404."""
    other = users["other"]
    response = await other.post(f"/documents/{world['document']['id']}/summary")
    assert response.status == 404


@pytest.mark.parametrize("rate", ["0", "", "0/minute"])
async def test_zero_or_empty_disables_the_limit(users, world, settings, rate):
    settings.LLM_RATE_LIMIT = rate
    for _ in range(5):
        assert (await users["owner"].post(f"/documents/{world['document']['id']}/summary?refresh=true")).status == 200


def test_rates_parse_and_bad_ones_fail_at_start_up(monkeypatch):
    assert parse_rate("60/minute") == (60, 60)
    assert parse_rate(" 5/second ") == (5, 1)
    assert parse_rate("1000/hours") == (1000, 3600)
    assert parse_rate("0") is None and parse_rate("") is None
    for bad in ("60", "sixty/minute", "60/day", "-1/minute", "60/"):
        with pytest.raises(ValueError):
            parse_rate(bad)
    monkeypatch.setenv("LLM_RATE_LIMIT", "60 per minute")
    with pytest.raises(ImproperlyConfigured, match="LLM_RATE_LIMIT"):
        env_rate("LLM_RATE_LIMIT", "60/minute")
    monkeypatch.setenv("LLM_RATE_LIMIT", "")
    assert env_rate("LLM_RATE_LIMIT", "60/minute") == ""
    monkeypatch.delenv("LLM_RATE_LIMIT")
    assert env_rate("LLM_RATE_LIMIT", "60/minute") == "60/minute"


# --- Shared across processes (Redis) -----------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture
def shared_redis(settings):
    """The `default` cache on Redis under this test's own key prefix, as the worker processes will use it."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("no Redis server on 127.0.0.1:6379")
    prefix = f"tra-ratelimit-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix},
    }
    yield prefix
    caches["default"].delete_pattern("*")


def run_workers(prefix: str, *, user_id: str, rate: str, attempts: list[int]) -> list[dict]:
    """One process per entry of `attempts`, released together; each one's counts and refusals."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tra.settings.test"}
    module = "tests.security.ratelimit_worker"
    return release_together([[module, REDIS_URL, prefix, user_id, rate, str(n)] for n in attempts], environment)


def within_one_window(run, window: int = HOUR):
    """Run `run` again (once) if it straddled a window boundary, which would split its counts in two."""
    for _ in range(2):
        start = int(time.time() // window)
        result = run()
        if int(time.time() // window) == start:
            return result
    raise AssertionError("crossed a window boundary twice")


@pytest.mark.redis
async def test_another_process_spends_the_same_budget(users, world, shared_redis, settings):
    """A worker process charges the owner twice; this process's API then has one request left."""
    owner, summary = users["owner"], f"/documents/{world['document']['id']}/summary?refresh=true"

    def run():
        caches["default"].delete_pattern("*")
        [worker] = run_workers(shared_redis, user_id=owner.user_id, rate=settings.LLM_RATE_LIMIT, attempts=[2])
        return worker

    worker = within_one_window(run)
    assert worker == {"counts": [1, 2], "refusals": []}
    assert (await owner.post(summary)).status == 200  # the third of three
    assert_rate_limited(await owner.post(summary))
    assert (await users["other"].post(f"{world['path']}/suggestions")).status == 404  # another user: not limited


@pytest.mark.redis
def test_two_cache_clients_share_one_count(shared_redis):
    """Two separately built django-redis cache instances, each with its own client, count into one key."""
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert first is not second and first.client is not second.client

    def charge_with(cache):
        original = caches["default"]
        caches["default"] = cache
        try:
            return ratelimit.charge_sync("u-42", rate="4/hour")
        finally:
            caches["default"] = original

    def run():
        caches["default"].delete_pattern("*")
        return [charge_with(cache) for cache in (first, second, first, second)]

    assert within_one_window(run) == [1, 2, 3, 4]
    for cache in (first, second):
        with pytest.raises(RateLimited) as refused:
            charge_with(cache)
        assert 1 <= refused.value.retry_after <= 2 * HOUR


@pytest.mark.redis
def test_racing_processes_get_exactly_the_budget(shared_redis):
    """Four processes released together spend 4 x 10 attempts on a budget of 15: exactly 15 pass, each
    count from 1 to 15 handed out once (the increment is atomic across processes)."""

    def run():
        caches["default"].delete_pattern("*")
        return run_workers(shared_redis, user_id="u-7", rate="15/hour", attempts=[10, 10, 10, 10])

    results = within_one_window(run)
    counts = sorted(count for result in results for count in result["counts"])
    refusals = [retry for result in results for retry in result["refusals"]]
    assert counts == list(range(1, 16))
    assert len(refusals) == 25
    assert all(1 <= retry <= 2 * HOUR for retry in refusals)
    with pytest.raises(RateLimited):  # and this process sees the spent budget too
        ratelimit.charge_sync("u-7", rate="15/hour")
    print(f"\nrate limit across 4 processes: {len(counts)} allowed, {len(refusals)} refused of 40 attempts")


# --- The sliding window ------------------------------------------------------------------------------------

MINUTE_START = 1_800_000_000  # a window boundary of every unit (divisible by 3,600)


class Clock:
    """The rate limiter's clock, moved by the test; the cache's own expiry keeps real time."""

    def __init__(self, monkeypatch):
        self.now = float(MINUTE_START)
        monkeypatch.setattr(ratelimit, "_now", lambda: self.now)

    def at(self, seconds: float) -> "Clock":
        self.now = MINUTE_START + seconds
        return self


def spend(user_id: str, rate: str, attempts: int) -> tuple[int, list[int]]:
    """How many of `attempts` were allowed, and the Retry-After of each refused one."""
    allowed, refusals = 0, []
    for _ in range(attempts):
        try:
            ratelimit.charge_sync(user_id, rate=rate)
            allowed += 1
        except RateLimited as error:
            refusals.append(error.retry_after)
    return allowed, refusals


def test_a_burst_across_a_window_boundary_cannot_reach_twice_the_limit(monkeypatch):
    """10/minute: 10 at the end of one minute leave none at the start of the next (a fixed window would
    allow 10 more there), and 5 when half of the previous minute has slid out."""
    clock, user = Clock(monkeypatch), f"burst-{uuid.uuid4().hex}"
    clock.at(59)
    assert spend(user, "10/minute", 11) == (10, [7])  # at 66: 10 x 54/60 = 9 leaves room for one
    clock.at(60)
    allowed, [retry_after] = spend(user, "10/minute", 1)
    assert allowed == 0 and retry_after == 6  # 10 x 54/60 = 9: room for one at 60 + 6
    assert spend(user, "10/minute", 1)[0] == 0 and clock.at(65) and spend(user, "10/minute", 1)[0] == 0
    assert clock.at(66) and spend(user, "10/minute", 1) == (1, [])
    clock.at(90)
    assert spend(user, "10/minute", 10)[0] == 4  # 10 x 30/60 = 5, less the one at 66
    # Over the 31 seconds from 59 to 90: 15 allowed where a fixed window allows 20.


def test_refused_requests_spend_nothing(monkeypatch):
    """Hammering while refused is taken back: the next window sees only the allowed requests."""
    clock, user = Clock(monkeypatch), f"hammer-{uuid.uuid4().hex}"
    clock.at(10)
    assert spend(user, "2/minute", 50)[0] == 2
    clock.at(90)  # previous 2 (not 50) x 30/60 = 1: room for one
    assert spend(user, "2/minute", 3)[0] == 1


def test_retry_after_is_when_the_next_request_is_allowed(monkeypatch):
    """3/minute spent 40 s into a minute: refused until 80 (3 x 40/60 = 2 in the next), allowed at 80."""
    clock, user = Clock(monkeypatch), f"retry-{uuid.uuid4().hex}"
    clock.at(40)
    assert spend(user, "3/minute", 4) == (3, [40])
    clock.at(79)
    allowed, [retry_after] = spend(user, "3/minute", 1)
    assert allowed == 0 and retry_after == 1
    assert clock.at(80) and spend(user, "3/minute", 2) == (1, [20])  # 2 + 1, then 2 + 2: room again at 100
    assert clock.at(99) and spend(user, "3/minute", 1)[0] == 0
    assert clock.at(100) and spend(user, "3/minute", 1) == (1, [])  # 3 x 20/60 = 1, + 2 in this minute
