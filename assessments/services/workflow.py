"""Writes and business rules for assessments: the state machine, versioned edits,
questions, reviews. Every state change is one transaction with its audit event.

Services are sync (PynamoDB); the API runs them on the DynamoDB thread pool,
the admin and management commands call them directly.
"""

import csv
import io
import logging
import uuid
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PutError, PynamoDBException

from tra.auth import Actor
from tra.dynamo.models import utc_now
from tra.dynamo.writes import ConditionFailed, TransactionConflict, batch_write, transaction
from tra.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)

from . import selectors
from .models import (
    MAX_QUESTION_ORDER,
    Assessment,
    AssessmentEvent,
    AssessmentState,
    DocumentLink,
    Question,
    QuestionStatus,
    Review,
    ReviewDecision,
    TitleWord,
    title_words,
)
from .models import Suggestion as SuggestionAttribute

logger = logging.getLogger(__name__)
DYNAMODB_FAILURES = (ServiceUnavailable, PynamoDBException, BotoCoreError, ClientError)
State = AssessmentState
EDITABLE = {State.DRAFT, State.IN_PROGRESS, State.CHANGES_REQUESTED}
REVIEWABLE = {State.SUBMITTED, State.UNDER_REVIEW}
MAX_IMPORT = 1000


@dataclass(frozen=True)
class Transition:
    sources: frozenset[State]
    target: State
    reviewer: bool  # reviewers act; otherwise the owner


# The workflow: draft -> in_progress -> submitted -> under_review -> approved | rejected |
# changes_requested -> in_progress ...; archive from any state not waiting on a reviewer.
TRANSITIONS = {
    "start": Transition(frozenset({State.DRAFT}), State.IN_PROGRESS, reviewer=False),
    "submit": Transition(frozenset({State.DRAFT, State.IN_PROGRESS}), State.SUBMITTED, reviewer=False),
    "reopen": Transition(frozenset({State.CHANGES_REQUESTED}), State.IN_PROGRESS, reviewer=False),
    "archive": Transition(
        frozenset({State.DRAFT, State.IN_PROGRESS, State.CHANGES_REQUESTED, State.APPROVED, State.REJECTED}),
        State.ARCHIVED,
        reviewer=False,
    ),
    "start_review": Transition(frozenset({State.SUBMITTED}), State.UNDER_REVIEW, reviewer=True),
}
DECISIONS = {
    ReviewDecision.APPROVE: State.APPROVED,
    ReviewDecision.REJECT: State.REJECTED,
    ReviewDecision.REQUEST_CHANGES: State.CHANGES_REQUESTED,
}


def _new_id() -> str:
    return uuid.uuid4().hex


def _event(assessment: Assessment, *, actor: Actor, event_type: str, now, **details) -> AssessmentEvent:
    from_state = details.pop("from_state", None)
    to_state = details.pop("to_state", None)
    return AssessmentEvent.build(
        assessment_id=assessment.assessment_id,
        event_id=_new_id(),
        created_at=now,
        event_type=event_type,
        actor_id=actor.user_id,
        from_state=from_state,
        to_state=to_state,
        details=details,
    )


def record_event(assessment: Assessment, *, actor: Actor, event_type: str, **details) -> AssessmentEvent:
    """An audit event that goes with no state change (imports, links): a single put."""
    event = _event(assessment, actor=actor, event_type=event_type, now=utc_now(), **details)
    event.save()
    return event


def _conflict(assessment_id: str, expected: int) -> Conflict:
    try:
        current = Assessment.get(*Assessment.key(assessment_id), consistent_read=True).version
    except Assessment.DoesNotExist:
        return NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return Conflict(
        f"assessment {assessment_id} changed since version {expected}; reload and retry",
        extra={"current_version": current, "field": "version"},
    )


def _moved_on(error: ApplicationError, expected: int) -> bool:
    """After a transaction still cancelled by TransactionConflict (tra.dynamo.writes retries it):
    did another writer win (a 409/404 to report), or is DynamoDB still busy with an item that
    nobody changed (the 503 stands: a 409 would name the caller's own version as current)?"""
    return not isinstance(error, Conflict) or error.extra.get("current_version") != expected


def _check_version(assessment: Assessment, version: int) -> None:
    if assessment.version != version:
        raise Conflict(
            f"assessment {assessment.assessment_id} is at version {assessment.version}, not {version}: reload",
            extra={"current_version": assessment.version, "field": "version"},
        )


def _commit(assessment: Assessment, version: int, *others) -> Assessment:
    """Save the assessment (conditional on `version`) and `others` in one transaction."""
    try:
        with transaction() as write:
            write.save(assessment)
            for item in others:
                write.save(item)
    except ConditionFailed as failed:
        if 0 in failed.positions:
            raise _conflict(assessment.assessment_id, version) from failed
        raise
    except TransactionConflict as clash:  # another writer kept committing to the same item
        conflict = _conflict(assessment.assessment_id, version)
        if _moved_on(conflict, version):
            raise conflict from clash
        raise
    return assessment


def assessment_create(*, actor: Actor, title: str, description: str = "", metadata: dict | None = None) -> Assessment:
    now = utc_now()
    assessment = Assessment.build(
        assessment_id=_new_id(),
        owner_id=actor.user_id,
        title=title,
        description=description,
        metadata=metadata or {},
        state=State.DRAFT.value,
        created_at=now,
        updated_at=now,
    )
    words = [
        TitleWord.build(assessment_id=assessment.assessment_id, word=w, owner_id=actor.user_id)
        for w in title_words(title)
    ]
    with transaction() as write:
        write.save(assessment, condition=Assessment.pk.does_not_exist())
        write.save(_event(assessment, actor=actor, event_type="created", now=now, to_state=State.DRAFT.value))
        for word in words:
            write.save(word)
    return assessment


def assessment_update(
    *,
    actor: Actor,
    assessment_id: str,
    version: int,
    title: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
) -> Assessment:
    """Versioned edit of title/description/metadata; a stale version is a Conflict."""
    assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id)
    _check_version(assessment, version)
    if State(assessment.state) not in EDITABLE:
        raise InvalidState(
            f"an assessment that is {assessment.state} cannot be edited", extra={"state": assessment.state}
        )
    changed = {}
    if title is not None and title != assessment.title:
        changed["title"] = title
    if description is not None and description != assessment.description:
        changed["description"] = description
    if metadata is not None and metadata != assessment.metadata_dict:
        changed["metadata"] = metadata
    if not changed:
        return assessment
    now = utc_now()
    others = []
    if "title" in changed:
        old = {word.word: word for word in selectors.title_word_items(assessment)}
        new = title_words(changed["title"])
        for word in set(old) - set(new):
            others.append(("delete", old[word]))
        for word in set(new) - set(old):
            others.append(
                ("save", TitleWord.build(assessment_id=assessment_id, word=word, owner_id=assessment.owner_id))
            )
    for name, value in changed.items():
        setattr(assessment, name, value)
    assessment.updated_at = now
    event = _event(assessment, actor=actor, event_type="updated", now=now, fields=sorted(changed))
    try:
        with transaction() as write:
            write.save(assessment)
            write.save(event)
            for action, item in others:
                write.delete(item) if action == "delete" else write.save(item)
    except ConditionFailed as failed:
        raise _conflict(assessment_id, version) from failed
    except TransactionConflict as clash:
        conflict = _conflict(assessment_id, version)
        if _moved_on(conflict, version):
            raise conflict from clash
        raise
    return assessment


def assessment_transition(*, actor: Actor, assessment_id: str, action: str, version: int) -> Assessment:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationFailed(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}", extra={"field": "action"})
    if transition.reviewer:
        assessment = selectors.assessment_get(actor=actor, assessment_id=assessment_id, consistent=True)
        _require_reviewer_of(actor, assessment)
    else:
        assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id)
    _check_version(assessment, version)
    current = State(assessment.state)
    if current not in transition.sources:
        raise InvalidState(
            f"cannot {action.replace('_', ' ')} an assessment that is {current.value}",
            extra={"state": current.value, "action": action},
        )
    now = utc_now()
    assessment.state = transition.target.value
    assessment.updated_at = now
    if transition.target is State.SUBMITTED:
        assessment.submitted_at = now
    event = _event(
        assessment, actor=actor, event_type=action, now=now, from_state=current.value, to_state=transition.target.value
    )
    return _commit(assessment, version, event)


def _require_reviewer_of(actor: Actor, assessment: Assessment) -> None:
    if not actor.is_reviewer:
        raise Forbidden("only reviewers may review assessments")
    if assessment.owner_id == actor.user_id:
        raise Forbidden("owners cannot review their own assessment")


def review_create(
    *, actor: Actor, assessment_id: str, decision: str, comment: str, version: int
) -> tuple[Assessment, Review]:
    """A reviewer's decision: review + state change + event in one transaction."""
    assessment = selectors.assessment_get(actor=actor, assessment_id=assessment_id, consistent=True)
    _require_reviewer_of(actor, assessment)
    try:
        decision = ReviewDecision(decision)
    except ValueError:
        choices = ", ".join(d.value for d in ReviewDecision)
        raise ValidationFailed(f"decision must be one of {choices}", extra={"field": "decision"}) from None
    if decision is not ReviewDecision.APPROVE and not comment.strip():
        raise ValidationFailed("a comment is required to reject or request changes", extra={"field": "comment"})
    _check_version(assessment, version)
    current = State(assessment.state)
    if current not in REVIEWABLE:
        raise InvalidState(
            f"an assessment that is {current.value} is not awaiting review", extra={"state": current.value}
        )
    now = utc_now()
    target = DECISIONS[decision]
    assessment.state = target.value
    assessment.updated_at = now
    review = Review.build(
        assessment_id=assessment_id,
        review_id=_new_id(),
        created_at=now,
        reviewer_id=actor.user_id,
        decision=decision.value,
        comment=comment,
    )
    event = _event(
        assessment,
        actor=actor,
        event_type="reviewed",
        now=now,
        from_state=current.value,
        to_state=target.value,
        decision=decision.value,
        review_id=review.review_id,
    )
    _commit(assessment, version, review, event)
    return assessment, review


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
    question.save(condition=Question.pk.does_not_exist())
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
        question.save()
    except PutError as error:  # the version condition failed: someone answered first
        if error.cause_response_code == "ConditionalCheckFailedException":
            current = Question.get(question.pk, question.sk, consistent_read=True).version
            raise Conflict(
                f"question {question_id} changed since version {version}; reload and retry",
                extra={"current_version": current, "field": "version"},
            ) from error
        raise
    return question


MAX_CSV_BYTES = 2 * 1024 * 1024
CSV_COLUMNS = {"text", "category", "order"}


def parse_questions_csv(data: bytes) -> list[QuestionDraft]:
    """Rows of a CSV with a header (text required; category, order optional) as drafts.

    Errors name the row and column, so a user can fix the file."""
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(
            f"the CSV file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB", extra={"field": "file"}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV file must be UTF-8 text", extra={"field": "file"}) from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = {name.strip().lower() for name in reader.fieldnames or []}
        if "text" not in header:
            raise ValidationFailed("the CSV file needs a header row with a 'text' column", extra={"field": "file"})
        drafts = []
        for line, row in enumerate(reader, start=2):
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items() if key}
            drafts.append(_draft_from_row(row, line))
    except csv.Error as error:
        raise ValidationFailed(f"the CSV file is malformed: {error}", extra={"field": "file"}) from None
    return drafts


def _draft_from_row(row: dict[str, str], line: int) -> QuestionDraft:
    text = row.get("text", "")
    if not text:
        raise ValidationFailed(f"row {line}: 'text' is empty", extra={"field": "file", "row": line, "column": "text"})
    if len(text) > 2_000:
        raise ValidationFailed(
            f"row {line}: 'text' is longer than 2000 characters", extra={"field": "file", "row": line}
        )
    order = row.get("order") or None
    if order is not None:
        try:
            order = int(order)
        except ValueError:
            raise ValidationFailed(
                f"row {line}: 'order' must be a whole number", extra={"field": "file", "row": line, "column": "order"}
            ) from None
    return QuestionDraft(text=text, category=(row.get("category") or None), order=order)


def question_import_csv(*, actor: Actor, assessment_id: str, data: bytes) -> list[Question]:
    return question_import(actor=actor, assessment_id=assessment_id, drafts=parse_questions_csv(data))


SUGGESTION_CONCURRENCY = 4  # questions suggested at once in a bulk request


def suggestion_candidates(*, actor: Actor, assessment_id: str) -> tuple[Assessment, list]:
    """The passages of the assessment's linked documents, as retrieval candidates (T7 + T11 per document)."""
    from documents import selectors as document_selectors
    from llm.retrieval import Candidate

    assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id, consistent=False)
    links = DocumentLink.query(assessment.pk, DocumentLink.sk.startswith(DocumentLink.collection_prefix()))
    candidates = []
    for _link, document in document_selectors.assessment_documents(list(links)):
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
    return Question.get(*Question.key(assessment_id, question_id), consistent_read=True)


async def suggestion_create(*, actor: Actor, assessment_id: str, question_id: str, refresh: bool = False) -> Question:
    """A cited answer suggestion for one question, stored on it for a human to accept."""
    from llm.services import suggest_answer
    from tra.dynamo.executor import run_sync

    _, question = await run_sync(
        selectors.question_get, actor=actor, assessment_id=assessment_id, question_id=question_id
    )
    _, candidates = await run_sync(suggestion_candidates, actor=actor, assessment_id=assessment_id)
    suggestion = await suggest_answer(question=question.text, candidates=candidates, refresh=refresh)
    return await run_sync(
        _store_suggestion, assessment_id=assessment_id, question_id=question_id, suggestion=suggestion
    )


async def suggestions_for_unanswered(*, actor: Actor, assessment_id: str, refresh: bool = False) -> list[Question]:
    """Suggestions for every unanswered question, SUGGESTION_CONCURRENCY at a time."""
    import asyncio

    from llm.services import suggest_answer
    from tra.dynamo.executor import run_sync

    assessment, candidates = await run_sync(suggestion_candidates, actor=actor, assessment_id=assessment_id)
    questions = await run_sync(_unanswered, assessment)
    gate = asyncio.Semaphore(SUGGESTION_CONCURRENCY)

    async def one(question: Question) -> Question:
        async with gate:
            suggestion = await suggest_answer(question=question.text, candidates=candidates, refresh=refresh)
            return await run_sync(
                _store_suggestion, assessment_id=assessment_id, question_id=question.question_id, suggestion=suggestion
            )

    return list(await asyncio.gather(*(one(question) for question in questions)))


def _unanswered(assessment: Assessment) -> list[Question]:
    """T3 over every page: the questions still without an answer."""
    questions = Question.query(assessment.pk, Question.sk.startswith(Question.collection_prefix()))
    return [question for question in questions if question.status == QuestionStatus.UNANSWERED.value]
