"""How-to answers: the chat phrase or endpoint, the state needed and what is missing; never the action."""

import pytest

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from chat import intents
from chat import services as chat_services
from chat.routing import Route
from tra.dynamo.executor import run_sync
from tra.http.auth import Actor

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

OWNER = Actor(user_id="u-owner", username="owner", is_staff=False, is_reviewer=False)
REVIEWER = Actor(user_id="u-reviewer", username="reviewer", is_staff=True, is_reviewer=True)


async def ask(route: Route, text: str = "", assessment_id: str | None = None):
    session = await run_sync(chat_services.session_create, actor=OWNER, assessment_id=assessment_id)
    return await intents.handle(route, actor=OWNER, session=session, text=text)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("submit", "POST /api/assessments/{id}/transitions"),
        ("upload", "POST /api/documents"),
        ("answer", "suggest an answer for question 3"),
        ("summarize", "POST /api/documents/{id}/summary"),
        ("reopen", '"action": "reopen"'),
        ("withdraw", "cannot be withdrawn"),
        ("approve", "POST /api/assessments/{id}/reviews"),
        ("status", "status of NAME"),
        ("list", "show my assessments"),
    ],
)
async def test_each_routed_topic_gets_its_own_answer(topic, expected):
    reply, _ = await ask(Route("how_to", "classifier", 0.9, {"topic": topic}))
    assert expected in reply


async def test_a_named_assessment_with_changes_requested_is_told_to_reopen_first():
    created = await run_sync(assessment_services.assessment_create, actor=OWNER, title="Okta SSO vendor review")
    submitted = await run_sync(
        assessment_services.assessment_transition,
        actor=OWNER,
        assessment_id=created.assessment_id,
        action="submit",
        version=created.version,
    )
    await run_sync(
        assessment_services.review_create,
        actor=REVIEWER,
        assessment_id=created.assessment_id,
        decision="request_changes",
        comment="more evidence",
        version=submitted.version,
    )
    route = Route("how_to", "classifier", 0.9, {"topic": "submit", "assessment": "okta review"})
    reply, result = await ask(route, "how do I submit the okta review?")
    assert "Okta SSO vendor review has changes requested: reopen it first" in reply
    assert result["can_submit"] is False
    current = await run_sync(assessment_selectors.assessment_current, created.assessment_id)
    assert current.state == "changes_requested"


async def test_help_asked_about_one_thing_answers_that_thing():
    reply, result = await ask(Route("help", "regex", 1.0, {}), "how do I summarize a document?")
    assert result == {"how_to": "summarize"} and "summarize FILE NAME" in reply
    reply, result = await ask(Route("help", "regex", 1.0, {}), "what can you do?")
    assert result is None and reply == intents.HELP


async def test_a_polite_request_is_a_proposal_and_a_question_is_not():
    assert intents.asks_how("should I submit it?") and intents.asks_how("submit it?")
    assert not intents.asks_how("can you submit it?") and not intents.asks_how("submit it")
