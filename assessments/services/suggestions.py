"""Answer suggestions: cited passages of the linked documents, through the cached LLM path,
stored on the question for a human to accept. Async because they await the LLM; their
DynamoDB work runs on the thread pool."""

import asyncio

from documents import selectors as document_selectors
from llm import services as llm
from llm.retrieval import Candidate
from tra import ratelimit
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, Question, QuestionStatus
from ..models import Suggestion as SuggestionAttribute

SUGGESTION_CONCURRENCY = 4  # questions suggested at once in a bulk request


def suggestion_candidates(*, actor: Actor, assessment_id: str) -> tuple[Assessment, list]:
    """The passages of the assessment's linked documents, as retrieval candidates (T7 + T11 per document)."""
    assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id, consistent=False)
    candidates = []
    for _link, document in selectors.assessment_documents(selectors.links_of(assessment)):
        if document is None:
            continue
        for chunk in document_selectors.chunks_of(document.document_id):
            candidates.append(
                Candidate(
                    document_id=document.document_id, chunk=chunk.number, text=chunk.text, filename=document.filename
                )
            )
    return assessment, candidates


def _store_suggestion(*, assessment_id: str, question_id: str, suggestion) -> Question:
    """Store the suggestion on the question (an UpdateItem of that attribute only: a
    concurrent answer is never overwritten; the question's version moves on)."""
    question = Question(*Question.key(assessment_id, question_id))
    stored = SuggestionAttribute(
        text=suggestion.text,
        citations=[{"document_id": c.document_id, "chunk": c.chunk, "quote": c.quote} for c in suggestion.citations],
        confidence=suggestion.confidence,
        provider=suggestion.provider,
        model=suggestion.model,
        created_at=utc_now(),
    )
    question.update(
        actions=[Question.suggestion.set(stored), Question.updated_at.set(utc_now())],
        condition=Question.pk.exists(),
        add_version_condition=False,
    )
    return selectors.question_current(assessment_id=assessment_id, question_id=question_id)


async def suggestion_create(
    *, actor: Actor, assessment_id: str, question_id: str, refresh: bool = False, rate_limited: bool = True
) -> Question:
    """A cited answer suggestion for one question, stored on it for a human to accept.
    Counted first against LLM_RATE_LIMIT unless rate_limited=False (tra/ratelimit.py says when)."""
    if rate_limited:
        await ratelimit.charge(actor)
    _, question = await run_sync(
        selectors.question_get, actor=actor, assessment_id=assessment_id, question_id=question_id
    )
    _, candidates = await run_sync(suggestion_candidates, actor=actor, assessment_id=assessment_id)
    suggestion = await llm.suggest_answer(question=question.text, candidates=candidates, refresh=refresh)
    return await run_sync(
        _store_suggestion, assessment_id=assessment_id, question_id=question_id, suggestion=suggestion
    )


async def suggestions_for_unanswered(
    *, actor: Actor, assessment_id: str, refresh: bool = False, rate_limited: bool = True
) -> list[Question]:
    """Suggestions for every unanswered question, SUGGESTION_CONCURRENCY at a time: one request.
    Counted first against LLM_RATE_LIMIT unless rate_limited=False (tra/ratelimit.py says when)."""
    if rate_limited:
        await ratelimit.charge(actor)
    assessment, candidates = await run_sync(suggestion_candidates, actor=actor, assessment_id=assessment_id)
    questions = await run_sync(_unanswered, assessment)
    gate = asyncio.Semaphore(SUGGESTION_CONCURRENCY)

    async def one(question: Question) -> Question:
        async with gate:
            suggestion = await llm.suggest_answer(question=question.text, candidates=candidates, refresh=refresh)
            return await run_sync(
                _store_suggestion, assessment_id=assessment_id, question_id=question.question_id, suggestion=suggestion
            )

    return list(await asyncio.gather(*(one(question) for question in questions)))


def _unanswered(assessment: Assessment) -> list[Question]:
    """T3 over every page: the questions still without an answer."""
    return [q for q in selectors.questions_of(assessment) if q.status == QuestionStatus.UNANSWERED.value]
