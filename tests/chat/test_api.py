"""The chat API: sessions, messages, and each intent answered through the same services as the API."""

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.intents import MIN_ANSWER_RELEVANCE
from chat.services import routing_totals
from devtools.fake_bedrock import FakeBedrock

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

SOC2 = "Acme Cloud SOC 2 Type II report.\n\nAll customer data at rest is encrypted with AES-256.\n\nMFA is enforced."


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    caches["llm"].clear()
    yield
    caches["llm"].clear()


@pytest.fixture
async def world(users):
    owner = users["owner"]
    file = SimpleUploadedFile("soc2-report.txt", SOC2.encode(), content_type="text/plain")
    document = (await owner.request("post", "/documents", data={"file": file})).body
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud hosting"})).body
    path = f"/assessments/{assessment['id']}"
    await owner.post(f"{path}/questions/import", {"questions": [{"text": "Is data encrypted at rest?"}]})
    await owner.post(f"{path}/documents", {"document_ids": [document["id"]]})
    session = (await owner.post("/chat/sessions", {"title": "Acme", "assessment_id": assessment["id"]})).body
    return {"assessment": assessment, "document": document, "session": session}


async def say(client, session, text):
    response = await client.post(f"/chat/sessions/{session['id']}/messages", {"text": text})
    assert response.status == 201, response.body
    return response.body["reply"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("/help", "help", "I can help"),
        ("show my assessments", "list_assessments", "Acme Cloud hosting"),
        ("what's the status of this assessment?", "assessment_status", "0 of 1 questions answered"),
        ("which documents are linked?", "list_documents", "soc2-report.txt"),
        ("summarize soc2-report.txt", "summarize_document", "Summary of soc2-report.txt"),
        ("suggest an answer for question 1", "suggest_answer", "AES-256"),
        ("hello", "general", "Hello"),
    ],
)
async def test_each_intent_is_answered_through_the_services(users, world, text, intent, expected):
    reply = await say(users["owner"], world["session"], text)
    assert reply["intent"] == intent
    assert reply["tier"] != "llm"  # a fast tier, free
    assert expected in reply["content"]


async def test_a_suggestion_from_chat_is_stored_on_the_question_with_citations(users, world):
    reply = await say(users["owner"], world["session"], "suggest answers for all unanswered questions")
    [item] = reply["tool_result"]["suggestions"]
    assert item["citations"][0]["document_id"] == world["document"]["id"]
    detail = (await users["owner"].get(f"/assessments/{world['assessment']['id']}")).body
    assert "AES-256" in detail["questions"][0]["suggestion"]["text"]


async def test_submitting_from_chat_is_a_proposal_that_moves_the_assessment_once_confirmed(users, world):
    owner, session = users["owner"], world["session"]
    reply = await say(owner, session, "/submit")
    assert reply["intent"] == "submit_assessment"
    action = reply["proposed_action"]
    assert (await owner.get(f"/assessments/{world['assessment']['id']}")).body["state"] == "draft"
    confirmed = await owner.post(f"/chat/sessions/{session['id']}/actions/{action['id']}/confirm", {})
    assert confirmed.body["reply"]["tool_result"]["state"] == "submitted"
    again = await say(owner, session, "/submit")
    assert again["proposed_action"] is None and "can be submitted" in again["content"]  # explained, not a 409


async def test_a_missing_argument_gets_a_clarifying_reply(users):
    session = (await users["owner"].post("/chat/sessions", {"title": "loose"})).body
    reply = await say(users["owner"], session, "/summarize")
    assert reply["tool_result"] == {"clarify": "document"}
    reply = await say(users["owner"], session, "/status")
    assert reply["tool_result"] == {"clarify": "assessment"}


async def test_messages_are_stored_in_order_and_paged(users, world):
    session = world["session"]
    await say(users["owner"], session, "/help")
    await say(users["owner"], session, "show my assessments")
    page = (await users["owner"].get(f"/chat/sessions/{session['id']}/messages", limit=3)).body
    assert [m["role"] for m in page["items"]] == ["user", "assistant", "user"]
    newest = (await users["owner"].get(f"/chat/sessions/{session['id']}/messages", order="desc", limit=1)).body
    assert newest["items"][0]["intent"] == "list_assessments"
    sessions = (await users["owner"].get("/chat/sessions")).body["items"]
    assert sessions[0]["message_count"] == 4


async def test_nobody_reads_or_writes_another_users_session(users, world):
    session = world["session"]
    other = users["other"]
    assert (await other.get(f"/chat/sessions/{session['id']}")).status == 404
    assert (await other.get(f"/chat/sessions/{session['id']}/messages")).status == 404
    assert (await other.post(f"/chat/sessions/{session['id']}/messages", {"text": "hi"})).status == 404
    assert (await other.get("/chat/sessions")).body["items"] == []
    tied = await other.post("/chat/sessions", {"assessment_id": world["assessment"]["id"]})
    assert tied.status == 404


async def test_an_open_question_is_answered_from_the_documents_in_one_llm_call(users, world, settings):
    before = routing_totals().get("routing.tier.llm", 0)
    prompts = []

    def model(request):
        prompts.append(request.body["messages"][0]["content"][0]["text"])
        return "INTENT: general\nCustomer data at rest is encrypted with AES-256 [1]."

    with FakeBedrock() as fake:
        fake.responder = model
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        reply = await say(users["owner"], world["session"], "what does the soc 2 report say about encryption?")
        assert (reply["intent"], reply["tier"]) == ("general", "llm")
        assert reply["content"] == "Customer data at rest is encrypted with AES-256 [1]."
        [citation] = reply["tool_result"]["citations"]
        assert citation["document_id"] == world["document"]["id"]
        assert "AES-256" in citation["quote"]
        assert fake.converse_calls == 1  # classified and answered by the same call
        assert reply["confidence"] == reply["tool_result"]["confidence"] > 0  # the passages', not the routing's
        assert "[1] " in prompts[0] and "AES-256" in prompts[0]  # the passages went with the message
        fast = await say(users["owner"], world["session"], "/help")
        assert fast["tier"] == "regex" and fake.converse_calls == 1  # the fast tier made no call
        again = await say(users["owner"], world["session"], "what does the soc 2 report say about encryption?")
        assert again["content"] == reply["content"] and fake.converse_calls == 1  # a repeat is a cache hit
    assert routing_totals()["routing.tier.llm"] == before + 2


async def test_a_model_reply_without_an_answer_costs_no_second_call(users, world, settings):
    with FakeBedrock() as fake:
        fake.responder = lambda request: "I am not sure."
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        reply = await say(users["owner"], world["session"], "hmm, what about the thing from before?")
        assert reply["intent"] == "general" and "rephrase" in reply["content"]
        assert fake.converse_calls == 1


async def test_offline_an_open_question_quotes_the_documents(users, world):
    reply = await say(users["owner"], world["session"], "how is customer data at rest protected?")
    assert (reply["intent"], reply["tier"]) == ("general", "llm")
    assert "AES-256" in reply["content"]
    assert reply["tool_result"]["provider"] == "extractive"
    assert reply["confidence"] == reply["tool_result"]["confidence"] >= MIN_ANSWER_RELEVANCE  # what it was built on


async def test_an_open_question_no_passage_answers_says_so_and_what_to_upload(users, world):
    reply = await say(users["owner"], world["session"], "what is the breach notification timeline for incidents?")
    assert reply["intent"] == "general"
    assert "No passage in Acme Cloud hosting's documents answers this reliably" in reply["content"]
    assert "Upload a document that covers breach, notification, timeline" in reply["content"]
    assert "AES-256" not in reply["content"] and "MFA" not in reply["content"]  # no unrelated sentence quoted
    assert reply["tool_result"]["answered"] is False and reply["tool_result"]["citations"] == []
    assert reply["confidence"] == reply["tool_result"]["confidence"] < MIN_ANSWER_RELEVANCE


async def test_a_weak_match_is_not_quoted_as_an_answer(users, world):
    reply = await say(users["owner"], world["session"], "how long is customer data retained after termination?")
    assert "answers this reliably" in reply["content"] and "AES-256" not in reply["content"]
    assert 0 < reply["confidence"] < MIN_ANSWER_RELEVANCE  # a passage matched, but too little of the question


async def test_a_message_may_be_sent_as_content_like_the_replies(users, world):
    path = f"/chat/sessions/{world['session']['id']}/messages"
    response = await users["owner"].post(path, {"content": "/help"})
    assert response.status == 201, response.body
    assert response.body["message"]["content"] == "/help" and "I can help" in response.body["reply"]["content"]
    missing = await users["owner"].post(path, {})
    assert missing.status == 422
    assert missing.error["details"]["errors"][0]["field"] == "text"


async def test_a_blank_message_is_422(users, world):
    response = await users["owner"].post(f"/chat/sessions/{world['session']['id']}/messages", {"text": "   "})
    assert response.status == 422
    assert response.error["details"]["errors"][0]["field"] == "text"


async def test_routing_counts_reach_the_metrics_endpoint(users, world):
    from django.test import AsyncClient

    await say(users["owner"], world["session"], "/help")
    text = (await AsyncClient().get("/metrics")).content.decode()
    count = routing_totals()["routing.tier.regex"]
    assert f'tra_chat_messages_routed_total{{tier="regex"}} {count}' in text
    assert 'tra_chat_intents_total{intent="help"}' in text
