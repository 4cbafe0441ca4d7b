"""Server-side cursors for ``iter_*``: they open no transaction and send nothing once
the caller's has ended (sqlc-gen-psycopg's README)."""

from __future__ import annotations

import itertools
from typing import Any, LiteralString, Self

import psycopg
from psycopg import pq, sql
from psycopg.rows import TupleRow, tuple_row

from sqlc_gen_psycopg_runtime.cursors import new_async_cursor, new_cursor
from sqlc_gen_psycopg_runtime.types import StreamEndedError

_IDS = itertools.count(1)
_EXISTS: LiteralString = "SELECT 1 FROM pg_catalog.pg_cursors WHERE name = $1"
_USABLE = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


class _Stream:
    """What a stream decides; its sync and async subclasses only do the I/O."""

    def __init__(
        self, conn: psycopg.BaseConnection[Any], label: str, batch_size: int, holdable: bool
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"iter_{label}: batch_size must be at least 1, got {batch_size}")
        if conn.pgconn.pipeline_status:
            raise psycopg.NotSupportedError(
                f"iter_{label}: a stream can't run in pipeline mode (it fetches in round"
                f" trips anyway); call it outside conn.pipeline(), or {label}() for a list"
            )
        self.label = label
        self.name = f"{label}_{next(_IDS)}"
        self.batch_size = batch_size
        self.hold = conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE
        if self.hold and not holdable:
            raise psycopg.errors.FeatureNotSupported(
                f"iter_{label}: its query locks rows (FOR UPDATE/SHARE), which PostgreSQL"
                " can't do in a WITH HOLD cursor, the only kind outside a transaction on an"
                " autocommit connection; call it inside conn.transaction()"
            )
        self.open = False
        # True while no caller code has run since the last statement: the cursor is ours.
        self.fresh = True
        self._conn = conn
        cursor = sql.Identifier(self.name)
        self.fetch_sql = sql.SQL("FETCH FORWARD {} FROM {}").format(sql.Literal(batch_size), cursor)
        self.close_sql = sql.SQL("CLOSE {}").format(cursor)

    def declare(self, query: LiteralString) -> sql.Composed:
        hold = sql.SQL("WITH HOLD" if self.hold else "WITHOUT HOLD")
        return sql.SQL("DECLARE {} NO SCROLL CURSOR {} FOR {}").format(
            sql.Identifier(self.name), hold, sql.SQL(query)
        )

    def may_exist(self) -> bool:
        """False when the cursor is gone for sure, without asking the server (an aborted
        transaction included: anything sent there would only raise InFailedSqlTransaction
        over the error that aborted it)."""
        status = self._conn.info.transaction_status
        if self._conn.closed or status not in _USABLE:
            return False
        return self.hold or status == pq.TransactionStatus.INTRANS

    def ended(self) -> StreamEndedError:
        self.open = False
        return StreamEndedError(
            f"iter_{self.label}: the transaction holding this stream's cursor has ended"
            " (commit, rollback, an error, or the connection went back to its pool);"
            " read a stream to its end, or close it, inside the transaction that opened it"
        )


class ServerStream(_Stream):
    """A server-side cursor read ``batch_size`` rows at a time on a sync connection."""

    def __init__(
        self, conn: psycopg.Connection[Any], label: str, batch_size: int, holdable: bool = True
    ) -> None:
        super().__init__(conn, label, batch_size, holdable)
        self._cur = psycopg.RawCursor(conn, row_factory=tuple_row)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, query: LiteralString, params: tuple[Any, ...] | None = None) -> None:
        with new_cursor(self._cur.connection) as traced:
            traced.execute(self.declare(query), params, prepare=False)
        self.open, self.fresh = True, True

    def fetch(self) -> list[TupleRow]:
        """The next batch, ``[]`` at the end; the cursor is closed with the last batch."""
        if not self.open:
            return []
        if not self.fresh and not self._exists():
            raise self.ended()
        rows = self._cur.execute(self.fetch_sql, prepare=False).fetchall()
        self.fresh = False
        if len(rows) < self.batch_size:
            self._cur.execute(self.close_sql, prepare=False)
            self.open = False
        return rows

    def close(self) -> None:
        try:
            if self.open and self.may_exist() and (self.fresh or self._exists()):
                self._cur.execute(self.close_sql, prepare=False)
        finally:
            self.open = False
            self._cur.close()

    def _exists(self) -> bool:
        if not self.may_exist():
            return False
        return self._cur.execute(_EXISTS, (self.name,), prepare=False).fetchone() is not None


class AsyncServerStream(_Stream):
    """The asyncio twin of :class:`ServerStream`."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any], label: str, batch_size: int, holdable: bool = True
    ) -> None:
        super().__init__(conn, label, batch_size, holdable)
        self._cur = psycopg.AsyncRawCursor(conn, row_factory=tuple_row)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, query: LiteralString, params: tuple[Any, ...] | None = None) -> None:
        async with new_async_cursor(self._cur.connection) as traced:
            await traced.execute(self.declare(query), params, prepare=False)
        self.open, self.fresh = True, True

    async def fetch(self) -> list[TupleRow]:
        """The next batch, ``[]`` at the end; the cursor is closed with the last batch."""
        if not self.open:
            return []
        if not self.fresh and not await self._exists():
            raise self.ended()
        await self._cur.execute(self.fetch_sql, prepare=False)
        rows = await self._cur.fetchall()
        self.fresh = False
        if len(rows) < self.batch_size:
            await self._cur.execute(self.close_sql, prepare=False)
            self.open = False
        return rows

    async def close(self) -> None:
        try:
            if self.open and self.may_exist() and (self.fresh or await self._exists()):
                await self._cur.execute(self.close_sql, prepare=False)
        finally:
            self.open = False
            await self._cur.close()

    async def _exists(self) -> bool:
        if not self.may_exist():
            return False
        await self._cur.execute(_EXISTS, (self.name,), prepare=False)
        return await self._cur.fetchone() is not None
