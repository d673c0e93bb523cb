"""Bad input through the API: hostile or broken uploads, tampered cursors, abusive JSON bodies.

Every refusal is a 4xx in the one error shape ({"error": {"code", "message", "details"}}) whose
message names the problem, and a refused request stores nothing. tests/documents/test_api.py checks
the basic upload statuses (413, 415, corrupt PDF, empty file) and that no file is left; here every
refused upload is also checked against the whole table (no document, passage or fingerprint item),
and the files that lie about their type are added. tests/documents/test_extraction.py covers the
extraction checks one by one, without the API.
"""

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient

from tests.documents import samples
from tests.support.table import table_items

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50) + b"PE\x00\x00" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def _document_items() -> list[dict]:
    """Every document, passage and fingerprint item in the table."""
    return table_items("DOC#", "DOCHASH#")


async def upload(client, content: bytes, name: str, content_type: str):
    return await client.request(
        "post", "/documents", data={"file": SimpleUploadedFile(name, content, content_type=content_type)}
    )


def assert_error_shape(response, status: int, code: str):
    assert response.status == status, (response.status, response.body)
    assert set(response.body) == {"error"}
    assert set(response.error) == {"code", "message", "details"}
    assert response.error["code"] == code, response.body
    assert response.error["message"]


def zip_bomb_docx() -> bytes:
    # 20 MB of zeros deflate to ~20 KB: a 1000:1 part inside an otherwise valid DOCX.
    return samples.docx_with(samples.docx_file("Hello"), {"word/media/image1.png": b"\0" * 20_000_000})


REFUSED_UPLOADS = [
    # (id, filename, declared type, content, status, code, words the message must contain)
    ("wrong-type-png", "logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), 415, "unsupported_type",
     ["logo.png", "not a supported file type"]),
    ("pdf-that-is-an-elf-executable", "report.pdf", PDF, ELF, 415, "unsupported_type",
     ["report.pdf", "not a supported file type"]),
    ("pdf-that-is-a-windows-executable", "report.pdf", PDF, WINDOWS_EXE, 415, "unsupported_type",
     ["report.pdf", "not a supported file type"]),
    ("pdf-that-is-a-zip", "report.pdf", PDF, samples.zip_file({"a.txt": b"hello"}), 415, "unsupported_type",
     ["report.pdf", "not a supported file type"]),
    ("pdf-that-is-a-docx", "report.pdf", PDF, samples.docx_file("Policy"), 415, "type_mismatch",
     ["report.pdf", PDF, DOCX]),
    ("docx-that-is-text-not-a-zip", "policy.docx", DOCX, b"just some text, no zip", 415, "type_mismatch",
     ["policy.docx", DOCX, "text/plain"]),
    ("docx-that-is-binary-junk", "policy.docx", DOCX, bytes(range(256)) * 8, 415, "unsupported_type",
     ["policy.docx", "not a supported file type"]),
    ("docx-with-a-broken-zip", "policy.docx", DOCX, b"PK\x03\x04" + b"\x00" * 100, 422, "corrupt_file",
     ["policy.docx", "could not be opened"]),
    ("corrupt-pdf", "report.pdf", PDF, b"%PDF-1.7\n1 0 obj << /Type /Catalog", 422, "corrupt_file",
     ["report.pdf", "PDF"]),
    ("truncated-pdf", "report.pdf", PDF, samples.pdf(["Encryption at rest"])[:200], 422, "corrupt_file",
     ["report.pdf"]),
    ("empty-file", "empty.txt", "text/plain", b"", 422, "empty_file", ["empty.txt", "empty"]),
    ("zip-bomb-docx", "bomb.docx", DOCX, zip_bomb_docx(), 422, "zip_bomb", ["bomb.docx", "word/media/image1.png"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filename", "declared", "content", "status", "code", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED_UPLOADS],
)
async def test_a_refused_upload_is_a_clear_4xx_and_stores_nothing(
    users, media, filename, declared, content, status, code, words
):
    owner = users["owner"]
    response = await upload(owner, content, filename, declared)
    assert_error_shape(response, status, code)
    assert response.error["details"]["field"] == "file"
    for word in words:
        assert word in response.error["message"], response.error["message"]
    assert stored_files(media) == []
    assert await sync_to_async(_document_items)() == []
    assert (await owner.get("/documents")).body["items"] == []


async def test_an_oversized_upload_is_413_and_stores_nothing(users, media, settings):
    settings.DOCUMENT_MAX_BYTES = 1_000
    response = await upload(users["owner"], b"x" * 1_001, "big.txt", "text/plain")
    assert_error_shape(response, 413, "payload_too_large")
    assert "limit" in response.error["message"]
    assert stored_files(media) == []
    assert await sync_to_async(_document_items)() == []


async def test_a_refused_upload_after_a_good_one_leaves_only_the_good_one(users, media):
    owner = users["owner"]
    good = await upload(owner, b"Encryption policy: AES-256 at rest.", "policy.txt", "text/plain")
    assert good.status == 201
    before = await sync_to_async(_document_items)()
    refused = await upload(owner, ELF, "policy.pdf", PDF)
    assert refused.status == 415
    assert await sync_to_async(_document_items)() == before
    assert len(stored_files(media)) == 1


# --- Tampered cursors ----------------------------------------------------------------


def tampered(cursor: str) -> str:
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


@pytest.fixture
async def listings(users):
    """Every list endpoint with a cursor, with the client allowed to read it, and two genuine cursors."""
    owner, reviewer = users["owner"], users["reviewer"]
    first = (await owner.post("/assessments", {"title": "Acme cloud hosting"})).body
    await owner.post("/assessments", {"title": "Beta payroll"})
    document = (await upload(owner, b"Encryption policy.", "policy.txt", "text/plain")).body
    await upload(owner, b"Access policy.", "access.txt", "text/plain")
    await owner.post(f"/assessments/{first['id']}/documents", {"document_ids": [document["id"]]})
    await owner.post(f"/assessments/{first['id']}/questions", {"text": "Is data encrypted?"})
    session = (await owner.post("/chat/sessions", {"title": "Acme"})).body
    assessments_cursor = (await owner.get("/assessments", limit=1)).body["next_cursor"]
    documents_cursor = (await owner.get("/documents", limit=1)).body["next_cursor"]
    assert assessments_cursor and documents_cursor
    a, s, d = first["id"], session["id"], document["id"]
    endpoints = [
        (owner, "/assessments"),
        (reviewer, "/assessments/review-queue"),
        (owner, f"/assessments/{a}/events"),
        (owner, f"/assessments/{a}/reviews"),
        (owner, f"/assessments/{a}/questions"),
        (owner, f"/assessments/{a}/documents"),
        (owner, "/documents"),
        (owner, f"/documents/{d}/assessments"),
        (owner, "/chat/sessions"),
        (owner, f"/chat/sessions/{s}/messages"),
    ]
    templates = {
        path.replace(a, "{assessment_id}").replace(d, "{document_id}").replace(s, "{session_id}")
        for _, path in endpoints
    }
    return endpoints, templates, assessments_cursor, documents_cursor


def test_every_list_endpoint_with_a_cursor_is_covered(listings):
    from tra.api import api

    documented = {
        path.removeprefix("/api")
        for path, item in api.get_openapi_schema()["paths"].items()
        if any(parameter["name"] == "cursor" for parameter in item.get("get", {}).get("parameters", []))
    }
    assert listings[1] == documented


async def test_a_tampered_forged_or_foreign_cursor_is_400_invalid_cursor_on_every_list(listings):
    endpoints, _, assessments_cursor, documents_cursor = listings
    for client, path in endpoints:
        foreign = documents_cursor if path == "/assessments" else assessments_cursor
        for cursor in ("not-a-cursor", tampered(assessments_cursor), "e30:1tNIuV:forged-signature", foreign):
            response = await client.get(path, cursor=cursor)
            assert_error_shape(response, 400, "invalid_cursor")
            assert response.error["details"] == {"field": "cursor"}, (path, cursor)


# --- Abusive JSON bodies -------------------------------------------------------------


async def raw_post(client, path: str, body: bytes | str, content_type: str = "application/json"):
    return await client.request("post", path, data=body, content_type=content_type)


async def assert_no_assessment(client):
    assert (await client.get("/assessments")).body["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 10_000 + "]" * 10_000, id="10000-nested-arrays"),
        pytest.param("[" * 10_000, id="10000-unclosed-arrays"),
        pytest.param('{"title": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}", id="5000-nested-objects"),
    ],
)
async def test_deeply_nested_json_is_400_not_a_recursion_error(users, body):
    response = await raw_post(users["owner"], "/assessments", body)
    assert_error_shape(response, 400, "invalid_json")
    if body.endswith("]"):
        assert "nested too deeply" in response.error["message"]
    await assert_no_assessment(users["owner"])


async def test_a_json_body_over_the_request_limit_is_413_in_the_error_shape(users, settings):
    body = json.dumps({"title": "Acme", "description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = await raw_post(users["owner"], "/assessments", body)
    assert_error_shape(response, 413, "payload_too_large")
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}" in response.error["message"]
    await assert_no_assessment(users["owner"])


async def test_a_large_json_body_under_the_limit_is_422_naming_the_field(users):
    response = await users["owner"].post("/assessments", {"title": "Acme", "description": "x" * 1_000_000})
    assert_error_shape(response, 422, "validation_failed")
    assert "description" in response.error["message"]
    await assert_no_assessment(users["owner"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param('"Acme"', "not a string", id="a-string"),
        pytest.param('["Acme"]', "not an array", id="an-array"),
        pytest.param("42", "not a number", id="a-number"),
        pytest.param("null", "not null", id="null"),
        pytest.param('{"title": "Acme"', "not valid JSON", id="truncated"),
        pytest.param("title=Acme", "not valid JSON", id="not-json"),
        pytest.param(b'{"title": "\xff\xfe"}', "UTF-8", id="not-utf8"),
        pytest.param('{"title": "Acme", "metadata": {"score": NaN}}', "NaN", id="nan"),
        pytest.param('{"title": "Acme", "metadata": {"score": Infinity}}', "Infinity", id="infinity"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400_invalid_json(users, body, words):
    response = await raw_post(users["owner"], "/assessments", body)
    assert_error_shape(response, 400, "invalid_json")
    assert words in response.error["message"]
    await assert_no_assessment(users["owner"])


async def test_a_json_string_body_no_longer_creates_a_chat_session(users):
    # Regression (Schemathesis): ninja read the string through attribute access, so "abc" made a
    # session titled "Abc" (str.title()).
    response = await raw_post(users["owner"], "/chat/sessions", '"abc"')
    assert_error_shape(response, 400, "invalid_json")
    assert (await users["owner"].get("/chat/sessions")).body["items"] == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"title": "Acme"}'),
        ("application/x-www-form-urlencoded", "title=Acme"),
        ("application/xml", "<assessment><title>Acme</title></assessment>"),
        ("", '{"title": "Acme"}'),
    ],
)
async def test_a_json_endpoint_refuses_another_content_type_with_415(users, content_type, body):
    response = await raw_post(users["owner"], "/assessments", body, content_type=content_type)
    assert_error_shape(response, 415, "unsupported_media_type")
    assert "application/json" in response.error["message"]
    await assert_no_assessment(users["owner"])


async def test_a_json_endpoint_refuses_multipart_with_415(users):
    response = await users["owner"].request("post", "/assessments", data={"title": "Acme"})  # multipart
    assert_error_shape(response, 415, "unsupported_media_type")
    await assert_no_assessment(users["owner"])


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(users):
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await raw_post(users["owner"], "/assessments", '{"title": "Acme"}', content_type=content_type)
        assert response.status == 201, (content_type, response.body)


async def test_sign_in_and_token_endpoints_refuse_bad_json_in_the_error_shape(users, transactional_db):
    # Regression (Schemathesis): a body that did not parse was an undocumented 400 on these two.
    response = await raw_post(users["owner"], "/auth/tokens", b"\x00")
    assert_error_shape(response, 400, "invalid_json")
    anonymous = AsyncClient()
    response = await anonymous.post("/api/auth/login", data=b"\x00", content_type="application/json")
    assert response.status_code in (400, 403)  # 403 when the CSRF check (a session endpoint) comes first
    assert set(json.loads(response.content)["error"]) == {"code", "message", "details"}


# --- Values the schema allowed but DynamoDB could not store (found by Schemathesis) ----


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (1e-200, 0),
        (-4.39e-154, 0),
        (1e125, 1e125),
        (10**37, 10**37),
        (10**40, 1e40),  # beyond 38 digits an integer is kept as a float
        (2.5, 2.5),
        ("", ""),
        (True, True),
    ],
)
async def test_metadata_numbers_are_stored_within_dynamodbs_range(users, value, stored):
    response = await users["owner"].post("/assessments", {"title": "Acme", "metadata": {"score": value}})
    assert response.status == 201, response.body
    assert response.body["metadata"] == {"score": stored}


@pytest.mark.parametrize(
    "metadata",
    [{"score": 1e200}, {"score": -1e126}, {"score": 10**200}, {"": "empty key"}, {"k" * 101: 1}, {"note": "x" * 1001}],
)
async def test_metadata_dynamodb_cannot_store_is_422_not_503(users, metadata):
    response = await users["owner"].post("/assessments", {"title": "Acme", "metadata": metadata})
    assert_error_shape(response, 422, "validation_failed")
    assert "metadata" in response.error["message"]
    await assert_no_assessment(users["owner"])


@pytest.mark.parametrize("blank", [" \t ", "\x1d", " \x1c\u00a0"])
async def test_blank_text_is_422_and_the_schema_says_so(users, blank):
    # Regression (Schemathesis): the schema allowed any non-empty text, the handler refused blank text
    # (str.strip, which also strips U+001C..U+001F) with a 422 the schema did not announce.
    from assessments.schemas import NOT_BLANK
    from tra.api import api

    response = await users["owner"].post("/assessments", {"title": blank})
    assert_error_shape(response, 422, "validation_failed")
    assert "title" in response.error["message"]
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert schemas["AssessmentIn"]["properties"]["title"]["pattern"] == NOT_BLANK
    assert schemas["QuestionIn"]["properties"]["text"]["pattern"] == NOT_BLANK
    assert schemas["MessageIn"]["properties"]["text"]["pattern"] == NOT_BLANK


async def test_a_question_without_an_order_after_the_last_possible_one_is_409_not_422(users):
    # Regression (Schemathesis): with a question at the last order (999999), adding one without an
    # order blamed the request ("order must be between...", 422) for the questionnaire's state.
    owner = users["owner"]
    assessment = (await owner.post("/assessments", {"title": "Acme"})).body
    path = f"/assessments/{assessment['id']}/questions"
    assert (await owner.post(path, {"text": "Last one", "order": 999_999})).status == 201
    for response in (
        await owner.post(path, {"text": "One more"}),
        await owner.post(f"{path}/import", {"questions": [{"text": "One more"}]}),
    ):
        assert_error_shape(response, 409, "invalid_state")
        assert response.error["details"] == {"field": "order"}
    assert (await owner.post(path, {"text": "Explicit", "order": 5})).status == 201


# --- Malformed multipart (no boundary) ----------------------------------------------------


async def _import_csv_path(client) -> str:
    assessment = (await client.post("/assessments", {"title": "Acme"})).body
    return f"/assessments/{assessment['id']}/questions/import-csv"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
@pytest.mark.parametrize("target", ["upload", "import-csv"])
async def test_multipart_without_a_boundary_is_400_in_the_error_shape(
    users, settings, media, debug, content_type, target
):
    settings.DEBUG = debug
    owner = users["owner"]
    path = "/documents" if target == "upload" else await _import_csv_path(owner)
    body = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n'

    response = await raw_post(owner, path, body, content_type=content_type)

    assert_error_shape(response, 400, "invalid_multipart")
    assert "boundary" in response.error["message"]
    assert _document_items() == [] and stored_files(media) == []


# --- Strict integers: a boolean is not a number ------------------------------------------


async def test_a_boolean_for_an_integer_field_is_422_naming_the_field(users):
    owner = users["owner"]
    assessment = (await owner.post("/assessments", {"title": "Acme"})).body
    path = f"/assessments/{assessment['id']}"

    for value in (False, True):
        response = await owner.post(f"{path}/questions", {"text": "Is data encrypted?", "order": value})
        assert_error_shape(response, 422, "validation_failed")
        assert "order" in response.error["message"]
    response = await owner.patch(path, {"version": True, "title": "Acme 2"})
    assert_error_shape(response, 422, "validation_failed")
    assert "version" in response.error["message"]
    response = await owner.get("/assessments", limit="true")
    assert_error_shape(response, 422, "validation_failed")
    assert "limit" in response.error["message"]

    detail = (await owner.get(path)).body
    assert (detail["title"], detail["version"], detail["questions"]) == ("Acme", assessment["version"], [])
    # A real integer still works, and a boolean metadata value stays a boolean.
    assert (await owner.post(f"{path}/questions", {"text": "Is data encrypted?", "order": 0})).status == 201
    updated = await owner.patch(path, {"version": assessment["version"], "metadata": {"flag": True, "n": 1}})
    assert updated.status == 200, updated.body
    assert updated.body["metadata"] == {"flag": True, "n": 1}
