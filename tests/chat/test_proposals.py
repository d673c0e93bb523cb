"""A chat message never changes state: "submit it" is a proposal the owner confirms, once, before it expires;
a question about submitting is answered with how to, never with the action."""

import pytest
from django.core.cache import caches

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

# Questions about submitting, the way people ask them: none of them may change anything.
HOW_TO_SUBMIT = [
    "how do I submit?",
    "how do I submit this assessment?",
    "how do i submit it for review",
    "can I submit now?",
    "can I submit this yet?",
    "should I submit this assessment?",
    "should I submit it now or wait?",
    "when can I submit?",
    "when can we submit this one?",
    "how can I submit the assessment for review?",
    "what do I need to do before I submit?",
    "is it ready to submit?",
    "am I allowed to submit this?",
    "do I need to answer every question before submitting?",
    "how does submitting work?",
    "what happens when I submit?",
    "where do I submit the assessment?",
    "could I submit it today?",
    "how to submit for review",
    "submit it?",
]


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    caches["llm"].clear()
    yield
    caches["llm"].clear()


@pytest.fixture
async def draft(users):
    """The owner's draft with 7 questions, 4 of them answered, and a chat tied to it."""
    owner = users["owner"]
    assessment = (await owner.post("/assessments", {"title": "Acme Cloud hosting"})).body
    path = f"/assessments/{assessment['id']}"
    imported = await owner.post(f"{path}/questions/import", {"questions": [{"text": f"Q{n}?"} for n in range(7)]})
    for question in imported.body["questions"][:4]:
        answered = await owner.request(
            "put", f"{path}/questions/{question['id']}/answer", {"answer": "Yes.", "version": question["version"]}
        )
        assert answered.status == 200, answered.body
    session = (await owner.post("/chat/sessions", {"title": "Acme", "assessment_id": assessment["id"]})).body
    return {"assessment": assessment, "session": session, "path": path}


async def say(client, session, text):
    response = await client.post(f"/chat/sessions/{session['id']}/messages", {"text": text})
    assert response.status == 201, response.body
    return response.body["reply"]


async def current(client, draft) -> tuple[str, int]:
    body = (await client.get(draft["path"])).body
    return body["state"], body["version"]


def confirm_path(session: dict, action: dict) -> str:
    return f"/chat/sessions/{session['id']}/actions/{action['id']}/confirm"


async def test_no_question_about_submitting_changes_the_assessment(users, draft):
    owner = users["owner"]
    before = await current(owner, draft)
    changed, proposals, answered = [], [], []
    for text in HOW_TO_SUBMIT:
        reply = await say(owner, draft["session"], text)
        if await current(owner, draft) != before:
            changed.append(text)
        if reply["proposed_action"] is not None:
            proposals.append(text)
        if (reply["tool_result"] or {}).get("how_to") == "submit":
            answered.append(text)
    assert (changed, proposals) == ([], [])
    assert len(answered) == len(HOW_TO_SUBMIT) == 20, set(HOW_TO_SUBMIT) - set(answered)
    events = (await owner.get(f"{draft['path']}/events")).body["items"]
    assert [e["event_type"] for e in events if e["event_type"] == "submit"] == []


async def test_a_how_to_answer_says_how_and_what_is_missing(users, draft):
    reply = await say(users["owner"], draft["session"], "how do I submit?")
    assert reply["tool_result"]["how_to"] == "submit"
    assert "3 of 7 questions are unanswered" in reply["content"]
    assert "POST /api/assessments/{id}/transitions" in reply["content"]
    assert "Acme Cloud hosting is draft, so it can be submitted now" in reply["content"]
    assert reply["tool_result"]["can_submit"] is True
    assert (reply["tool_result"]["questions"], reply["tool_result"]["unanswered"]) == (7, 3)


async def test_submit_it_returns_a_proposal_and_changes_nothing(users, draft):
    owner = users["owner"]
    before = await current(owner, draft)
    reply = await say(owner, draft["session"], "submit it")
    assert reply["intent"] == "submit_assessment"
    action = reply["proposed_action"]
    assert set(action) == {"id", "intent", "assessment_id", "assessment_version", "title", "summary", "expires_at"}
    assert (action["intent"], action["assessment_id"], action["title"]) == (
        "submit_assessment",
        draft["assessment"]["id"],
        "Acme Cloud hosting",
    )
    assert action["assessment_version"] == before[1]
    assert "Nothing has changed yet" in reply["content"]
    assert await current(owner, draft) == before


async def test_confirming_submits_it_and_the_conversation_records_both(users, draft):
    owner, session = users["owner"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    response = await owner.post(confirm_path(session, action), {})
    assert response.status == 200, response.body
    assert response.body["reply"]["tool_result"]["state"] == "submitted"
    assert response.body["reply"]["content"] == "Submitted Acme Cloud hosting for review."
    assert (await current(owner, draft))[0] == "submitted"
    messages = (await owner.get(f"/chat/sessions/{session['id']}/messages")).body["items"]
    assert [(m["role"], m["tier"]) for m in messages[2:]] == [("user", "confirm"), ("assistant", "confirm")]
    assert messages[2]["content"].startswith("Confirm: Submit Acme Cloud hosting for review")
    assert (await owner.get(f"/chat/sessions/{session['id']}")).body["message_count"] == 4


async def test_confirming_twice_is_refused_and_submits_once(users, draft):
    owner, session = users["owner"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    assert (await owner.post(confirm_path(session, action), {})).status == 200
    again = await owner.post(confirm_path(session, action), {})
    assert again.status == 409
    assert "already confirmed" in again.error["message"]
    events = (await owner.get(f"{draft['path']}/events")).body["items"]
    assert [e["event_type"] for e in events].count("submit") == 1
    assert (await owner.get(f"/chat/sessions/{session['id']}")).body["message_count"] == 4


async def test_another_users_action_is_not_found(users, draft):
    owner, other, session = users["owner"], users["other"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    assert (await other.post(confirm_path(session, action), {})).status == 404
    own = (await other.post("/chat/sessions", {"title": "mine"})).body
    assert (await other.post(confirm_path(own, action), {})).status == 404  # not in their session either
    assert (await owner.post(confirm_path(session, {"id": "no-such-action"}), {})).status == 404
    assert (await current(owner, draft))[0] == "draft"


async def test_an_expired_proposal_is_refused(users, draft, settings):
    settings.CHAT_PROPOSAL_TTL_SECONDS = 0
    owner, session = users["owner"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    response = await owner.post(confirm_path(session, action), {})
    assert response.status == 409
    assert "expired" in response.error["message"]
    assert (await current(owner, draft))[0] == "draft"
    reply = await say(owner, session, "yes")  # an expired proposal is not pending: "yes" confirms nothing
    assert reply["tier"] != "confirm"
    assert (await current(owner, draft))[0] == "draft"


async def test_a_proposal_made_before_a_change_is_the_apis_version_conflict(users, draft):
    owner, session = users["owner"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    edited = await owner.request("patch", draft["path"], {"title": "Acme Cloud hosting 2026", "version": 1})
    assert edited.status == 200, edited.body
    response = await owner.post(confirm_path(session, action), {})
    assert response.status == 409
    assert response.error["details"]["current_version"] == 2
    assert (await current(owner, draft)) == ("draft", 2)


async def test_a_confirmation_that_loses_a_race_changes_nothing(users, draft, monkeypatch):
    """The state change and the turn that records it are one transaction: when the proposal is confirmed by
    someone else between this confirmation's read and its write, the assessment is not submitted either."""
    from chat import services
    from chat.models import ChatProposal, ProposalStatus

    owner, session = users["owner"], draft["session"]
    action = (await say(owner, session, "submit it"))["proposed_action"]
    checked = services._check_confirmable

    def confirmed_meanwhile(proposal, now):
        checked(proposal, now)  # it was pending when read...
        stored = ChatProposal.get(*ChatProposal.key(session["id"], action["id"]), consistent_read=True)
        stored.update(actions=[ChatProposal.status.set(ProposalStatus.CONFIRMED.value)])  # ...and is not now

    monkeypatch.setattr(services, "_check_confirmable", confirmed_meanwhile)
    response = await owner.post(confirm_path(session, action), {})
    assert response.status == 409, response.body
    assert "already confirmed meanwhile" in response.error["message"]
    assert (await current(owner, draft)) == ("draft", 1)  # not submitted
    events = (await owner.get(f"{draft['path']}/events")).body["items"]
    assert "submit" not in [e["event_type"] for e in events]
    assert (await owner.get(f"/chat/sessions/{session['id']}")).body["message_count"] == 2  # no confirm turn


async def test_yes_confirms_the_one_pending_proposal(users, draft):
    owner, session = users["owner"], draft["session"]
    await say(owner, session, "submit it")
    reply = await say(owner, session, "yes")
    assert (reply["intent"], reply["tier"]) == ("submit_assessment", "confirm")
    assert reply["tool_result"]["state"] == "submitted"
    assert (await current(owner, draft))[0] == "submitted"
    again = await say(owner, session, "yes")  # nothing pending any more
    assert again["tier"] != "confirm"


async def test_yes_confirms_nothing_without_exactly_one_pending_proposal(users, draft):
    owner, session = users["owner"], draft["session"]
    assert (await say(owner, session, "yes"))["tier"] != "confirm"
    await say(owner, session, "submit it")
    await say(owner, session, "submit it")
    assert (await say(owner, session, "go ahead"))["tier"] != "confirm"  # two pending: which one?
    assert (await current(owner, draft))[0] == "draft"


async def test_an_assessment_that_cannot_be_submitted_gets_no_proposal(users, draft):
    owner, session = users["owner"], draft["session"]
    await owner.post(f"{draft['path']}/transitions", {"action": "submit", "version": 1})
    reply = await say(owner, session, "submit it")
    assert reply["proposed_action"] is None
    assert "only a draft or an assessment in progress can be submitted" in reply["content"]


async def test_a_reviewer_gets_no_proposal_for_someone_elses_assessment(users, draft):
    owner, reviewer = users["owner"], users["reviewer"]
    await owner.post(f"{draft['path']}/transitions", {"action": "submit", "version": 1})
    session = (await reviewer.post("/chat/sessions", {"assessment_id": draft["assessment"]["id"]})).body
    reply = await say(reviewer, session, "submit it")
    assert reply["proposed_action"] is None
    assert "only the assessment's owner" in reply["content"]
