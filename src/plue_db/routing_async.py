"""The asyncio twin of plue_db.routing: the same rules (its :class:`Policy`), async I/O.

``await router.position()``, ``async with router.reader(after=...)`` and
``async with router.connection()`` read like their sync counterparts; a service with no
replicas gets :func:`plue_db.pool.open_async_pool`'s connections, unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, Unpack

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from plue_db import pooler, servers
from plue_db.pool import AsyncPool, PoolOptions, PoolSettings, open_async_pool
from plue_db.routing import (
    DEFAULT_ROUTING,
    LAG_SQL,
    POSITION_SQL,
    PROBE_SQL,
    PROBE_TIMEOUT_S,
    REPLAYED_SQL,
    Policy,
    Replica,
    RouterBase,
    RoutingSettings,
    check_position,
    is_read_only,
    position_of,
    replayed,
)

AsyncConn = psycopg.AsyncConnection[TupleRow]
T = TypeVar("T")


class AsyncRouter(RouterBase[AsyncPool, Callable[[str], Awaitable[AsyncPool]]]):
    """A primary pool and replica pools for asyncio; see plue_db.routing for the rules."""

    async def position(self) -> str:
        """The primary's current WAL position, for ``reader(after=...)`` after a commit."""
        async with self.primary.connection() as conn:
            return position_of(await (await conn.execute(POSITION_SQL)).fetchone())

    @asynccontextmanager
    async def reader(self, *, after: str | None = None) -> AsyncIterator[AsyncConn]:
        """A read-only connection, one transaction: a current replica, else the primary."""
        check_position(after)
        # Deliberately the twin of Router.reader (plue_db.routing), line for line but
        # for await: the decisions are Policy's, only this I/O loop is written twice.
        for replica, probe in self.policy.candidates():
            if probe and not await self._readmit(replica):
                continue
            entered = False
            try:
                async with replica.pool.connection(self.policy.settings.checkout_s) as conn:
                    if not await self._fresh(replica, conn, after):
                        await conn.rollback()
                        continue
                    entered = True
                    yield conn
                    return
            except (PoolTimeout, psycopg.OperationalError):
                if entered:
                    raise  # the caller's work failed; it is theirs to retry
                self.policy.mark_down(replica)
        async with self._primary_reader() as conn:
            yield conn

    async def run(self, function: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Await a generated function on a reader if it is read-only, else the primary."""
        route = self.reader() if is_read_only(function) else self.connection()
        async with route as conn:
            return await function(conn, **kwargs)

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.pool.close()
        await self.primary.close()

    async def __aenter__(self) -> AsyncRouter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _fresh(self, replica: Replica[AsyncPool], conn: AsyncConn, after: str | None) -> bool:
        if self.policy.lag_due(replica):
            self.policy.record_lag(replica, await (await conn.execute(LAG_SQL)).fetchone())
        if self.policy.too_far_behind(replica):
            return False
        if after is None:
            return True
        pauses = self.policy.catch_up_pauses()
        while not replayed(await (await conn.execute(REPLAYED_SQL, [after])).fetchone()):
            pause = next(pauses, None)
            if pause is None:
                return False
            await asyncio.sleep(pause)
        return True

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
    async def _primary_reader(self) -> AsyncIterator[AsyncConn]:
        """A primary connection marked read-only for one transaction, then unmarked."""
        async with self.primary.connection() as conn:
            await conn.set_read_only(True)
            try:
                yield conn
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
            finally:
                await _unmark(conn)


async def _unmark(conn: AsyncConn) -> None:
    """Return a connection to the primary pool as a writer, or close it so the pool
    discards it."""
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        await conn.set_read_only(None)
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
