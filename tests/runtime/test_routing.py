"""Routing against a real primary and two streaming replicas (the wheel's PostgreSQL 16).

Reads land on replicas (pg_is_in_recovery), writes on the primary; read-your-writes
waits a bounded time under 1 s of injected replay lag and then falls back; a lagging
replica is skipped, a stopped one skipped and later readmitted; a write function on a
reader fails before it is sent. Without replicas, readers are primary connections
marked read-only, and the primary pool gets its connections back unmarked. Behind
pgbouncer in transaction mode, replica pools prepare nothing and pin TimeZone as the
primary pool does. run() refuses a stream it would hand back after release; ``after``
is checked as PostgreSQL's pg_lsn reads it. Freshness under faults:
tests/runtime/test_routing_freshness.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
import pytest
from plue_queries import issues, users
from plue_queries.enums import IssueState
from plue_queries.types import ReadOnlyConnectionError
from psycopg_pool import ConnectionPool

from plue_db.eager import LazyResultError
from plue_db.pool import PoolSettings
from plue_db.routing import (
    NoPositionError,
    Policy,
    Replica,
    Router,
    RoutingSettings,
    check_position,
    is_read_only,
    open_router,
    replica_configure,
)
from plue_db.servers import replicas
from tests import factories
from tests.fixtures.fix_db import Conn
from tests.fixtures.fix_replicas import DBNAME, SERVER_TIMEOUTS, SERVER_ZONE

INTRANS = psycopg.pq.TransactionStatus.INTRANS
T = TypeVar("T")


def where(conn: Conn) -> tuple[bool, int]:
    """(pg_is_in_recovery(), the port the server listens on) for this connection."""
    row = conn.execute("SELECT pg_is_in_recovery(), current_setting('port')::int").fetchone()
    assert row is not None
    return bool(row[0]), int(str(row[1]))


def make_router(cluster: replicas.Cluster, **routing: float) -> Router:
    return open_router(
        cluster.primary.url(DBNAME),
        [r.url(DBNAME) for r in cluster.replicas],
        routing=RoutingSettings(**routing),
        min_size=1,
        max_size=4,
    )


@pytest.fixture
def router(cluster: replicas.Cluster) -> Iterator[Router]:
    with make_router(cluster, retry_s=0.3, lag_check_s=0.0) as built:
        yield built


def add_user(router: Router, name: str) -> int:
    with router.connection() as conn:
        return users.create_user(conn, username=name, display_name="", bio="", is_admin=False).id


def test_reads_land_on_replicas_and_writes_on_the_primary(
    router: Router, cluster: replicas.Cluster
) -> None:
    ports = set()
    for _ in range(6):
        with router.reader() as conn:
            in_recovery, port = where(conn)
            assert in_recovery
            ports.add(port)
    assert ports == {r.port for r in cluster.replicas}  # both serve, round-robin
    with router.connection() as conn:
        assert where(conn) == (False, cluster.primary.port)
    add_user(router, "routed")
    assert is_read_only(users.get_user_by_id) and not is_read_only(users.create_user)


def test_read_your_writes_waits_a_bounded_time_then_falls_back(
    router: Router, cluster: replicas.Cluster
) -> None:
    for replica in cluster.replicas:
        replica.set_apply_delay(1000)
    try:
        user_id = add_user(router, "lagged")
        mark = router.position()
        # Negative control: a plain read on a replica does not see the write yet.
        with router.reader() as conn:
            assert where(conn)[0] and users.get_user_by_id(conn, id=user_id) is None
        short = router.with_settings(RoutingSettings(wait_s=0.2))
        started = time.monotonic()
        with short.reader(after=mark) as conn:
            waited = time.monotonic() - started
            assert not where(conn)[0]  # fell back to the primary
            assert users.get_user_by_id(conn, id=user_id) is not None
        assert 0.2 <= waited < 0.2 + 0.5, waited
        patient = router.with_settings(RoutingSettings(wait_s=3.0))
        started = time.monotonic()
        with patient.reader(after=router.position()) as conn:
            waited = time.monotonic() - started
            assert where(conn)[0]  # a replica, once it has replayed the write
            assert users.get_user_by_id(conn, id=user_id) is not None
        assert waited < 3.0, waited
    finally:
        for replica in cluster.replicas:
            replica.set_apply_delay(0)
    with pytest.raises(NoPositionError, match="not a WAL position"), router.reader(after="x"):
        pass


def test_a_lagging_replica_is_skipped(router: Router, cluster: replicas.Cluster) -> None:
    slow, fast = cluster.replicas
    slow.set_apply_delay(5000)
    try:
        add_user(router, "lag-maker")
        time.sleep(1.0)  # the slow replica holds a commit older than max_lag_s
        strict = router.with_settings(RoutingSettings(max_lag_s=0.5, lag_check_s=0.0))
        ports = set()
        for _ in range(6):
            with strict.reader() as conn:
                ports.add(where(conn)[1])
        assert ports == {fast.port}
        # Control: with a lenient bound the slow replica serves again.
        lenient = router.with_settings(RoutingSettings(max_lag_s=60.0, lag_check_s=0.0))
        seen = set()
        for _ in range(6):
            with lenient.reader() as conn:
                seen.add(where(conn)[1])
        assert slow.port in seen
    finally:
        slow.set_apply_delay(0)


def test_a_stopped_replica_is_skipped_and_later_readmitted(
    router: Router, cluster: replicas.Cluster
) -> None:
    dead, alive = cluster.replicas
    dead.stop("immediate")
    try:
        for _ in range(6):
            with router.reader() as conn:
                assert where(conn) == (True, alive.port)
    finally:
        dead.start()
    deadline = time.monotonic() + 15
    seen: set[int] = set()
    while dead.port not in seen and time.monotonic() < deadline:
        with router.reader() as conn:
            seen.add(where(conn)[1])
        time.sleep(0.05)
    assert dead.port in seen


def test_a_write_function_on_a_reader_fails_before_sending(router: Router) -> None:
    with router.reader() as conn:
        assert where(conn)[0]
        with pytest.raises(ReadOnlyConnectionError, match=r"^delete_issue writes"):
            issues.delete_issue(conn, id=1)
        # Nothing reached the server: its transaction is intact, not aborted.
        assert conn.info.transaction_status == INTRANS
        assert issues.get_issue(conn, id=-1) is None
        # Control: the same write as raw SQL reaches the replica, which refuses it.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM issues WHERE id = 1")
        conn.rollback()


def test_without_replicas_readers_are_read_only_primary_connections(database_url: str) -> None:
    with open_router(database_url, [], min_size=1, max_size=1) as router:
        with router.reader() as conn:
            assert conn.read_only is True
            with pytest.raises(ReadOnlyConnectionError):
                users.create_user(conn, username="x", display_name="", bio="", is_admin=False)
        # The one pooled connection went back unmarked: writes work on it.
        with router.connection() as conn:
            assert conn.read_only is None
            user = users.create_user(
                conn, username="after-reader", display_name="", bio="", is_admin=False
            )
            conn.execute("DELETE FROM users WHERE id = %s", [user.id])


def _pooled_reads(router: Router, user_id: int) -> set[str]:
    """Twelve readers, each six calls of one generated read: the pool's two client
    connections take turns on pgbouncer's one server connection, so a client that
    prepares finds the other's ``_pg3_0`` there. Returns the TimeZones seen."""
    zones = set()
    for _ in range(12):
        with router.reader() as conn:
            assert where(conn)[0]
            row = conn.execute("SELECT current_setting('TimeZone')").fetchone()
            zones.add(str(row[0]) if row else "")
            for _ in range(6):
                assert users.get_user_by_id(conn, id=user_id) is not None
    return zones


def test_replica_pools_honour_transaction_pooler(
    cluster: replicas.Cluster, bouncers: tuple[str, str]
) -> None:
    to_primary, to_replica = bouncers
    with open_router(
        to_primary, [to_replica], transaction_pooler=True, timeouts=SERVER_TIMEOUTS,
        min_size=2, max_size=2,
    ) as router:  # fmt: skip
        user_id = add_user(router, "pooled")
        replicas.wait_replayed(cluster.primary.url(), cluster.replicas[0].url())
        assert _pooled_reads(router, user_id) == {"UTC"}
        with router.reader() as conn:
            assert conn.prepare_threshold is None and conn.read_only is True
        # Control: the server's own zone is what a connection gets without the pool's SET.
        with psycopg.connect(to_replica, prepare_threshold=None) as plain:
            assert plain.execute("SHOW TimeZone").fetchone() == (SERVER_ZONE,)
        # Negative control: a replica pool that prepares fails through the same pgbouncer.
        preparing = ConnectionPool(
            to_replica, min_size=2, max_size=2, configure=replica_configure(PoolSettings()),
            kwargs={"prepare_threshold": 5}, name="preparing", open=True,
        )  # fmt: skip
        with preparing:
            preparing.wait()
            naive = Router(router.primary, Policy([Replica(to_replica, preparing)],
                           RoutingSettings()), router._open_replica)  # fmt: skip
            with pytest.raises(psycopg.errors.DuplicatePreparedStatement, match="_pg3_0"):
                _pooled_reads(naive, user_id)


def test_run_refuses_a_stream_that_would_outlive_its_connection(database_url: str) -> None:
    """One pooled connection: a stream handed back by run() would read inside the next
    borrower's transaction. run() refuses it (and anything else lazy) before release."""
    with open_router(database_url, [], min_size=1, max_size=1) as router:
        with router.connection() as conn:
            repo = factories.make_repo(conn)
        listing: dict[str, Any] = {
            "repository_id": repo.id, "state": IssueState.OPEN, "page_size": 50,
        }  # fmt: skip
        with pytest.raises(
            LazyResultError, match=r"^router.run\(iter_list_issues\): the function returned a "
            r"generator.*`with router.reader\(\) as conn:`",
        ):  # fmt: skip
            router.run(issues.iter_list_issues, **listing)
        with pytest.raises(LazyResultError, match="returned a server-side cursor"):
            router.run(lambda conn: conn.cursor("named"))
        # A client-side cursor's rows are in memory: reading them later sends nothing.
        assert router.run(lambda conn: conn.execute("SELECT 1")).fetchall() == [(1,)]
        with router.connection() as conn:  # nothing left open on the one connection
            assert conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
        assert router.run(issues.list_issues, **listing) == []  # eager results pass

        def old_run(function: Callable[..., T], /, **kwargs: Any) -> T:
            """Negative control: run() before the fix, the result returned unchecked."""
            with router.reader() as conn:
                return function(conn, **kwargs)

        stream = old_run(issues.iter_list_issues, **listing)
        with router.connection() as conn:
            uncommitted = factories.make_issue(conn, repo)
            assert [issue.id for issue in stream] == [uncommitted.id]
            conn.rollback()


# Texts PostgreSQL's pg_lsn accepts or refuses; check_position must agree on each.
POSITIONS = [
    "0/0", "0/3000060", "ffffffff/FFFFFFFF", "1/123456789ABCDEF", "123456789/0", "0/",
    "/0", "0/0/0", " 0/0", "0/0 ", "0x1/0", "g/0", "\u0661/0", "", "/",
]  # fmt: skip
BAD_POSITION = "1/123456789ABCDEF"  # 16 hex digits, but 15 after the slash


def old_check_position(after: str) -> bool:
    """Negative control: the check before the fix (16 hex digits in all)."""
    high, _, low = after.partition("/")
    hexdigits = set("0123456789abcdefABCDEF")
    return bool(high and low and set(high + low) <= hexdigits and len(high + low) <= 16)


def accepts(check: Callable[[str], object], text: str) -> bool:
    try:
        check(text)
    except (NoPositionError, psycopg.errors.InvalidTextRepresentation):
        return False
    return True


def test_positions_are_checked_as_postgresql_reads_them(
    database_url: str, cluster: replicas.Cluster
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        server = {
            t: accepts(lambda t: conn.execute("SELECT %s::pg_lsn", [t]), t) for t in POSITIONS
        }
    assert {t: accepts(check_position, t) for t in POSITIONS} == server
    assert server[BAD_POSITION] is False and old_check_position(BAD_POSITION)  # the old gap
    # The same ValueError, naming the argument, with replicas and without.
    with (
        open_router(database_url, [], min_size=1, max_size=1) as bare,
        make_router(cluster) as routed,
    ):
        for router in (bare, routed):
            bad = pytest.raises(ValueError, match=r"^after='1/123456789ABCDEF' is not a WAL")
            with bad, router.reader(after=BAD_POSITION):
                pass
