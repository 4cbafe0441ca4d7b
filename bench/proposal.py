"""A prototype of the generated-function shape proposed to the generator's owner.

The generated functions open a new ``RawCursor`` per call; creating one (its
Transformer and adapters map) is a fixed cost on every lookup, and ``StrEnum(value)``
is a slow Python-level call paid per enum column per row. This module measures the
two changes proposed for codegen/…/templates/function.py.j2, without editing it:

* one ``RawCursor`` per (thread, connection), kept in a thread-local weak map, so
  threads sharing a connection never share a cursor's result state;
* enum columns decoded through a value→member dict built once per enum type.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from plue_queries import enums, models
from psycopg.rows import TupleRow, tuple_row


class _Cursors(threading.local):
    def __init__(self) -> None:
        self.by_conn: WeakKeyDictionary[psycopg.Connection[Any], psycopg.RawCursor[TupleRow]] = (
            WeakKeyDictionary()
        )


_LOCAL = _Cursors()


def cursor_for(conn: psycopg.Connection[Any]) -> psycopg.RawCursor[TupleRow]:
    """This thread's cursor on ``conn``, created on first use."""
    cursors = _LOCAL.by_conn
    cur = cursors.get(conn)
    if cur is None or cur.closed:
        cur = cursors[conn] = psycopg.RawCursor(conn, row_factory=tuple_row)
    return cur


ISSUE_STATE = {m.value: m for m in enums.IssueState}


def issue_from_row(r: Sequence[Any]) -> models.Issue:
    """The proposed decoder: the enum by dict lookup instead of ``IssueState(value)``."""
    return models.Issue(
        r[0], r[1], r[2], r[3], r[4], ISSUE_STATE[r[5]], r[6], r[7], r[8], r[9], r[10], r[11]
    )


def op(
    sql: str, many: bool, decode: Callable[[Sequence[Any]], object]
) -> Callable[[psycopg.Connection[Any], tuple[Any, ...], dict[str, Any]], object]:
    """What a proposed generated function would do for ``sql`` (``$n`` arguments in order)."""
    if many:

        def fetch_all(conn: psycopg.Connection[Any], a: tuple[Any, ...], kw: Any) -> object:
            cur = cursor_for(conn)
            cur.execute(sql, a)
            return [decode(r) for r in cur.fetchall()]

        return fetch_all

    def fetch_one(conn: psycopg.Connection[Any], a: tuple[Any, ...], kw: Any) -> object:
        cur = cursor_for(conn)
        cur.execute(sql, a)
        r = cur.fetchone()
        return None if r is None else decode(r)

    return fetch_one
