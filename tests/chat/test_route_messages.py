"""`manage.py route_messages`: one JSON line per routed message, malformed lines skipped with a reason."""

import io
import json

from django.core.management import call_command

from devtools.fake_bedrock import FakeBedrock


def run(path, settings, *options) -> tuple[list[dict], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("route_messages", "--jsonl", str(path), *options, stdout=stdout, stderr=stderr)
    return [json.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


def test_each_message_is_printed_with_its_intent_tier_and_confidence_without_a_network_call(tmp_path, settings):
    settings.LLM_PROVIDER = "extractive"
    path = tmp_path / "messages.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "/summarize soc2-report.pdf"}),
                json.dumps({"text": "list my submitted assessments"}),
                json.dumps({"text": "what does the SOC 2 report say about encryption?"}),
            ]
        )
    )
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        rows, stderr = run(path, settings)
    assert rows == [
        {"text": "/summarize soc2-report.pdf", "intent": "summarize_document", "tier": "regex", "confidence": 1.0},
        {"text": "list my submitted assessments", "intent": "list_assessments", "tier": "classifier",
         "confidence": rows[1]["confidence"]},
        {"text": "what does the SOC 2 report say about encryption?", "intent": "general", "tier": "llm",
         "confidence": 0.0},
    ]  # fmt: skip
    assert fake.converse_calls == 0
    assert stderr.strip().splitlines()[-1] == "routed 3 message(s): regex 1, classifier 1, llm 1, skipped 0"


def test_malformed_lines_are_reported_on_stderr_and_skipped(tmp_path, settings):
    settings.LLM_PROVIDER = "extractive"
    path = tmp_path / "messages.jsonl"
    path.write_text('{"text": "/help"}\nnot json\n{"message": "no text"}\n\n{"text": "hi"}\n')
    rows, stderr = run(path, settings)
    assert [row["intent"] for row in rows] == ["help", "general"]
    assert "line 2: skipped" in stderr
    assert "line 3: skipped" in stderr
    assert stderr.strip().splitlines()[-1] == "routed 2 message(s): regex 2, classifier 0, llm 0, skipped 2"


def test_stdin_is_read_when_the_file_is_a_dash(monkeypatch, settings):
    settings.LLM_PROVIDER = "extractive"
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "/docs"}\n'))
    rows, _ = run("-", settings)
    assert rows == [{"text": "/docs", "intent": "list_documents", "tier": "regex", "confidence": 1.0}]


def test_evaluate_reports_precision_coverage_tiers_and_time_and_names_each_wrong_route(tmp_path, settings):
    settings.LLM_PROVIDER = "extractive"
    path = tmp_path / "labelled.jsonl"
    labelled = [
        {"text": "/docs", "intent": "list_documents"},
        {"text": "list my submitted assessments", "intent": "list_assessments"},
        {"text": "/help", "intent": "summarize_document"},  # mislabelled on purpose: one wrong route
        {"text": "what does the SOC 2 report say about encryption?", "intent": "general"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in labelled))
    rows, stderr = run(path, settings, "--evaluate")
    assert len(rows) == 4
    summary = next(line for line in stderr.splitlines() if line.startswith("fast tiers on"))
    assert summary.startswith(
        "fast tiers on 4 labelled message(s): precision 66.7% (2/3), tool-intent coverage 66.7% (2/3); "
        "regex 2, classifier 1, passed on 1; "
    )
    assert summary.endswith(" ms a message")
    assert "wrong: '/help' is summarize_document, routed help" in stderr
