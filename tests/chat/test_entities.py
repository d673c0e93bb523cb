"""What a message names, resolved against the caller's own data: assessments by title words, documents by
file name, "it" / "this one" to the session's assessment; several candidates are listed, none is said."""

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments import services as assessment_services
from chat import intents, selectors
from chat import services as chat_services
from chat.models import ChatSession
from chat.routing import Route
from tra.dynamo.executor import run_sync
from tra.http.auth import Actor, actor_for

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

OWNER = Actor(user_id="u-owner", username="owner", is_staff=False, is_reviewer=False)
OTHER = Actor(user_id="u-other", username="other", is_staff=False, is_reviewer=False)
TITLES = ["Okta SSO vendor review 2025", "Okta contract renewal", "Stripe payments", "Acme Cloud hosting", "Acme Corp"]


@pytest.fixture
def titled(dynamo_table) -> dict[str, str]:
    ids = {title: assessment_services.assessment_create(actor=OWNER, title=title).assessment_id for title in TITLES}
    assessment_services.assessment_create(actor=OTHER, title="Datadog observability review")
    return ids


def named(name: str | None, *, session: ChatSession | None = None, actor: Actor = OWNER) -> list[str]:
    session = session or ChatSession.build(session_id="s1", owner_id=actor.user_id)
    return sorted(a.title for a in selectors.assessments_for_message(actor=actor, session=session, name=name))


@pytest.mark.parametrize(
    ("name", "titles"),
    [
        ("okta review", ["Okta SSO vendor review 2025"]),  # "review" narrows: kept
        ("Okta SSO", ["Okta SSO vendor review 2025"]),
        ("okta", ["Okta SSO vendor review 2025", "Okta contract renewal"]),  # two: the caller is asked which
        ("the Stripe questionnaire", ["Stripe payments"]),  # no title says questionnaire: filler dropped
        ("stripe assessment", ["Stripe payments"]),
        ("Acme Cloud", ["Acme Cloud hosting"]),
        ("acme", ["Acme Cloud hosting", "Acme Corp"]),
        ("Acme Corp", ["Acme Corp"]),  # the exact title
        ("datadog", []),  # another owner's: not a candidate
        ("zscaler review", []),
    ],
)
def test_a_name_matches_the_callers_assessments_by_title_word_prefixes(titled, name, titles):
    assert named(name) == titles


def test_it_this_one_or_no_name_mean_the_sessions_assessment(titled):
    tied = ChatSession.build(session_id="s1", owner_id=OWNER.user_id, assessment_id=titled["Stripe payments"])
    for name in (None, "it", "this one", "this assessment", "that review", "the current one"):
        assert named(name, session=tied) == ["Stripe payments"], name
    assert named("okta review", session=tied) == ["Okta SSO vendor review 2025"]  # a name wins over the session
    assert named("it") == []  # an untied session has no "it"


async def handle(route: Route, session: ChatSession, actor: Actor = OWNER) -> tuple[str, dict | None]:
    return await intents.handle(route, actor=actor, session=session, text="")


async def test_two_candidates_are_listed_and_nothing_is_proposed(titled):
    session = await run_sync(chat_services.session_create, actor=OWNER)
    reply, result = await handle(Route("submit_assessment", "regex", 1.0, {"assessment": "okta"}), session)
    assert "2 of your assessments match “okta”; which one do you mean?" in reply
    assert [c["title"] for c in result["candidates"]] == ["Okta contract renewal", "Okta SSO vendor review 2025"]
    assert "proposed_action" not in result


async def test_no_match_is_said_and_nothing_is_guessed(titled):
    session = await run_sync(chat_services.session_create, actor=OWNER)
    reply, result = await handle(Route("assessment_status", "regex", 1.0, {"assessment": "Zscaler"}), session)
    assert reply.startswith("I found no assessment of yours matching “Zscaler”")
    assert result == {"clarify": "assessment", "candidates": []}


async def test_a_named_assessment_gets_its_status_and_its_proposal(titled):
    session = await run_sync(chat_services.session_create, actor=OWNER)
    reply, _ = await handle(Route("assessment_status", "regex", 1.0, {"assessment": "okta review"}), session)
    assert reply.startswith("Okta SSO vendor review 2025 is draft")
    _, result = await handle(Route("submit_assessment", "regex", 1.0, {"assessment": "Stripe questionnaire"}), session)
    assert result["proposed_action"]["assessment_id"] == titled["Stripe payments"]


async def test_documents_are_named_by_file_name_spaces_and_all(users):
    owner = users["owner"]
    for name in ("SOC 2 report.txt", "soc2-bridge-letter.txt", "Pen test 2025.txt"):
        file = SimpleUploadedFile(name, f"{name} body.".encode(), content_type="text/plain")
        assert (await owner.request("post", "/documents", data={"file": file})).status == 201
    actor = await sync_to_async(actor_for)(owner.user)

    async def found(name):
        return sorted(d.filename for d in await run_sync(selectors.documents_named, actor=actor, name=name))

    assert await found("SOC 2 report.txt") == ["SOC 2 report.txt"]
    assert await found("soc 2 report") == ["SOC 2 report.txt"]
    assert await found("soc2 report") == ["SOC 2 report.txt"]  # spaces and punctuation aside
    assert await found("pen test 2025") == ["Pen test 2025.txt"]
    assert await found("soc") == ["SOC 2 report.txt", "soc2-bridge-letter.txt"]
    assert await found("dpa.pdf") == []
    session = await run_sync(chat_services.session_create, actor=actor)
    reply, result = await handle(Route("summarize_document", "regex", 1.0, {"document": "soc"}), session, actor)
    assert "2 of your documents match “soc”" in reply and len(result["candidates"]) == 2
    reply, _ = await handle(Route("summarize_document", "regex", 1.0, {"document": "SOC 2 report.txt"}), session, actor)
    assert reply.startswith("Summary of SOC 2 report.txt")


async def test_the_status_hint_works_when_followed(users):
    owner = users["owner"]
    await owner.post("/assessments", {"title": "Acme Cloud hosting"})
    session = (await owner.post("/chat/sessions", {"title": "loose"})).body
    path = f"/chat/sessions/{session['id']}/messages"
    hint = (await owner.post(path, {"text": "/status"})).body["reply"]
    assert 'Name it (e.g. "status of Acme Cloud")' in hint["content"]
    reply = (await owner.post(path, {"text": "status of Acme Cloud"})).body["reply"]
    assert reply["intent"] == "assessment_status"
    assert reply["content"].startswith("Acme Cloud hosting is draft: 0 of 0 questions answered")
