"""The documents API: uploads (validated, extracted, deduplicated), linking in bulk, deletion."""

import asyncio

import pytest

from documents.models import Document
from tests.support.api import upload_document
from tra.dynamo.models import TableModel

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
    return await upload_document(client, content, name, content_type)


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
