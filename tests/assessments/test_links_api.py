"""Linking evidence to an assessment: bulk link and unlink (BatchWriteItem), both directions of listing."""

import pytest

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


async def test_linking_1000_documents_takes_40_batch_writes(users, assessment):
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(many_documents)(users["owner"].user_id, 1000)
    meter.reset()
    response = await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})
    assert response.status == 200, response.body
    assert response.body == {"linked": 1000, "already_linked": 0, "unlinked": 0}
    assert meter.calls("BatchWriteItem") == 40
    assert meter.calls("BatchGetItem") == 10 + 10  # ownership, then which are linked already: 100 keys a call
    assert meter.calls("PutItem") == 40  # one documents_linked event per batch written
    linked = await count_links(users["owner"], assessment["id"])
    assert linked == 1000


async def count_links(client, assessment_id: str) -> int:
    return len(await client.all_items(f"/assessments/{assessment_id}/documents"))


async def test_unprocessed_items_are_retried_and_no_link_is_lost(users, assessment, monkeypatch):
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(many_documents)(users["owner"].user_id, 60)
    client = botocore_client()
    real = client.batch_write_item
    refused = {"count": 0}

    def flaky_batch_write_item(**kwargs):
        # DynamoDB under pressure: accept only the first 10 requests of each call.
        ((table, requests),) = kwargs["RequestItems"].items()
        response = real(RequestItems={table: requests[:10]})
        if len(requests) > 10:
            refused["count"] += len(requests) - 10
            response["UnprocessedItems"] = {table: requests[10:]}
        return response

    monkeypatch.setattr(client, "batch_write_item", flaky_batch_write_item)
    monkeypatch.setattr("tra.dynamo.writes.BACKOFF_BASE_SECONDS", 0.001)
    response = await users["owner"].post(f"/assessments/{assessment['id']}/documents", {"document_ids": ids})
    assert response.status == 200
    assert refused["count"] > 0
    assert await count_links(users["owner"], assessment["id"]) == 60


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
