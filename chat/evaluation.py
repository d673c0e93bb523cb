"""How well the fast routing tiers do on a labelled set of messages.

    evaluate(rows) -> Evaluation     rows: [{"text": ..., "intent": ...}, ...]

Report it on messages the classifier was not trained on: the held-out split of the corpus
(tests/chat/corpus/heldout.jsonl, see its README), or messages from elsewhere.

Only the free tiers (regex, classifier) are evaluated: a message they pass on goes to the LLM
tier, which costs a call but never routes wrongly for want of trying. Precision is the share of
fast routes whose intent matches the label; tool coverage is the share of tool-intent messages
(every intent but `general`) the fast tiers route to the right intent.
"""

import time
from dataclasses import dataclass, field

from .routing import route_fast


@dataclass
class TierFigures:
    routed: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.routed if self.routed else 0.0


@dataclass
class Evaluation:
    messages: int
    tool_messages: int
    tool_routed: int
    tiers: dict[str, TierFigures]
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (text, label, routed intent)
    seconds: float = 0.0  # spent in the fast tiers, all messages together

    @property
    def mean_ms(self) -> float:
        return 1000 * self.seconds / self.messages if self.messages else 0.0

    @property
    def fast_routed(self) -> int:
        return sum(tier.routed for tier in self.tiers.values())

    @property
    def precision(self) -> float:
        return (self.fast_routed - len(self.wrong)) / self.fast_routed if self.fast_routed else 0.0

    @property
    def tool_coverage(self) -> float:
        return self.tool_routed / self.tool_messages if self.tool_messages else 0.0

    @property
    def no_llm_share(self) -> float:
        return self.fast_routed / self.messages if self.messages else 0.0


def evaluate(rows: list[dict]) -> Evaluation:
    tiers = {"regex": TierFigures(), "classifier": TierFigures()}
    wrong = []
    tool_routed = 0
    started = time.perf_counter()
    routes = [route_fast(row["text"]) for row in rows]
    seconds = time.perf_counter() - started
    for row, fast in zip(rows, routes, strict=True):
        if fast is None:
            continue
        figures = tiers[fast.tier]
        figures.routed += 1
        if fast.intent == row["intent"]:
            figures.correct += 1
            tool_routed += row["intent"] != "general"
        else:
            wrong.append((row["text"], row["intent"], fast.intent))
    return Evaluation(
        messages=len(rows),
        tool_messages=sum(row["intent"] != "general" for row in rows),
        tool_routed=tool_routed,
        tiers=tiers,
        wrong=wrong,
        seconds=seconds,
    )
