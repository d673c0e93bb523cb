"""The base model: round trips through the real local server, derived keys, optimistic locking."""

import pytest
from pynamodb.exceptions import PutError, UpdateError

from assessments.models import (
    Assessment,
    AssessmentEvent,
    DocumentLink,
    EvidenceVersion,
    Question,
    Review,
    Suggestion,
    TitleWord,
)
from chat.models import ChatMessage, ChatProposal, ChatSession
from documents.models import Document, DocumentChunk, DocumentFingerprint
from tests.support import factories
from tra.dynamo import keys
from tra.dynamo.clock import utc_now
from tra.dynamo.models import TableModel
from tra.dynamo.registry import registered_models
from tra.observability.models import UsageCounter

pytestmark = pytest.mark.usefixtures("dynamo_table")


def test_every_entity_is_registered_on_the_one_table():
    assert set(registered_models()) == {
        Assessment,
        Question,
        Review,
        AssessmentEvent,
        DocumentLink,
        EvidenceVersion,
        TitleWord,
        Document,
        DocumentChunk,
        DocumentFingerprint,
        ChatSession,
        ChatMessage,
        ChatProposal,
        UsageCounter,
    }


def test_assessment_round_trips_with_its_derived_index_keys():
    saved = factories.assessment(owner_id="7", title="Acme", state="submitted")
    loaded = Assessment.get(*Assessment.key(saved.assessment_id))
    assert loaded.to_simple_dict() == saved.to_simple_dict()
    assert loaded.version == 1
    assert loaded.status_key == "ASMT#submitted"
    assert loaded.owner_status_sort.startswith("ASMT#submitted#")
    assert loaded.entity_type is Assessment


def test_question_with_a_suggestion_round_trips_and_sorts_by_order():
    parent = factories.assessment()
    second = factories.question(parent, order=10, text="Second")
    first = factories.question(parent, order=9, text="First")
    assert Question.get(*Question.key(parent.assessment_id, second.question_id)).text == "Second"
    first.suggestion = Suggestion(
        text="Yes, AES-256.",
        citations=[{"document_id": "d1", "chunk": 0, "quote": "encrypted with AES-256"}],
        confidence=0.8,
        provider="extractive",
        created_at=utc_now(),
    )
    first.save()
    rows = list(Question.query(parent.pk, Question.sk.startswith(Question.collection_prefix())))
    assert [row.question_id for row in rows] == [first.question_id, second.question_id]
    assert rows[0].suggestion.citations[0].quote == "encrypted with AES-256"


def test_one_query_loads_an_assessment_with_its_whole_collection():
    parent = factories.assessment(title="Acme hosting")
    factories.question(parent)
    factories.review(parent)
    factories.event(parent)
    factories.link(parent, factories.document())
    # The detail page's one Query: everything in the partition but the search words,
    # which sort last (WORD#), so the key condition excludes them without a filter.
    items = list(TableModel.query(parent.pk, TableModel.sk < "WORD#"))
    assert [type(item).__name__ for item in items] == [
        "Assessment",  # #META
        "DocumentLink",  # DOC#
        "AssessmentEvent",  # EVT#
        "Question",  # Q#
        "Review",  # REV#
    ]


def test_document_chunk_fingerprint_session_message_and_counter_round_trip():
    document = factories.document(owner_id="3")
    chunk = factories.chunk(document, number=4)
    DocumentFingerprint.build(
        owner_id="3", sha256=document.sha256, document_id=document.document_id, created_at=utc_now()
    ).save()
    session = factories.chat_session(owner_id="3")
    message = factories.chat_message(session)
    UsageCounter.add(utc_now().date(), "llm.calls", 2)

    assert DocumentChunk.get(*DocumentChunk.key(document.document_id, 4)).text == chunk.text
    assert DocumentFingerprint.get(*DocumentFingerprint.key("3", document.sha256)).document_id == document.document_id
    assert ChatMessage.get(message.pk, message.sk).content == message.content
    [counter] = UsageCounter.query(UsageCounter.month_pk(utc_now().date()))  # entity_type is set: queries see it
    assert (counter.metric, counter.value) == ("llm.calls", 2)


def test_a_stale_versioned_save_is_refused():
    saved = factories.assessment()
    first = Assessment.get(*Assessment.key(saved.assessment_id))
    second = Assessment.get(*Assessment.key(saved.assessment_id))
    first.title = "Renamed by one user"
    first.save()
    second.title = "Renamed by another"
    with pytest.raises(PutError) as raised:
        second.save()
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"
    assert Assessment.get(*Assessment.key(saved.assessment_id)).title == "Renamed by one user"


def test_a_stale_versioned_update_is_refused():
    saved = factories.assessment()
    stale = Assessment.get(*Assessment.key(saved.assessment_id))
    saved.state = "in_progress"
    saved.save()
    with pytest.raises(UpdateError):
        stale.update(actions=[Assessment.title.set("late")])


def test_key_parts_cannot_carry_the_separator():
    with pytest.raises(ValueError, match="invalid key part"):
        Assessment.key("abc#META")
    with pytest.raises(ValueError):
        keys.split("DOC#x", "ASMT", 1)


def test_index_sort_key_prefixes_match_what_derive_attributes_writes():
    assessment = factories.assessment(state="submitted")
    document = factories.document()
    session = factories.chat_session()
    assert assessment.owner_sort.startswith(Assessment.owner_sort_prefix())
    assert assessment.owner_status_sort.startswith(Assessment.owner_status_sort_prefix("submitted"))
    assert not assessment.owner_status_sort.startswith(Assessment.owner_status_sort_prefix("submit"))
    assert document.owner_sort.startswith(Document.owner_sort_prefix())
    assert document.owner_status_sort.startswith(Document.owner_status_sort_prefix(document.status))
    assert session.owner_sort.startswith(ChatSession.owner_sort_prefix())
    assert (Assessment.owner_sort_prefix(), Document.owner_sort_prefix(), ChatSession.owner_sort_prefix()) == (
        "ASMT#",
        "DOC#",
        "CHAT#",
    )


def test_an_assessment_declares_one_title_word_per_searchable_word_as_its_companions():
    assessment = factories.assessment(owner_id="7", title="Acme Cloud-Hosting")
    companions = assessment.companion_items()
    assert [(type(item), item.word, item.owner_id) for item in companions] == [
        (TitleWord, "acme", "7"),
        (TitleWord, "cloud", "7"),
        (TitleWord, "hosting", "7"),
    ]
    assert all(item.pk == assessment.pk for item in companions)
    assert factories.document().companion_items() == []
