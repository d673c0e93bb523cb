"""Answer suggestions and document summaries through the API, on the offline provider and on a fake Bedrock."""

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.models import Assessment
from devtools.fake_bedrock import FakeBedrock
from tests.support import factories
from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

SOC2 = (
    "Acme Cloud completed a SOC 2 Type II examination in 2024.\n\n"
    "All customer data at rest is encrypted with AES-256, and keys are rotated every 90 days.\n\n"
    "Backups are taken nightly and restored in a quarterly recovery test."
)
POLICY = "Access policy.\n\nMulti-factor authentication is enforced for all administrative accounts."


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    caches["llm"].clear()
    yield
    caches["llm"].clear()


async def upload(client, name: str, text: str) -> dict:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/plain")
    return (await client.request("post", "/documents", data={"file": file})).body


@pytest.fixture
async def prepared(users):
    owner = users["owner"]
    soc2 = await upload(owner, "soc2.txt", SOC2)
    policy = await upload(owner, "policy.txt", POLICY)
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud"})).body
    path = f"/assessments/{assessment['id']}"
    questions = (
        await owner.post(
            f"{path}/questions/import",
            {"questions": [{"text": "Is customer data encrypted at rest?"}, {"text": "Is MFA enforced for admins?"}]},
        )
    ).body["questions"]
    await owner.post(f"{path}/documents", {"document_ids": [soc2["id"], policy["id"]]})
    return {"path": path, "questions": questions, "soc2": soc2, "policy": policy}


async def test_a_suggestion_cites_the_passage_that_holds_the_answer(users, prepared):
    question = prepared["questions"][0]
    response = await users["owner"].post(f"{prepared['path']}/questions/{question['id']}/suggestion")
    assert response.status == 200, response.body
    suggestion = response.body["suggestion"]
    assert suggestion["provider"] == "extractive" and suggestion["model"] is None
    assert "AES-256" in suggestion["text"]
    assert suggestion["citations"][0]["document_id"] == prepared["soc2"]["id"]
    assert "AES-256" in suggestion["citations"][0]["quote"]
    assert response.body["answer"] is None  # a suggestion waits for a human
    detail = (await users["owner"].get(prepared["path"])).body
    assert detail["questions"][0]["suggestion"]["text"] == suggestion["text"]


async def test_bulk_suggestions_cover_every_unanswered_question(users, prepared):
    answered = prepared["questions"][1]
    await users["owner"].put(
        f"{prepared['path']}/questions/{answered['id']}/answer", {"answer": "Yes", "version": answered["version"]}
    )
    response = await users["owner"].post(f"{prepared['path']}/suggestions")
    assert response.status == 200
    assert [q["id"] for q in response.body["items"]] == [prepared["questions"][0]["id"]]


async def test_another_users_question_gets_no_suggestion(users, prepared):
    question = prepared["questions"][0]
    response = await users["other"].post(f"{prepared['path']}/questions/{question['id']}/suggestion")
    assert response.status == 404


async def test_a_document_summary_is_stored_on_the_document(users, prepared):
    document = prepared["soc2"]
    response = await users["owner"].post(f"/documents/{document['id']}/summary")
    assert response.status == 200, response.body
    assert response.body["provider"] == "extractive"
    assert "SOC 2" in response.body["summary"] or "AES-256" in response.body["summary"]
    stored = (await users["owner"].get(f"/documents/{document['id']}")).body
    assert (stored["summary"], stored["status"]) == (response.body["summary"], "summarized")


async def test_on_bedrock_the_same_summary_is_one_call_and_refresh_makes_another(users, prepared, settings):
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        path = f"/documents/{prepared['soc2']['id']}/summary"
        first = await users["owner"].post(path)
        second = await users["owner"].post(path)
        assert (first.status, second.status) == (200, 200)
        assert (first.body["provider"], first.body["cached"], second.body["cached"]) == ("bedrock", False, True)
        assert fake.converse_calls == 1
        refreshed = await users["owner"].post(path + "?refresh=true")
        assert refreshed.body["cached"] is False
        assert fake.converse_calls == 2


async def test_bedrock_throttled_throughout_is_a_503_with_retry_after_and_nothing_stored(users, prepared, settings):
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        fake.throttle_always = True
        question = prepared["questions"][0]
        response = await users["owner"].post(f"{prepared['path']}/questions/{question['id']}/suggestion")
        assert response.status == 503
        assert response.error["code"] == "service_unavailable"
        assert response.headers["Retry-After"]
        detail = (await users["owner"].get(prepared["path"])).body
        assert detail["questions"][0]["suggestion"] is None
        fake.throttle_always = False
        recovered = await users["owner"].post(f"{prepared['path']}/questions/{question['id']}/suggestion")
        assert recovered.status == 200  # nothing of the failure was cached


async def test_llm_stats_are_for_staff_and_metrics_are_prometheus_text(users, prepared):
    await users["owner"].post(f"/documents/{prepared['soc2']['id']}/summary")
    assert (await users["owner"].get("/llm/stats")).status == 403
    stats = await users["staff"].get("/llm/stats")
    assert stats.status == 200 and "hits" in stats.body

    from django.test import AsyncClient

    metrics = await AsyncClient().get("/metrics")
    text = metrics.content.decode()
    assert metrics.status_code == 200 and metrics["Content-Type"].startswith("text/plain")
    assert "tra_llm_hits " in text
    assert 'tra_dynamodb_calls_total{operation="Query",index="table"}' in text


def linked_evidence(assessment_id: str, owner_id: str, documents: int) -> str:
    """`documents` documents of two passages each, linked to the assessment; the last one holds the
    answer. Its id."""
    parent = Assessment.get(*Assessment.key(assessment_id))
    answer = None
    for number in range(documents):
        document = factories.document(owner_id=owner_id, filename=f"evidence-{number:03d}.txt", status="extracted")
        factories.chunk(document, number=0, text=f"Vendor note {number}: the office opens at nine.")
        last = number == documents - 1
        text = "Customer data at rest is encrypted with AES-256." if last else "Staff badges are renewed yearly."
        factories.chunk(document, number=1, text=text)
        factories.link(parent, document, linked_by=owner_id)
        answer = document.document_id
    return answer


@pytest.mark.parametrize("documents", [1, 120])
async def test_a_suggestion_reads_a_bounded_number_of_items_however_many_documents_are_linked(users, documents):
    """Once the assessment's retrieval index exists (assessments/services/evidence.py), a suggestion is
    4 DynamoDB calls at 1 or 120 linked documents: GetItem of the assessment, of the question and of its
    evidence version, and the UpdateItem that stores it. The first builds the index: T7's Query, each
    document once (BatchGetItem + T11, for every later request, assessment and user) and the version
    again (it was one Query per document per request). tests/assessments/test_retrieval_index.py has more."""
    owner = users["owner"]
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud"})).body
    path = f"/assessments/{assessment['id']}"
    imported = await owner.post(f"{path}/questions/import", {"questions": [{"text": "Is data encrypted at rest?"}]})
    question = imported.body["questions"][0]
    answer = await sync_to_async(linked_evidence)(assessment["id"], owner.user_id, documents)

    meter.reset()
    cold = await owner.post(f"{path}/questions/{question['id']}/suggestion?refresh=true")
    assert cold.status == 200, cold.body
    batches = -(-documents // 100)
    assert meter.calls() == 6 + batches + documents  # + T7's Query, BatchGetItem of the #META items, T11 each
    meter.reset()
    warm = await owner.post(f"{path}/questions/{question['id']}/suggestion?refresh=true")
    assert warm.status == 200
    assert warm.body["suggestion"]["citations"] == cold.body["suggestion"]["citations"]
    assert warm.body["suggestion"]["citations"][0]["document_id"] == answer
    assert "AES-256" in warm.body["suggestion"]["citations"][0]["quote"]
    assert meter.calls() == 4
    assert (meter.calls("GetItem"), meter.calls("Query"), meter.calls("UpdateItem")) == (3, 0, 1)
