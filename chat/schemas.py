"""Request and response schemas of the chat API."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, field_validator

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
    text: str = Field(min_length=1, max_length=4_000, pattern=r"[^\s\x1c-\x1f]")  # not blank (str.strip)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class MessageOut(Schema):
    id: str
    role: Literal["user", "assistant"]
    content: str
    intent: str | None
    tier: str | None = Field(description="regex | keyword | llm: how the message was routed")
    confidence: float | None
    tool_result: dict | None
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.message_id

    @staticmethod
    def resolve_tool_result(obj) -> dict | None:
        value = obj.tool_result
        return value.as_dict() if hasattr(value, "as_dict") else value


class MessagePageOut(Page[MessageOut]): ...


class TurnOut(Schema):
    message: MessageOut
    reply: MessageOut
