"""Writes for the chat: sessions, and a posted message with its routed, tool-backed reply.

Posting routes the message (cheapest tier first; a message that reaches the model
goes with the assessment's best-matching passages, so an open question is classified
and answered in one call), runs the intent through the same
selectors and services as the API, and only then writes the user message, the
reply and the session's new counters in one transaction: an LLM or DynamoDB
failure leaves nothing half-written, and costs at most one LLM call. A message
bound for the LLM tier or an LLM-backed tool is first counted against the user's
LLM_RATE_LIMIT (tra/ratelimit.py); over it, a 429 before anything is read or written.

A message never changes state by itself: a state-changing intent (submit) replies with a
proposal, stored as a ChatProposal with the turn, that the session's owner confirms through
`proposal_confirm` (the confirm endpoint) or by a short "yes" while it is the one pending;
the confirmation runs the API's own service and is recorded as a turn of its own, in the same
transaction as the state change.
"""

import re
import threading
import uuid
from collections import Counter
from datetime import datetime

from pynamodb.transactions import TransactWrite

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from llm import services as llm
from tra import ratelimit
from tra.dynamo import idempotency
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.dynamo.writes import ConditionFailed, transaction
from tra.errors import ApplicationError, Conflict, InvalidState
from tra.http.auth import Actor

from . import intents, routing, selectors
from .models import ChatMessage, ChatProposal, ChatSession, Intent, ProposalStatus

# What a proposed action does when confirmed: the assessment transition it runs (chat.intents._submit proposes).
PROPOSAL_ACTIONS = {Intent.SUBMIT_ASSESSMENT: "submit"}
CONFIRM_TIER = "confirm"  # the `tier` of a confirmation and its result: no routing was involved
# A short reply that confirms the one pending proposal of its session.
CONFIRMING = re.compile(
    r"^(?:y|yes|yep|yeah|yup|ok|okay|sure|confirm|confirmed|go ahead|do it|please do|yes please|yes,? go ahead"
    r"|yes,? do it|yes,? confirm|yes,? submit it|go for it)[.!\s]*$"
)

# Intents whose tool may call the model (document_summarize, suggest_answer): like the LLM tier, a message
# routed to one counts against LLM_RATE_LIMIT, or the chat would be a way around the API's 429.
LLM_TOOL_INTENTS = frozenset({Intent.SUMMARIZE_DOCUMENT, Intent.SUGGEST_ANSWER})

_routing_lock = threading.Lock()
_routing_counts: Counter = Counter()  # this process's messages per tier and per intent


def routing_totals() -> dict[str, int]:
    """Routed messages per tier (`routing.tier.<tier>`) and intent (`routing.intent.<intent>`)."""
    with _routing_lock:
        return dict(_routing_counts)


def _count(route: routing.Route) -> None:
    with _routing_lock:
        _routing_counts[f"routing.tier.{route.tier}"] += 1
        _routing_counts[f"routing.intent.{route.intent}"] += 1


def session_create(*, actor: Actor, title: str = "", assessment_id: str | None = None) -> ChatSession:
    if assessment_id:
        assessment_selectors.assessment_get(actor=actor, assessment_id=assessment_id)  # NotFound unless readable
    now = utc_now()
    session = ChatSession.build(
        session_id=uuid.uuid4().hex,
        owner_id=actor.user_id,
        title=title,
        assessment_id=assessment_id,
        created_at=now,
        updated_at=now,
    )
    idempotency.save(session, condition=ChatSession.pk.does_not_exist())  # a retry finds its own session
    return session


def _store_turn(
    session: ChatSession,
    user: ChatMessage,
    reply: ChatMessage,
    *,
    proposed: ChatProposal | None = None,
) -> ChatSession:
    """The turn in one transaction, with the proposal its reply makes."""
    # The messages are new items: conditioned so that a retried transaction that had already
    # committed cannot ADD to message_count twice; its user message (as written) is the witness.
    with transaction(witness=user) as write:
        _write_turn(write, session, user, reply, proposed=proposed)
    return session


def _write_turn(
    write: TransactWrite,
    session: ChatSession,
    user: ChatMessage,
    reply: ChatMessage,
    *,
    proposed: ChatProposal | None = None,
    confirmed: ChatProposal | None = None,
) -> None:
    """A turn's items in the transaction `write`: both messages, the session's counters, and the proposal
    its reply makes or the one it confirms (once: conditioned on still being pending)."""
    session.updated_at = reply.created_at
    session.derive_attributes()  # the by_owner sort key follows updated_at
    write.save(user, condition=ChatMessage.pk.does_not_exist())
    write.save(reply, condition=ChatMessage.pk.does_not_exist())
    write.update(
        session,
        actions=[
            ChatSession.message_count.add(2),
            ChatSession.updated_at.set(session.updated_at),
            ChatSession.owner_sort.set(session.owner_sort),
        ],
        condition=ChatSession.pk.exists(),
        add_version_condition=False,  # concurrent turns in one session both land; the count is an ADD
    )
    if proposed is not None:
        write.save(proposed, condition=ChatProposal.pk.does_not_exist())
    if confirmed is not None:
        write.update(
            confirmed,
            actions=[
                ChatProposal.status.set(ProposalStatus.CONFIRMED.value),
                ChatProposal.confirmed_at.set(reply.created_at),
            ],
            condition=ChatProposal.status == ProposalStatus.PENDING.value,
        )


async def _passages(actor: Actor, session: ChatSession, text: str):
    """The session's assessment's passages that best match the message, for the LLM tier to answer from."""
    if not session.assessment_id:
        return None
    candidates = await run_sync(selectors.passage_candidates, actor=actor, assessment_id=session.assessment_id)
    if candidates is None:
        return None  # the assessment is gone, or no longer the actor's: answer without its documents
    return await llm.retrieve_passages(question=text, candidates=candidates)


async def message_post(*, actor: Actor, session_id: str, text: str) -> tuple[ChatMessage, ChatMessage]:
    if CONFIRMING.match(text.strip().lower()):
        # "yes" while exactly one proposal of this session waits: the confirmation, free of charge.
        session = await run_sync(selectors.session_get, actor=actor, session_id=session_id)
        pending = await run_sync(selectors.proposals_pending, session=session, now=utc_now())
        if len(pending) == 1:
            return await _confirm(actor=actor, session=session, proposal=pending[0], text=text, explain_errors=True)
    fast = routing.route_fast(text)
    # Charged here, not in the view: only routing tells whether the message may cost an LLM call.
    if fast is None or fast.intent in LLM_TOOL_INTENTS:
        await ratelimit.charge(actor)  # before any read or write: a 429 stores nothing
    session = await run_sync(selectors.session_get, actor=actor, session_id=session_id)
    asked_at = utc_now()
    route = fast or await routing.route_llm(text, passages=lambda: _passages(actor, session, text))
    reply_text, result = await intents.handle(route, actor=actor, session=session, text=text)
    _count(route)
    user = ChatMessage.build(
        session_id=session.session_id, message_id=uuid.uuid4().hex, created_at=asked_at, role="user", content=text
    )
    reply = ChatMessage.build(
        session_id=session.session_id,
        message_id=uuid.uuid4().hex,
        created_at=max(utc_now(), asked_at),
        role="assistant",
        content=reply_text,
        intent=route.intent,
        tier=route.tier,
        confidence=_confidence(route, result),
        tool_result=result,
    )
    proposed = _proposal(session, (result or {}).get("proposed_action"), asked_at)
    await run_sync(_store_turn, session, user, reply, proposed=proposed)
    return user, reply


def _confidence(route: routing.Route, result: dict | None) -> float:
    """An answer's confidence is the one it was built on (its passages' relevance), not the routing's."""
    if route.intent == Intent.GENERAL and result and "confidence" in result:
        return result["confidence"]
    return route.confidence


def _proposal(session: ChatSession, action: dict | None, created_at) -> ChatProposal | None:
    """The ChatProposal item for a reply's `proposed_action` (chat.intents._submit), stored with the turn."""
    if not action:
        return None
    return ChatProposal.build(
        session_id=session.session_id,
        action_id=action["id"],
        intent=action["intent"],
        assessment_id=action["assessment_id"],
        assessment_version=action["assessment_version"],
        title=action["title"],
        summary=action["summary"],
        created_at=created_at,
        expires_at=datetime.fromisoformat(action["expires_at"]),
    )


async def proposal_confirm(*, actor: Actor, session_id: str, action_id: str) -> tuple[ChatMessage, ChatMessage]:
    """Carry out a proposed action: the session's owner only (another's is NotFound), once (then 409), before
    it expires (then 409), through the same service as the API (a changed assessment is its 409)."""
    session = await run_sync(selectors.session_get, actor=actor, session_id=session_id)
    proposal = await run_sync(selectors.proposal_get, session=session, action_id=action_id)
    return await _confirm(actor=actor, session=session, proposal=proposal, text=None, explain_errors=False)


async def _confirm(
    *, actor: Actor, session: ChatSession, proposal: ChatProposal, text: str | None, explain_errors: bool
) -> tuple[ChatMessage, ChatMessage]:
    """Run `proposal` and record both turns of it: the confirmation (`text`, or "Confirm: <summary>" from the
    endpoint) and the result. The state change, its audit event, both messages and the proposal's
    `confirmed` mark are ONE transaction (assessment_transition's `along`): a crash or a fault can leave
    neither or all, never a submitted assessment whose proposal still waits. With `explain_errors` (a "yes"
    in the chat) a refusal is a reply, as for any message, and the proposal stays as it was; from the
    endpoint it is the error itself (409, 404...)."""
    asked_at = utc_now()
    user = ChatMessage.build(
        session_id=session.session_id,
        message_id=uuid.uuid4().hex,
        created_at=asked_at,
        role="user",
        content=text or f"Confirm: {proposal.summary}",
        intent=proposal.intent,
        tier=CONFIRM_TIER,
    )
    replied: list[ChatMessage] = []

    def record(write: TransactWrite, assessment) -> None:
        """The turn, written with the transition: the assessment is in its new state, at its old version."""
        reply = _reply(
            session,
            asked_at,
            f"Submitted {assessment.title} for review.",
            proposal.intent,
            {
                "action_id": proposal.action_id,
                "id": assessment.assessment_id,
                "state": assessment.state,
                "version": assessment.version + 1,
            },
        )
        _write_turn(write, session, user, reply, confirmed=proposal)
        replied.append(reply)

    try:
        _check_confirmable(proposal, asked_at)
        await run_sync(
            assessment_services.assessment_transition,
            actor=actor,
            assessment_id=proposal.assessment_id,
            action=PROPOSAL_ACTIONS[proposal.intent],
            version=int(proposal.assessment_version),
            along=record,
        )
    except ConditionFailed as failed:  # a condition of the turn's (the assessment's own is its 409, below)
        now = await run_sync(selectors.proposal_get, session=session, action_id=proposal.action_id)
        if now.status == ProposalStatus.PENDING:
            raise  # not the proposal: the session went away meanwhile; a 409 all the same
        error = Conflict(
            f"action {proposal.action_id} was already {now.status} meanwhile; nothing was done again",
            extra={"field": "action_id", "status": now.status},
        )
        if not explain_errors:
            raise error from failed
        return await _refused(session, user, proposal, error, asked_at)
    except ApplicationError as error:
        if not explain_errors or error.status_code == 503:
            raise
        return await _refused(session, user, proposal, error, asked_at)
    return user, replied[-1]


def _reply(session: ChatSession, asked_at, content: str, intent: str, result: dict) -> ChatMessage:
    return ChatMessage.build(
        session_id=session.session_id,
        message_id=uuid.uuid4().hex,
        created_at=max(utc_now(), asked_at),
        role="assistant",
        content=content,
        intent=intent,
        tier=CONFIRM_TIER,
        confidence=1.0,
        tool_result=result,
    )


async def _refused(
    session: ChatSession, user: ChatMessage, proposal: ChatProposal, error: ApplicationError, asked_at
) -> tuple[ChatMessage, ChatMessage]:
    """A "yes" that could not be carried out: the refusal is the reply, and nothing else changes."""
    reply = _reply(
        session,
        asked_at,
        f"I could not do that: {error.message}.",
        proposal.intent,
        {"action_id": proposal.action_id, "error": error.code},
    )
    await run_sync(_store_turn, session, user, reply)
    return user, reply


def _check_confirmable(proposal: ChatProposal, now) -> None:
    if proposal.status != ProposalStatus.PENDING:
        raise Conflict(
            f"action {proposal.action_id} was already {proposal.status}; nothing was done again",
            extra={"field": "action_id", "status": proposal.status},
        )
    if now >= proposal.expires_at:
        raise InvalidState(
            f"action {proposal.action_id} expired at {proposal.expires_at.isoformat()}; ask again for a new proposal",
            extra={"field": "action_id", "status": "expired", "expired_at": proposal.expires_at.isoformat()},
        )
