"""seed_demo writes a realistic, consistent data set in batches."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assessments.models import Assessment, AssessmentState, DocumentLink, Question
from documents.models import Document
from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db]


def test_seed_demo_writes_assessments_in_every_state_with_their_collections():
    out = io.StringIO()
    meter.reset()
    call_command("seed_demo", "--assessments", "40", "--documents", "12", "--seed", "7", stdout=out)
    assert "for 40 assessment(s) and 12 document(s)" in out.getvalue()
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


def test_dry_run_writes_nothing():
    out = io.StringIO()
    call_command("seed_demo", "--assessments", "5", "--documents", "2", "--dry-run", stdout=out)
    assert "would write" in out.getvalue()
    assert list(Assessment.by_type.query("ASMT")) == []
