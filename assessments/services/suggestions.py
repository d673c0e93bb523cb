"""Answer suggestions: cited passages of the linked documents, through the cached LLM path,
stored on the question for a human to accept. Async because they await the LLM; their
DynamoDB work runs on the thread pool."""

import asyncio
import functools

from llm import services as llm
from llm.retrieval import Corpus
from tra import ratelimit
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.errors import Forbidden
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, Question, QuestionStatus
from ..models import Suggestion as SuggestionAttribute
from .evidence import evidence_corpus

SUGGESTION_CONCURRENCY = 4  # questions suggested at once in a bulk request


def suggestion_candidates(
    *, actor: Actor, assessment_id: str, assessment: Assessment | None = None
) -> tuple[Assessment, Corpus]:
    """The passages of the assessment's linked documents, as retrieval candidates: T2 (unless the
    caller read the assessment already), then the assessment's retrieval index for its current
    evidence version (evidence.evidence_corpus: one GetItem, T7b, however many documents are
    linked, once the index of that version is in this process, the cache or storage)."""
    if assessment is None:
        assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id, consistent=False)
    elif assessment.owner_id != actor.user_id:
        raise Forbidden("only the assessment's owner may change it")
    return assessment, evidence_corpus(assessment)


def _store_suggestion(*, question: Question, suggestion) -> Question:
    """Store the suggestion on the question (an UpdateItem of that attribute only: a
    concurrent answer is never overwritten; the question's version moves on). The update
    answers with the item as stored, which is returned: no read after it."""
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
        add_version_condition=False,  # the version is incremented (ADD 1), not checked
    )
    return question


def _question_and_candidates(*, actor: Actor, assessment_id: str, question_id: str) -> tuple[Question, Corpus]:
    """T2 + T4, then the candidates from that assessment: one trip to the thread pool, one read of it."""
    assessment, question = selectors.question_get(
        actor=actor, assessment_id=assessment_id, question_id=question_id, consistent=False
    )
    _, candidates = suggestion_candidates(actor=actor, assessment_id=assessment_id, assessment=assessment)
    return question, candidates


async def suggestion_create(
    *, actor: Actor, assessment_id: str, question_id: str, refresh: bool = False, rate_limited: bool = True
) -> Question:
    """A cited answer suggestion for one question, stored on it for a human to accept.
    Counted against LLM_RATE_LIMIT only when it makes a model call (a cached answer is free),
    unless rate_limited=False (tra/ratelimit.py says when). The assessment is read once."""
    charge = functools.partial(ratelimit.charge, actor) if rate_limited else None
    question, candidates = await run_sync(
        _question_and_candidates, actor=actor, assessment_id=assessment_id, question_id=question_id
    )
    suggestion = await llm.suggest_answer(question=question.text, candidates=candidates, refresh=refresh, charge=charge)
    return await run_sync(_store_suggestion, question=question, suggestion=suggestion)


async def suggestions_for_unanswered(
    *, actor: Actor, assessment_id: str, refresh: bool = False, rate_limited: bool = True
) -> list[Question]:
    """Suggestions for every unanswered question, SUGGESTION_CONCURRENCY at a time: one request,
    counted once against LLM_RATE_LIMIT if any of its questions makes a model call, unless
    rate_limited=False (tra/ratelimit.py says when)."""
    charge = llm.charge_once(functools.partial(ratelimit.charge, actor)) if rate_limited else None
    assessment, candidates = await run_sync(suggestion_candidates, actor=actor, assessment_id=assessment_id)
    questions = await run_sync(_unanswered, assessment)
    gate = asyncio.Semaphore(SUGGESTION_CONCURRENCY)

    async def one(question: Question) -> Question:
        async with gate:
            suggestion = await llm.suggest_answer(
                question=question.text, candidates=candidates, refresh=refresh, charge=charge
            )
            return await run_sync(_store_suggestion, question=question, suggestion=suggestion)

    return list(await asyncio.gather(*(one(question) for question in questions)))


def _unanswered(assessment: Assessment) -> list[Question]:
    """T3 over every page: the questions still without an answer."""
    return [q for q in selectors.questions_of(assessment) if q.status == QuestionStatus.UNANSWERED.value]
