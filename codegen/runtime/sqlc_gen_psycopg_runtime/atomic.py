"""All or nothing for the calls that write many rows (``:copyfrom``, ``:batch*``): a
savepoint of the caller's transaction, else their own (sqlc-gen-psycopg's README)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, LiteralString

import psycopg
from psycopg import pq

from sqlc_gen_psycopg_runtime.cursors import new_async_cursor, new_cursor
from sqlc_gen_psycopg_runtime.pipeline import completed, completed_async

_SAVEPOINT: LiteralString = "SAVEPOINT sqlc_gen_psycopg_atomic"
_RELEASE: LiteralString = "RELEASE SAVEPOINT sqlc_gen_psycopg_atomic"
# Two statements, not one text: pipeline mode sends each through the extended protocol.
_UNDO: tuple[LiteralString, ...] = ("ROLLBACK TO SAVEPOINT sqlc_gen_psycopg_atomic", _RELEASE)
_IN_TRANSACTION = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)


def _own_transaction(conn: psycopg.BaseConnection[Any]) -> bool:
    return conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE


def _can_undo(conn: psycopg.BaseConnection[Any]) -> bool:
    return not conn.closed and conn.info.transaction_status in _IN_TRANSACTION


def _refuse_copy_in_pipeline(conn: psycopg.BaseConnection[Any], copy: str) -> None:
    if copy and conn.pgconn.pipeline_status:
        raise psycopg.NotSupportedError(
            f"{copy}: psycopg can't COPY in pipeline mode; call it outside conn.pipeline()"
        )


def _run(conn: psycopg.Connection[Any], statement: LiteralString, mark: LiteralString = "") -> None:
    """Run ``statement``; a marked one (``mark`` a ``-- name:`` line) where tracing sees it."""
    cursor = new_cursor(conn) if mark else psycopg.RawCursor(conn)
    with cursor:
        cursor.execute(mark + "\n" + statement if mark else statement, prepare=False)


async def _run_async(
    conn: psycopg.AsyncConnection[Any], statement: LiteralString, mark: LiteralString = ""
) -> None:
    cursor = new_async_cursor(conn) if mark else psycopg.AsyncRawCursor(conn)
    async with cursor:
        await cursor.execute(mark + "\n" + statement if mark else statement, prepare=False)


@contextmanager
def atomic(
    conn: psycopg.Connection[Any], mark: LiteralString = "", copy: str = ""
) -> Generator[None, None, None]:
    """Run the block in a savepoint of the open (or implicit) transaction, else in its
    own; ``copy`` is the calling function's name when the block is a COPY."""
    _refuse_copy_in_pipeline(conn, copy)
    with (
        completed(conn),  # the caller's queue has run: the state read next is real
        _transaction(conn, mark) if _own_transaction(conn) else _savepoint(conn, mark),
        completed(conn),  # the block's error arrives inside the savepoint
    ):
        yield


@contextmanager
def _transaction(conn: psycopg.Connection[Any], mark: LiteralString) -> Generator[None, None, None]:
    with conn.transaction():
        if mark:
            _run(conn, _SAVEPOINT, mark)  # COMMIT releases it
        yield


@contextmanager
def _savepoint(conn: psycopg.Connection[Any], mark: LiteralString) -> Generator[None, None, None]:
    _run(conn, _SAVEPOINT, mark)
    try:
        yield
    except BaseException:
        if _can_undo(conn):
            for statement in _UNDO:
                _run(conn, statement)
        raise
    _run(conn, _RELEASE)


@asynccontextmanager
async def atomic_async(
    conn: psycopg.AsyncConnection[Any], mark: LiteralString = "", copy: str = ""
) -> AsyncGenerator[None, None]:
    """The asyncio twin of :func:`atomic`."""
    _refuse_copy_in_pipeline(conn, copy)
    async with (
        completed_async(conn),
        _transaction_async(conn, mark) if _own_transaction(conn) else _savepoint_async(conn, mark),
        completed_async(conn),
    ):
        yield


@asynccontextmanager
async def _transaction_async(
    conn: psycopg.AsyncConnection[Any], mark: LiteralString
) -> AsyncGenerator[None, None]:
    async with conn.transaction():
        if mark:
            await _run_async(conn, _SAVEPOINT, mark)
        yield


@asynccontextmanager
async def _savepoint_async(
    conn: psycopg.AsyncConnection[Any], mark: LiteralString
) -> AsyncGenerator[None, None]:
    await _run_async(conn, _SAVEPOINT, mark)
    try:
        yield
    except BaseException:
        if _can_undo(conn):
            for statement in _UNDO:
                await _run_async(conn, statement)
        raise
    await _run_async(conn, _RELEASE)
