"""Admin pages for chat sessions: the list and each message's routing."""

import pytest
from django.test import Client

from chat.models import ChatMessage
from tests.support import factories
from tests.support.api import make_user
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db]
LIST = "/admin/dynamo/chat/"


def test_sessions_are_listed_and_messages_show_intent_tier_and_confidence():
    client = Client()
    owner = make_user("olivia")
    client.force_login(make_user("sam", staff=True))
    session = factories.chat_session(owner_id=str(owner.pk))
    ChatMessage.build(
        session_id=session.session_id,
        message_id=factories.new_id(),
        created_at=utc_now(),
        role="assistant",
        content="Here is the summary.",
        intent="summarize_document",
        tier="keyword",
        confidence=0.92,
    ).save()

    meter.reset()
    listing = client.get(LIST).content.decode()
    assert "Questions about Acme" in listing and "olivia" in listing
    page = client.get(f"{LIST}{session.session_id}/").content.decode()
    assert "summarize_document" in page and "keyword" in page and "0.92" in page
    assert meter.calls("Scan") == 0
    assert meter.calls("Query", "by_type") == 1
    assert meter.calls("Query", "table") == 1


def test_the_session_page_links_its_assessment_by_title():
    client = Client()
    owner = make_user("olivia")
    client.force_login(make_user("sam", staff=True))
    assessment = factories.assessment(owner_id=str(owner.pk), title="Acme Cloud hosting review")
    session = factories.chat_session(owner_id=str(owner.pk), assessment_id=assessment.assessment_id)
    page = client.get(f"{LIST}{session.session_id}/").content.decode()
    link = f'<a href="/admin/dynamo/assessments/{assessment.assessment_id}/" id="session-assessment">'
    assert f"{link}Acme Cloud hosting review</a>" in page

    gone = factories.chat_session(owner_id=str(owner.pk), assessment_id="deleted-assessment")
    page = client.get(f"{LIST}{gone.session_id}/").content.decode()
    assert "deleted-assessment (deleted)" in page
