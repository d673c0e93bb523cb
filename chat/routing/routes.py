"""The value every routing tier returns."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    intent: str
    tier: str  # regex | classifier | llm (only llm costs a model call)
    confidence: float  # 0..1
    arguments: dict = field(default_factory=dict)
    answer: str | None = None  # set only when the LLM tier answered an open question directly
    citations: tuple = ()  # llm Citations of the passages that answer cites
    grounding: float = 0.0  # how well those passages match the question (0..1)
