"""Writes for the chat: sessions, and a posted message with its routed, tool-backed reply.

Posting routes the message (cheapest tier first; a message that reaches the model
goes with the assessment's best-matching passages, so an open question is classified
and answered in one call), runs the intent through the same
selectors and services as the API, and only then writes the user message, the
reply and the session's new counters in one transaction: an LLM or DynamoDB
failure leaves nothing half-written, and costs at most one LLM call. A message
bound for the LLM tier or an LLM-backed tool is first counted against the user's
LLM_RATE_LIMIT (tra/ratelimit.py); over it, a 429 before anything is read or written.
"""

import threading
import uuid
from collections import Counter

from assessments import selectors as assessment_selectors
from llm import services as llm
from tra import ratelimit
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.dynamo.writes import transaction
from tra.http.auth import Actor

from . import intents, routing, selectors
from .models import ChatMessage, ChatSession, Intent

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
    session.save(condition=ChatSession.pk.does_not_exist())
    return session


def _store_turn(session: ChatSession, user: ChatMessage, reply: ChatMessage) -> ChatSession:
    session.updated_at = reply.created_at
    session.derive_attributes()  # the by_owner sort key follows updated_at
    with transaction() as write:
        write.save(user)
        write.save(reply)
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
    return session


async def _passages(actor: Actor, session: ChatSession, text: str):
    """The session's assessment's passages that best match the message, for the LLM tier to answer from."""
    if not session.assessment_id:
        return None
    candidates = await run_sync(selectors.passage_candidates, actor=actor, assessment_id=session.assessment_id)
    if candidates is None:
        return None  # the assessment is gone, or no longer the actor's: answer without its documents
    return await llm.retrieve_passages(question=text, candidates=candidates)


async def message_post(*, actor: Actor, session_id: str, text: str) -> tuple[ChatMessage, ChatMessage]:
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
        confidence=route.confidence,
        tool_result=result,
    )
    await run_sync(_store_turn, session, user, reply)
    return user, reply
