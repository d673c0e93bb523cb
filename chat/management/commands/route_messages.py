import json
import sys
from collections import Counter

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError

from chat.evaluation import evaluate
from chat.routing import route


class Command(BaseCommand):
    help = (
        'Route chat messages read as JSON lines ({"text": ...}) from FILE or "-" (stdin) and print one '
        'JSON line per message: {"text", "intent", "tier", "confidence"}. Only messages the fast tiers '
        "leave undecided reach the LLM, and only when LLM_PROVIDER is bedrock. With --evaluate the lines carry "
        'labels ({"text", "intent"}, e.g. tests/chat/corpus/heldout.jsonl) and the fast tiers\' precision, '
        "tool-intent coverage, per-tier counts and mean milliseconds per message follow on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--jsonl", required=True, metavar="FILE", help='a JSON-lines file, or "-" for stdin')
        parser.add_argument(
            "--evaluate", action="store_true", help='score the fast tiers against each line\'s "intent" label'
        )

    def handle(self, *args, jsonl, evaluate, **options):
        try:
            lines = sys.stdin.read().splitlines() if jsonl == "-" else _read_lines(jsonl)
        except OSError as error:
            raise CommandError(f"cannot read {jsonl}: {error}") from None
        # One async_to_sync scope for every message: the Bedrock client lives on its loop.
        tiers = async_to_sync(self._route_all)(lines)
        counts = ", ".join(f"{tier} {tiers[tier]}" for tier in ("regex", "classifier", "llm", "skipped"))
        self.stderr.write(f"routed {sum(tiers.values()) - tiers['skipped']} message(s): {counts}")
        if evaluate:
            self._evaluate(lines)

    def _evaluate(self, lines: list[str]) -> None:
        rows = [row for row in map(_labelled, lines) if row is not None]
        if not rows:
            raise CommandError('--evaluate needs lines with a "text" and an "intent" string')
        result = evaluate(rows)
        tiers = ", ".join(f"{tier} {figures.routed}" for tier, figures in result.tiers.items())
        self.stderr.write(
            f"fast tiers on {result.messages} labelled message(s): precision {result.precision:.1%} "
            f"({result.fast_routed - len(result.wrong)}/{result.fast_routed}), tool-intent coverage "
            f"{result.tool_coverage:.1%} ({result.tool_routed}/{result.tool_messages}); {tiers}, "
            f"passed on {result.messages - result.fast_routed}; {result.mean_ms:.2f} ms a message"
        )
        for text, label, routed in result.wrong:
            self.stderr.write(f"wrong: {text!r} is {label}, routed {routed}")

    async def _route_all(self, lines: list[str]) -> Counter:
        tiers = Counter()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            text = _text_of(line)
            if text is None:
                self.stderr.write(f'line {number}: skipped, expected a JSON object with a "text" string: {line[:80]}')
                tiers["skipped"] += 1
                continue
            routed = await route(text)
            tiers[routed.tier] += 1
            self.stdout.write(
                json.dumps(
                    {"text": text, "intent": routed.intent, "tier": routed.tier, "confidence": routed.confidence}
                )
            )
        return tiers


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as file:
        return file.read().splitlines()


def _labelled(line: str) -> dict | None:
    try:
        row = json.loads(line) if line.strip() else None
    except json.JSONDecodeError:
        return None
    if isinstance(row, dict) and isinstance(row.get("text"), str) and isinstance(row.get("intent"), str):
        return row
    return None


def _text_of(line: str) -> str | None:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return None
    text = message.get("text") if isinstance(message, dict) else None
    return text if isinstance(text, str) else None
