"""Section 5: chat messages routed without an LLM call, and the precision of those routes.

The held-out split of the chat router's corpus (tests/chat/corpus/heldout.jsonl: templates and
names the classifier was never trained or tuned on, see the README beside it) goes through the
free tiers, regex then classifier (chat.evaluation); what they pass on would cost one LLM call each.
"""

import json
from pathlib import Path

from django.conf import settings

from chat.evaluation import Evaluation, evaluate

CORPUS = Path(settings.BASE_DIR) / "tests" / "chat" / "corpus" / "heldout.jsonl"


def run(*, progress=print) -> Evaluation:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    progress(f"routing: {len(rows)} held-out labelled messages through the regex and classifier tiers")
    return evaluate(rows)
