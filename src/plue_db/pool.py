"""Connection pools for services: the one place timeouts and health checks are set.

Every connection gets ``statement_timeout`` and ``lock_timeout`` as server options, so
a runaway query or a query stuck behind another transaction's lock fails with a
PostgreSQL error (``QueryCanceled`` / ``LockNotAvailable``) instead of hanging the
caller. Connections are checked before they are handed out, so a pool outlives
terminated backends and server restarts (psycopg_pool reconnects with backoff).
Behind a transaction-mode pooler (``transaction_pooler=True``) the server applies
the timeouts instead; see plue_db.pooler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from plue_db import config, pooler, servers

SyncPool = ConnectionPool[psycopg.Connection[TupleRow]]
AsyncPool = AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Limits applied to every pooled connection (seconds / milliseconds, 0 = no limit)."""

    connect_s: int = 5
    statement_ms: int = 30_000
    lock_ms: int = 5_000
    idle_in_transaction_ms: int = 60_000

    def by_setting(self) -> dict[str, int]:
        """The server settings these limits become, in milliseconds."""
        return {
            "statement_timeout": self.statement_ms,
            "lock_timeout": self.lock_ms,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_ms,
        }

    def connection_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` that set these limits at login."""
        options = " ".join(f"-c {name}={value}" for name, value in self.by_setting().items())
        return {
            "connect_timeout": self.connect_s,
            "options": options,
            "application_name": "plue-db",
        }


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Sizes and lifetimes shared by the sync and async pools.

    ``timeout`` bounds how long ``pool.connection()`` waits for a free connection (and
    how long opening waits for the first ones); ``reconnect_timeout`` how long the pool
    keeps retrying an unreachable server before giving up on a connection slot.
    """

    min_size: int = 1
    max_size: int = 10
    timeout: float = 10.0
    max_lifetime: float = 3600.0
    max_idle: float = 600.0
    reconnect_timeout: float = 300.0
    timeouts: Timeouts = Timeouts()
    # Naive datetimes sent for timestamptz are read in the session TimeZone; pinning it
    # makes them mean UTC on every server, and timestamptz values come back in UTC.
    timezone: str = "UTC"
    # Behind pgbouncer in transaction mode: no prepared statements, no startup options
    # (see plue_db.pooler; the server must apply the timeouts, checked at open).
    transaction_pooler: bool = False

    def pool_kwargs(self) -> dict[str, Any]:
        connection = self.timeouts.connection_kwargs()
        if self.transaction_pooler:
            connection = pooler.connection_kwargs(connection)
        else:
            connection["options"] += f" -c TimeZone={self.timezone}"
        return {
            "kwargs": connection,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "timeout": self.timeout,
            "max_lifetime": self.max_lifetime,
            "max_idle": self.max_idle,
            "reconnect_timeout": self.reconnect_timeout,
        }


class PoolOptions(TypedDict, total=False):
    """Keyword arguments of :func:`open_pool`; see :class:`PoolSettings`."""

    min_size: int
    max_size: int
    timeout: float
    max_lifetime: float
    max_idle: float
    reconnect_timeout: float
    timeouts: Timeouts
    timezone: str
    transaction_pooler: bool


def open_pool(url: str | None = None, **options: Unpack[PoolOptions]) -> SyncPool:
    """Open a pool on ``url`` (default: the configured server) and wait until it is ready.

    Raises ``PoolTimeout`` naming the server if no connection opens within the timeout.
    """
    settings = PoolSettings(**options)
    target = url or servers.database_url()
    pool: SyncPool = ConnectionPool(
        target,
        check=ConnectionPool.check_connection,
        configure=pooler.configure(settings.timezone) if settings.transaction_pooler else None,
        name="plue-db",
        open=True,
        **settings.pool_kwargs(),
    )
    try:
        pool.wait(timeout=settings.timeout)
        if settings.transaction_pooler:
            with pool.connection() as conn:
                pooler.check_server_settings(conn, settings.timeouts.by_setting())
    except PoolTimeout as exc:
        pool.close()
        raise _unreachable(target, settings.timeout) from exc
    except pooler.PoolerSettingsError:
        pool.close()
        raise
    return pool


async def open_async_pool(url: str | None = None, **options: Unpack[PoolOptions]) -> AsyncPool:
    """The asyncio twin of :func:`open_pool`, with the same settings."""
    settings = PoolSettings(**options)
    target = url or servers.database_url()
    pool: AsyncPool = AsyncConnectionPool(
        target,
        check=AsyncConnectionPool.check_connection,
        configure=(
            pooler.configure_async(settings.timezone) if settings.transaction_pooler else None
        ),
        name="plue-db-async",
        open=False,
        **settings.pool_kwargs(),
    )
    await pool.open()
    try:
        await pool.wait(timeout=settings.timeout)
        if settings.transaction_pooler:
            async with pool.connection() as conn:
                await pooler.check_server_settings_async(conn, settings.timeouts.by_setting())
    except PoolTimeout as exc:
        await pool.close()
        raise _unreachable(target, settings.timeout) from exc
    except pooler.PoolerSettingsError:
        await pool.close()
        raise
    return pool


def _unreachable(url: str, timeout: float) -> PoolTimeout:
    return PoolTimeout(f"could not connect to {config.redacted(url)} within {timeout:g}s")
