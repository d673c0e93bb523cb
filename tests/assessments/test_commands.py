"""Operators' batch commands: export, bulk links, summaries, suggestions, the LLM cache."""

import csv
import io
import json

import pytest
from django.core.cache import caches
from django.core.management import call_command

from assessments import selectors
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


def links_and_link_events(assessment) -> tuple[int, list[int]]:
    from assessments.models import AssessmentEvent, DocumentLink

    links = list(DocumentLink.query(assessment.pk, DocumentLink.sk.startswith("DOC#")))
    events = AssessmentEvent.query(assessment.pk, AssessmentEvent.sk.startswith(AssessmentEvent.collection_prefix()))
    events = [event for event in events if event.event_type == "documents_linked"]
    return len(links), sorted(int(e.details["count"]) for e in events)


def test_link_documents_links_in_batches_and_re_running_changes_nothing(owner, assessment, tmp_path):
    ids = [document.document_id for document in evidence(owner, count=30)]
    listing = tmp_path / "ids.txt"
    listing.write_text("# evidence for Acme\n\n" + "\n".join(ids[:15]) + "\n  \n" + "\n".join(ids[15:]) + "  # last\n")
    meter.reset()
    out, _ = run("link_documents", "--assessment", assessment.assessment_id, "--from-file", str(listing))
    assert "linked 30 document(s)" in out and "0 already linked" in out
    assert meter.calls("TransactWriteItems") == 2  # 25 links, their event and the evidence version each
    assert links_and_link_events(assessment) == (30, [5, 25])  # one event per batch written

    meter.reset()
    out, _ = run("link_documents", "--assessment", assessment.assessment_id, "--from-file", str(listing))
    assert "linked 0 document(s)" in out and "30 already linked" in out
    assert meter.calls("TransactWriteItems") == 0
    assert links_and_link_events(assessment) == (30, [5, 25])  # nothing changed, nothing recorded


def test_link_documents_re_run_reports_only_what_it_changed(owner, assessment):
    ids = [document.document_id for document in evidence(owner, count=4)]
    run("link_documents", "--assessment", assessment.assessment_id, *ids[:3])
    out, _ = run("link_documents", "--assessment", assessment.assessment_id, *ids)
    assert "linked 1 document(s)" in out and "3 already linked" in out
    assert links_and_link_events(assessment) == (4, [1, 3])


def test_a_link_run_stopped_part_way_leaves_an_event_for_every_batch_it_wrote(owner, assessment, monkeypatch):
    from assessments.services import links as link_service

    ids = [document.document_id for document in evidence(owner, count=60)]
    real = link_service.transaction
    batches = {"count": 0}

    def killed_after_two_batches(**kwargs):
        if batches["count"] == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a kill, between batches
        batches["count"] += 1
        return real(**kwargs)

    monkeypatch.setattr(link_service, "transaction", killed_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        run("link_documents", "--assessment", assessment.assessment_id, *ids)
    assert links_and_link_events(assessment) == (50, [25, 25])
    assert selectors.evidence_version(assessment.assessment_id) == 2  # moved with each batch written

    monkeypatch.setattr(link_service, "transaction", real)
    out, _ = run("link_documents", "--assessment", assessment.assessment_id, *ids)
    assert "linked 10 document(s)" in out and "50 already linked" in out
    assert links_and_link_events(assessment) == (60, [10, 25, 25])


def test_link_documents_dry_run_validates_and_writes_nothing(owner, assessment):
    from django.core.management import CommandError

    ids = [document.document_id for document in evidence(owner, count=3)]
    run("link_documents", "--assessment", assessment.assessment_id, ids[0])
    meter.reset()
    out, _ = run("link_documents", "--dry-run", "--assessment", assessment.assessment_id, *ids)
    assert "would link 2 document(s)" in out and "1 already linked" in out
    assert meter.calls("TransactWriteItems") == 0 and meter.calls("PutItem") == 0
    assert links_and_link_events(assessment) == (1, [1])

    stranger = evidence(make_user("mallory"), count=1)[0].document_id
    with pytest.raises(CommandError, match="1 document\\(s\\) not found"):
        run("link_documents", "--dry-run", "--assessment", assessment.assessment_id, ids[1], stranger)
    with pytest.raises(CommandError, match="1 document\\(s\\) not found"):
        run("link_documents", "--dry-run", "--assessment", assessment.assessment_id, "no-such-document")
    actor = actor_for(owner)
    from assessments import selectors as assessment_selectors

    current = assessment_selectors.assessment_current(assessment.assessment_id)
    assessment_services.assessment_transition(
        actor=actor, assessment_id=assessment.assessment_id, action="submit", version=current.version
    )
    with pytest.raises(CommandError, match="cannot change"):
        run("link_documents", "--dry-run", "--assessment", assessment.assessment_id, ids[1])


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


@pytest.fixture
def redis_llm_cache(settings):
    import socket
    import uuid

    from tests.conftest import skip_or_fail

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("no Redis server on 127.0.0.1:6379")
    prefix = f"tra-test-commands-{uuid.uuid4().hex}"
    settings.CACHES = {
        name: {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15",
               "KEY_PREFIX": f"{prefix}-{name}"}
        for name in ("default", "llm")
    }  # fmt: skip
    yield caches["llm"]
    for name in ("default", "llm"):
        caches[name].delete_pattern("*")  # this test's prefix only


@pytest.mark.redis
def test_llm_cache_stats_and_clear_on_the_shared_cache(redis_llm_cache):
    from llm import metrics

    metrics.add_sync(hits=4, bedrock_calls=1)
    redis_llm_cache.set("llm:summary:abc", "a cached summary")
    out, err = run("llm_cache", "stats")
    assert json.loads(out)["hits"] == 4 and err == ""
    assert "would clear 1 cached summary answer(s)" in run("llm_cache", "clear", "--task", "summary", "--dry-run")[0]
    assert "would clear" in run("llm_cache", "clear", "--dry-run")[0]
    run("llm_cache", "clear")
    assert json.loads(run("llm_cache", "stats")[0])["hits"] == 0
    assert redis_llm_cache.get("llm:summary:abc") is None


def test_llm_cache_without_redis_refuses_to_clear_what_it_cannot_reach(settings):
    from django.core.management import CommandError

    # README's default (no REDIS_URL), whatever this run's environment says.
    settings.CACHES = {
        name: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"tra-test-local-{name}"}
        for name in ("default", "llm")
    }
    caches["llm"].set("llm:summary:abc", "a cached summary")
    with pytest.raises(CommandError, match="local memory .* restart the server"):
        run("llm_cache", "clear")
    with pytest.raises(CommandError, match="local memory"):
        run("llm_cache", "clear", "--task", "summary")
    assert caches["llm"].get("llm:summary:abc") == "a cached summary"
    out, err = run("llm_cache", "stats")
    assert "hits" in json.loads(out) and "this command runs in a process of its own" in err


def test_commands_refuse_bad_arguments_clearly(assessment):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--since must be an ISO date"):
        run("export_assessments", "--since", "yesterday")
    with pytest.raises(CommandError, match="not found"):
        run("link_documents", "--assessment", "nope", "doc1")
    with pytest.raises(CommandError, match="--all-unanswered or at least one --question"):
        run("suggest_answers", "--assessment", assessment.assessment_id)
    assert utc_now()


class ClosedAfter(io.StringIO):
    """A pipe whose reader (`head -1`) goes away after the first line."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        if self.writes > 1:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_export_into_a_closed_pipe_stops_quietly(owner):
    actor = actor_for(owner)
    for n in range(3):
        assessment_services.assessment_create(actor=actor, title=f"Vendor {n}")
    stdout, stderr = ClosedAfter(), io.StringIO()
    call_command("export_assessments", stdout=stdout, stderr=stderr)  # no BrokenPipeError escapes
    assert len(stdout.getvalue().splitlines()) == 1 and stdout.writes == 2  # it stopped at the first refusal
    assert "Traceback" not in stderr.getvalue()


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("export_assessments", "(default: jsonl)"),
        ("dynamo_backfill", "(default: 4)"),
        ("summarize_documents", "(default: 4)"),
        ("link_documents", "# comments ignored"),
    ],
)
def test_help_shows_defaults(command, shown):
    from django.core.management import get_commands, load_command_class

    parser = load_command_class(get_commands()[command], command).create_parser("manage.py", command)
    text = " ".join(parser.format_help().split())
    assert shown in text and "(default: None)" not in text and "(default: False)" not in text
