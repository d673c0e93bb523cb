"""Writes that DynamoDB applied but answered too late: botocore retries them, and the retry
must neither misreport nor apply twice (issue 15, item 1).

The real path end to end: HTTP clients (aiohttp) -> the ASGI app served by uvicorn ->
botocore/PynamoDB -> a TCP proxy -> the moto DynamoDB server. The proxy forwards a write,
lets the server apply it, and withholds the answer until the client's read timeout
(AWS_READ_TIMEOUT_SECONDS, made short here only) has fired; botocore then sends the write
again and moto, which ignores ClientRequestToken, applies it again if its conditions
allow. Every assertion is an outcome or a count: the answer the client got, what the
table and the media directory hold, the counters.
"""

import json

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from tests.reliability.conftest import REPORT
from tests.support.fault_proxy import FaultProxy
from tests.support.served import uvicorn_in_thread
from tests.support.table import table_items

pytestmark = [pytest.mark.usefixtures("dynamo_table")]

READ_TIMEOUT_SECONDS = 1.0  # how long the proxy's withheld answers make the client wait, once per fault
WRITES = ("PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem")
POLICY = b"Information Security Policy\n\nAll customer data at rest is encrypted with AES-256.\n"


@pytest.fixture
def late_proxy(settings, dynamodb_server, dynamo_table, tmp_path):
    """DynamoDB behind a FaultProxy that can answer a write late, with a short read timeout."""
    with FaultProxy("127.0.0.1", dynamodb_server.port) as proxy:
        settings.MEDIA_ROOT = tmp_path
        settings.AWS_READ_TIMEOUT_SECONDS = READ_TIMEOUT_SECONDS
        settings.DYNAMODB_ENDPOINT_URL = proxy.endpoint_url  # rebuilds the clients
        yield proxy


@pytest.fixture
def server(users, late_proxy):
    """tra.asgi.application (lifespan on) served by uvicorn in a thread of this process."""
    with uvicorn_in_thread() as base_url:
        yield base_url


class Http:
    def __init__(self, base: str, session: aiohttp.ClientSession, api_client):
        self.base, self.session, self.headers = base, session, dict(api_client._headers)

    async def call(self, method: str, path: str, payload=None, **kwargs) -> tuple[int, dict]:
        REPORT["HTTP operations through a late-answering DynamoDB"] += 1
        async with self.session.request(
            method, self.base + path, json=payload, headers=self.headers, **kwargs
        ) as response:
            body = await response.json() if response.content_length != 0 else None
            return response.status, body

    async def upload(self, name: str, content: bytes) -> tuple[int, dict]:
        form = aiohttp.FormData()
        form.add_field("file", content, filename=name, content_type="text/plain")
        return await self.call("POST", "/documents", data=form)


@pytest.fixture
async def http(server, users):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        clients = {name: Http(server, session, client) for name, client in users.items()}
        for client in clients.values():  # a token's first use stamps it: one at a time (SQLite)
            assert (await client.call("GET", "/assessments"))[0] == 200
        yield clients


async def late(proxy: FaultProxy, call, *operations: str):
    """Run `call` with the next write of `operations` applied but answered after the read timeout."""
    before = proxy.late
    proxy.answer_late(*operations)
    result = await call
    assert proxy.late == before + 1, "the proxy withheld no answer: the test would prove nothing"
    return result


async def event_types(client: Http, assessment_id: str) -> list[str]:
    status, page = await client.call("GET", f"/assessments/{assessment_id}/events?limit=100")
    assert status == 200
    return sorted(item["event_type"] for item in page["items"])


async def test_assessment_writes_answered_late_are_applied_once_and_answered_as_done(http, late_proxy):
    owner, reviewer = http["owner"], http["reviewer"]

    status, created = await late(late_proxy, owner.call("POST", "/assessments", {"title": "Acme Cloud"}), *WRITES)
    assert status == 201, created  # was a 500 (ConditionFailed unmapped) although created
    path = f"/assessments/{created['id']}"
    status, mine = await owner.call("GET", "/assessments")
    assert [item["id"] for item in mine["items"]] == [created["id"]]

    status, question = await late(late_proxy, owner.call("POST", f"{path}/questions", {"text": "MFA?"}), *WRITES)
    assert status == 201, question
    status, answered = await late(
        late_proxy,
        owner.call("PUT", f"{path}/questions/{question['id']}/answer", {"answer": "Yes", "version": 1}),
        *WRITES,
    )
    assert status == 200, answered  # was a 409 although applied
    assert (answered["answer"], answered["version"]) == ("Yes", 2)

    status, renamed = await late(
        late_proxy, owner.call("PATCH", path, {"version": 1, "title": "Acme Hosting"}), *WRITES
    )
    assert status == 200, renamed
    assert (renamed["title"], renamed["version"]) == ("Acme Hosting", 2)
    status, submitted = await late(
        late_proxy, owner.call("POST", f"{path}/transitions", {"action": "submit", "version": 2}), *WRITES
    )
    assert status == 200, submitted  # was a 409 although applied
    assert (submitted["state"], submitted["version"]) == ("submitted", 3)
    status, decided = await late(
        late_proxy, reviewer.call("POST", f"{path}/reviews", {"decision": "approve", "version": 3}), *WRITES
    )
    assert status == 201, decided
    assert decided["assessment"]["state"] == "approved"

    status, detail = await owner.call("GET", path)
    assert (detail["state"], detail["version"], detail["title"]) == ("approved", 4, "Acme Hosting")
    assert len(detail["reviews"]) == 1
    assert [(q["answer"], q["version"]) for q in detail["questions"]] == [("Yes", 2)]
    assert await event_types(owner, created["id"]) == ["created", "reviewed", "submit", "updated"]
    assert late_proxy.late == 6


async def test_uploads_answered_late_keep_their_chunks_and_files(http, late_proxy, tmp_path):
    owner = http["owner"]
    uploads = 8
    results = []
    for n in range(uploads):
        content = POLICY + f"Control {n}: keys are rotated every {n + 1} days.\n".encode() * (60 + n)
        # The commit (document + fingerprint) answered late; every other upload also its passages.
        operations = ("TransactWriteItems",) if n % 2 else ("BatchWriteItem",)
        results.append(await late(late_proxy, owner.upload(f"policy-{n}.txt", content), *operations))

    assert [status for status, _ in results] == [201] * uploads  # none answered "duplicate" of itself
    assert [body["duplicate"] for _, body in results] == [False] * uploads
    documents = {body["id"]: body for _, body in results}
    for document_id, document in documents.items():
        chunks = await sync_to_async(table_items)(f"DOC#{document_id}")
        assert len([item for item in chunks if item["sk"]["S"].startswith("CHUNK#")]) == document["chunk_count"] > 0
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == uploads  # 0 lost files, 0 orphans
    status, page = await owner.call("GET", "/documents?limit=100")
    assert {item["id"] for item in page["items"]} == set(documents)


async def test_chat_turns_answered_late_are_stored_once_and_counted_exactly(http, late_proxy):
    owner = http["owner"]
    status, session = await late(late_proxy, owner.call("POST", "/chat/sessions", {"title": "Help"}), *WRITES)
    assert status == 201, session
    turns = 3
    for n in range(turns):
        status, turn = await late(
            late_proxy,
            owner.call("POST", f"/chat/sessions/{session['id']}/messages", {"text": f"list my assessments {n}"}),
            "TransactWriteItems",
        )
        assert status == 201, turn

    status, stored = await owner.call("GET", f"/chat/sessions/{session['id']}")
    status, messages = await owner.call("GET", f"/chat/sessions/{session['id']}/messages?limit=100")
    assert len(messages["items"]) == 2 * turns
    assert stored["message_count"] == 2 * turns  # was 8 with 6 messages stored
    status, sessions = await owner.call("GET", "/chat/sessions")
    assert [item["id"] for item in sessions["items"]] == [session["id"]]


# --- the services, sync, against moto through the proxy ------------------------------------


def test_a_usage_add_answered_late_is_added_once(late_proxy):
    from tra.dynamo.clock import utc_now
    from tra.observability.models import UsageCounter

    today = utc_now().date()
    late_proxy.answer_late("UpdateItem")
    UsageCounter.add(today, "test.retried", 3)
    UsageCounter.add(today, "test.retried", 4)

    assert late_proxy.late == 1
    assert UsageCounter.get(*UsageCounter.key(today, "test.retried"), consistent_read=True).value == 7


def test_a_usage_add_whose_every_attempt_timed_out_is_settled_by_the_next(late_proxy, settings):
    """The caller re-sends what it could not confirm within its next ADD (usage.flush keeps it in
    its next delta); that ADD asks whether the lost one was applied and adds only the rest."""
    from tra.dynamo.clock import utc_now
    from tra.observability.models import UsageCounter

    today = utc_now().date()
    settings.AWS_MAX_ATTEMPTS = 1  # no botocore retry: the applied ADD ends in a read timeout
    late_proxy.answer_late("UpdateItem")
    with pytest.raises(UpdateError) as lost:
        UsageCounter.add(today, "test.lost", 5)
    assert isinstance(lost.value.cause, ReadTimeoutError)
    assert late_proxy.late == 1
    UsageCounter.add(today, "test.lost", 5 + 2)  # the unconfirmed 5 and 2 new

    assert UsageCounter.get(*UsageCounter.key(today, "test.lost"), consistent_read=True).value == 7


def test_a_genuine_conflict_is_still_a_conflict(late_proxy):
    """The idempotency check tells its own write from another writer's: same key, other content."""
    from assessments.models import Question
    from tra.dynamo import idempotency
    from tra.dynamo.clock import utc_now

    now = utc_now()
    mine = Question.build(
        assessment_id="a1", question_id=Question.new_id(1), order=1, text="Mine?", created_at=now, updated_at=now
    )
    theirs = Question.build(
        assessment_id="a1", question_id=mine.question_id, order=1, text="Theirs?", created_at=now, updated_at=now
    )
    theirs.save()
    with pytest.raises(PutError):
        idempotency.save(mine, condition=Question.pk.does_not_exist())
    assert idempotency.holds(theirs, written=True) and not idempotency.holds(mine)


@pytest.mark.parametrize(
    ("cause", "status", "code"),
    [
        (
            ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}, "PutItem"),
            409,
            "conflict",
        ),
        (ReadTimeoutError(endpoint_url="http://dynamodb"), 503, "service_unavailable"),  # PynamoDB's code lookup raises
    ],
)
def test_a_condition_failure_no_service_handled_is_a_409_and_a_timeout_a_503(cause, status, code):
    from django.test import RequestFactory

    from tra.api import dynamodb_error
    from tra.dynamo.writes import ConditionFailed

    response = dynamodb_error(RequestFactory().get("/api/x"), PutError("Failed to put item", cause))
    assert (response.status_code, json.loads(response.content)["error"]["code"]) == (status, code)
    assert ConditionFailed([0]).status_code == 409  # an unhandled transaction condition: the Conflict mapping


def actor():
    from tra.http.auth import Actor

    return Actor(user_id="u1", username="olivia", is_staff=False, is_reviewer=False)


def test_a_transaction_whose_every_attempt_timed_out_but_the_first_applied_is_a_success(late_proxy, settings):
    """No botocore retry succeeds here (one attempt, answered late): the outcome is unknown, and the
    service asks the table for its own audit event instead of answering 503 for a created assessment."""
    from assessments import selectors, services

    settings.AWS_MAX_ATTEMPTS = 1
    late_proxy.answer_late("TransactWriteItems")
    created = services.assessment_create(actor=actor(), title="Acme Cloud")

    assert late_proxy.late == 1
    stored = selectors.assessment_current(created.assessment_id)
    assert (stored.title, stored.version, created.version) == ("Acme Cloud", 1, 1)


def test_an_upload_whose_commit_outcome_cannot_be_told_keeps_its_file_and_passages(late_proxy, settings, tmp_path):
    """The commit was applied, its answer lost, and the table cannot be asked (GetItem throttled):
    a 503, but the committed document keeps every passage and its file (never deleted on a guess)."""
    from documents import selectors, services
    from tests.support.dynamo_faults import DynamoFaults
    from tra.dynamo.connection import botocore_client

    settings.AWS_MAX_ATTEMPTS = 1
    faults = DynamoFaults().attach(botocore_client())
    late_proxy.answer_late("TransactWriteItems")
    faults.throttle("GetItem", after=1)  # the duplicate check passes; what follows the commit cannot read
    content = POLICY * 40
    with pytest.raises(TransactWriteError) as failed:  # a 503 at the API
        services.document_upload(actor=actor(), filename="policy.txt", data=content, declared_type="text/plain")
    assert isinstance(failed.value.cause, ReadTimeoutError)
    faults.clear()

    assert late_proxy.late == 1
    (document_item,) = [item for item in table_items("DOC#") if item["sk"]["S"] == "#META"]
    document = selectors.document_current(document_item["pk"]["S"].removeprefix("DOC#"))
    assert len(selectors.chunks_of(document.document_id)) == document.chunk_count > 0
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == ["policy.txt"]
    again = services.document_upload(actor=actor(), filename="policy.txt", data=content, declared_type="text/plain")
    assert (again.created, again.document.document_id) == (False, document.document_id)  # the client's retry


async def test_a_delete_answered_late_is_a_204_and_leaves_nothing(http, late_proxy, tmp_path):
    owner = http["owner"]
    status, document = await owner.upload("policy.txt", POLICY * 40)
    assert status == 201, document

    status, _ = await late(late_proxy, owner.call("DELETE", f"/documents/{document['id']}"), "TransactWriteItems")

    assert status == 204  # was a 409 "changed while deleting" for its own delete
    assert await sync_to_async(table_items)("DOC#", "DOCHASH#") == []
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
