"""Reads to healthy replicas, everything else to the primary.

``router.connection()`` is the primary pool's ``connection()``, unchanged: a service with
no replicas behaves and performs exactly as with :func:`plue_db.pool.open_pool`.
``router.reader()`` hands out a connection for read-only work: from a replica at most
``max_lag_s`` behind the primary, else from the primary. Behind is measured against the
primary, never against what the replica happens to have received: a replica is current
as of the moment the router read the primary's WAL position if it has replayed that
far, else as of the last commit it replayed; a replica whose stream has stopped
therefore ages, however idle it looks. Every reader connection is marked
``read_only`` (psycopg begins its transactions READ ONLY), so a generated function that
writes refuses it before sending anything, naming itself, wherever the reader landed;
the same code fails in development without replicas as it would in production with
them. The block is one transaction at the database's default isolation, or at
``isolation``; PostgreSQL runs no SERIALIZABLE transaction on a hot standby, so a
serializable reader is a primary connection.

Read-your-writes: take ``router.position()`` (the primary's WAL position) after a
commit and pass it as ``reader(after=...)``; the reader waits up to ``wait_s`` for its
replica to replay that far, then falls back to the primary. The router's own checks
run in autocommit before the caller's transaction begins, so the caller's snapshot
(REPEATABLE READ included) is taken after the replica has caught up. A replica that
cannot be reached is skipped for ``retry_s`` and then probed again; once it answers, it
serves reads again.

Which replica, how stale, how long to wait and when to retry a dead one are decided by
:class:`Policy`, shared with the asyncio twin (plue_db.routing_async); the routers only
do the I/O.

Over 400 lines on purpose: services import the router, its settings and its errors from
this one path, and the rules the asyncio twin shares (Policy and the small functions
above the routers) sit beside the sync router that applies them, so the two read together.
"""

from __future__ import annotations

import itertools
import string
import sys
import threading
import time
import weakref
from collections.abc import (
    Callable,
    Iterator,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, LiteralString, Self, TypeVar, Unpack

import psycopg
from psycopg import IsolationLevel
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from plue_db import config, eager, pooler, servers
from plue_db.pool import AsyncPool, PoolOptions, PoolSettings, SyncPool, open_pool

Conn = psycopg.Connection[TupleRow]
T = TypeVar("T")
P = TypeVar("P")

# On the replica, given the primary's position read just before: whether it has replayed
# that far (then it is current as of that read, however long the primary has been idle),
# and the age in seconds of the last commit it replayed (NULL: none since it started).
LAG_SQL: LiteralString = """
SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
"""
DEFAULT_ISOLATION_SQL: LiteralString = "SELECT current_setting('default_transaction_isolation')"
REPLAYED_SQL: LiteralString = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
POSITION_SQL: LiteralString = "SELECT pg_current_wal_lsn()::text"
PROBE_SQL: LiteralString = "SELECT 1"
PROBE_TIMEOUT_S = 1  # a readmission probe gives up on a replica after this


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """How stale a replica may be and how long the router waits for one (seconds).

    ``max_lag_s``: a replica serves a reader only if it holds everything the primary had
    committed ``max_lag_s`` before the reader began (see Policy.record_lag for how that
    is measured against the primary)."""

    max_lag_s: float = 5.0
    wait_s: float = 1.0  # read-your-writes: longest wait for a replica to catch up
    retry_s: float = 5.0  # an unreachable replica is probed again after this
    lag_check_s: float = 1.0  # how often lag is measured (sooner near max_lag_s)
    checkout_s: float = 1.0  # longest wait for a replica connection before skipping it


DEFAULT_ROUTING = RoutingSettings()


@dataclass(slots=True)
class Replica(Generic[P]):
    """One replica's pool (sync or async) and what the router last learnt about it."""

    url: str
    pool: P
    down_until: float = 0.0  # monotonic time before which it is not tried; 0 = up
    current_at: float = float("-inf")  # it held all the primary had at this monotonic time
    lag_at: float = float("-inf")  # when that was last measured

    @property
    def name(self) -> str:
        return config.redacted(self.url)


@dataclass(frozen=True, slots=True)
class Mark:
    """The primary's WAL position and the monotonic time just before it was read."""

    lsn: str
    at: float


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

    def candidates(
        self, isolation: IsolationLevel | None = None
    ) -> Iterator[tuple[Replica[P], bool]]:
        """Replicas worth trying now, round-robin, each with whether it must be probed
        (and given a fresh pool) first: it was down and its retry time has come. One
        caller gets the probe; the others skip it until the next retry time. None for a
        SERIALIZABLE reader: a hot standby refuses that isolation."""
        if not self.replicas or isolation == IsolationLevel.SERIALIZABLE:
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
        """Every ``lag_check_s``; sooner for a replica last measured within ``max_lag_s``
        that would pass it by now, so the bound holds between measurements."""
        now, bound = time.monotonic(), self.settings.max_lag_s
        if now - replica.lag_at >= self.settings.lag_check_s:
            return True
        return replica.lag_at - replica.current_at <= bound < now - replica.current_at

    def record_lag(
        self, replica: Replica[P], mark: Mark, asked_at: float, row: tuple[Any, ...] | None
    ) -> None:
        """Record LAG_SQL's answer, asked at ``asked_at`` after reading ``mark``: the
        replica is current as of the mark if it has replayed that far, else as of its
        last replayed commit; with neither it is as stale as can be."""
        caught_up, commit_age = row if row is not None else (None, None)
        if caught_up:
            replica.current_at = mark.at
        elif commit_age is not None:
            replica.current_at = asked_at - max(float(commit_age), 0.0)
        else:
            replica.current_at = float("-inf")
        replica.lag_at = time.monotonic()

    def too_far_behind(self, replica: Replica[P]) -> bool:
        return time.monotonic() - replica.current_at > self.settings.max_lag_s

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
    """Raise NoPositionError unless ``after`` is None or what PostgreSQL's pg_lsn reads:
    two hexadecimal numbers of 1 to 8 digits around a slash. Checked before any routing,
    so a bad value fails alike with replicas and without."""
    if after is None:
        return
    high, slash, low = after.partition("/")
    if not (slash and _hex32(high) and _hex32(low)):
        raise NoPositionError(
            f"after={after!r} is not a WAL position: two hexadecimal numbers of 1 to 8"
            " digits around a slash, like '0/3000060' (router.position() returns one)"
        )


def _hex32(part: str) -> bool:
    return 0 < len(part) <= 8 and all(c in string.hexdigits for c in part)


READ_INSIDE = "read it inside `with router.reader() as conn:` (or router.connection()) instead"


def run_label(function: Callable[..., Any]) -> str:
    """How ``router.run``'s refusals name the call (plue_db.eager.check's ``helper``)."""
    return f"router.run({getattr(function, '__name__', repr(function))})"


# Replica connections whose session defaults to SERIALIZABLE (ALTER DATABASE/ROLE ... SET
# default_transaction_isolation), found once per connection by replica_configure: a hot
# standby refuses their transactions, so they serve only readers that ask for another level.
_SERIALIZABLE_SESSIONS: weakref.WeakSet[psycopg.BaseConnection[Any]] = weakref.WeakSet()


def note_default_isolation(conn: psycopg.BaseConnection[Any], row: tuple[Any, ...] | None) -> None:
    """Remember whether ``conn``'s session defaults to SERIALIZABLE (DEFAULT_ISOLATION_SQL)."""
    if row is not None and row[0] == "serializable":
        _SERIALIZABLE_SESSIONS.add(conn)


def replica_can_run(conn: psycopg.BaseConnection[Any], isolation: IsolationLevel | None) -> bool:
    """Whether a reader at ``isolation`` (None: the session default) can run on ``conn``."""
    return isolation is not None or conn not in _SERIALIZABLE_SESSIONS


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

    def _mark(self) -> Mark:
        """The primary's position and when it was read: what a replica's lag is against."""
        at = time.monotonic()
        return Mark(self.position(), at)

    @contextmanager
    def reader(
        self, *, after: str | None = None, isolation: IsolationLevel | None = None
    ) -> Iterator[Conn]:
        """A read-only connection, one transaction: a current replica, else the primary.

        With ``after`` (from :meth:`position`), only a replica that has replayed that
        far within ``wait_s`` is used. The transaction runs at ``isolation`` (None: the
        database's default) and begins only after the router's checks.
        """
        check_position(after)
        # Deliberately the twin of AsyncRouter.reader (plue_db.routing_async), line for line but
        # for await: the decisions are Policy's, only this I/O loop is written twice.
        for replica, probe in self.policy.candidates(isolation):
            if probe and not self._readmit(replica):
                continue
            mark = self._mark() if self.policy.lag_due(replica) else None
            entered = False
            try:
                with replica.pool.connection(self.policy.settings.checkout_s) as conn:
                    if not self._fresh(replica, conn, after, mark, isolation):
                        continue
                    entered = True
                    with _one_transaction(conn, isolation, read_only_after=True):
                        yield conn
                    return
            except (PoolTimeout, psycopg.OperationalError):
                if entered:
                    raise  # the caller's work failed; it is theirs to retry
                self.policy.mark_down(replica)
        with self.primary.connection() as conn:
            conn.read_only = True
            with _one_transaction(conn, isolation, read_only_after=None):
                yield conn

    def run(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        """Call a generated function on a reader if it is read-only, else the primary.
        Its result must be complete when it returns: a stream (``iter_*``) or anything
        else lazy raises plue_db.eager.LazyResultError, since it would run after the connection went
        back to the pool."""
        route = self.reader() if is_read_only(function) else self.connection()
        with route as conn:
            return eager.check(function(conn, **kwargs), run_label(function), READ_INSIDE)

    def close(self) -> None:
        for replica in self.replicas:
            replica.pool.close()
        self.primary.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fresh(
        self,
        replica: Replica[SyncPool],
        conn: Conn,
        after: str | None,
        mark: Mark | None,
        isolation: IsolationLevel | None,
    ) -> bool:
        """Whether this replica may serve the reader. Asked in autocommit, so no
        transaction (and no snapshot) exists yet when the caller gets the connection.

        A replica already known to be too far behind is skipped at once. Otherwise it
        first replays ``after`` (the caller's write), and only then is its lag measured
        when due: measured before the wait, a replica that had replayed no commit since
        it started looked as stale as can be while the caller's write was in flight."""
        if not replica_can_run(conn, isolation):
            return False
        if mark is None and (after is None or self.policy.too_far_behind(replica)):
            return not self.policy.too_far_behind(replica)  # nothing to ask the replica
        with _autocommit(conn):
            if after is not None:
                pauses = self.policy.catch_up_pauses()
                while not replayed(conn.execute(REPLAYED_SQL, [after]).fetchone()):
                    pause = next(pauses, None)
                    if pause is None:
                        return False
                    time.sleep(pause)
            if mark is not None:
                asked_at = time.monotonic()
                self.policy.record_lag(
                    replica, mark, asked_at, conn.execute(LAG_SQL, [mark.lsn]).fetchone()
                )
            return not self.policy.too_far_behind(replica)

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
def _autocommit(conn: Conn) -> Iterator[None]:
    """The router's own checks, outside any transaction; a connection that fails
    meanwhile is closed (its pool discards it) rather than handed on in autocommit."""
    conn.autocommit = True
    try:
        yield
    except BaseException:
        conn.close()
        raise
    conn.autocommit = False


@contextmanager
def _one_transaction(
    conn: Conn, isolation: IsolationLevel | None, *, read_only_after: bool | None
) -> Iterator[None]:
    """The reader's block as one transaction at ``isolation``, committed (rolled back if
    it raised); then the connection goes back to its pool at the default isolation with
    ``read_only_after`` (None: a writer again, for the primary pool)."""
    if isolation is not None:
        conn.isolation_level = isolation
    try:
        yield
        conn.commit()
    finally:
        _reset(conn, read_only_after)


def _reset(conn: Conn, read_only: bool | None) -> None:
    """End what the reader left open and restore the pool's settings; if that is
    impossible (it broke mid-transaction), close it so the pool discards it."""
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        if conn.isolation_level is not None:
            conn.isolation_level = None
        if conn.read_only is not read_only:
            conn.read_only = read_only
    except psycopg.Error:
        conn.close()


def replica_configure(settings: PoolSettings) -> Callable[[Conn], None]:
    """A replica pool's ``configure``: what the primary pool's does (TimeZone by SET
    behind a transaction-mode pooler), note whether the session defaults to SERIALIZABLE,
    then read-only."""
    set_timezone = pooler.configure(settings.timezone) if settings.transaction_pooler else None

    def configure(conn: Conn) -> None:
        if set_timezone is not None:
            set_timezone(conn)
        conn.autocommit = True
        note_default_isolation(conn, conn.execute(DEFAULT_ISOLATION_SQL).fetchone())
        conn.autocommit = False
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
