"""Questions: create one, import many (all or nothing), answer one with a version check.

Single-item writes go through tra.dynamo.idempotency.save: a retry of a create or an
answer that had already been applied finds its own write and answers as a success."""

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PutError, PynamoDBException

from tra.dynamo import idempotency
from tra.dynamo.clock import utc_now
from tra.dynamo.writes import batch_write
from tra.errors import Conflict, Forbidden, InvalidState, ServiceUnavailable, ValidationFailed
from tra.http.auth import Actor

from .. import selectors
from ..models import MAX_QUESTION_ORDER, Assessment, Question, QuestionStatus
from .workflow import EDITABLE, State, record_event

logger = logging.getLogger(__name__)
DYNAMODB_FAILURES = (ServiceUnavailable, PynamoDBException, BotoCoreError, ClientError)
MAX_IMPORT = 1000


def _editable_for_questions(actor: Actor, assessment_id: str) -> Assessment:
    assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id, consistent=False)
    if State(assessment.state) not in EDITABLE:
        raise InvalidState(
            f"questions of an assessment that is {assessment.state} cannot change", extra={"state": assessment.state}
        )
    return assessment


def _question(
    assessment: Assessment, *, order: int, text: str, category: str | None, now, automatic: bool = False
) -> Question:
    if not 0 <= order <= MAX_QUESTION_ORDER:
        if automatic:  # the client sent no order: the questionnaire's state, not the request, is the problem
            raise InvalidState(
                f"no order is left after the last question ({MAX_QUESTION_ORDER}); give new questions an order",
                extra={"field": "order"},
            )
        raise ValidationFailed(f"order must be between 0 and {MAX_QUESTION_ORDER}", extra={"field": "order"})
    return Question.build(
        assessment_id=assessment.assessment_id,
        question_id=Question.new_id(order),
        order=order,
        text=text,
        category=category,
        created_at=now,
        updated_at=now,
    )


def question_create(
    *, actor: Actor, assessment_id: str, text: str, category: str | None = None, order: int | None = None
) -> Question:
    assessment = _editable_for_questions(actor, assessment_id)
    automatic = order is None
    if order is None:
        order = selectors.last_question_order(assessment) + 1
    question = _question(assessment, order=order, text=text, category=category, now=utc_now(), automatic=automatic)
    idempotency.save(question, condition=Question.pk.does_not_exist())
    return question


@dataclass(frozen=True)
class QuestionDraft:
    text: str
    category: str | None = None
    order: int | None = None


def question_import(*, actor: Actor, assessment_id: str, drafts: list[QuestionDraft]) -> list[Question]:
    """Bulk import: new items with fresh ids, so batched writes cannot overwrite anything."""
    if not drafts:
        raise ValidationFailed("no questions to import", extra={"field": "questions"})
    if len(drafts) > MAX_IMPORT:
        raise ValidationFailed(f"at most {MAX_IMPORT} questions per import", extra={"field": "questions"})
    assessment = _editable_for_questions(actor, assessment_id)
    next_order = selectors.last_question_order(assessment) + 1
    now = utc_now()
    questions = []
    for draft in drafts:
        order = draft.order if draft.order is not None else next_order
        next_order = max(next_order, order) + 1
        questions.append(
            _question(
                assessment,
                order=order,
                text=draft.text,
                category=draft.category,
                now=now,
                automatic=draft.order is None,
            )
        )
    try:
        batch_write(puts=questions)
    except DYNAMODB_FAILURES as error:
        _undo_import(questions, error)
        raise
    record_event(assessment, actor=actor, event_type="questions_imported", count=len(questions))
    return questions


def _undo_import(questions: list[Question], error: Exception) -> None:
    """An import is all or nothing: fresh ids mean a resend after a partial write would
    duplicate what was written, so the written part is deleted before the 503 goes out."""
    try:
        batch_write(deletes=questions)  # deleting an item never written is a no-op
    except DYNAMODB_FAILURES:
        logger.warning("could not undo a failed question import", exc_info=True)
        raise ServiceUnavailable(
            "DynamoDB failed during the import and some questions may have been written; "
            "list the questions before sending the import again",
            retry_after=2,
            extra={"field": "questions", "question_ids": [q.question_id for q in questions]},
        ) from error
    if isinstance(error, ServiceUnavailable):
        raise ServiceUnavailable(
            "DynamoDB did not accept the import; nothing was imported, send it again",
            retry_after=error.retry_after,
            extra={"field": "questions"},
        ) from error


def question_answer(*, actor: Actor, assessment_id: str, question_id: str, answer: str, version: int) -> Question:
    """A versioned answer: two people answering from the same version, one wins, one gets 409."""
    assessment, question = selectors.question_get(actor=actor, assessment_id=assessment_id, question_id=question_id)
    if assessment.owner_id != actor.user_id:
        raise Forbidden("only the assessment's owner may answer its questions")
    if State(assessment.state) not in EDITABLE:
        raise InvalidState(
            f"an assessment that is {assessment.state} cannot be answered", extra={"state": assessment.state}
        )
    if question.version != version:
        raise Conflict(
            f"question {question_id} is at version {question.version}, not {version}; reload and retry",
            extra={"current_version": question.version, "field": "version"},
        )
    now = utc_now()
    question.answer = answer
    question.status = QuestionStatus.ANSWERED.value if answer.strip() else QuestionStatus.UNANSWERED.value
    question.answered_by = actor.user_id
    question.answered_at = now
    question.updated_at = now
    try:
        idempotency.save(question)
    except PutError as error:  # the version condition failed: someone else answered first
        if idempotency.response_code(error) == idempotency.CONDITION_FAILED:
            current = selectors.question_current(assessment_id=assessment_id, question_id=question_id).version
            raise Conflict(
                f"question {question_id} changed since version {version}; reload and retry",
                extra={"current_version": current, "field": "version"},
            ) from error
        raise
    return question
