"""Bedrock faults under the real API, on the fake Bedrock server (real wire format):
throttling, 5xx, replies slower than the read timeout, dropped connections.

Asserted each time: the calls the server received (bounded retries), the answer
(200 once the retries absorb the fault, else a 503 with Retry-After and the JSON
error shape), nothing stored from the failure, no error cached (the next identical
request calls Bedrock again and succeeds), and recovery in the same process.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from devtools.fake_bedrock import FakeBedrock
from tests.reliability.conftest import MAX_ATTEMPTS
from tests.support.dynamo_faults import INJECTED

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

SOC2 = (
    "Acme Cloud completed a SOC 2 Type II examination in 2024.\n\n"
    "All customer data at rest is encrypted with AES-256, and keys are rotated every 90 days.\n\n"
    "Backups are taken nightly and restored in a quarterly recovery test."
)


@pytest.fixture
def bedrock(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url  # rebuilds the client registry
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = ""
        yield fake


@pytest.fixture
async def document(users, bedrock) -> dict:
    file = SimpleUploadedFile("soc2.txt", SOC2.encode(), content_type="text/plain")
    response = await users["owner"].request("post", "/documents", data={"file": file})
    assert response.status == 201, response.body
    return response.body


def assert_unavailable(response, *, retry_after: str) -> dict:
    assert response.status == 503, response.body
    assert set(response.body) == {"error"} and set(response.error) == {"code", "message", "details"}
    assert response.error["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == retry_after
    return response.error


async def summarize(client, document: dict):
    return await client.post(f"/documents/{document['id']}/summary")


async def assert_nothing_stored_then_recovers(client, document: dict, bedrock: FakeBedrock) -> None:
    """The failure left no summary; the next identical request calls Bedrock again (no error
    was cached) and succeeds; the one after is answered from the cache."""
    stored = (await client.get(f"/documents/{document['id']}")).body
    assert (stored["summary"], stored["status"]) == (None, "extracted")
    calls = bedrock.converse_calls
    recovered = await summarize(client, document)
    assert recovered.status == 200, recovered.body
    assert (recovered.body["provider"], recovered.body["cached"]) == ("bedrock", False)
    assert bedrock.converse_calls == calls + 1
    again = await summarize(client, document)
    assert again.body["cached"] is True and bedrock.converse_calls == calls + 1
    assert (await client.get(f"/documents/{document['id']}")).body["status"] == "summarized"


async def test_throttling_is_retried_with_backoff_and_the_summary_succeeds(users, bedrock, document, backoff):
    bedrock.throttle_next = MAX_ATTEMPTS - 1

    response = await summarize(users["owner"], document)

    assert response.status == 200, response.body
    assert bedrock.converse_calls == MAX_ATTEMPTS
    assert len(backoff) == MAX_ATTEMPTS - 1
    INJECTED["bedrock throttle"] += MAX_ATTEMPTS - 1


async def test_throttling_throughout_is_a_503_never_cached_and_recovers(users, bedrock, document):
    bedrock.throttle_always = True

    response = await summarize(users["owner"], document)

    error = assert_unavailable(response, retry_after="10")
    assert error["details"] == {"error_code": "ThrottlingException", "attempts": MAX_ATTEMPTS}
    assert bedrock.converse_calls == MAX_ATTEMPTS
    INJECTED["bedrock throttle"] += MAX_ATTEMPTS
    bedrock.throttle_always = False
    await assert_nothing_stored_then_recovers(users["owner"], document, bedrock)


async def test_5xx_is_retried_then_a_503_never_cached_and_recovers(users, bedrock, document):
    bedrock.fail_next = 1
    once = await summarize(users["owner"], document)
    assert once.status == 200 and bedrock.converse_calls == 2  # one 500, then the retry answered
    bedrock.fail_next = 1000

    # The summary above is cached now; a refresh is what calls Bedrock again.
    response = await users["owner"].post(f"/documents/{document['id']}/summary?refresh=true")

    error = assert_unavailable(response, retry_after="5")
    assert error["details"] == {"error_code": "InternalServerException", "attempts": MAX_ATTEMPTS}
    assert bedrock.converse_calls == 2 + MAX_ATTEMPTS
    INJECTED["bedrock 5xx"] += 1 + MAX_ATTEMPTS
    bedrock.fail_next = 0
    refreshed = await users["owner"].post(f"/documents/{document['id']}/summary?refresh=true")
    assert refreshed.status == 200 and refreshed.body["cached"] is False
    assert bedrock.converse_calls == 3 + MAX_ATTEMPTS


async def test_a_reply_slower_than_the_read_timeout_is_one_billed_call_then_a_503_and_recovers(
    users, bedrock, document, settings
):
    # The model runs past BEDROCK_READ_TIMEOUT_SECONDS: botocore would retry the timeout up to
    # AWS_MAX_ATTEMPTS times, each one a model run billed; the call is made once.
    settings.AWS_READ_TIMEOUT_SECONDS = 30.0  # DynamoDB's: not the one a model call uses
    settings.BEDROCK_READ_TIMEOUT_SECONDS = 0.2  # rebuilds the Bedrock client with it
    bedrock.latency = 1.0

    response = await summarize(users["owner"], document)

    error = assert_unavailable(response, retry_after="10")
    assert "not retried" in error["message"]
    assert error["details"] == {"error_code": "ReadTimeoutError", "attempts": 1}
    assert bedrock.converse_calls == 1
    INJECTED["bedrock slow reply"] += 1
    bedrock.latency = 0.0
    await assert_nothing_stored_then_recovers(users["owner"], document, bedrock)


async def test_a_throttled_then_slow_model_stops_at_the_deadline_with_a_503(users, bedrock, document, settings):
    # Throttling is retried (no reply was billed) but the whole call, retries included, has
    # BEDROCK_DEADLINE_SECONDS; the slow attempt is the last one made.
    settings.BEDROCK_READ_TIMEOUT_SECONDS = 30.0
    settings.BEDROCK_DEADLINE_SECONDS = 0.5
    bedrock.throttle_next = 1
    bedrock.latency = 2.0

    response = await summarize(users["owner"], document)

    error = assert_unavailable(response, retry_after="10")
    assert error["details"] == {"error_code": "DeadlineExceeded"}
    assert bedrock.converse_calls <= 2  # the throttled call and at most one slow one: no retry of it
    INJECTED["bedrock slow reply"] += 1
    bedrock.latency = 0.0
    await assert_nothing_stored_then_recovers(users["owner"], document, bedrock)


async def test_dropped_connections_are_retried_then_a_503_and_recover(users, bedrock, document):
    bedrock.drop_next = 1
    once = await summarize(users["owner"], document)
    assert once.status == 200, once.body
    assert bedrock.converse_calls == 2
    bedrock.drop_next = 1000

    response = await users["owner"].post(f"/documents/{document['id']}/summary?refresh=true")

    assert_unavailable(response, retry_after="5")
    assert bedrock.converse_calls == 2 + MAX_ATTEMPTS
    INJECTED["bedrock dropped connection"] += 1 + MAX_ATTEMPTS
    bedrock.drop_next = 0
    refreshed = await users["owner"].post(f"/documents/{document['id']}/summary?refresh=true")
    assert refreshed.status == 200 and bedrock.converse_calls == 3 + MAX_ATTEMPTS


async def test_a_suggestion_while_bedrock_drops_connections_stores_nothing_then_recovers(users, bedrock, document):
    owner = users["owner"]
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud"})).body
    path = f"/assessments/{assessment['id']}"
    question = (await owner.post(f"{path}/questions", {"text": "Is customer data encrypted at rest?"})).body
    await owner.post(f"{path}/documents", {"document_ids": [document["id"]]})
    bedrock.drop_next = 1000

    response = await owner.post(f"{path}/questions/{question['id']}/suggestion")

    assert_unavailable(response, retry_after="5")
    assert bedrock.converse_calls == MAX_ATTEMPTS
    INJECTED["bedrock dropped connection"] += MAX_ATTEMPTS
    stored = (await owner.get(path)).body["questions"][0]
    assert (stored["suggestion"], stored["version"]) == (None, question["version"])
    bedrock.drop_next = 0
    recovered = await owner.post(f"{path}/questions/{question['id']}/suggestion")
    assert recovered.status == 200, recovered.body
    assert recovered.body["suggestion"]["provider"] == "bedrock"
    assert bedrock.converse_calls == MAX_ATTEMPTS + 1
