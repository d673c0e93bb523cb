"""Reads of chat sessions and messages. Each names its index; see docs/access-patterns.md."""

from tra.auth import Actor
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound

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
