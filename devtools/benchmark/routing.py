"""Section 5: chat messages routed without an LLM call, and the precision of those routes.

Four sets the classifier was never trained on go through the free tiers, regex then
classifier (chat.evaluation); what they pass on would cost one LLM call each:
- the held-out split of the router's corpus (tests/chat/corpus/heldout.jsonl: templates and names
  written apart from the training ones, see the README beside it);
- the development set (tests/chat/corpus/independent.jsonl: written by hand without seeing the
  training data, then read for error analysis, so no longer an independent figure: INDEPENDENT.md);
- the validation set (tests/chat/corpus/fresh.jsonl: written by hand by a helper who saw nothing of
  the project; its aggregates chose between router configurations, its lines are never read: FRESH.md);
- the unseen set (tests/chat/corpus/unseen.jsonl: written by hand by an author who saw no training
  data, no other set and not the router, and never read for development: UNSEEN.md). This is
  the figure on messages never seen.
"""

import json
from pathlib import Path

from django.conf import settings

from chat.evaluation import Evaluation, evaluate

CORPUS = Path(settings.BASE_DIR) / "tests" / "chat" / "corpus"
SETS = {
    "held-out split": "heldout.jsonl",
    "development set": "independent.jsonl",
    "validation set": "fresh.jsonl",
    "unseen set": "unseen.jsonl",
}


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text().splitlines() if line.strip()]


def run(*, progress=print) -> dict[str, Evaluation]:
    """Each set's evaluation, by the set's name (SETS)."""
    results = {}
    for label, name in SETS.items():
        rows = load(name)
        progress(f"routing: {len(rows)} messages of the {label} through the regex and classifier tiers")
        results[label] = evaluate(rows)
    return results
