"""The router's word tables: slash commands and the names users give states.

Names that mirror stored values are derived here, not copied: INTENTS from chat.models.Intent,
STATES and each state's own name ("changes requested", "changes_requested") from
assessments.models.AssessmentState. What is written by hand is how users say things; how users
ask for each intent is learned from the corpus (classifier.py), not listed here.
"""

import re

from assessments.models import AssessmentState

from ..models import Intent

INTENTS = tuple(intent.value for intent in Intent)
STATES = tuple(state.value for state in AssessmentState)

# Slash commands: the user said exactly what they want.
COMMANDS = {
    "summarize": "summarize_document",
    "summarise": "summarize_document",
    "summary": "summarize_document",
    "suggest": "suggest_answer",
    "answer": "suggest_answer",
    "list": "list_assessments",
    "assessments": "list_assessments",
    "status": "assessment_status",
    "submit": "submit_assessment",
    "docs": "list_documents",
    "documents": "list_documents",
    "files": "list_documents",
    "help": "help",
}

# What users call a state besides its name and its stored value. Checked in this order, the first
# match naming the state, so the narrower phrases come first ("open drafts in review" is under
# review). A state added to AssessmentState without an entry is still known by its name.
_STATE_WORDS: dict[AssessmentState, tuple[str, ...]] = {
    AssessmentState.CHANGES_REQUESTED: (r"need(s|ing)? changes", "requested changes"),
    AssessmentState.UNDER_REVIEW: ("in review", "being reviewed", "waiting for review"),
    AssessmentState.IN_PROGRESS: ("in-progress", "ongoing", "open"),
    AssessmentState.DRAFT: ("drafts", "in draft"),
    AssessmentState.SUBMITTED: (),
    AssessmentState.APPROVED: (),
    AssessmentState.REJECTED: ("declined",),
    AssessmentState.ARCHIVED: (),
}


def _state_pattern(state: AssessmentState) -> re.Pattern:
    names = dict.fromkeys((state.value.replace("_", " "), state.value, *_STATE_WORDS.get(state, ())))
    return re.compile(r"\b(" + "|".join(names) + r")\b")


_STATE_ORDER = [*_STATE_WORDS, *(state for state in AssessmentState if state not in _STATE_WORDS)]
STATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (state.value, _state_pattern(state)) for state in _STATE_ORDER
)
