"""Concurrent clients against the real ASGI app served by uvicorn on 127.0.0.1.

The server (tra.asgi.application, lifespan on) runs in a thread with its own event
loop, in this process: it shares the settings and the test database (PostgreSQL
in CI, through the same connection pool as production; locally SQLite, whose
in-memory test database is shared-cache; `transactional_db` commits, so the
server sees the users and API tokens). Clients are aiohttp sessions sending real
HTTP over TCP. Everything asserted is a count or a state, never a time.
"""

import asyncio

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from tests.reliability.conftest import REPORT
from tests.support.served import uvicorn_in_thread

pytestmark = [pytest.mark.usefixtures("dynamo_table")]


@pytest.fixture
def server(users, dynamo_table):
    with uvicorn_in_thread() as base_url:
        yield base_url


class Http:
    """One user's HTTP client (a pooled aiohttp session with their API token)."""

    def __init__(self, base: str, session: aiohttp.ClientSession, api_client):
        self.base = base
        self.session = session
        self.headers = dict(api_client._headers)

    async def call(self, method: str, path: str, payload=None) -> tuple[int, dict]:
        async with self.session.request(method, self.base + path, json=payload, headers=self.headers) as response:
            body = await response.json() if response.content_length != 0 else None
            return response.status, body


@pytest.fixture
async def http(server, users):
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        clients = {name: Http(server, session, client) for name, client in users.items()}
        # A token's first use stamps last_used_at; SQLite's shared-cache in-memory test database
        # answers concurrent writes with "table is locked" at once, so stamp them one by one first.
        for client in clients.values():
            assert (await client.call("GET", "/assessments"))[0] in (200, 403)
        yield clients


async def concurrently(*calls):
    REPORT["concurrent HTTP operations"] += len(calls)
    return await asyncio.gather(*calls)


async def events(client: Http, assessment_id: str) -> list[dict]:
    status, page = await client.call("GET", f"/assessments/{assessment_id}/events?limit=100")
    assert status == 200 and page["next_cursor"] is None
    return sorted(page["items"], key=lambda event: event["created_at"])


async def create(client: Http, title: str = "Acme Cloud") -> dict:
    status, body = await client.call("POST", "/assessments", {"title": title})
    assert status == 201, body
    return body


async def test_concurrent_patches_of_one_version_let_exactly_one_win(http):
    owner = http["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    writers = 40

    results = await concurrently(
        *(owner.call("PATCH", path, {"version": 1, "title": f"Title from writer {n}"}) for n in range(writers))
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (writers - 1)
    (winner,) = [body for status, body in results if status == 200]
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "conflict"
            assert body["error"]["details"]["current_version"] == 2
    _, final = await owner.call("GET", path)
    assert (final["title"], final["version"]) == (winner["title"], 2)
    assert [event["event_type"] for event in await events(owner, assessment["id"])] == ["created", "updated"]


async def test_clients_retrying_on_409_lose_no_update(http):
    """Read-modify-write clients: each adds its own metadata key and retries on 409 with the
    version it re-reads. No lost update: every key survives, versions are contiguous."""
    owner = http["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    clients, changes = 10, 3
    accepted: list[tuple[int, str]] = []  # (version the change produced, its key)
    attempts = {"patch": 0}

    async def writer(n: int) -> None:
        for change in range(changes):
            key = f"client{n}-change{change}"
            for _ in range(100):
                status, current = await owner.call("GET", path)
                assert status == 200
                attempts["patch"] += 1
                status, body = await owner.call(
                    "PATCH",
                    path,
                    {
                        "version": current["version"],
                        "title": f"Edited by {key}",
                        "metadata": {**current["metadata"], key: n},
                    },
                )
                if status == 200:
                    accepted.append((body["version"], key))
                    break
                assert status == 409 and body["error"]["details"]["current_version"] > current["version"]
            else:
                pytest.fail(f"{key} never got through")

    await concurrently(*(writer(n) for n in range(clients)))
    REPORT["concurrent HTTP operations"] += (
        2 * attempts["patch"] - clients
    )  # each writer's retries ran concurrently too

    total = clients * changes
    assert sorted(version for version, _ in accepted) == list(range(2, 2 + total))
    _, final = await owner.call("GET", path)
    assert final["version"] == 1 + total
    assert sorted(final["metadata"]) == sorted(key for _, key in accepted)  # every change present
    last_key = max(accepted)[1]
    assert final["title"] == f"Edited by {last_key}"
    history = await events(owner, assessment["id"])
    assert [event["event_type"] for event in history] == ["created"] + ["updated"] * total
    assert attempts["patch"] > total  # there were conflicts to retry


async def test_concurrent_answers_to_one_question(http):
    owner = http["owner"]
    assessment = await create(owner)
    status, question = await owner.call(
        "POST", f"/assessments/{assessment['id']}/questions", {"text": "Is data encrypted at rest?"}
    )
    assert status == 201
    path = f"/assessments/{assessment['id']}/questions/{question['id']}/answer"
    answerers = 30

    results = await concurrently(
        *(owner.call("PUT", path, {"answer": f"Yes ({n})", "version": 1}) for n in range(answerers))
    )
    assert sorted(status for status, _ in results) == [200] + [409] * (answerers - 1)
    assert {body["error"]["details"]["current_version"] for status, body in results if status == 409} == {2}

    # Then clients that retry with the version the 409 names, until they succeed.
    retriers = 10
    accepted: list[tuple[int, str]] = []
    sent = {"count": 0}

    async def answer(n: int) -> None:
        version = 2
        for _ in range(100):
            sent["count"] += 1
            status, body = await owner.call("PUT", path, {"answer": f"Retried answer {n}", "version": version})
            if status == 200:
                accepted.append((body["version"], body["answer"]))
                return
            assert status == 409
            version = body["error"]["details"]["current_version"]
        pytest.fail(f"answerer {n} never got through")

    await concurrently(*(answer(n) for n in range(retriers)))
    REPORT["concurrent HTTP operations"] += sent["count"] - retriers

    assert sorted(version for version, _ in accepted) == list(range(3, 3 + retriers))
    _, detail = await owner.call("GET", f"/assessments/{assessment['id']}")
    (final,) = detail["questions"]
    assert final["version"] == 2 + retriers
    assert final["answer"] == max(accepted)[1]


def check_history(history: list[dict], final: dict, accepted: int) -> None:
    """Each accepted transition left exactly one event; the events chain from draft to the final state."""
    transitions = [event for event in history if event["to_state"] and event["event_type"] != "created"]
    assert len(transitions) == accepted
    state = "draft"
    for event in transitions:
        assert event["from_state"] == state
        state = event["to_state"]
    assert state == final["state"]
    assert final["version"] == 1 + accepted


async def test_concurrent_submit_and_review_refuse_illegal_transitions(http):
    owner, reviewer = http["owner"], http["reviewer"]
    assessment = await create(owner)
    aid = assessment["id"]
    path = f"/assessments/{aid}"
    accepted = 0

    def transition(client: Http, action: str, version: int):
        return client.call("POST", f"{path}/transitions", {"action": action, "version": version})

    def review(decision: str, version: int):
        return reviewer.call(
            "POST", f"{path}/reviews", {"decision": decision, "comment": "see notes", "version": version}
        )

    # Round 1, on a draft: submits race with illegal reopens and an early reviewer.
    submits = [transition(owner, "submit", 1) for _ in range(15)]
    reopens = [transition(owner, "reopen", 1) for _ in range(15)]
    early = [transition(reviewer, "start_review", 2) for _ in range(10)]
    results = await concurrently(*submits, *reopens, *early)
    submitted, reopened, reviewed = results[:15], results[15:30], results[30:]
    assert sorted(status for status, _ in submitted) == [200] + [409] * 14
    assert {status for status, _ in reopened} == {409}  # never legal from draft
    assert all(status in (200, 404, 409) for status, _ in reviewed)  # 404 while it is still a draft
    assert sum(status == 200 for status, _ in reviewed) <= 1
    accepted += 1 + sum(status == 200 for status, _ in reviewed)
    _, current = await owner.call("GET", path)
    check_history(await events(owner, aid), current, accepted)

    # Round 2, on whatever version that left: reviewers' actions race with illegal owner ones.
    version = current["version"]
    calls = (
        [transition(reviewer, "start_review", version) for _ in range(10)]
        + [review("approve", version) for _ in range(10)]
        + [review("request_changes", version) for _ in range(10)]
        + [transition(owner, "archive", version) for _ in range(10)]  # not while awaiting review
        + [transition(owner, "submit", version) for _ in range(10)]  # already submitted
    )
    results = await concurrently(*calls)
    reviewer_results, owner_results = results[:30], results[30:]
    assert {status for status, _ in owner_results} == {409}
    assert {body["error"]["code"] for _, body in owner_results} <= {"invalid_state", "conflict"}
    wins = [status for status, _ in reviewer_results if status in (200, 201)]
    assert len(wins) == 1, sorted(status for status, _ in reviewer_results)
    assert all(status in (200, 201, 409) for status, _ in reviewer_results)
    accepted += 1
    _, current = await owner.call("GET", path)
    check_history(await events(owner, aid), current, accepted)

    # Round 3: reviewers that retry on a version conflict until a decision is made or refused.
    decisions = {"sent": 0, "made": 0}

    async def decide(decision: str) -> None:
        version = current["version"]
        for _ in range(50):
            decisions["sent"] += 1
            status, body = await review(decision, version)
            if status == 201:
                decisions["made"] += 1
                return
            assert status == 409, body
            if body["error"]["code"] == "invalid_state":
                return  # decided already: refused, as it must be
            version = body["error"]["details"]["current_version"]
        pytest.fail("a reviewer never got an answer")

    await concurrently(*(decide(decision) for decision in ["approve", "reject", "request_changes"] * 5))
    REPORT["concurrent HTTP operations"] += decisions["sent"] - 15
    decided_in_round_2 = current["state"] in ("approved", "changes_requested")
    assert decisions["made"] == (0 if decided_in_round_2 else 1)
    accepted += decisions["made"]
    _, final = await owner.call("GET", path)
    assert final["state"] in ("approved", "rejected", "changes_requested")
    check_history(await events(owner, aid), final, accepted)
    _, reviews = await reviewer.call("GET", f"{path}/reviews?limit=100")
    assert len(reviews["items"]) == 1  # one decision, one review


def database_sessions() -> int:
    """Sessions other than this one connected to the test database (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


async def test_concurrent_requests_share_a_bounded_pool_of_database_connections(http):
    """Under ASGI each request runs its sync code in a thread of its own; connections kept per
    thread would pile up until PostgreSQL refuses clients (a 500 on every request after that).
    The psycopg pool bounds them: 200 concurrent requests, at most the pool's size open."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...), as in CI")
    owner, other = http["owner"], http["other"]
    await create(owner)
    results = await concurrently(*(client.call("GET", "/assessments") for client in [owner, other] * 100))
    assert {status for status, _ in results} == {200}
    pool_size = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    assert await sync_to_async(database_sessions)() <= pool_size
