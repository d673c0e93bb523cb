"""The assessment workflow: create, edit, move through the states, review.

Every state change is one transaction with its audit event; a stale version is a
Conflict that carries the current one. The audit event (a fresh key) is each
transaction's witness: a retry of a write that had already committed finds its
own event and answers as a success, not a 409 (tra/dynamo/idempotency.py).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pynamodb.transactions import TransactWrite

from tra.dynamo.clock import utc_now
from tra.dynamo.writes import ConditionFailed, TransactionConflict, transaction
from tra.errors import ApplicationError, Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, AssessmentEvent, AssessmentState, Review, ReviewDecision, title_words

State = AssessmentState
# A caller's own writes in a transition's transaction: along(write, assessment) (assessment_transition).
Along = Callable[[TransactWrite, Assessment], None]

EDITABLE = {State.DRAFT, State.IN_PROGRESS, State.CHANGES_REQUESTED}
REVIEWABLE = {State.SUBMITTED, State.UNDER_REVIEW}


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


def audit_event(assessment: Assessment, *, actor: Actor, event_type: str, now, **details) -> AssessmentEvent:
    """The audit event of a write to `assessment` (every state change, edit and link batch has one; it is
    also the write's witness: tra/dynamo/writes.py)."""
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
    event = audit_event(assessment, actor=actor, event_type=event_type, now=utc_now(), **details)
    event.save()
    return event


def _conflict(assessment_id: str, expected: int) -> ApplicationError:
    current = selectors.assessment_current(assessment_id)
    if current is None:
        return NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return Conflict(
        f"assessment {assessment_id} changed since version {expected}; reload and retry",
        extra={"current_version": current.version, "field": "version"},
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


def _commit(
    assessment: Assessment, version: int, *others, event: AssessmentEvent, along: Along | None = None
) -> Assessment:
    """Save the assessment (conditional on `version`), `others` and its audit `event` in one transaction,
    with the caller's own writes (`along`) in it too."""
    try:
        with transaction(witness=event) as write:
            write.save(assessment)
            for item in (*others, *assessment.title_word_items(version=version + 1)):  # the search rows
                write.save(item)
            write.save(event)
            if along is not None:
                along(write, assessment)
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
    words = assessment.title_word_items(version=1)
    created = audit_event(assessment, actor=actor, event_type="created", now=now, to_state=State.DRAFT.value)
    with transaction(witness=created) as write:
        write.save(assessment, condition=Assessment.pk.does_not_exist())
        write.save(created)
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
    for name, value in changed.items():
        setattr(assessment, name, value)
    assessment.updated_at = now
    others += [("save", word) for word in assessment.title_word_items(version=version + 1)]  # the search rows
    event = audit_event(assessment, actor=actor, event_type="updated", now=now, fields=sorted(changed))
    try:
        with transaction(witness=event) as write:
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


def assessment_transition(
    *, actor: Actor, assessment_id: str, action: str, version: int, along: Along | None = None
) -> Assessment:
    """Move the assessment through `action` (TRANSITIONS) if it is still at `version`: the state and its
    event in one transaction. `along(write, assessment)` adds a caller's own items to that transaction,
    with the assessment already in its new state (at `version`; it is `version + 1` once committed): the
    chat records a confirmed proposal's turn that way, so a state change is never left without its
    record, nor a record without its change. A failed condition among them is ConditionFailed."""
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
    event = audit_event(
        assessment, actor=actor, event_type=action, now=now, from_state=current.value, to_state=transition.target.value
    )
    return _commit(assessment, version, event=event, along=along)


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
    event = audit_event(
        assessment,
        actor=actor,
        event_type="reviewed",
        now=now,
        from_state=current.value,
        to_state=target.value,
        decision=decision.value,
        review_id=review.review_id,
    )
    _commit(assessment, version, review, event=event)
    return assessment, review
