"""Raw cursors from the connection's own ``cursor_factory``, so tracing sees every call;
the sync functions reuse one per thread (sqlc-gen-psycopg's README)."""

from __future__ import annotations

import threading
from typing import Any, cast

import psycopg
from psycopg.raw_cursor import RawCursorMixin
from psycopg.rows import TupleRow, tuple_row

# psycopg's plain, client-side and raw cursor classes of each kind
_SYNC = (psycopg.Cursor, psycopg.ClientCursor, psycopg.RawCursor)
_ASYNC = (psycopg.AsyncCursor, psycopg.AsyncClientCursor, psycopg.AsyncRawCursor)
_RAW: dict[type[Any], type[Any]] = {}


def _raw_class(factory: type[Any], kind: tuple[type[Any], type[Any], type[Any]]) -> type[Any]:
    """``factory`` as a raw cursor class, made once: a raw one as it is, a ``Cursor``
    subclass with psycopg's raw query handling mixed in front, anything else ``RawCursor``."""
    made = _RAW.get(factory)
    if made is None:
        plain, client, raw = kind
        made = raw
        if issubclass(factory, RawCursorMixin):
            made = cast("type[Any]", factory)
        elif (
            factory is not plain and issubclass(factory, plain) and not issubclass(factory, client)
        ):
            made = type(f"Raw{factory.__name__}", (RawCursorMixin, factory), {})
        _RAW[factory] = made
    return made


def new_cursor(conn: psycopg.Connection[Any]) -> psycopg.RawCursor[TupleRow]:
    """A tuple-row raw cursor from ``conn``'s own cursor factory."""
    factory = _raw_class(conn.cursor_factory, _SYNC)
    return cast("psycopg.RawCursor[TupleRow]", factory(conn, row_factory=tuple_row))


def new_async_cursor(conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncRawCursor[TupleRow]:
    """The asyncio twin of :func:`new_cursor`."""
    factory = _raw_class(conn.cursor_factory, _ASYNC)
    return cast("psycopg.AsyncRawCursor[TupleRow]", factory(conn, row_factory=tuple_row))


class _Slot(threading.local):
    """The sync functions' cursor: one per thread, for the connection it last used."""

    conn: psycopg.Connection[Any] | None = None
    factory: type[Any] | None = None
    cursor: psycopg.RawCursor[TupleRow] | None = None


_slot = _Slot()


def thread_cursor(conn: psycopg.Connection[Any]) -> psycopg.RawCursor[TupleRow]:
    """:func:`new_cursor`, reused while this thread keeps using ``conn`` and its factory."""
    slot = _slot
    cursor = slot.cursor
    if (
        slot.conn is not conn
        or slot.factory is not conn.cursor_factory
        or cursor is None
        or cursor.closed
    ):
        cursor = new_cursor(conn)
        slot.conn, slot.factory, slot.cursor = conn, conn.cursor_factory, cursor
    return cursor
