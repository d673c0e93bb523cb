"""Schemas shared by every router: the error shape, its response map, cursor pages, and `Integer`."""

from typing import Annotated, Generic, TypeVar

from ninja import Schema
from pydantic import BeforeValidator, Field

T = TypeVar("T")


def _not_a_boolean(value):
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


# An integer field of a request body: pydantic's lax int takes true/false as 1/0, JSON Schema's
# "integer" does not; 2.0 is still accepted (JSON Schema counts it as an integer, as strict mode would not).
# `version: Integer = Field(ge=1)`; inside a union the constraints go before the validator, or the OpenAPI
# schema loses them: `Annotated[int, Field(ge=0), NotABoolean] | None`.
NotABoolean = BeforeValidator(_not_a_boolean)
Integer = Annotated[int, NotABoolean]


class ErrorBody(Schema):
    code: str = Field(description="machine-readable: not_found, conflict, validation_failed, ...")
    message: str
    details: dict = Field(default_factory=dict, description="e.g. the field, the current version")


class Error(Schema):
    error: ErrorBody


# The errors any authenticated operation may answer, for `response={200: ..., **ERRORS}`.
# 413/415: a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE or not sent as application/json (tra/http/parsers.py).
# 429 is added only where a request may spend LLM money (tra/ratelimit.py).
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error, 415: Error, 422: Error, 503: Error}
# A read (GET) sends no body and changes nothing: no 409, 413 or 415. 400 is a forged cursor.
READ_ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 422: Error, 503: Error}


class PageParams(Schema):
    """The query parameters of every cursor-paged list."""

    limit: int = Field(default=50, ge=1, le=100, description="page size (at most API_MAX_PAGE_SIZE)")
    cursor: str | None = Field(default=None, max_length=4_096, description="next_cursor of the previous page")


class Page(Schema, Generic[T]):
    """One cursor page of T. Each app names its pages, `class QuestionPageOut(Page[QuestionOut]): ...`:
    pydantic would name the OpenAPI component of a bare Page[QuestionOut] "Page_QuestionOut_",
    and generated clients name their classes after the components."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
