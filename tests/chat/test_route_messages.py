"""`manage.py route_messages`: one JSON line per routed message, malformed lines skipped with a reason."""

import io
import json

from django.core.management import call_command

from devtools.fake_bedrock import FakeBedrock


def run(path, settings) -> tuple[list[dict], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("route_messages", "--jsonl", str(path), stdout=stdout, stderr=stderr)
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
        {"text": "list my submitted assessments", "intent": "list_assessments", "tier": "keyword",
         "confidence": rows[1]["confidence"]},
        {"text": "what does the SOC 2 report say about encryption?", "intent": "general", "tier": "llm",
         "confidence": 0.0},
    ]  # fmt: skip
    assert fake.converse_calls == 0
    assert stderr.strip().splitlines()[-1] == "routed 3 message(s): regex 1, keyword 1, llm 1, skipped 0"


def test_malformed_lines_are_reported_on_stderr_and_skipped(tmp_path, settings):
    settings.LLM_PROVIDER = "extractive"
    path = tmp_path / "messages.jsonl"
    path.write_text('{"text": "/help"}\nnot json\n{"message": "no text"}\n\n{"text": "hi"}\n')
    rows, stderr = run(path, settings)
    assert [row["intent"] for row in rows] == ["help", "general"]
    assert "line 2: skipped" in stderr
    assert "line 3: skipped" in stderr
    assert stderr.strip().splitlines()[-1] == "routed 2 message(s): regex 2, keyword 0, llm 0, skipped 2"


def test_stdin_is_read_when_the_file_is_a_dash(monkeypatch, settings):
    settings.LLM_PROVIDER = "extractive"
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "/docs"}\n'))
    rows, _ = run("-", settings)
    assert rows == [{"text": "/docs", "intent": "list_documents", "tier": "regex", "confidence": 1.0}]
