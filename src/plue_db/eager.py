"""What a helper that runs ``fn(conn)`` may hand back: nothing that still needs ``conn``.

Such a helper (``run_in_transaction``, ``Router.run``, their async twins) gives the
connection back to its pool, or ends its transaction, as soon as ``fn`` returns. A
generator, an async generator, a server-side cursor or a coroutine returned by ``fn``
would run its statements later, on a connection that is by then someone else's, inside their
transaction. So such a result is refused, and closed first, while the connection is
still the helper's: a generated ``iter_*`` stream's cleanup must not run on a borrowed
connection when the garbage collector gets to it.

A client-side cursor (what ``conn.execute(...)`` returns) passes: its rows are already
in memory, and reading them later sends nothing. The check looks at the returned object
itself, not inside containers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Coroutine, Generator, Iterator
from typing import TypeVar

import psycopg

T = TypeVar("T")

CONSUME_INSIDE = "consume it inside the function: return list(...), or the cursor's fetchall()"


class LazyResultError(TypeError):
    """The function returned something that would use the connection after it was
    released; nothing it did was kept."""


def check(result: T, helper: str, hint: str = CONSUME_INSIDE) -> T:
    """``result`` if it is done with the connection; else close it and raise
    :class:`LazyResultError` naming ``helper``, what was returned and ``hint``."""
    kind = _lazy_kind(result)
    if kind is None:
        return result
    if isinstance(result, Generator | Coroutine):
        result.close()
    raise LazyResultError(
        f"{helper}: the function returned {kind} ({type(result).__name__}), which would run"
        " on the connection after it was released, possibly inside another caller's"
        f" transaction; {hint}"
    )


async def check_async(result: T, helper: str, hint: str = CONSUME_INSIDE) -> T:
    """:func:`check` for the asyncio helpers, which can also close an async generator."""
    if isinstance(result, AsyncGenerator):
        await result.aclose()
    return check(result, helper, hint)


def _lazy_kind(result: object) -> str | None:
    if isinstance(result, psycopg.ServerCursor | psycopg.AsyncServerCursor):
        return "a server-side cursor"
    if isinstance(result, psycopg.Cursor | psycopg.AsyncCursor):
        return None  # a client-side cursor: its rows are in memory, reading sends nothing
    if isinstance(result, psycopg.BaseConnection):
        return "the connection"
    if isinstance(result, Iterator):
        return "a generator" if isinstance(result, Generator) else "an iterator"
    if isinstance(result, AsyncIterator):
        return "an async generator" if isinstance(result, AsyncGenerator) else "an async iterator"
    if isinstance(result, Awaitable):
        return "an awaitable (an async function called without await)"
    return None
