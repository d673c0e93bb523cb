"""Chat API: sessions and messages; posting a message returns the assistant's routed reply."""

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from tra.dynamo.executor import run_sync
from tra.http.schemas import ERRORS, READ_ERRORS, Error, PageParams

from . import selectors, services
from .schemas import MessageIn, MessagePageOut, SessionIn, SessionOut, SessionPageOut, TurnOut

router = Router(tags=["chat"])


class MessageParams(PageParams):
    order: str = Field(default="asc", pattern="^(asc|desc)$", description="asc: oldest first; desc: newest first")


@router.post("/sessions", response={201: SessionOut, **ERRORS})
async def session_create(request: HttpRequest, payload: SessionIn):
    """A new chat, optionally tied to one of your assessments."""
    session = await run_sync(services.session_create, actor=request.auth, **payload.dict())
    return Status(201, session)


@router.get("/sessions", response={200: SessionPageOut, **READ_ERRORS})
async def session_list(request: HttpRequest, params: Query[PageParams]):
    """My chat sessions, most recently active first."""
    return await run_sync(selectors.sessions_mine, actor=request.auth, limit=params.limit, cursor=params.cursor)


@router.get("/sessions/{session_id}", response={200: SessionOut, **READ_ERRORS})
async def session_get(request: HttpRequest, session_id: str):
    """One of my chat sessions."""
    return await run_sync(selectors.session_get, actor=request.auth, session_id=session_id)


@router.get("/sessions/{session_id}/messages", response={200: MessagePageOut, **READ_ERRORS})
async def message_list(request: HttpRequest, session_id: str, params: Query[MessageParams]):
    """A chat session's messages, page by page, oldest first (`order=desc`: newest first)."""
    session = await run_sync(selectors.session_get, actor=request.auth, session_id=session_id)
    return await run_sync(
        selectors.messages_page,
        session=session,
        newest_first=params.order == "desc",
        limit=params.limit,
        cursor=params.cursor,
    )


@router.post("/sessions/{session_id}/messages", response={201: TurnOut, **ERRORS, 429: Error})
async def message_post(request: HttpRequest, session_id: str, payload: MessageIn):
    """Ask something. The reply says how the message was routed (intent, tier, confidence)
    and carries the tool's structured result; at most one LLM call is made. A message that
    goes to the LLM tier or runs an LLM-backed tool (summary, suggestion) counts against the
    caller's LLM_RATE_LIMIT (429 with Retry-After beyond it); the others are free. A state-changing
    request ("submit it") changes nothing: its reply carries a `proposed_action` to confirm."""
    message, reply = await services.message_post(actor=request.auth, session_id=session_id, text=payload.text)
    return Status(201, {"message": message, "reply": reply})


@router.post("/sessions/{session_id}/actions/{action_id}/confirm", response={200: TurnOut, **ERRORS})
async def action_confirm(request: HttpRequest, session_id: str, action_id: str):
    """Carry out an action a reply proposed (`proposed_action`): the session's owner only (another's is 404),
    once (again: 409), before it expires (then 409); through the same service as the API, so an assessment
    that changed since the proposal is the API's 409. The conversation records the confirmation and the result.
    """
    message, reply = await services.proposal_confirm(actor=request.auth, session_id=session_id, action_id=action_id)
    return {"message": message, "reply": reply}
