"""Reads of chat sessions and messages, and of what a message names (through the other apps'
selectors). Each names its index; see docs/access-patterns.md."""

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Assessment
from documents import selectors as document_selectors
from documents.models import Document
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound
from tra.http.auth import Actor

from .models import SESSION, ChatMessage, ChatSession


def session_list_for_staff(
    *, actor: Actor, owner_id: str | None, limit: int | None, cursor: str | None
) -> Page[ChatSession]:
    """Admin list, newest first: G14 (by_owner) for an owner, else G15 (by_type)."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    common = {
        "scan_index_forward": False,
        "scope": f"admin.chat:{owner_id or ''}",
        "limit": limit,
        "cursor": cursor,
    }
    if owner_id:
        condition = ChatSession.owner_sort.startswith(f"{SESSION}#")
        return query_page(ChatSession.by_owner.query, owner_id, condition, **common)
    return query_page(ChatSession.by_type.query, SESSION, **common)


def session_get_for_staff(*, actor: Actor, session_id: str) -> ChatSession:
    """T13: GetItem."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    try:
        return ChatSession.get(*ChatSession.key(session_id))
    except (ChatSession.DoesNotExist, ValueError):
        raise NotFound(f"chat session {session_id} not found", extra={"field": "session_id"}) from None


def messages_page(*, session: ChatSession, newest_first: bool, limit: int | None, cursor: str | None) -> Page:
    """T14: `pk = CHAT#<id> AND begins_with(sk, "MSG#")`, either order."""
    return query_page(
        ChatMessage.query,
        session.pk,
        ChatMessage.sk.startswith(ChatMessage.collection_prefix()),
        scan_index_forward=not newest_first,
        scope=f"chat.messages:{session.session_id}:{int(newest_first)}",
        limit=limit,
        cursor=cursor,
    )


def session_get(*, actor: Actor, session_id: str, consistent: bool = False) -> ChatSession:
    """T13: GetItem; NotFound unless the actor owns the session."""
    try:
        session = ChatSession.get(*ChatSession.key(session_id), consistent_read=consistent)
    except (ChatSession.DoesNotExist, ValueError):
        session = None
    if session is None or session.owner_id != actor.user_id:
        raise NotFound(f"chat session {session_id} not found", extra={"field": "session_id"})
    return session


def sessions_mine(*, actor: Actor, limit: int | None, cursor: str | None) -> Page[ChatSession]:
    """G14: by_owner, `owner_id = U AND begins_with(owner_sort, "CHAT#")`, newest first."""
    return query_page(
        ChatSession.by_owner.query,
        actor.user_id,
        ChatSession.owner_sort.startswith(f"{SESSION}#"),
        scan_index_forward=False,
        scope=f"chat.mine:{actor.user_id}",
        limit=limit,
        cursor=cursor,
    )


def assessment_of_message(*, actor: Actor, session: ChatSession, name: str | None) -> Assessment | None:
    """The assessment a message is about: the session's (T2), else the one assessment whose title
    matches the name the message gives (G7, first 5); None when neither settles it."""
    if session.assessment_id:
        return assessment_selectors.assessment_get(actor=actor, assessment_id=session.assessment_id)
    if not name:
        return None
    page = assessment_selectors.assessment_list_mine(actor=actor, query=name, limit=5, cursor=None)
    return page.items[0] if len(page.items) == 1 else None


def document_named(*, actor: Actor, name: str) -> tuple[Document | None, int]:
    """The actor's document a message names (G10, newest 100) and how many match: by id or whole file
    name, else by part of the file name. The document only when exactly one matches."""
    page = document_selectors.document_list_mine(actor=actor, status=None, limit=100, cursor=None)
    wanted = name.lower()
    exact = [d for d in page.items if d.document_id == name or d.filename.lower() == wanted]
    partial = [d for d in page.items if wanted in d.filename.lower()]
    matches = exact or partial
    return matches[0] if len(matches) == 1 else None, len(matches)


def passage_candidates(*, actor: Actor, assessment_id: str) -> list | None:
    """T14c: the passages of a session's assessment an open question may be answered from (T7 + T11
    per linked document); None when the assessment is gone or no longer the actor's."""
    try:
        _, candidates = assessment_services.suggestion_candidates(actor=actor, assessment_id=assessment_id)
    except NotFound:
        return None
    return candidates
