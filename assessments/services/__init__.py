"""Writes and business rules for assessments: the state machine, versioned edits,
questions, reviews, document links and answer suggestions.

Services are sync (PynamoDB) except the suggestions, which await the LLM; the API runs
the sync ones on the DynamoDB thread pool, the admin and management commands call them
directly. One module per concern; this package re-exports the public API, so callers
write `from assessments import services; services.assessment_create(...)`.
"""

from .links import MAX_LINKS_PER_CALL, LinkOutcome, document_link_many, document_unlink_many
from .question_csv import MAX_CSV_BYTES, parse_questions_csv, question_import_csv
from .questions import MAX_IMPORT, QuestionDraft, question_answer, question_create, question_import
from .suggestions import SUGGESTION_CONCURRENCY, suggestion_candidates, suggestion_create, suggestions_for_unanswered
from .workflow import (
    DECISIONS,
    EDITABLE,
    REVIEWABLE,
    TRANSITIONS,
    Transition,
    assessment_create,
    assessment_transition,
    assessment_update,
    record_event,
    review_create,
)

__all__ = [
    "DECISIONS",
    "EDITABLE",
    "MAX_CSV_BYTES",
    "MAX_IMPORT",
    "MAX_LINKS_PER_CALL",
    "LinkOutcome",
    "REVIEWABLE",
    "SUGGESTION_CONCURRENCY",
    "TRANSITIONS",
    "QuestionDraft",
    "Transition",
    "assessment_create",
    "assessment_transition",
    "assessment_update",
    "document_link_many",
    "document_unlink_many",
    "parse_questions_csv",
    "question_answer",
    "question_create",
    "question_import",
    "question_import_csv",
    "record_event",
    "review_create",
    "suggestion_candidates",
    "suggestion_create",
    "suggestions_for_unanswered",
]
