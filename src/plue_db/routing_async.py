"""The asyncio twin of plue_db.routing: the same rules (its :class:`Policy`), async I/O.

``await router.position()``, ``async with router.reader(after=...)`` and
``async with router.connection()`` read like their sync counterparts; a service with no
replicas gets :func:`plue_db.pool.open_async_pool`'s connections, unchanged.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, Unpack

import psycopg
from psycopg import IsolationLevel
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from plue_db import eager, pooler, servers
from plue_db.pool import AsyncPool, PoolOptions, PoolSettings, open_async_pool
from plue_db.routing import (
    DEFAULT_ISOLATION_SQL,
    DEFAULT_ROUTING,
    LAG_SQL,
    POSITION_SQL,
    PROBE_SQL,
    PROBE_TIMEOUT_S,
    READ_INSIDE,
    REPLAYED_SQL,
    Mark,
    Policy,
    Replica,
    RouterBase,
    RoutingSettings,
    check_position,
    is_read_only,
    note_default_isolation,
    position_of,
    replayed,
    replica_can_run,
    run_label,
)

AsyncConn = psycopg.AsyncConnection[TupleRow]
T = TypeVar("T")


class AsyncRouter(RouterBase[AsyncPool, Callable[[str], Awaitable[AsyncPool]]]):
    """A primary pool and replica pools for asyncio; see plue_db.routing for the rules."""

    async def position(self) -> str:
        """The primary's current WAL position, for ``reader(after=...)`` after a commit."""
        async with self.primary.connection() as conn:
            return position_of(await (await conn.execute(POSITION_SQL)).fetchone())

    async def _mark(self) -> Mark:
        """The primary's position and when it was read: what a replica's lag is against."""
        at = time.monotonic()
        return Mark(await self.position(), at)

    @asynccontextmanager
    async def reader(
        self, *, after: str | None = None, isolation: IsolationLevel | None = None
    ) -> AsyncIterator[AsyncConn]:
        """A read-only connection, one transaction: a current replica, else the primary."""
        check_position(after)
        # Deliberately the twin of Router.reader (plue_db.routing), line for line but
        # for await: the decisions are Policy's, only this I/O loop is written twice.
        for replica, probe in self.policy.candidates(isolation):
            if probe and not await self._readmit(replica):
                continue
            mark = await self._mark() if self.policy.lag_due(replica) else None
            entered = False
            try:
                async with replica.pool.connection(self.policy.settings.checkout_s) as conn:
                    if not await self._fresh(replica, conn, after, mark, isolation):
                        continue
                    entered = True
                    async with _one_transaction(conn, isolation, read_only_after=True):
                        yield conn
                    return
            except (PoolTimeout, psycopg.OperationalError):
                if entered:
                    raise  # the caller's work failed; it is theirs to retry
                self.policy.mark_down(replica)
        async with self.primary.connection() as conn:
            await conn.set_read_only(True)
            async with _one_transaction(conn, isolation, read_only_after=None):
                yield conn

    async def run(self, function: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Await a generated function on a reader if it is read-only, else the primary.
        Its result must be complete when awaited: a stream (``iter_*``) or anything else
        lazy raises plue_db.eager.LazyResultError, since it would run after the connection went back
        to the pool."""
        route = self.reader() if is_read_only(function) else self.connection()
        async with route as conn:
            label = run_label(function)
            call: object = function(conn, **kwargs)
            if not inspect.isawaitable(call):
                await eager.check_async(call, label, READ_INSIDE)  # an async generator: a stream
            result = await call  # type: ignore[misc]  # TypeError if not awaitable
            return await eager.check_async(result, label, READ_INSIDE)

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.pool.close()
        await self.primary.close()

    async def __aenter__(self) -> AsyncRouter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _fresh(
        self,
        replica: Replica[AsyncPool],
        conn: AsyncConn,
        after: str | None,
        mark: Mark | None,
        isolation: IsolationLevel | None,
    ) -> bool:
        """Whether this replica may serve the reader, asked in autocommit (see
        plue_db.routing's Router._fresh)."""
        if not replica_can_run(conn, isolation):
            return False
        if mark is None and (after is None or self.policy.too_far_behind(replica)):
            return not self.policy.too_far_behind(replica)  # nothing to ask the replica
        async with _autocommit(conn):
            if after is not None:
                pauses = self.policy.catch_up_pauses()
                while not replayed(await (await conn.execute(REPLAYED_SQL, [after])).fetchone()):
                    pause = next(pauses, None)
                    if pause is None:
                        return False
                    await asyncio.sleep(pause)
            if mark is not None:
                asked_at = time.monotonic()
                row = await (await conn.execute(LAG_SQL, [mark.lsn])).fetchone()
                self.policy.record_lag(replica, mark, asked_at, row)
            return not self.policy.too_far_behind(replica)

    async def _readmit(self, replica: Replica[AsyncPool]) -> bool:
        """Probe a replica that was down; if it answers, give it a fresh pool."""
        try:
            async with await psycopg.AsyncConnection.connect(
                replica.url, connect_timeout=PROBE_TIMEOUT_S, autocommit=True
            ) as probe:
                await probe.execute(PROBE_SQL)
        except psycopg.OperationalError:
            return False  # candidates() already pushed its retry time on
        fresh = await self._open_replica(replica.url)
        await self.policy.readmit(replica, fresh).close(timeout=0)
        return True


@asynccontextmanager
async def _autocommit(conn: AsyncConn) -> AsyncIterator[None]:
    """The asyncio twin of plue_db.routing's _autocommit."""
    await conn.set_autocommit(True)
    try:
        yield
    except BaseException:
        await conn.close()
        raise
    await conn.set_autocommit(False)


@asynccontextmanager
async def _one_transaction(
    conn: AsyncConn, isolation: IsolationLevel | None, *, read_only_after: bool | None
) -> AsyncIterator[None]:
    """The asyncio twin of plue_db.routing's _one_transaction."""
    if isolation is not None:
        await conn.set_isolation_level(isolation)
    try:
        yield
        await conn.commit()
    finally:
        await _reset(conn, read_only_after)


async def _reset(conn: AsyncConn, read_only: bool | None) -> None:
    """The asyncio twin of plue_db.routing's _reset."""
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        if conn.isolation_level is not None:
            await conn.set_isolation_level(None)
        if conn.read_only is not read_only:
            await conn.set_read_only(read_only)
    except psycopg.Error:
        await conn.close()


def replica_configure(settings: PoolSettings) -> Callable[[AsyncConn], Awaitable[None]]:
    """The asyncio twin of plue_db.routing.replica_configure."""
    set_timezone = (
        pooler.configure_async(settings.timezone) if settings.transaction_pooler else None
    )

    async def configure(conn: AsyncConn) -> None:
        if set_timezone is not None:
            await set_timezone(conn)
        await conn.set_autocommit(True)
        note_default_isolation(conn, await (await conn.execute(DEFAULT_ISOLATION_SQL)).fetchone())
        await conn.set_autocommit(False)
        await conn.set_read_only(True)

    return configure


async def open_async_router(
    url: str | None = None,
    replica_urls: Sequence[str] | None = None,
    *,
    routing: RoutingSettings = DEFAULT_ROUTING,
    **options: Unpack[PoolOptions],
) -> AsyncRouter:
    """The asyncio twin of :func:`plue_db.routing.open_router`, with the same arguments."""
    settings = PoolSettings(**options)
    replica_urls = servers.replica_urls() if replica_urls is None else list(replica_urls)

    async def open_replica(replica_url: str) -> AsyncPool:
        pool: AsyncPool = AsyncConnectionPool(
            replica_url,
            check=AsyncConnectionPool.check_connection,
            configure=replica_configure(settings),
            name="plue-db-replica-async",
            open=False,
            **settings.pool_kwargs(),
        )
        await pool.open()
        return pool

    primary = await open_async_pool(url, **options)
    replicas = [Replica(u, await open_replica(u)) for u in replica_urls]
    return AsyncRouter(primary, Policy(replicas, routing), open_replica)
