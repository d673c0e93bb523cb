"""Schemas shared by every router: the error shape and cursor pages."""

from typing import Generic, TypeVar

from ninja import Schema
from pydantic import Field

T = TypeVar("T")


class ErrorBody(Schema):
    code: str = Field(description="machine-readable: not_found, conflict, validation_failed, ...")
    message: str
    details: dict = Field(default_factory=dict, description="e.g. the field, the current version")


class Error(Schema):
    error: ErrorBody


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
