"""Chat API: sessions and messages; posting a message returns the assistant's routed reply."""

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from tra.dynamo.executor import run_sync
from tra.http.schemas import ERRORS, Error, PageParams

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


@router.get("/sessions", response={200: SessionPageOut, **ERRORS})
async def session_list(request: HttpRequest, params: Query[PageParams]):
    return await run_sync(selectors.sessions_mine, actor=request.auth, limit=params.limit, cursor=params.cursor)


@router.get("/sessions/{session_id}", response={200: SessionOut, **ERRORS})
async def session_get(request: HttpRequest, session_id: str):
    return await run_sync(selectors.session_get, actor=request.auth, session_id=session_id)


@router.get("/sessions/{session_id}/messages", response={200: MessagePageOut, **ERRORS})
async def message_list(request: HttpRequest, session_id: str, params: Query[MessageParams]):
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
    caller's LLM_RATE_LIMIT (429 with Retry-After beyond it); the others are free."""
    message, reply = await services.message_post(actor=request.auth, session_id=session_id, text=payload.text)
    return Status(201, {"message": message, "reply": reply})
