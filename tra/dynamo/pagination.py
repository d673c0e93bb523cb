"""Cursor pages over PynamoDB queries: one Query per page, never a count."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings

from .cursor import decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def clamp_limit(limit: int | None) -> int:
    return max(1, min(limit or settings.API_MAX_PAGE_SIZE, settings.API_MAX_PAGE_SIZE))


def query_page(query: Callable, *args, scope: str, limit: int | None, cursor: str | None, **kwargs) -> Page:
    """Run `query(*args, **kwargs)` for one page of `limit` items starting after `cursor`."""
    size = clamp_limit(limit)
    results = query(*args, limit=size, page_size=size, last_evaluated_key=decode_cursor(cursor, scope=scope), **kwargs)
    items = list(results)
    last_key = results.last_evaluated_key if len(items) == size else None
    return Page(items=items, next_cursor=encode_cursor(last_key, scope=scope))
