"""The router's freshness claims against a real replica under the three faults that
break them: a stopped WAL stream, apply delay, and a non-default isolation level.

Claims: a reader sees data at most ``max_lag_s`` old (staleness measured against the
primary, so a replica whose stream stopped ages while an idle primary's current replica
does not); ``reader(after=router.position())`` sees the caller's write under READ
COMMITTED, REPEATABLE READ and SERIALIZABLE. Sync and async routers alike. Each
negative control runs the old rule (its SQL, or its order of statements) and shows it
fail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import psycopg
import pytest
from plue_queries import users
from plue_queries.aio import users as ausers
from psycopg import IsolationLevel, sql

from plue_db.routing import (
    LAG_SQL,
    REPLAYED_SQL,
    Mark,
    Policy,
    Router,
    RoutingSettings,
    open_router,
)
from plue_db.routing_async import AsyncRouter, open_async_router
from plue_db.servers import replicas
from tests.fixtures.fix_db import AConn, Conn
from tests.fixtures.fix_replicas import DBNAME

# The lag query before this fix: receive vs replay positions on the replica alone, so a
# replica that receives nothing reports 0.
OLD_LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8
"""
# A rule by time alone: the age of the last replayed commit (wrong for an idle primary).
COMMIT_AGE_SQL = "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
WHERE_SQL = "SELECT pg_is_in_recovery(), current_setting('transaction_isolation')"
NAME_SQL = "SELECT display_name FROM users WHERE id = %s"
RENAME_SQL = "UPDATE users SET display_name = %s WHERE id = %s"


def one_replica(cluster: replicas.Cluster, **routing: float) -> Router:
    return open_router(
        cluster.primary.url(DBNAME),
        [cluster.replicas[0].url(DBNAME)],
        routing=RoutingSettings(**routing),
        min_size=1,
        max_size=2,
    )


def routed(
    cluster: replicas.Cluster,
    scenario: Callable[[AsyncRouter], Awaitable[None]],
    **routing: float,
) -> None:
    """Run ``scenario`` on a fresh event loop, with an async router over one replica."""

    async def main() -> None:
        async with await open_async_router(
            cluster.primary.url(DBNAME),
            [cluster.replicas[0].url(DBNAME)],
            routing=RoutingSettings(**routing),
            min_size=1,
            max_size=2,
        ) as router:
            await scenario(router)

    asyncio.run(main())


def where(conn: Conn) -> tuple[bool, str]:
    """(pg_is_in_recovery(), the transaction's isolation) for this reader."""
    row = conn.execute(WHERE_SQL).fetchone()
    assert row is not None
    return bool(row[0]), str(row[1])


async def awhere(conn: AConn) -> tuple[bool, str]:
    row = await (await conn.execute(WHERE_SQL)).fetchone()
    assert row is not None
    return bool(row[0]), str(row[1])


def display_name(conn: Conn, user_id: int) -> str:
    """The user's display name read through the generated function (on a reader)."""
    found = users.get_user_by_id(conn, id=user_id)
    assert found is not None
    return found.display_name


def name_on(url: str, user_id: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(NAME_SQL, [user_id]).fetchone()
    assert row is not None
    return str(row[0])


def new_user(cluster: replicas.Cluster, name: str, display: str = "old") -> int:
    """A user on the primary, replayed on every replica before this returns."""
    with psycopg.connect(cluster.primary.url(DBNAME), autocommit=True) as conn:
        made = users.create_user(conn, username=name, display_name=display, bio="", is_admin=False)
    for replica in cluster.replicas:
        replicas.wait_replayed(cluster.primary.url(), replica.url())
    return made.id


def rename(cluster: replicas.Cluster, user_id: int, name: str) -> None:
    with psycopg.connect(cluster.primary.url(DBNAME), autocommit=True) as conn:
        conn.execute(RENAME_SQL, [name, user_id])


@contextmanager
def stream_stopped(cluster: replicas.Cluster) -> Iterator[replicas.Node]:
    """The first replica's walreceiver SIGSTOPped for the block, then resumed and caught up."""
    replica = cluster.replicas[0]
    pid = replica.pause_walreceiver()
    try:
        yield replica
    finally:
        replica.resume_walreceiver(pid)
        replicas.wait_replayed(cluster.primary.url(), replica.url(), timeout=30)


def assert_old_rule_fooled(replica: replicas.Node, user_id: int) -> None:
    """Negative control: the old lag query calls the stopped replica current, and the
    replica still holds the old row a reader would have got."""
    with psycopg.connect(replica.url(DBNAME), autocommit=True) as direct:
        assert direct.execute(OLD_LAG_SQL).fetchone() == (0.0,)
    assert name_on(replica.url(DBNAME), user_id) == "old"


def test_a_replica_whose_stream_stopped_goes_stale(cluster: replicas.Cluster) -> None:
    user_id = new_user(cluster, "stream-stops")
    with one_replica(cluster, max_lag_s=0.5, lag_check_s=0) as router:
        with router.reader() as conn:
            assert where(conn)[0]  # current: the replica serves
        with stream_stopped(cluster) as replica:
            rename(cluster, user_id, "new")
            time.sleep(2)
            with router.reader() as conn:
                assert not where(conn)[0]  # the primary
                assert display_name(conn, user_id) == "new"
            assert_old_rule_fooled(replica, user_id)
        with router.reader() as conn:
            assert where(conn)[0]  # caught up again: served again


def test_async_a_replica_whose_stream_stopped_goes_stale(cluster: replicas.Cluster) -> None:
    user_id = new_user(cluster, "async-stream-stops")

    async def scenario(router: AsyncRouter) -> None:
        async with router.reader() as conn:
            assert (await awhere(conn))[0]
        with stream_stopped(cluster) as replica:
            rename(cluster, user_id, "new")
            await asyncio.sleep(2)
            async with router.reader() as conn:
                assert not (await awhere(conn))[0]
                found = await ausers.get_user_by_id(conn, id=user_id)
                assert found is not None and found.display_name == "new"
            assert_old_rule_fooled(replica, user_id)
        async with router.reader() as conn:
            assert (await awhere(conn))[0]

    routed(cluster, scenario, max_lag_s=0.5, lag_check_s=0)


def assert_commit_age_says_stale(replica: replicas.Node) -> None:
    """Negative control: judged by the age of its last commit alone, it would be stale."""
    with psycopg.connect(replica.url(DBNAME), autocommit=True) as direct:
        row = direct.execute(COMMIT_AGE_SQL).fetchone()
    assert row is not None and row[0] > 0.5


def test_an_idle_primary_keeps_a_current_replica_fresh(cluster: replicas.Cluster) -> None:
    new_user(cluster, "idle-primary")
    time.sleep(1.0)  # nothing commits: the replica's last commit is older than max_lag_s
    with one_replica(cluster, max_lag_s=0.5, lag_check_s=0) as router:
        for _ in range(5):
            with router.reader() as conn:
                assert where(conn)[0]
    assert_commit_age_says_stale(cluster.replicas[0])


def test_async_an_idle_primary_keeps_a_current_replica_fresh(cluster: replicas.Cluster) -> None:
    async def scenario(router: AsyncRouter) -> None:
        for _ in range(5):
            async with router.reader() as conn:
                assert (await awhere(conn))[0]

    new_user(cluster, "async-idle-primary")
    time.sleep(1.0)
    routed(cluster, scenario, max_lag_s=0.5, lag_check_s=0)
    assert_commit_age_says_stale(cluster.replicas[0])


CLAIMED_S = 0.5  # the max_lag_s under test


class Reads(NamedTuple):
    total: int
    on_replica: int
    too_old: int  # reads older than CLAIMED_S: the claim broken


def _claim_holds(router: Router, cluster: replicas.Cluster, seconds: float) -> Reads:
    """Write a counter every ~50 ms for ``seconds``, reading it back through readers;
    every read must be at least what the primary had CLAIMED_S before the reader began.
    Prints the counts (pytest -s)."""
    user_id = new_user(cluster, f"claim-{time.monotonic_ns()}", "0")
    written: list[tuple[float, int]] = []  # (monotonic time once committed, counter)
    total = on_replica = too_old = 0
    with psycopg.connect(cluster.primary.url(DBNAME), autocommit=True) as writer:
        deadline = time.monotonic() + seconds
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            writer.execute(RENAME_SQL, [str(counter), user_id])
            written.append((time.monotonic(), counter))
            began = time.monotonic()
            with router.reader() as conn:
                in_recovery = where(conn)[0]
                seen = int(str((conn.execute(NAME_SQL, [user_id]).fetchone() or ["0"])[0]))
            owed = max((n for at, n in written if at <= began - CLAIMED_S), default=0)
            total += 1
            on_replica += in_recovery
            too_old += seen < owed
            time.sleep(0.05)
    reads = Reads(total, on_replica, too_old)
    print(f"\nmax_lag_s={router.policy.settings.max_lag_s:g}: {reads}")
    return reads


@pytest.mark.parametrize("delay_ms", [200, 1000])
def test_readers_are_at_most_max_lag_s_behind_under_apply_delay(
    cluster: replicas.Cluster, delay_ms: int
) -> None:
    """With lag_check_s (1 s) longer than max_lag_s (0.5 s): the bound holds between
    measurements too. 200 ms of delay: the replica serves; 1000 ms: it never may."""
    replica = cluster.replicas[0]
    replica.set_apply_delay(delay_ms)
    try:
        with one_replica(cluster, max_lag_s=CLAIMED_S, lag_check_s=1.0) as router:
            reads = _claim_holds(router, cluster, 3.0)
            assert reads.too_old == 0
            assert (reads.on_replica > 0) == (delay_ms < 500), reads
            if delay_ms > 500:
                # Negative control: a router that ignores lag serves reads older than 0.5 s.
                lax = router.with_settings(RoutingSettings(max_lag_s=3600))
                assert _claim_holds(lax, cluster, 2.0).too_old > 0
    finally:
        replica.set_apply_delay(0)
        replicas.wait_replayed(cluster.primary.url(), replica.url(), timeout=30)


@contextmanager
def default_isolation(cluster: replicas.Cluster, level: str, delay_ms: int) -> Iterator[None]:
    """Database ``plue`` defaults to ``level`` (replayed on the replicas) and the first
    replica applies WAL ``delay_ms`` late, for the block."""
    alter = sql.SQL("ALTER DATABASE {} SET default_transaction_isolation = {}")
    reset = sql.SQL("ALTER DATABASE {} RESET default_transaction_isolation")
    with psycopg.connect(cluster.primary.url(), autocommit=True) as admin:
        admin.execute(alter.format(sql.Identifier(DBNAME), sql.Literal(level)))
    replicas.wait_replayed(cluster.primary.url(), cluster.replicas[0].url())
    cluster.replicas[0].set_apply_delay(delay_ms)
    try:
        yield
    finally:
        cluster.replicas[0].set_apply_delay(0)
        with psycopg.connect(cluster.primary.url(), autocommit=True) as admin:
            admin.execute(reset.format(sql.Identifier(DBNAME)))
        for node in cluster.replicas:
            replicas.wait_replayed(cluster.primary.url(), node.url(), timeout=30)


def old_order_read(replica_url: str, after: str, user_id: int) -> str:
    """Negative control: the old reader's order, the freshness wait inside the caller's
    transaction (the replica's default isolation), then the read."""
    with psycopg.connect(replica_url) as conn:
        conn.read_only = True
        while not (conn.execute(REPLAYED_SQL, [after]).fetchone() or [False])[0]:
            time.sleep(0.01)
        return str((conn.execute(NAME_SQL, [user_id]).fetchone() or [""])[0])


LEVELS = ["read committed", "repeatable read", "serializable"]


@pytest.mark.parametrize("level", LEVELS)
def test_read_your_writes_under_every_isolation_level(
    cluster: replicas.Cluster, level: str
) -> None:
    user_id = new_user(cluster, f"ryw-{level.replace(' ', '-')}")
    with default_isolation(cluster, level, 700):
        with one_replica(cluster, wait_s=3.0) as router:
            with router.connection() as conn:
                conn.execute(RENAME_SQL, ["new", user_id])
            after = router.position()
            with router.reader(after=after) as conn:
                in_recovery, isolation = where(conn)
                assert isolation == level
                # A hot standby runs no SERIALIZABLE transaction: that reader is the primary's.
                assert in_recovery == (level != "serializable")
                assert display_name(conn, user_id) == "new"
            replica_url = cluster.replicas[0].url(DBNAME)
            rename(cluster, user_id, "newer")
            after = router.position()
        if level == "repeatable read":  # the old order's snapshot predates the replay
            assert old_order_read(replica_url, after, user_id) == "new"
        elif level == "serializable":  # the old router would hand out a failing reader
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="hot standby"):
                old_order_read(replica_url, after, user_id)
        else:
            assert old_order_read(replica_url, after, user_id) == "newer"


@pytest.mark.parametrize("level", LEVELS)
def test_async_read_your_writes_under_every_isolation_level(
    cluster: replicas.Cluster, level: str
) -> None:
    user_id = new_user(cluster, f"async-ryw-{level.replace(' ', '-')}")

    async def scenario(router: AsyncRouter) -> None:
        async with router.connection() as conn:
            await conn.execute(RENAME_SQL, ["new", user_id])
        after = await router.position()
        async with router.reader(after=after) as conn:
            assert await awhere(conn) == (level != "serializable", level)
            found = await ausers.get_user_by_id(conn, id=user_id)
            assert found is not None and found.display_name == "new"

    with default_isolation(cluster, level, 700):
        routed(cluster, scenario, wait_s=3.0)


def test_reader_isolation_is_asked_per_block(cluster: replicas.Cluster) -> None:
    """``isolation=`` holds for one block; the pooled connection goes back at the
    default. SERIALIZABLE is the primary's (a hot standby refuses it)."""
    new_user(cluster, "isolation-asked")
    with one_replica(cluster) as router:
        with router.reader(isolation=IsolationLevel.REPEATABLE_READ) as conn:
            assert where(conn) == (True, "repeatable read")
        with router.reader() as conn:
            assert where(conn) == (True, "read committed")
        with router.reader(isolation=IsolationLevel.SERIALIZABLE) as conn:
            assert where(conn) == (False, "serializable")
            assert conn.read_only is True
        with router.connection() as conn:  # the primary's connection is a writer again
            assert conn.read_only is None and conn.isolation_level is None

    async def scenario(router: AsyncRouter) -> None:
        async with router.reader(isolation=IsolationLevel.REPEATABLE_READ) as conn:
            assert await awhere(conn) == (True, "repeatable read")
        async with router.reader() as conn:
            assert await awhere(conn) == (True, "read committed")
        async with router.reader(isolation=IsolationLevel.SERIALIZABLE) as conn:
            assert await awhere(conn) == (False, "serializable")

    routed(cluster, scenario)


def test_a_write_in_flight_is_waited_for_before_lag_is_measured(
    cluster: replicas.Cluster,
) -> None:
    """After an idle spell the replica's last replayed commit is old, and the caller's
    own write is still in flight (apply delay): measured then, the replica would look
    stale and the reader fall back. reader(after=...) waits for the write first, then
    measures, and reads on the replica. Control: the old order (lag measured before the
    wait, Policy's own rule) calls the same replica too far behind."""
    user_id = new_user(cluster, "in-flight")
    replica = cluster.replicas[0]
    replica.set_apply_delay(300)
    try:
        with one_replica(cluster, max_lag_s=0.5, wait_s=3.0) as router:
            time.sleep(1.0)  # idle: the last replayed commit is older than max_lag_s
            with router.connection() as conn:
                conn.execute(RENAME_SQL, ["new", user_id])
            after = router.position()
            mark = Mark(after, time.monotonic())
            with psycopg.connect(replica.url(DBNAME), autocommit=True) as direct:
                row = direct.execute(LAG_SQL, [mark.lsn]).fetchone()
            measured = dataclasses.replace(router.replicas[0])  # the router's stays untouched
            old = Policy([measured], RoutingSettings(max_lag_s=0.5))
            old.record_lag(measured, mark, time.monotonic(), row)
            assert old.too_far_behind(measured)  # the old order's verdict: fall back
            with router.reader(after=after) as conn:
                assert where(conn)[0], "served by the primary"
                assert display_name(conn, user_id) == "new"
    finally:
        replica.set_apply_delay(0)
        replicas.wait_replayed(cluster.primary.url(), replica.url(), timeout=30)
