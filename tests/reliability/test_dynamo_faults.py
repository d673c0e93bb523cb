"""DynamoDB faults injected under the real API: throttling, 5xx, cancelled transactions,
UnprocessedItems, read timeouts, dropped connections and an unreachable endpoint.

Each test asserts the attempts made (bounded retries with backoff), the answer (the
request succeeds once the retries absorb the fault; otherwise a 503 with Retry-After
and the JSON error shape), that nothing partial was stored, and that the same
process recovers by itself once the fault ends.
"""

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from devtools.local_dynamo.server import free_port
from tests.reliability.conftest import MAX_ATTEMPTS
from tests.support.dynamo_faults import INJECTED, DynamoFaults
from tests.support.fault_proxy import FaultProxy
from tests.support.table import table_items
from tra.dynamo.connection import botocore_client
from tra.dynamo.writes import TRANSACTION_ATTEMPTS

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def assert_unavailable(response, *, retry_after: str | None = None) -> dict:
    assert response.status == 503, response.body
    assert set(response.body) == {"error"}
    assert set(response.error) == {"code", "message", "details"}
    assert response.error["code"] == "service_unavailable"
    assert response.error["message"]
    assert int(response.headers["Retry-After"]) >= 1
    if retry_after is not None:
        assert response.headers["Retry-After"] == retry_after
    return response.error


async def create(client, title: str = "Acme Cloud") -> dict:
    response = await client.post("/assessments", {"title": title})
    assert response.status == 201, response.body
    return response.body


async def event_types(client, assessment_id: str) -> list[str]:
    page = (await client.get(f"/assessments/{assessment_id}/events", limit=100)).body
    return sorted(item["event_type"] for item in page["items"])


async def count_links(client, assessment_id: str) -> int:
    return len(await client.all_items(f"/assessments/{assessment_id}/documents"))


# --- throttling --------------------------------------------------------------------


async def test_throttled_reads_are_retried_with_backoff_and_succeed(users, faults, backoff):
    owner = users["owner"]
    assessment = await create(owner)
    faults.throttle("Query", times=MAX_ATTEMPTS - 1)
    attempts_before = faults.attempts["Query"]

    response = await owner.get(f"/assessments/{assessment['id']}")

    assert response.status == 200
    # The detail's first Query: three throttled, the fourth answered; then its three other Queries.
    assert faults.attempts["Query"] - attempts_before == MAX_ATTEMPTS + 3
    assert faults.injected["throttle"] == MAX_ATTEMPTS - 1
    # Exponential backoff with full jitter: a delay before each retry, within 2**n seconds.
    assert len(backoff) == MAX_ATTEMPTS - 1
    assert all(0 <= delay <= 2**n for n, delay in enumerate(backoff))


async def test_throttling_that_outlasts_the_retries_is_a_503_and_the_transition_leaves_no_trace(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    faults.attempts.clear()  # count this request's attempts only
    faults.throttle("TransactWriteItems", code="ThrottlingException")

    response = await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})

    assert_unavailable(response)
    assert faults.attempts["TransactWriteItems"] == MAX_ATTEMPTS  # bounded: AWS_MAX_ATTEMPTS, then give up
    detail = (await owner.get(path)).body
    assert (detail["state"], detail["version"], detail["submitted_at"]) == ("draft", 1, None)
    assert await event_types(owner, assessment["id"]) == ["created"]

    faults.clear()  # the fault ends: the same process, the same request
    recovered = await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})
    assert recovered.status == 200, recovered.body
    assert (recovered.body["state"], recovered.body["version"]) == ("submitted", 2)
    assert await event_types(owner, assessment["id"]) == ["created", "submit"]


async def test_5xx_from_dynamodb_is_retried_then_a_503_then_recovers(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    faults.attempts.clear()  # count this request's attempts only
    faults.fail("TransactWriteItems", times=1)
    renamed = await owner.patch(path, {"version": 1, "title": "Renamed once"})
    assert renamed.status == 200 and renamed.body["version"] == 2
    assert faults.attempts["TransactWriteItems"] == 2

    faults.fail("TransactWriteItems")
    failed = await owner.patch(path, {"version": 2, "title": "Renamed twice"})
    assert_unavailable(failed)
    assert faults.attempts["TransactWriteItems"] == 2 + MAX_ATTEMPTS
    faults.clear()
    detail = (await owner.get(path)).body
    assert (detail["title"], detail["version"]) == ("Renamed once", 2)
    search = await owner.get("/assessments", q="twice")
    assert search.body["items"] == []  # the title's search words went with the failed transaction
    assert (await owner.patch(path, {"version": 2, "title": "Renamed twice"})).status == 200


# --- cancelled transactions ------------------------------------------------------------


async def test_a_transaction_conflict_is_retried_and_the_transition_happens_once(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    faults.attempts.clear()  # count this request's attempts only
    faults.cancel_transactions(times=1)

    response = await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})

    assert response.status == 200, response.body
    assert faults.attempts["TransactWriteItems"] == 2
    assert (response.body["state"], response.body["version"]) == ("submitted", 2)
    assert await event_types(owner, assessment["id"]) == ["created", "submit"]


async def test_a_transaction_conflict_that_persists_is_a_503_and_leaves_no_trace(users, faults):
    owner, reviewer = users["owner"], users["reviewer"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    assert (await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})).status == 200
    faults.cancel_transactions()
    before = faults.attempts["TransactWriteItems"]

    decision = await reviewer.post(f"{path}/reviews", {"decision": "approve", "version": 2})

    error = assert_unavailable(decision)
    assert "retry" in error["message"]
    # Retried a bounded number of times, never reported as a version conflict: nobody else won.
    assert faults.attempts["TransactWriteItems"] - before == TRANSACTION_ATTEMPTS
    detail = (await reviewer.get(path)).body
    assert (detail["state"], detail["version"], detail["reviews"]) == ("submitted", 2, [])
    assert await event_types(owner, assessment["id"]) == ["created", "submit"]

    faults.clear()
    approved = await reviewer.post(f"{path}/reviews", {"decision": "approve", "version": 2})
    assert approved.status == 201, approved.body
    assert approved.body["assessment"]["state"] == "approved"
    assert await event_types(owner, assessment["id"]) == ["created", "reviewed", "submit"]


async def test_a_rename_whose_transaction_keeps_conflicting_is_a_503_not_a_stale_version(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    faults.attempts.clear()  # count this request's attempts only
    faults.cancel_transactions()

    response = await owner.patch(path, {"version": 1, "title": "Renamed"})

    assert_unavailable(response)
    faults.clear()
    assert (await owner.get(path)).body["title"] == "Acme Cloud"
    assert await event_types(owner, assessment["id"]) == ["created"]
    assert (await owner.patch(path, {"version": 1, "title": "Renamed"})).status == 200


# --- batched writes: link transactions, UnprocessedItems ---------------------------------------


def many_documents(owner_id: str, count: int) -> list[str]:
    from tests.support import factories
    from tra.dynamo.writes import batch_write

    documents = [factories.document(owner_id=owner_id, filename=f"evidence-{n}.pdf", save=False) for n in range(count)]
    batch_write(puts=documents)
    return [document.document_id for document in documents]


async def test_throttled_link_transactions_are_retried_until_accepted_and_no_link_is_lost(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    ids = await sync_to_async(many_documents)(owner.user_id, 60)  # three TransactWriteItems: 25 + 25 + 10
    faults.throttle("TransactWriteItems", times=MAX_ATTEMPTS - 1, after=1)  # the first passes, the next is retried
    before = faults.attempts["TransactWriteItems"]

    response = await owner.post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})

    assert response.status == 200, response.body
    assert response.body["linked"] == 60
    assert faults.injected["throttle"] == MAX_ATTEMPTS - 1
    assert faults.attempts["TransactWriteItems"] - before == 3 + MAX_ATTEMPTS - 1
    assert await count_links(owner, assessment["id"]) == 60


async def test_link_transactions_refused_beyond_the_attempts_are_a_503_saying_what_was_written(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    ids = await sync_to_async(many_documents)(owner.user_id, 60)
    faults.throttle("TransactWriteItems", after=1)  # DynamoDB accepts the first 25, then refuses everything
    before = faults.attempts["TransactWriteItems"]

    response = await owner.post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})

    error = assert_unavailable(response)
    assert error["details"] == {"written": 25, "total": 60}
    assert faults.attempts["TransactWriteItems"] - before == 1 + MAX_ATTEMPTS
    assert await count_links(owner, assessment["id"]) == 25  # exactly what the 503 said

    faults.clear()
    again = await owner.post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})
    assert again.status == 200 and again.body["linked"] == 35 and again.body["already_linked"] == 25
    assert await count_links(owner, assessment["id"]) == 60  # resending was safe: nothing lost, nothing doubled


# --- uploads ----------------------------------------------------------------------------------

POLICY = b"Information Security Policy\n\nAll customer data at rest is encrypted with AES-256.\n"


async def upload(client):
    file = SimpleUploadedFile("policy.txt", POLICY, content_type="text/plain")
    return await client.request("post", "/documents", data={"file": file})


async def test_an_upload_whose_commit_is_throttled_stores_nothing_and_the_retry_is_a_new_upload(users, faults, media):
    owner = users["owner"]
    faults.throttle("TransactWriteItems")

    failed = await upload(owner)

    assert_unavailable(failed)
    assert faults.attempts["TransactWriteItems"] == MAX_ATTEMPTS
    assert [path for path in media.rglob("*") if path.is_file()] == []
    assert await sync_to_async(table_items)("DOC#", "DOCHASH#") == []
    assert (await owner.get("/documents")).body["items"] == []

    faults.clear()
    stored = await upload(owner)
    assert stored.status == 201, stored.body  # not "duplicate": no fingerprint survived the failure
    assert stored.body["duplicate"] is False


# --- the network: read timeouts, dropped connections, an unreachable endpoint ------------------


@pytest.fixture
def proxied(settings, dynamodb_server, dynamo_table):
    """DynamoDB reached through a FaultProxy, with a short read timeout; a fresh injector counts attempts."""
    with FaultProxy("127.0.0.1", dynamodb_server.port) as proxy:
        settings.AWS_READ_TIMEOUT_SECONDS = 0.3
        settings.DYNAMODB_ENDPOINT_URL = proxy.endpoint_url  # rebuilds the clients
        yield proxy, DynamoFaults().attach(botocore_client())


async def test_read_timeouts_are_retried_then_a_503_and_a_stalled_write_is_never_applied(users, proxied):
    proxy, counter = proxied
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"

    proxy.mode = "stall"
    queries, gets = counter.attempts["Query"], counter.attempts["GetItem"]
    read = await owner.get(path)
    write = await owner.patch(path, {"version": 1, "title": "Renamed"})

    assert_unavailable(read)
    assert_unavailable(write)
    # Each request: AWS_MAX_ATTEMPTS tries, each timed out (the PATCH stops at its first read).
    assert proxy.faults == 2 * MAX_ATTEMPTS
    assert (counter.attempts["Query"] - queries, counter.attempts["GetItem"] - gets) == (MAX_ATTEMPTS, MAX_ATTEMPTS)

    proxy.mode = "pass"
    assert (await owner.get(path)).body["title"] == "Acme Cloud"
    renamed = await owner.patch(path, {"version": 1, "title": "Renamed"})
    assert renamed.status == 200 and renamed.body["version"] == 2


async def test_dropped_connections_are_retried_then_a_503_then_recover(users, proxied):
    proxy, counter = proxied
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"

    proxy.mode = "drop"
    gets = counter.attempts["GetItem"]
    response = await owner.post(f"{path}/transitions", {"action": "start", "version": 1})
    assert_unavailable(response)
    assert proxy.faults == MAX_ATTEMPTS == counter.attempts["GetItem"] - gets

    proxy.mode = "pass"
    started = await owner.post(f"{path}/transitions", {"action": "start", "version": 1})
    assert started.status == 200 and started.body["state"] == "in_progress"
    assert await event_types(owner, assessment["id"]) == ["created", "start"]


async def test_an_unreachable_endpoint_is_a_503_after_bounded_attempts_then_recovers(users, settings, dynamodb_server):
    owner = users["owner"]
    assessment = await create(owner)
    path = f"/assessments/{assessment['id']}"
    real = settings.DYNAMODB_ENDPOINT_URL

    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    counter = DynamoFaults().attach(botocore_client())
    response = await owner.get(path)
    assert_unavailable(response)
    assert counter.attempts["Query"] == MAX_ATTEMPTS
    INJECTED["dynamodb unreachable endpoint"] += counter.attempts["Query"]

    settings.DYNAMODB_ENDPOINT_URL = real
    recovered = await owner.get(path)
    assert recovered.status == 200 and recovered.body["title"] == "Acme Cloud"


# --- question import ------------------------------------------------------------------------


async def question_count(client, assessment_id: str) -> int:
    return len((await client.get(f"/assessments/{assessment_id}/questions", limit=100)).body["items"])


async def test_a_failed_question_import_is_undone_so_that_resending_does_not_duplicate(users, faults):
    from tra.dynamo.writes import BATCH_ATTEMPTS

    owner = users["owner"]
    assessment = await create(owner)
    questions = {"questions": [{"text": f"Control question {n}?"} for n in range(60)]}
    faults.leave_unprocessed(times=BATCH_ATTEMPTS, after=1)  # 25 written, then the second batch never lands

    response = await owner.post(f"/assessments/{assessment['id']}/questions/import", questions)

    error = assert_unavailable(response)
    assert "nothing was imported" in error["message"]
    assert await question_count(owner, assessment["id"]) == 0  # the 25 written were deleted again
    assert await event_types(owner, assessment["id"]) == ["created"]

    again = await owner.post(f"/assessments/{assessment['id']}/questions/import", questions)
    assert again.status == 201, again.body
    assert await question_count(owner, assessment["id"]) == 60  # no duplicates


async def test_an_import_that_cannot_be_undone_says_which_questions_may_remain(users, faults):
    owner = users["owner"]
    assessment = await create(owner)
    questions = {"questions": [{"text": f"Control question {n}?"} for n in range(60)]}
    faults.leave_unprocessed(after=1)  # the undo's deletes are refused as well

    response = await owner.post(f"/assessments/{assessment['id']}/questions/import", questions)

    error = assert_unavailable(response)
    assert "may have been written" in error["message"]
    assert len(error["details"]["question_ids"]) == 60
    faults.clear()
    remaining = (await owner.get(f"/assessments/{assessment['id']}/questions", limit=100)).body["items"]
    assert len(remaining) == 25 and {q["id"] for q in remaining} <= set(error["details"]["question_ids"])
