"""Run several generated calls as one transaction, retrying the failures that ask for it.

PostgreSQL aborts a transaction with a serialization failure (SERIALIZABLE / REPEATABLE
READ conflicts) or a deadlock and expects the client to run it again from the start;
both are safe to retry because nothing of the aborted attempt was written.

A connection lost (server crash, failover, terminated backend) is safe to retry only
before COMMIT was sent: a transaction never commits without it. Once COMMIT is in
flight the client cannot know the outcome: the server may have committed and died
before answering, or committed locally and been cut off while waiting for a
synchronous standby. Running the work again could then write it twice, so that case
raises :class:`CommitOutcomeUnknown` and is never retried. Any other error rolls back
and propagates at once.

``fn`` raising ``psycopg.Rollback`` rolls the transaction back and raises
:class:`RolledBackError`: there is no value of ``fn`` to return, and psycopg's own
transaction block would otherwise swallow it and leave the caller nothing. ``fn``
returning something that still needs the connection (a generator such as a generated
``iter_*``, a cursor) is refused by plue_db.eager, since the connection is released when
the call returns.

:func:`run_in_transaction_async` is the asyncio twin; both loops ask one :class:`_Retry`
what to do after a failure, so the rules cannot drift apart.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import IsolationLevel, errors, pq
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from plue_db import eager

T = TypeVar("T")
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
_jitter = random.SystemRandom()


class CommitOutcomeUnknown(psycopg.OperationalError):
    """The connection was lost while COMMIT was in flight: the work may or may not have
    been committed, and it was not run again.

    Look before redoing it (read back what it wrote, or give the write an idempotency
    key) or report the outcome as unknown. ``__cause__`` is the connection error.
    """


class RolledBackError(Exception):
    """``fn`` raised ``psycopg.Rollback``: the transaction was rolled back, so nothing
    ``fn`` wrote is kept, and it was not run again. ``__cause__`` is the Rollback."""


class _LostBeforeCommitError(Exception):
    """The connection broke while ``fn`` ran, before COMMIT was sent: nothing committed."""

    def __init__(self, error: psycopg.OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


# What ends an attempt and may run ``fn`` again (_Retry decides).
_RETRIED = (_LostBeforeCommitError, *RETRYABLE)


# Set per transaction, never on the connection, so a pooled connection keeps its defaults.
_SET_ISOLATION: dict[IsolationLevel, LiteralString] = {
    IsolationLevel.READ_UNCOMMITTED: "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
    IsolationLevel.READ_COMMITTED: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    IsolationLevel.REPEATABLE_READ: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    IsolationLevel.SERIALIZABLE: "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
}


def run_in_transaction(
    source: ConnectionPool[Any] | psycopg.Connection[Any],
    fn: Callable[[psycopg.Connection[Any]], T],
    *,
    isolation: IsolationLevel = IsolationLevel.READ_COMMITTED,
    retries: int = 5,
    backoff_s: float = 0.05,
    max_backoff_s: float = 2.0,
) -> T:
    """Call ``fn(conn)`` inside one transaction and commit; return what it returns.

    On a serialization failure or deadlock (also at COMMIT) the transaction is rolled
    back and ``fn`` runs again, up to ``retries`` more times, sleeping a random time up
    to ``backoff_s * 2**attempt`` (capped at ``max_backoff_s``) so that the colliding
    transactions stop colliding. ``fn`` must therefore be safe to call again: do only
    database work in it. A plain connection must not be inside a transaction already.

    With a pool, a connection lost while ``fn`` runs (before COMMIT) is retried the same
    way on another connection (after a failover, the pool's check and a multi-host DSN
    find the new primary). A connection lost during COMMIT raises
    :class:`CommitOutcomeUnknown`, never retried. With a plain connection a lost
    connection is not retried (there is no other): its ``psycopg.OperationalError``
    propagates, or ``CommitOutcomeUnknown`` if COMMIT was in flight.

    ``fn`` raising ``psycopg.Rollback`` rolls back and raises :class:`RolledBackError`. A
    result that would use the connection after it is released (a generator, a cursor)
    rolls back and raises :class:`plue_db.eager.LazyResultError`: return ``list(...)``.
    """
    plain = isinstance(source, psycopg.Connection)
    retry = _Retry(retries, backoff_s, max_backoff_s, reconnect=not plain, conn=source)
    while True:
        try:
            if isinstance(source, psycopg.Connection):
                return _attempt(source, fn, isolation)
            with source.connection() as conn:
                return _attempt(conn, fn, isolation)
        except _RETRIED as exc:
            time.sleep(retry.pause_after(exc))


async def run_in_transaction_async(
    source: AsyncConnectionPool[Any] | psycopg.AsyncConnection[Any],
    fn: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
    *,
    isolation: IsolationLevel = IsolationLevel.READ_COMMITTED,
    retries: int = 5,
    backoff_s: float = 0.05,
    max_backoff_s: float = 2.0,
) -> T:
    """The asyncio twin of :func:`run_in_transaction`: ``await fn(conn)`` in one
    transaction, with the same retry rules; the pause between attempts is an
    ``asyncio.sleep``, so other tasks run meanwhile."""
    plain = isinstance(source, psycopg.AsyncConnection)
    retry = _Retry(retries, backoff_s, max_backoff_s, reconnect=not plain, conn=source)
    while True:
        try:
            if isinstance(source, psycopg.AsyncConnection):
                return await _attempt_async(source, fn, isolation)
            async with source.connection() as conn:
                return await _attempt_async(conn, fn, isolation)
        except _RETRIED as exc:
            await asyncio.sleep(retry.pause_after(exc))


class _Retry:
    """The retry decisions both twins share: which failure runs ``fn`` again, and after
    how long a pause."""

    def __init__(
        self,
        retries: int,
        backoff_s: float,
        max_backoff_s: float,
        *,
        reconnect: bool,
        conn: object,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        if isinstance(conn, psycopg.BaseConnection) and (
            conn.autocommit or conn.info.transaction_status != pq.TransactionStatus.IDLE
        ):
            raise ValueError(
                "run_in_transaction needs a non-autocommit connection with no transaction open"
            )
        self.retries, self.backoff_s, self.max_backoff_s = retries, backoff_s, max_backoff_s
        self.reconnect = reconnect  # a pool has another connection; a plain one has not
        self.attempt = 0

    def pause_after(self, exc: Exception) -> float:
        """Seconds to wait before running ``fn`` again after ``exc``; raises what the
        caller must see instead when ``exc`` may not be retried (any more)."""
        if isinstance(exc, _LostBeforeCommitError):
            if not self.reconnect or self.attempt >= self.retries:
                exc.error.add_note(
                    f"connection lost before COMMIT; gave up after {self.attempt + 1} attempts"
                )
                raise exc.error from None
        elif self.attempt >= self.retries:
            exc.add_note(f"gave up after {self.attempt + 1} attempts")
            raise exc
        pause = _jitter.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**self.attempt))
        self.attempt += 1
        return pause


class _Attempt:
    """Whether the attempt reached COMMIT: decides what a lost connection means."""

    committing = False


@contextmanager
def _losing(conn: psycopg.BaseConnection[Any]) -> Iterator[_Attempt]:
    """Turns the connection breaking inside the block into :func:`_lost`'s error; the
    sync and async attempts share it, so both read the same COMMIT marker."""
    attempt = _Attempt()
    try:
        yield attempt
    except psycopg.OperationalError as exc:
        if not conn.broken:
            raise
        raise _lost(conn, exc, attempt.committing) from exc


@contextmanager
def _rollback_raises() -> Iterator[None]:
    """``psycopg.Rollback`` out of ``fn`` becomes :class:`RolledBackError`, inside the
    transaction block, which then rolls back and lets it through instead of swallowing
    it (and leaving the attempt without a result)."""
    try:
        yield
    except psycopg.Rollback as exc:
        raise RolledBackError(
            "fn raised psycopg.Rollback: the transaction was rolled back and nothing it"
            " wrote was kept"
        ) from exc


def _attempt(
    conn: psycopg.Connection[Any],
    fn: Callable[[psycopg.Connection[Any]], T],
    isolation: IsolationLevel,
) -> T:
    with _losing(conn) as attempt, conn.transaction():
        conn.execute(_SET_ISOLATION[isolation])
        with _rollback_raises():
            result = eager.check(fn(conn), "run_in_transaction")
        attempt.committing = True  # leaving the block sends COMMIT
    return result


async def _attempt_async(
    conn: psycopg.AsyncConnection[Any],
    fn: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
    isolation: IsolationLevel,
) -> T:
    with _losing(conn) as attempt:
        async with conn.transaction():
            await conn.execute(_SET_ISOLATION[isolation])
            with _rollback_raises():
                result = await eager.check_async(await fn(conn), "run_in_transaction_async")
            attempt.committing = True  # leaving the block sends COMMIT
    return result


def _lost(
    conn: psycopg.BaseConnection[Any], exc: psycopg.OperationalError, committing: bool
) -> Exception:
    """What an attempt raises when its connection broke with ``exc``: lost before COMMIT
    (retryable) or with COMMIT in flight (never retried)."""
    if committing:
        return CommitOutcomeUnknown(
            f"the connection to {conn.info.host}:{conn.info.port} was lost while COMMIT"
            " was in flight: the transaction may or may not have committed, and was not"
            " run again"
        )
    return _LostBeforeCommitError(exc)
