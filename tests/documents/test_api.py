"""The documents API: uploads (validated, extracted, deduplicated), linking in bulk, deletion."""

import asyncio

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Document
from tests.support import factories
from tra.dynamo.metering import meter
from tra.dynamo.models import TableModel, botocore_client
from tra.dynamo.writes import batch_write

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

POLICY = (
    b"Information Security Policy\n\n"
    b"All customer data at rest is encrypted with AES-256. Keys are rotated every 90 days.\n\n"
    b"Multi-factor authentication is enforced for every administrative account.\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


async def upload(client, content: bytes = POLICY, name: str = "policy.txt", content_type: str = "text/plain"):
    return await client.request(
        "post", "/documents", data={"file": SimpleUploadedFile(name, content, content_type=content_type)}
    )


async def test_an_upload_is_stored_extracted_and_listed(users, media):
    response = await upload(users["owner"])
    assert response.status == 201, response.body
    body = response.body
    assert (body["status"], body["content_type"], body["duplicate"]) == ("extracted", "text/plain", False)
    assert body["chunk_count"] >= 1
    assert (await users["owner"].get(f"/documents/{body['id']}")).body["sha256"] == body["sha256"]
    listed = await users["owner"].get("/documents")
    assert [item["id"] for item in listed.body["items"]] == [body["id"]]
    assert len(stored_files(media)) == 1


async def test_the_same_file_again_returns_the_existing_document(users, media):
    first = await upload(users["owner"])
    again = await upload(users["owner"], name="renamed.txt")
    assert again.status == 200
    assert (again.body["id"], again.body["duplicate"]) == (first.body["id"], True)
    other = await upload(users["other"])  # another owner's copy is their own document
    assert other.status == 201 and other.body["id"] != first.body["id"]
    assert len(stored_files(media)) == 2


async def test_concurrent_uploads_of_one_file_create_one_document(users, media):
    responses = await asyncio.gather(*(upload(users["owner"]) for _ in range(5)))
    assert {r.status for r in responses} <= {200, 201}
    assert len({r.body["id"] for r in responses}) == 1
    assert len((await users["owner"].get("/documents")).body["items"]) == 1
    assert len(stored_files(media)) == 1


async def test_an_oversized_file_is_413_and_nothing_is_stored(users, media, settings):
    settings.DOCUMENT_MAX_BYTES = 100
    response = await upload(users["owner"], content=b"x" * 101)
    assert response.status == 413
    assert response.error["details"]["field"] == "file"
    assert stored_files(media) == []
    assert (await users["owner"].get("/documents")).body["items"] == []


async def test_a_file_of_an_unsupported_type_is_415_and_nothing_is_stored(users, media):
    response = await upload(users["owner"], content=b"\x89PNG\r\n\x1a\n" + bytes(range(256)), name="logo.png")
    assert response.status == 415
    assert stored_files(media) == []


async def test_a_corrupt_pdf_is_422_and_nothing_is_stored(users, media):
    response = await upload(
        users["owner"], content=b"%PDF-1.7\n garbage", name="report.pdf", content_type="application/pdf"
    )
    assert response.status == 422
    assert stored_files(media) == []


async def test_an_empty_file_is_4xx(users):
    response = await upload(users["owner"], content=b"")
    assert 400 <= response.status < 500


async def test_another_users_document_is_404(users):
    body = (await upload(users["owner"])).body
    assert (await users["other"].get(f"/documents/{body['id']}")).status == 404
    assert (await users["other"].delete(f"/documents/{body['id']}")).status == 404


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
    assert response.body == {"linked": 1000, "unlinked": 0}
    assert meter.calls("BatchWriteItem") == 40
    assert meter.calls("BatchGetItem") == 10  # ownership check, 100 keys a call
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


async def test_a_linked_document_cannot_be_deleted_until_unlinked(users, assessment, media):
    document = (await upload(users["owner"])).body
    path = f"/assessments/{assessment['id']}/documents"
    await users["owner"].post(path, {"document_ids": [document["id"]]})
    blocked = await users["owner"].delete(f"/documents/{document['id']}")
    assert blocked.status == 409
    await users["owner"].post(f"{path}/unlink", {"document_ids": [document["id"]]})
    assert (await users["owner"].delete(f"/documents/{document['id']}")).status == 204
    assert (await users["owner"].get(f"/documents/{document['id']}")).status == 404
    assert stored_files(media) == []
    assert TableModel.count(Document.key(document["id"])[0]) == 0  # no chunk left behind
    again = await upload(users["owner"])  # the fingerprint went too: a fresh upload is a new document
    assert again.status == 201
