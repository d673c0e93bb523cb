"""Section 5: chat messages routed without an LLM call, and the precision of those routes.

The labelled corpus of the chat tests (tests/chat/corpus.jsonl: real-world phrasings,
typos, hard negatives) goes through the free tiers (chat.evaluation); what they pass
on would cost one LLM call each.
"""

import json
from pathlib import Path

from django.conf import settings

from chat.evaluation import Evaluation, evaluate

CORPUS = Path(settings.BASE_DIR) / "tests" / "chat" / "corpus.jsonl"


def run(*, progress=print) -> Evaluation:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    progress(f"routing: {len(rows)} labelled messages through the regex and keyword tiers")
    return evaluate(rows)
