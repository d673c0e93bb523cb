"""Reads of chat sessions and messages, and of what a message names (through the other apps'
selectors). Each names its index; see docs/access-patterns.md."""

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Assessment, title_words
from documents import selectors as document_selectors
from documents.models import Document
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound
from tra.http.auth import Actor

from .models import SESSION, ChatMessage, ChatProposal, ChatSession, ProposalStatus


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


# Words that name an assessment's kind rather than which one ("the okta review", "Stripe questionnaire"):
# a name is matched with them first, and without them when they leave no match.
FILLER_WORDS = frozenset(
    {"assessment", "assessments", "review", "reviews", "questionnaire", "questionnaires", "vendor", "vendors"}
)
# Words that never narrow a title match: articles, possessives, prepositions.
STOP_WORDS = frozenset({"a", "an", "the", "my", "our", "of", "for", "on", "to", "and", "this", "that"})
# What refers to the session's own assessment rather than naming one.
PRONOUNS = frozenset(
    {"it", "this", "that", "this one", "that one", "the current one", "current", "same", "the same one"}
    | {f"{lead} {kind}" for lead in ("this", "that", "the", "current", "the current") for kind in FILLER_WORDS}
)
NAME_HITS = 100  # title-word hits read for one name (G7); a name shared by more titles must say more


def refers_to_session(name: str | None) -> bool:
    """No name, or "it" / "this one" / "this assessment": the session's assessment."""
    return not name or " ".join(title_words(name)) in PRONOUNS


def assessments_for_message(*, actor: Actor, session: ChatSession, name: str | None) -> list[Assessment]:
    """The assessments a message may be about: the session's for no name or "it" (T2), else the actor's
    assessments whose title words start with the name's words (G7), filler words dropped only when
    they leave no match; a title equal to the name wins over longer ones. Empty, one, or candidates
    (by title)."""
    if refers_to_session(name):
        if not session.assessment_id:
            return []
        try:
            return [assessment_selectors.assessment_get(actor=actor, assessment_id=session.assessment_id)]
        except NotFound:
            return []
    words = [word for word in title_words(name) if word not in STOP_WORDS]
    found = _titled(actor, words)
    narrowed = [word for word in words if word not in FILLER_WORDS]
    if not found and narrowed and narrowed != words:
        found = _titled(actor, narrowed)
    exact = [a for a in found if [w for w in title_words(a.title) if w not in STOP_WORDS] == words]
    return exact if len(exact) == 1 else sorted(found, key=lambda a: (a.title.lower(), a.assessment_id))


def _titled(actor: Actor, words: list[str]) -> list[Assessment]:
    if not words:
        return []
    lead = max(words, key=lambda word: (word not in FILLER_WORDS, len(word)))  # the most selective prefix
    return assessment_selectors.assessments_titled(actor=actor, words=words, lead=lead, limit=NAME_HITS)


def documents_named(*, actor: Actor, name: str) -> list[Document]:
    """The actor's documents a message names (G10, newest 100): by id or whole file name (case-insensitive,
    spaces and all), else those whose file name contains the name, else those whose file name contains it
    once spaces and punctuation are dropped ("soc2 report" finds "SOC 2 report.pdf")."""
    page = document_selectors.document_list_mine(actor=actor, status=None, limit=100, cursor=None)
    wanted = name.strip().lower()
    compact = _compact(wanted)
    for match in (
        lambda d: d.document_id == name.strip() or d.filename.lower() == wanted,
        lambda d: wanted in d.filename.lower(),
        lambda d: bool(compact) and compact in _compact(d.filename),
    ):
        found = [document for document in page.items if match(document)]
        if found:
            return found
    return []


def _compact(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def proposal_get(*, session: ChatSession, action_id: str) -> ChatProposal:
    """T14d: GetItem `CHAT#<id>`, `ACT#<action_id>`, strongly consistent (it is about to be confirmed)."""
    try:
        return ChatProposal.get(*ChatProposal.key(session.session_id, action_id), consistent_read=True)
    except (ChatProposal.DoesNotExist, ValueError):
        raise NotFound(f"action {action_id} not found in this chat", extra={"field": "action_id"}) from None


def proposals_pending(*, session: ChatSession, now) -> list[ChatProposal]:
    """T14e: `pk = CHAT#<id> AND begins_with(sk, "ACT#")`, filtered to pending proposals not yet expired."""
    return list(
        ChatProposal.query(
            session.pk,
            ChatProposal.sk.startswith(ChatProposal.collection_prefix()),
            filter_condition=(ChatProposal.status == ProposalStatus.PENDING.value) & (ChatProposal.expires_at > now),
            consistent_read=True,
        )
    )


def passage_candidates(*, actor: Actor, assessment_id: str) -> list | None:
    """T14c: the passages of a session's assessment an open question may be answered from (T2, then
    the assessment's retrieval index: T7b, one GetItem, however many documents are linked; a Corpus,
    whose BM25 is built once per evidence version in this process); None when the assessment is gone
    or no longer the actor's."""
    try:
        _, candidates = assessment_services.suggestion_candidates(actor=actor, assessment_id=assessment_id)
    except NotFound:
        return None
    return candidates
