"""seed_demo writes a realistic, consistent data set in batches."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assessments.models import Assessment, AssessmentState, DocumentLink, Question
from chat.models import ChatMessage, ChatSession
from documents.models import Document
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db]


def test_seed_demo_writes_assessments_in_every_state_with_their_collections():
    out = io.StringIO()
    meter.reset()
    call_command("seed_demo", "--assessments", "40", "--documents", "12", "--seed", "7", stdout=out)
    assert "for 40 assessment(s), 12 document(s) and 14 chat session(s)" in out.getvalue()
    assert meter.calls("PutItem") == 0 and meter.calls("BatchWriteItem") >= 1

    everything = list(Assessment.by_type.query("ASMT"))
    assert len(everything) == 40
    assert {item.state for item in everything} >= {s.value for s in AssessmentState} - {"archived"}
    assert len(list(Document.by_type.query("DOC"))) == 12
    sample = everything[0]
    assert list(Question.query(sample.pk, Question.sk.startswith("Q#")))
    users = get_user_model().objects
    assert users.filter(username="reviewer", is_staff=True).exists() and users.filter(username="owner1").exists()
    linked = [link for item in everything for link in DocumentLink.query(item.pk, DocumentLink.sk.startswith("DOC#"))]
    assert linked  # documents are linked to assessments of their own owner
    documents = {d.document_id: d.owner_id for d in Document.by_type.query("DOC")}
    owners = {item.assessment_id: item.owner_id for item in everything}
    assert all(documents[link.document_id] == owners[link.assessment_id] for link in linked)


def test_seeded_evidence_is_about_the_assessments_vendor_and_nothing_is_dated_in_the_future():
    call_command("seed_demo", "--assessments", "30", "--documents", "15", "--seed", "3", stdout=io.StringIO())
    now = utc_now()
    assessments = {item.assessment_id: item for item in Assessment.by_type.query("ASMT")}
    documents = {
        item.document_id: Document.get(*Document.key(item.document_id)) for item in Document.by_type.query("DOC")
    }
    links = [
        link for a in assessments.values() for link in DocumentLink.query(a.pk, DocumentLink.sk.startswith("DOC#"))
    ]
    assert len(links) >= 10
    for link in links:
        vendor_slug = "-".join(assessments[link.assessment_id].title.split(" review ")[0].split()[:2]).lower()
        assert documents[link.document_id].filename.startswith(vendor_slug), (link.assessment_id, link.document_id)
    sessions = [ChatSession.get(*ChatSession.key(s.session_id)) for s in ChatSession.by_type.query("CHAT")]
    assert len(sessions) == 10 and all(s.assessment_id in assessments and s.message_count == 2 for s in sessions)
    messages = [m for s in sessions for m in ChatMessage.query(s.pk, ChatMessage.sk.startswith("MSG#"))]
    assert len(messages) == 20
    moments = [a.created_at for a in assessments.values()] + [a.updated_at for a in assessments.values()]
    moments += [d.created_at for d in documents.values()] + [s.updated_at for s in sessions]
    moments += [m.created_at for m in messages]
    assert max(moments) <= now


def test_dry_run_reports_the_calls_a_real_run_makes_and_writes_nothing():
    out = io.StringIO()
    meter.reset()
    call_command("seed_demo", "--assessments", "5", "--documents", "2", "--seed", "1", "--dry-run", stdout=out)
    dry = re.search(r"would write (\d+) item.* in (\d+) BatchWriteItem call", out.getvalue())
    assert dry and int(dry[2]) == -(-int(dry[1]) // 25) > 0
    assert meter.calls("BatchWriteItem") == 0 and list(Assessment.by_type.query("ASMT")) == []


def test_help_shows_the_defaults(capsys):
    from django.core.management import get_commands, load_command_class

    parser = load_command_class(get_commands()["seed_demo"], "seed_demo").create_parser("manage.py", "seed_demo")
    text = " ".join(parser.format_help().split())
    assert "assessments to write (default: 50)" in text and "(default: 20)" in text
    assert "(default: None)" not in text and "(default: False)" not in text
