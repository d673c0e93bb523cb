"""Linking evidence to an assessment: bulk link and unlink (TransactWriteItems), both directions of listing."""

import pytest

from assessments.selectors import evidence_version
from tests.support import factories
from tests.support.api import upload_document
from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import meter
from tra.dynamo.writes import batch_write

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


async def upload(client, content: bytes = b"Information Security Policy\n\nAll data at rest is encrypted.\n"):
    return await upload_document(client, content)


@pytest.fixture
async def assessment(users):
    return (await users["owner"].post("/assessments", {"title": "Vendor review"})).body


def many_documents(owner_id: str, count: int) -> list[str]:
    documents = [factories.document(owner_id=owner_id, filename=f"evidence-{n}.pdf", save=False) for n in range(count)]
    batch_write(puts=documents)
    return [document.document_id for document in documents]


async def test_linking_250_documents_takes_10_transactions(users, assessment):
    """25 links a TransactWriteItems, each with its audit event and a move of the evidence version (250, not
    MAX_LINKS_PER_CALL: the test server, moto, copies the whole table for every item of a transaction)."""
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(many_documents)(users["owner"].user_id, 250)
    meter.reset()
    response = await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})
    assert response.status == 200, response.body
    assert response.body == {"linked": 250, "already_linked": 0, "unlinked": 0}
    assert meter.calls("TransactWriteItems") == 10
    assert meter.calls("BatchGetItem") == 3 + 3  # ownership, then which are linked already: 100 keys a call
    assert meter.calls("BatchWriteItem") == meter.calls("PutItem") == 0  # the events are in the transactions
    assert await sync_to_async(evidence_version)(assessment["id"]) == 10
    linked = await count_links(users["owner"], assessment["id"])
    assert linked == 250


async def count_links(client, assessment_id: str) -> int:
    return len(await client.all_items(f"/assessments/{assessment_id}/documents"))


async def test_a_batch_that_fails_is_a_503_counting_the_batches_written_and_resending_is_safe(
    users, assessment, monkeypatch
):
    """All or nothing per batch: the links, the event and the version move of a committed batch stay;
    the failed batch left nothing, so the 503's count is exact and a resend links the rest."""
    from asgiref.sync import sync_to_async
    from botocore.retries import standard

    from tests.support.dynamo_faults import DynamoFaults

    ids = await sync_to_async(many_documents)(users["owner"].user_id, 60)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    faults = DynamoFaults().attach(botocore_client())
    faults.throttle("TransactWriteItems", after=1)  # the first batch commits, then DynamoDB refuses them all
    path = f"/assessments/{assessment['id']}"
    response = await users["owner"].post(f"{path}/documents", {"document_ids": ids})
    assert response.status == 503, response.body
    assert response.error["details"] == {"written": 25, "total": 60}
    faults.clear()
    faults.detach(botocore_client())
    assert await count_links(users["owner"], assessment["id"]) == 25
    assert await sync_to_async(evidence_version)(assessment["id"]) == 1
    events = (await users["owner"].get(f"{path}/events", limit=100)).body["items"]
    assert [e["details"] for e in events if e["event_type"] == "documents_linked"] == [{"count": 25}]

    again = await users["owner"].post(f"{path}/documents", {"document_ids": ids})
    assert again.status == 200 and again.body["linked"] == 35 and again.body["already_linked"] == 25
    assert await count_links(users["owner"], assessment["id"]) == 60
    assert await sync_to_async(evidence_version)(assessment["id"]) == 1 + 2


async def test_linking_someone_elses_document_is_404_and_links_nothing(users, assessment):
    mine = (await upload(users["owner"])).body["id"]
    theirs = (await upload(users["other"], content=b"their evidence")).body["id"]
    response = await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": [mine, theirs]})
    assert response.status == 404
    assert response.error["details"]["missing"] == [theirs]
    assert await count_links(users["owner"], assessment["id"]) == 0


async def test_a_malformed_document_id_is_422(users, assessment):
    response = await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": ["bad#id"]})
    assert response.status == 422
    assert "document_ids" in response.error["message"]


async def test_links_are_listed_both_ways_and_unlinked(users, assessment):
    document = (await upload(users["owner"])).body
    await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": [document["id"]]})

    listed = (await users["owner"].get(f"/assessments/{assessment['id']}/documents")).body["items"]
    assert [(item["document_id"], item["filename"]) for item in listed] == [(document["id"], "policy.txt")]
    uses = (await users["owner"].get(f"/documents/{document['id']}/assessments")).body["items"]
    assert [item["id"] for item in uses] == [assessment["id"]]

    response = await users["owner"].post(
        f"/assessments/{assessment['id']}/documents/unlink", {"document_ids": [document["id"]]}
    )
    assert response.body["unlinked"] == 1
    assert (await users["owner"].get(f"/documents/{document['id']}/assessments")).body["items"] == []
