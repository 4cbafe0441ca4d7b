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

Which replica, how stale, how long to wait and when to retry a dead one are decided by
:class:`Policy`, shared with the asyncio twin (plue_db.routing_async); the routers only
do the I/O.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, LiteralString, Self, TypeVar, Unpack

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from plue_db import config, pooler, servers
from plue_db.pool import AsyncPool, PoolOptions, PoolSettings, SyncPool, open_pool

Conn = psycopg.Connection[TupleRow]
T = TypeVar("T")
P = TypeVar("P")

# Replay lag in seconds: 0 when everything received is replayed, else the age of the
# last replayed commit (an idle primary must not make a current replica look late).
LAG_SQL: LiteralString = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8
"""
REPLAYED_SQL: LiteralString = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
POSITION_SQL: LiteralString = "SELECT pg_current_wal_lsn()::text"
PROBE_SQL: LiteralString = "SELECT 1"
PROBE_TIMEOUT_S = 1  # a readmission probe gives up on a replica after this


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """How stale a replica may be and how long the router waits for one (seconds)."""

    max_lag_s: float = 5.0  # replicas replaying further behind are skipped
    wait_s: float = 1.0  # read-your-writes: longest wait for a replica to catch up
    retry_s: float = 5.0  # an unreachable replica is probed again after this
    lag_check_s: float = 1.0  # a replica's lag is measured at most this often
    checkout_s: float = 1.0  # longest wait for a replica connection before skipping it


DEFAULT_ROUTING = RoutingSettings()


@dataclass(slots=True)
class Replica(Generic[P]):
    """One replica's pool (sync or async) and what the router last learnt about it."""

    url: str
    pool: P
    down_until: float = 0.0  # monotonic time before which it is not tried; 0 = up
    lag_s: float = 0.0
    lag_at: float = float("-inf")

    @property
    def name(self) -> str:
        return config.redacted(self.url)


class NoPositionError(ValueError):
    """``after`` is not a WAL position (``router.position()`` returns one)."""


class Policy(Generic[P]):
    """The routing decisions, free of I/O: which replicas to try and in what order, when
    to measure lag and what is too much, how long to wait for a position, when a dead
    replica is tried again. Safe to share between threads (and tasks)."""

    def __init__(self, replicas: Sequence[Replica[P]], settings: RoutingSettings) -> None:
        self.replicas = list(replicas)
        self.settings = settings
        self._turn = itertools.count()
        self._lock = threading.Lock()  # held only for bookkeeping, never across I/O

    def with_settings(self, settings: RoutingSettings) -> Policy[P]:
        """The same replicas (and what is known about them) under other settings."""
        return Policy(self.replicas, settings)

    def candidates(self) -> Iterator[tuple[Replica[P], bool]]:
        """Replicas worth trying now, round-robin, each with whether it must be probed
        (and given a fresh pool) first: it was down and its retry time has come. One
        caller gets the probe; the others skip it until the next retry time."""
        if not self.replicas:
            return
        start = next(self._turn)
        count = len(self.replicas)
        for k in range(count):
            replica = self.replicas[(start + k) % count]
            if not replica.down_until:
                yield replica, False
                continue
            with self._lock:
                now = time.monotonic()
                due = bool(replica.down_until) and now >= replica.down_until
                if due:
                    replica.down_until = now + self.settings.retry_s
            if due:
                yield replica, True
            elif not replica.down_until:  # readmitted meanwhile by another caller
                yield replica, False

    def lag_due(self, replica: Replica[P]) -> bool:
        return time.monotonic() - replica.lag_at >= self.settings.lag_check_s

    def record_lag(self, replica: Replica[P], row: tuple[Any, ...] | None) -> None:
        replica.lag_s = float(row[0] if row and row[0] is not None else 0.0)
        replica.lag_at = time.monotonic()

    def too_far_behind(self, replica: Replica[P]) -> bool:
        return replica.lag_s > self.settings.max_lag_s

    def catch_up_pauses(self) -> Iterator[float]:
        """Pauses between checks of a replica's replay position (1 ms doubling to
        20 ms), ending when the next one would pass ``wait_s``."""
        deadline, pause = time.monotonic() + self.settings.wait_s, 0.001
        while time.monotonic() + pause <= deadline:
            yield pause
            pause = min(pause * 2, 0.02)

    def mark_down(self, replica: Replica[P]) -> None:
        with self._lock:
            replica.down_until = time.monotonic() + self.settings.retry_s

    def readmit(self, replica: Replica[P], pool: P) -> P:
        """Put a replica that answered its probe back in service on ``pool``; returns
        the old pool, for the caller to close."""
        with self._lock:
            old, replica.pool = replica.pool, pool
            replica.down_until, replica.lag_at = 0.0, float("-inf")
        return old


def check_position(after: str | None) -> None:
    """Raise NoPositionError unless ``after`` is None or a WAL position."""
    if after is None:
        return
    high, _, low = after.partition("/")
    hexdigits = set("0123456789abcdefABCDEF")
    if not (high and low and set(high + low) <= hexdigits and len(high + low) <= 16):
        raise NoPositionError(f"after={after!r} is not a WAL position like '0/3000060'")


def is_read_only(function: Callable[..., Any]) -> bool:
    """Whether a generated function may run on a replica: its module's
    ``READ_ONLY_FUNCTIONS`` (written by the generator) names it."""
    module = sys.modules.get(function.__module__)
    names: frozenset[str] = getattr(module, "READ_ONLY_FUNCTIONS", frozenset())
    return function.__name__ in names


def position_of(row: tuple[Any, ...] | None) -> str:
    assert row is not None, "pg_current_wal_lsn() returns a row"
    return str(row[0])


def replayed(row: tuple[Any, ...] | None) -> bool:
    return bool(row and row[0])


PoolT = TypeVar("PoolT", bound=SyncPool | AsyncPool)
OpenT = TypeVar("OpenT")


class RouterBase(Generic[PoolT, OpenT]):
    """What the sync and async routers hold alike: the primary pool, the :class:`Policy`
    over the replica pools, and how to open a pool for a replica that is back (``OpenT``:
    a function, or for asyncio a coroutine function)."""

    def __init__(self, primary: PoolT, policy: Policy[PoolT], open_replica: OpenT) -> None:
        self.primary = primary
        self.policy = policy
        self._open_replica = open_replica

    @property
    def replicas(self) -> list[Replica[PoolT]]:
        return self.policy.replicas

    def with_settings(self, settings: RoutingSettings) -> Self:
        """A router on the same pools under other settings (a stricter lag bound for one
        page, a longer read-your-writes wait); closing either closes both."""
        return type(self)(self.primary, self.policy.with_settings(settings), self._open_replica)

    def connection(self, timeout: float | None = None) -> Any:
        """A primary connection: ``primary.connection()`` itself, one transaction."""
        return self.primary.connection(timeout)


class Router(RouterBase[SyncPool, Callable[[str], SyncPool]]):
    """A primary pool and replica pools; see the module docstring for the rules."""

    def position(self) -> str:
        """The primary's current WAL position, for ``reader(after=...)`` after a commit."""
        with self.primary.connection() as conn:
            return position_of(conn.execute(POSITION_SQL).fetchone())

    @contextmanager
    def reader(self, *, after: str | None = None) -> Iterator[Conn]:
        """A read-only connection, one transaction: a current replica, else the primary.

        With ``after`` (from :meth:`position`), only a replica that has replayed that
        far within ``wait_s`` is used.
        """
        check_position(after)
        # Deliberately the twin of AsyncRouter.reader (plue_db.routing_async), line for line but
        # for await: the decisions are Policy's, only this I/O loop is written twice.
        for replica, probe in self.policy.candidates():
            if probe and not self._readmit(replica):
                continue
            entered = False
            try:
                with replica.pool.connection(self.policy.settings.checkout_s) as conn:
                    if not self._fresh(replica, conn, after):
                        conn.rollback()
                        continue
                    entered = True
                    yield conn
                    return
            except (PoolTimeout, psycopg.OperationalError):
                if entered:
                    raise  # the caller's work failed; it is theirs to retry
                self.policy.mark_down(replica)
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

    def _fresh(self, replica: Replica[SyncPool], conn: Conn, after: str | None) -> bool:
        if self.policy.lag_due(replica):
            self.policy.record_lag(replica, conn.execute(LAG_SQL).fetchone())
        if self.policy.too_far_behind(replica):
            return False
        if after is None:
            return True
        pauses = self.policy.catch_up_pauses()
        while not replayed(conn.execute(REPLAYED_SQL, [after]).fetchone()):
            pause = next(pauses, None)
            if pause is None:
                return False
            time.sleep(pause)
        return True

    def _readmit(self, replica: Replica[SyncPool]) -> bool:
        """Probe a replica that was down; if it answers, give it a fresh pool."""
        try:
            with psycopg.connect(
                replica.url, connect_timeout=PROBE_TIMEOUT_S, autocommit=True
            ) as probe:
                probe.execute(PROBE_SQL)
        except psycopg.OperationalError:
            return False  # candidates() already pushed its retry time on
        self.policy.readmit(replica, self._open_replica(replica.url)).close(timeout=0)
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


def replica_configure(settings: PoolSettings) -> Callable[[Conn], None]:
    """A replica pool's ``configure``: what the primary pool's does (TimeZone by SET
    behind a transaction-mode pooler), then read-only."""
    set_timezone = pooler.configure(settings.timezone) if settings.transaction_pooler else None

    def configure(conn: Conn) -> None:
        if set_timezone is not None:
            set_timezone(conn)
        conn.read_only = True

    return configure


def open_router(
    url: str | None = None,
    replica_urls: Sequence[str] | None = None,
    *,
    routing: RoutingSettings = DEFAULT_ROUTING,
    **options: Unpack[PoolOptions],
) -> Router:
    """A router over the primary at ``url`` (default: the configured server; a libpq
    multi-host URL with ``target_session_attrs=read-write`` finds a new primary after a
    failover) and ``replica_urls`` (default: plue_db.servers.replica_urls(): PLUE_DB_REPLICA_URLS,
    or the replicas ``plue-db up --replicas N`` started).

    The primary pool is :func:`plue_db.pool.open_pool` with ``options``; replica pools
    use the same settings (sizes, timeouts, ``transaction_pooler``), and their
    connections are read-only. A replica that is down at start is skipped until it
    answers.
    """
    settings = PoolSettings(**options)
    replica_urls = servers.replica_urls() if replica_urls is None else list(replica_urls)

    def open_replica(replica_url: str) -> SyncPool:
        return ConnectionPool(
            replica_url,
            check=ConnectionPool.check_connection,
            configure=replica_configure(settings),
            name="plue-db-replica",
            open=True,
            **settings.pool_kwargs(),
        )

    primary = open_pool(url, **options)
    replicas = [Replica(u, open_replica(u)) for u in replica_urls]
    return Router(primary, Policy(replicas, routing), open_replica)
