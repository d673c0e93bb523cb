"""Operators' batch commands: export, bulk links, summaries, suggestions, the LLM cache."""

import csv
import io
import json

import pytest
from django.core.cache import caches
from django.core.management import call_command

from assessments import services as assessment_services
from documents.models import Document, DocumentStatus
from tests.support import factories
from tests.support.api import make_user
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter
from tra.dynamo.writes import batch_write
from tra.http.auth import actor_for

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db(transaction=True)]

TEXT = "All customer data at rest is encrypted with AES-256. MFA is enforced for every admin account."


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def owner():
    return make_user("olivia")


@pytest.fixture
def assessment(owner):
    actor = actor_for(owner)
    item = assessment_services.assessment_create(actor=actor, title="Acme Cloud")
    assessment_services.question_import(
        actor=actor,
        assessment_id=item.assessment_id,
        drafts=[
            assessment_services.QuestionDraft(text="Is data encrypted at rest?"),
            assessment_services.QuestionDraft(text="Is MFA enforced?"),
        ],
    )
    return item


def evidence(owner, count=1, status=DocumentStatus.EXTRACTED.value):
    documents = []
    for n in range(count):
        document = factories.document(owner_id=str(owner.pk), filename=f"evidence-{n}.txt", status=status, save=False)
        documents.append(document)
        batch_write(puts=[document, factories.chunk(document, number=0, text=TEXT, save=False)])
    return documents


def test_export_streams_assessments_with_questions_through_the_indexes(owner, assessment):
    meter.reset()
    out, err = run("export_assessments", "--format", "jsonl")
    [line] = out.splitlines()
    exported = json.loads(line)
    assert exported["assessment_id"] == assessment.assessment_id
    assert [q["question"] for q in exported["questions"]] == ["Is data encrypted at rest?", "Is MFA enforced?"]
    assert "exported 1 assessment(s) with 2 question(s)" in err
    assert meter.calls("Scan") == 0 and meter.calls("Query", "by_type") == 1

    out, _ = run("export_assessments", "--format", "csv", "--state", "draft")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["question"] for row in rows] == ["Is data encrypted at rest?", "Is MFA enforced?"]
    assert run("export_assessments", "--state", "approved")[0] == ""
    assert run("export_assessments", "--since", "2999-01-01")[0] == ""


def test_link_documents_links_in_batches_and_re_running_changes_nothing(owner, assessment, tmp_path):
    ids = [document.document_id for document in evidence(owner, count=30)]
    listing = tmp_path / "ids.txt"
    listing.write_text("\n".join(ids))
    meter.reset()
    out, _ = run("link_documents", "--assessment", assessment.assessment_id, "--from-file", str(listing))
    assert "linked 30 document(s)" in out
    assert meter.calls("BatchWriteItem") == 2
    run("link_documents", "--assessment", assessment.assessment_id, "--from-file", str(listing))
    from assessments.models import DocumentLink

    links = list(DocumentLink.query(assessment.pk, DocumentLink.sk.startswith("DOC#")))
    assert len(links) == 30


def test_summarize_documents_works_the_queue_once(owner):
    evidence(owner, count=3)
    evidence(owner, count=1, status=DocumentStatus.UPLOADED.value)
    out, _ = run("summarize_documents", "--dry-run")
    assert "would summarise 3 of 3" in out
    out, _ = run("summarize_documents", "--concurrency", "2")
    assert "summarised 3 of 3 document(s)" in out
    summarized = list(Document.by_status.query("DOC#summarized"))  # the index projects list columns only
    assert len(summarized) == 3
    assert all("AES-256" in Document.get(*Document.key(item.document_id)).summary for item in summarized)
    out, _ = run("summarize_documents")
    assert "summarised 0 of 0" in out  # safe to re-run


def test_suggest_answers_covers_every_unanswered_question(owner, assessment):
    [document] = evidence(owner)
    run("link_documents", "--assessment", assessment.assessment_id, document.document_id)
    out, _ = run("suggest_answers", "--assessment", assessment.assessment_id, "--all-unanswered")
    assert "suggested answers for 2 question(s)" in out
    from assessments.models import Question

    questions = list(Question.query(assessment.pk, Question.sk.startswith("Q#")))
    assert all(question.suggestion and question.suggestion.citations for question in questions)


def test_llm_cache_stats_and_clear():
    from llm import metrics

    caches["llm"].clear()
    metrics.add_sync(hits=4, bedrock_calls=1)
    out, _ = run("llm_cache", "stats")
    assert json.loads(out)["hits"] == 4
    assert "would clear" in run("llm_cache", "clear", "--dry-run")[0]
    run("llm_cache", "clear")
    assert json.loads(run("llm_cache", "stats")[0])["hits"] == 0


def test_commands_refuse_bad_arguments_clearly(assessment):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--since must be an ISO date"):
        run("export_assessments", "--since", "yesterday")
    with pytest.raises(CommandError, match="not found"):
        run("link_documents", "--assessment", "nope", "doc1")
    with pytest.raises(CommandError, match="--all-unanswered or at least one --question"):
        run("suggest_answers", "--assessment", assessment.assessment_id)
    assert utc_now()
