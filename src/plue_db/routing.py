"""Reads to healthy replicas, everything else to the primary.

``router.connection()`` is the primary pool's ``connection()``, unchanged: a service with
no replicas behaves and performs exactly as with :func:`plue_db.pool.open_pool`.
``router.reader()`` hands out a connection for read-only work: from a replica whose
replay lag is within ``max_lag_s``, else from the primary. Every reader connection is
marked ``read_only`` (psycopg begins its transactions READ ONLY), so a generated
function that writes refuses it before sending anything, naming itself, wherever the
reader landed; the same code fails in development without replicas as it would in
production with them.

Read-your-writes: take ``router.position()`` (the primary's WAL position) after a
commit and pass it as ``reader(after=...)``; the reader waits up to ``wait_s`` for its
replica to replay that far, then falls back to the primary. A replica that cannot be
reached is skipped for ``retry_s`` and then probed again; once it answers, it serves
reads again.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, Unpack

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from plue_db import config, servers
from plue_db.pool import PoolOptions, PoolSettings, SyncPool, open_pool

Conn = psycopg.Connection[TupleRow]
T = TypeVar("T")

# Replay lag in seconds: 0 when everything received is replayed, else the age of the
# last replayed commit (an idle primary must not make a current replica look late).
LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8
"""
REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """How stale a replica may be and how long the router waits for one (seconds)."""

    max_lag_s: float = 5.0  # replicas replaying further behind are skipped
    wait_s: float = 1.0  # read-your-writes: longest wait for a replica to catch up
    retry_s: float = 5.0  # an unreachable replica is probed again after this
    lag_check_s: float = 1.0  # a replica's lag is measured at most this often
    checkout_s: float = 1.0  # longest wait for a replica connection before skipping it


@dataclass(slots=True)
class Replica:
    """One replica's pool and what the router last learnt about it."""

    url: str
    pool: SyncPool
    down_until: float = 0.0  # monotonic time before which it is not tried
    lag_s: float = 0.0
    lag_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return config.redacted(self.url)


class NoPositionError(ValueError):
    """``after`` is not a WAL position (``router.position()`` returns one)."""


class Router:
    """A primary pool and replica pools; see the module docstring for the rules."""

    def __init__(
        self,
        primary: SyncPool,
        replicas: Sequence[Replica],
        settings: RoutingSettings,
        open_replica: Callable[[str], SyncPool],
    ) -> None:
        self.primary = primary
        self.replicas = list(replicas)
        self.settings = settings
        self._open_replica = open_replica
        self._turn = itertools.count()

    def connection(self, timeout: float | None = None) -> Any:
        """A primary connection: ``primary.connection()`` itself, one transaction."""
        return self.primary.connection(timeout)

    def position(self) -> str:
        """The primary's current WAL position, for ``reader(after=...)`` after a commit."""
        with self.primary.connection() as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        return str(row[0])

    @contextmanager
    def reader(self, *, after: str | None = None) -> Iterator[Conn]:
        """A read-only connection, one transaction: a current replica, else the primary.

        With ``after`` (from :meth:`position`), only a replica that has replayed that
        far within ``wait_s`` is used.
        """
        if after is not None and not _is_lsn(after):
            raise NoPositionError(f"after={after!r} is not a WAL position like '0/3000060'")
        for replica in self._rotation():
            entered = False
            try:
                with replica.pool.connection(self.settings.checkout_s) as conn:
                    if not self._fresh(replica, conn, after):
                        conn.rollback()
                        continue
                    entered = True
                    yield conn
                    return
            except (PoolTimeout, psycopg.OperationalError):
                if entered:
                    raise  # the caller's work failed; it is theirs to retry
                self._mark_down(replica)
        with self._primary_reader() as conn:
            yield conn

    def run(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        """Call a generated function on a reader if it is read-only, else the primary."""
        route = self.reader() if is_read_only(function) else self.connection()
        with route as conn:
            return function(conn, **kwargs)

    def close(self) -> None:
        for replica in self.replicas:
            replica.pool.close()
        self.primary.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- choosing a replica -----------------------------------------------------------
    def _rotation(self) -> Iterator[Replica]:
        """Replicas worth trying now, round-robin; a down one past its retry time is
        probed (and its pool rebuilt) first."""
        if not self.replicas:
            return
        start = next(self._turn)
        now = time.monotonic()
        for k in range(len(self.replicas)):
            replica = self.replicas[(start + k) % len(self.replicas)]
            if replica.down_until and (now < replica.down_until or not self._readmit(replica)):
                continue
            yield replica

    def _fresh(self, replica: Replica, conn: Conn, after: str | None) -> bool:
        now = time.monotonic()
        if now - replica.lag_at >= self.settings.lag_check_s:
            row = conn.execute(LAG_SQL).fetchone()
            replica.lag_s, replica.lag_at = float(row[0] if row else 0.0), now
        if replica.lag_s > self.settings.max_lag_s:
            return False
        if after is None:
            return True
        deadline, pause = now + self.settings.wait_s, 0.001
        while True:
            row = conn.execute(REPLAYED_SQL, [after]).fetchone()
            if row and row[0]:
                return True
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _mark_down(self, replica: Replica) -> None:
        replica.down_until = time.monotonic() + self.settings.retry_s

    def _readmit(self, replica: Replica) -> bool:
        """Probe a replica that was down; if it answers, give it a fresh pool."""
        with replica.lock:
            if not replica.down_until:
                return True
            try:
                with psycopg.connect(replica.url, connect_timeout=1, autocommit=True) as probe:
                    probe.execute("SELECT 1")
            except psycopg.OperationalError:
                self._mark_down(replica)
                return False
            replica.pool.close(timeout=0)
            replica.pool = self._open_replica(replica.url)
            replica.down_until, replica.lag_at = 0.0, float("-inf")
            return True

    @contextmanager
    def _primary_reader(self) -> Iterator[Conn]:
        """A primary connection marked read-only for one transaction, then unmarked."""
        with self.primary.connection() as conn:
            conn.read_only = True
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                _unmark(conn)


def _unmark(conn: Conn) -> None:
    """Return a connection to the primary pool as a writer; if that is impossible (it
    broke mid-transaction), close it so the pool discards it."""
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        conn.read_only = None
    except psycopg.Error:
        conn.close()


def _is_lsn(text: str) -> bool:
    high, _, low = text.partition("/")
    hexdigits = set("0123456789abcdefABCDEF")
    return bool(high and low) and set(high + low) <= hexdigits and len(high + low) <= 16


def is_read_only(function: Callable[..., Any]) -> bool:
    """Whether a generated function may run on a replica: its module's
    ``READ_ONLY_FUNCTIONS`` (written by the generator) names it."""
    module = sys.modules.get(function.__module__)
    names: frozenset[str] = getattr(module, "READ_ONLY_FUNCTIONS", frozenset())
    return function.__name__ in names


def _mark_read_only(conn: Conn) -> None:
    conn.read_only = True


def open_router(
    url: str | None = None,
    replica_urls: Sequence[str] | None = None,
    *,
    routing: RoutingSettings = RoutingSettings(),
    **options: Unpack[PoolOptions],
) -> Router:
    """A router over the primary at ``url`` (default: the configured server; a libpq
    multi-host URL with ``target_session_attrs=read-write`` finds a new primary after a
    failover) and ``replica_urls`` (default: plue_db.servers.replica_urls(): PLUE_DB_REPLICA_URLS,
    or the replicas ``plue-db up --replicas N`` started).

    The primary pool is :func:`plue_db.pool.open_pool` with ``options``; replica pools
    use the same sizes and timeouts, and their connections are read-only. A replica that
    is down at start is skipped until it answers.
    """
    settings = PoolSettings(**options)
    replica_urls = servers.replica_urls() if replica_urls is None else list(replica_urls)

    def open_replica(replica_url: str) -> SyncPool:
        return ConnectionPool(
            replica_url,
            check=ConnectionPool.check_connection,
            configure=_mark_read_only,
            name="plue-db-replica",
            open=True,
            **settings.pool_kwargs(),
        )

    primary = open_pool(url, **options)
    replicas = [Replica(u, open_replica(u)) for u in replica_urls]
    return Router(primary, replicas, routing, open_replica)
