"""Each GSI holds exactly the items its access pattern needs (sparse) and answers it."""

from collections import Counter

import pytest

from assessments.models import Assessment, DocumentLink, TitleWord, status_key
from chat.models import ChatSession
from documents.models import Document
from documents.models import status_key as document_status_key
from tests.support import factories
from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import batch_job

pytestmark = pytest.mark.usefixtures("dynamo_table")


@pytest.fixture
def corpus():
    """One of every entity, for two owners, in several states."""
    mine_draft = factories.assessment(owner_id="1", title="Acme Cloud hosting", state="draft", age=30)
    mine_submitted = factories.assessment(owner_id="1", title="Payroll vendor", state="submitted", age=20)
    theirs = factories.assessment(owner_id="2", title="Acme payments", state="submitted", age=10)
    factories.question(mine_draft)
    factories.review(mine_submitted)
    factories.event(mine_draft)
    report = factories.document(owner_id="1", status="extracted", age=5)
    policy = factories.document(owner_id="1", filename="policy.docx", status="uploaded", age=4)
    factories.chunk(report)
    factories.link(mine_draft, report)
    factories.link(theirs, report)
    session = factories.chat_session(owner_id="1", assessment_id=mine_draft.assessment_id)
    factories.chat_message(session)
    return {
        "mine_draft": mine_draft,
        "mine_submitted": mine_submitted,
        "theirs": theirs,
        "report": report,
        "policy": policy,
        "session": session,
    }


def entity_types_in(index_name: str) -> Counter:
    # Inspecting a whole index is a Scan: allowed here, inside a batch job.
    with batch_job("test inspection"):
        pages = botocore_client().get_paginator("scan").paginate(TableName="tra-test", IndexName=index_name)
        return Counter(item["entity_type"]["S"] for page in pages for item in page["Items"])


@pytest.mark.parametrize(
    ("index_name", "expected"),
    [
        ("by_owner", {"assessment": 3, "document": 2, "chat_session": 1}),
        ("by_owner_status", {"assessment": 3, "document": 2}),
        ("by_status", {"assessment": 3, "document": 2}),
        ("by_type", {"assessment": 3, "document": 2, "chat_session": 1}),
        ("links_by_document", {"document_link": 2}),
        ("title_search", {"title_word": 7}),
        ("title_search_by_owner", {"title_word": 7}),
        ("title_search_by_owner_state", {"title_word": 7}),
        ("title_search_by_state", {"title_word": 7}),
    ],
)
def test_index_holds_only_the_items_its_access_pattern_reads(corpus, index_name, expected):
    assert entity_types_in(index_name) == Counter(expected)


def test_by_owner_lists_my_assessments_newest_first(corpus):
    rows = list(Assessment.by_owner.query("1", Assessment.owner_sort.startswith("ASMT#"), scan_index_forward=False))
    assert [row.assessment_id for row in rows] == [
        corpus["mine_submitted"].assessment_id,
        corpus["mine_draft"].assessment_id,
    ]
    assert rows[0].title == "Payroll vendor"  # projected: the list shows it without a GetItem


def test_by_owner_lists_my_documents_and_chats_separately(corpus):
    documents = list(Document.by_owner.query("1", Document.owner_sort.startswith("DOC#"), scan_index_forward=False))
    sessions = list(ChatSession.by_owner.query("1", ChatSession.owner_sort.startswith("CHAT#")))
    assert [row.document_id for row in documents] == [corpus["policy"].document_id, corpus["report"].document_id]
    assert [row.session_id for row in sessions] == [corpus["session"].session_id]


def test_by_owner_status_filters_my_assessments_by_state_through_the_key(corpus):
    rows = list(Assessment.by_owner_status.query("1", Assessment.owner_status_sort.startswith("ASMT#submitted#")))
    assert [row.assessment_id for row in rows] == [corpus["mine_submitted"].assessment_id]


def test_by_status_is_the_review_queue_oldest_first_across_owners(corpus):
    rows = list(Assessment.by_status.query(status_key("submitted"), scan_index_forward=True))
    assert [row.assessment_id for row in rows] == [
        corpus["mine_submitted"].assessment_id,
        corpus["theirs"].assessment_id,
    ]
    assert {row.owner_id for row in rows} == {"1", "2"}


def test_by_status_finds_documents_waiting_for_a_summary(corpus):
    rows = list(Document.by_status.query(document_status_key("extracted")))
    assert [row.document_id for row in rows] == [corpus["report"].document_id]


def test_by_type_lists_every_assessment_newest_first(corpus):
    rows = list(Assessment.by_type.query("ASMT", scan_index_forward=False))
    assert [row.assessment_id for row in rows] == [
        corpus["theirs"].assessment_id,
        corpus["mine_submitted"].assessment_id,
        corpus["mine_draft"].assessment_id,
    ]


def test_links_by_document_answers_which_assessments_use_a_document(corpus):
    rows = list(DocumentLink.by_document.query(corpus["report"].document_id))
    assert {row.assessment_id for row in rows} == {corpus["mine_draft"].assessment_id, corpus["theirs"].assessment_id}


def test_title_words_by_owner_matches_a_word_prefix_in_my_titles_only(corpus):
    rows = list(TitleWord.by_owner_word.query("1", TitleWord.word_sort.startswith("ac")))
    assert [row.assessment_id for row in rows] == [corpus["mine_draft"].assessment_id]


def test_title_words_matches_a_word_prefix_across_owners(corpus):
    rows = list(TitleWord.by_word.query("a", TitleWord.word_sort.startswith("acm")))
    assert {row.assessment_id for row in rows} == {corpus["mine_draft"].assessment_id, corpus["theirs"].assessment_id}


def test_title_search_filters_the_state_through_the_key_and_projects_the_list_columns(corpus):
    mine = list(
        TitleWord.by_owner_state_word.query(
            "1", TitleWord.state_word_sort.startswith(TitleWord.state_word_prefix("submitted", "pay"))
        )
    )
    assert [row.assessment_id for row in mine] == [corpus["mine_submitted"].assessment_id]
    row = mine[0].as_assessment()
    submitted = corpus["mine_submitted"]
    assert (row.title, row.state, row.owner_id, row.version) == ("Payroll vendor", "submitted", "1", submitted.version)
    assert row.updated_at == submitted.updated_at
    drafts = TitleWord.by_state_word.query(
        TitleWord.state_bucket("draft", "acm"), TitleWord.word_sort.startswith("acm")
    )
    assert [row.assessment_id for row in drafts] == [corpus["mine_draft"].assessment_id]


def test_index_queries_read_only_the_items_they_return(corpus):
    from tra.dynamo.metering import meter

    meter.reset()
    list(Assessment.by_status.query(status_key("submitted")))
    stats = meter.snapshot()[("Query", "by_status")]
    assert (stats.calls, stats.items, stats.scanned) == (1, 2, 2)
