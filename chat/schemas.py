"""Request and response schemas of the chat API."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import AliasChoices, Field, field_validator

from tra.http.schemas import Page


class SessionIn(Schema):
    title: str = Field(default="", max_length=200)
    assessment_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class SessionOut(Schema):
    id: str
    title: str
    assessment_id: str | None
    message_count: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.session_id


class SessionPageOut(Page[SessionOut]): ...


class MessageIn(Schema):
    # `content` is accepted too, the name replies use (issue 14); `text` wins when both are sent.
    text: str = Field(
        min_length=1,
        max_length=4_000,
        pattern=r"[^\s\x1c-\x1f]",  # not blank (str.strip)
        validation_alias=AliasChoices("text", "content"),
        description="the message; also accepted as `content`, the name replies use",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ProposedActionOut(Schema):
    id: str
    intent: str
    assessment_id: str
    assessment_version: int = Field(description="the version proposed on: a confirmation after a change is a 409")
    title: str
    summary: str
    expires_at: datetime


class MessageOut(Schema):
    id: str
    role: Literal["user", "assistant"]
    content: str
    intent: str | None
    tier: str | None = Field(
        description="how the message was routed (regex | keyword | llm ...); confirm: a proposal's confirmation"
    )
    confidence: float | None = Field(description="the routing's, or for an answer the passages' it was built on")
    tool_result: dict | None
    proposed_action: ProposedActionOut | None = Field(
        default=None,
        description="a state-changing action this reply proposes; nothing changes until it is confirmed "
        "(POST /api/chat/sessions/{session_id}/actions/{id}/confirm, or a reply of “yes”)",
    )
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.message_id

    @staticmethod
    def resolve_tool_result(obj) -> dict | None:
        value = obj.tool_result
        return value.as_dict() if hasattr(value, "as_dict") else value

    @staticmethod
    def resolve_proposed_action(obj) -> dict | None:
        return (MessageOut.resolve_tool_result(obj) or {}).get("proposed_action")


class MessagePageOut(Page[MessageOut]): ...


class TurnOut(Schema):
    message: MessageOut
    reply: MessageOut
