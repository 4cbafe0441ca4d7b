"""Keyset paging in query tests: newest-first list queries, walked page by page."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, Protocol, TypeVar


class Keyed(Protocol):
    """A listed row: its id and created_at are the key of the page after it."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime.datetime: ...


R = TypeVar("R", bound=Keyed)


def after(row: Keyed | None) -> dict[str, Any]:
    """The keyset arguments for the page after ``row`` (None: the first page)."""
    return {
        "before_id": row.id if row else None,
        "before_created_at": row.created_at if row else None,
    }


def first_pages(page: Callable[[R | None], list[R]], count: int) -> list[list[R]]:
    """The first ``count`` pages: page(None), then each after the last row of the one
    before."""
    pages = [page(None)]
    while len(pages) < count:
        pages.append(page(pages[-1][-1]))
    return pages
