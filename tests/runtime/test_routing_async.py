"""The asyncio router against a real primary and two streaming replicas (PostgreSQL 16).

The same behaviour as tests/runtime/test_routing.py, through AsyncConnectionPool: reads land
on replicas, writes on the primary; read-your-writes under 1 s of injected lag waits a
bounded time and falls back; a lagging replica is skipped, a stopped one skipped and
readmitted; a write function on a reader fails before it is sent; without replicas,
readers are primary connections marked read-only and returned unmarked; behind
pgbouncer in transaction mode, replica pools prepare nothing and pin TimeZone; run()
refuses an async stream; a bad ``after`` fails alike with replicas and without.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import pytest
from plue_queries import models
from plue_queries.aio import issues, users
from plue_queries.enums import IssueState
from plue_queries.types import ReadOnlyConnectionError

from plue_db.eager import LazyResultError
from plue_db.routing import NoPositionError, RoutingSettings
from plue_db.routing_async import AsyncRouter, open_async_router
from plue_db.servers import replicas
from tests import factories
from tests.fixtures.fix_db import AConn
from tests.fixtures.fix_replicas import DBNAME, SERVER_TIMEOUTS, SERVER_ZONE

INTRANS = psycopg.pq.TransactionStatus.INTRANS


async def where(conn: AConn) -> tuple[bool, int]:
    """(pg_is_in_recovery(), the port the server listens on) for this connection."""
    cur = await conn.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
    row = await cur.fetchone()
    assert row is not None
    return bool(row[0]), int(row[1])


def routed(cluster: replicas.Cluster, scenario: Callable[[AsyncRouter], Awaitable[None]]) -> None:
    """Run ``scenario`` on a fresh event loop with a router over the cluster."""

    async def main() -> None:
        async with await open_async_router(
            cluster.primary.url(DBNAME),
            [r.url(DBNAME) for r in cluster.replicas],
            routing=RoutingSettings(retry_s=0.3, lag_check_s=0.0),
            min_size=1,
            max_size=4,
        ) as router:
            await scenario(router)

    asyncio.run(main())


async def add_user(router: AsyncRouter, name: str) -> int:
    async with router.connection() as conn:
        user = await users.create_user(conn, username=name, display_name="", bio="", is_admin=False)
        return user.id


async def ports_of_readers(router: AsyncRouter, times: int = 6) -> set[int]:
    ports = set()
    for _ in range(times):
        async with router.reader() as conn:
            in_recovery, port = await where(conn)
            assert in_recovery
            ports.add(port)
    return ports


def test_reads_land_on_replicas_and_writes_on_the_primary(cluster: replicas.Cluster) -> None:
    async def scenario(router: AsyncRouter) -> None:
        assert await ports_of_readers(router) == {r.port for r in cluster.replicas}
        async with router.connection() as conn:
            assert await where(conn) == (False, cluster.primary.port)
        user_id = await add_user(router, "async-routed")
        # run() sends a read-only function to a replica and a write to the primary.
        replicas.wait_replayed(cluster.primary.url(), cluster.replicas[0].url())
        replicas.wait_replayed(cluster.primary.url(), cluster.replicas[1].url())
        found = await router.run(users.get_user_by_id, id=user_id)
        assert found is not None and found.username == "async-routed"
        made = await router.run(
            users.create_user, username="async-run", display_name="", bio="", is_admin=False
        )
        assert made.username == "async-run"

    routed(cluster, scenario)


def test_read_your_writes_waits_a_bounded_time_then_falls_back(
    cluster: replicas.Cluster,
) -> None:
    async def scenario(router: AsyncRouter) -> None:
        user_id = await add_user(router, "async-lagged")
        mark = await router.position()
        # Negative control: a plain read on a replica does not see the write yet.
        async with router.reader() as conn:
            assert (await where(conn))[0]
            assert await users.get_user_by_id(conn, id=user_id) is None
        short = router.with_settings(RoutingSettings(wait_s=0.2))
        started = time.monotonic()
        async with short.reader(after=mark) as conn:
            waited = time.monotonic() - started
            assert not (await where(conn))[0]  # fell back to the primary
            assert await users.get_user_by_id(conn, id=user_id) is not None
        assert 0.2 <= waited < 0.2 + 0.5, waited
        patient = router.with_settings(RoutingSettings(wait_s=3.0))
        started = time.monotonic()
        async with patient.reader(after=await router.position()) as conn:
            waited = time.monotonic() - started
            assert (await where(conn))[0]  # a replica, once it has replayed the write
            assert await users.get_user_by_id(conn, id=user_id) is not None
        assert waited < 3.0, waited
        with pytest.raises(NoPositionError, match="not a WAL position"):
            async with router.reader(after="x"):
                pass

    for replica in cluster.replicas:
        replica.set_apply_delay(1000)
    try:
        routed(cluster, scenario)
    finally:
        for replica in cluster.replicas:
            replica.set_apply_delay(0)


def test_a_lagging_replica_is_skipped(cluster: replicas.Cluster) -> None:
    slow, fast = cluster.replicas

    async def scenario(router: AsyncRouter) -> None:
        await add_user(router, "async-lag-maker")
        await asyncio.sleep(1.0)  # the slow replica holds a commit older than max_lag_s
        strict = router.with_settings(RoutingSettings(max_lag_s=0.5, lag_check_s=0.0))
        assert await ports_of_readers(strict) == {fast.port}
        # Control: with a lenient bound the slow replica serves again.
        lenient = router.with_settings(RoutingSettings(max_lag_s=60.0, lag_check_s=0.0))
        assert slow.port in await ports_of_readers(lenient)

    slow.set_apply_delay(5000)
    try:
        routed(cluster, scenario)
    finally:
        slow.set_apply_delay(0)


def test_a_stopped_replica_is_skipped_and_later_readmitted(cluster: replicas.Cluster) -> None:
    dead, alive = cluster.replicas

    async def scenario(router: AsyncRouter) -> None:
        assert await ports_of_readers(router) == {dead.port, alive.port}
        dead.stop("immediate")
        try:
            assert await ports_of_readers(router) == {alive.port}
            assert router.replicas[0].down_until > 0  # marked down, not just unlucky
        finally:
            dead.start()
        deadline = time.monotonic() + 15
        seen: set[int] = set()
        while dead.port not in seen and time.monotonic() < deadline:
            seen |= await ports_of_readers(router, 1)
            await asyncio.sleep(0.05)
        assert dead.port in seen

    routed(cluster, scenario)


def test_a_write_function_on_a_reader_fails_before_sending(cluster: replicas.Cluster) -> None:
    async def scenario(router: AsyncRouter) -> None:
        async with router.reader() as conn:
            assert (await where(conn))[0]
            with pytest.raises(ReadOnlyConnectionError, match=r"^delete_issue writes"):
                await issues.delete_issue(conn, id=1)
            # Nothing reached the server: its transaction is intact, not aborted.
            assert conn.info.transaction_status == INTRANS
            assert await issues.get_issue(conn, id=-1) is None
            # Control: the same write as raw SQL reaches the replica, which refuses it.
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                await conn.execute("DELETE FROM issues WHERE id = 1")
            await conn.rollback()

    routed(cluster, scenario)


def test_without_replicas_readers_are_read_only_primary_connections(database_url: str) -> None:
    async def main() -> None:
        async with await open_async_router(database_url, [], min_size=1, max_size=1) as router:
            async with router.reader() as conn:
                assert conn.read_only is True
                with pytest.raises(ReadOnlyConnectionError):
                    await users.create_user(
                        conn, username="x", display_name="", bio="", is_admin=False
                    )
            # The one pooled connection went back unmarked: writes work on it.
            async with router.connection() as conn:
                assert conn.read_only is None
                user = await users.create_user(
                    conn, username="async-after-reader", display_name="", bio="", is_admin=False
                )
                await conn.execute("DELETE FROM users WHERE id = %s", [user.id])

    asyncio.run(main())


def test_replica_pools_honour_transaction_pooler(
    cluster: replicas.Cluster, bouncers: tuple[str, str]
) -> None:
    """Two client connections take turns on pgbouncer's one server connection to the
    replica, six calls each: nothing is prepared, and TimeZone is pinned to UTC (the
    database's own is SERVER_ZONE, as the sync test's control shows)."""
    to_primary, to_replica = bouncers

    async def main() -> None:
        async with await open_async_router(
            to_primary, [to_replica], transaction_pooler=True, timeouts=SERVER_TIMEOUTS,
            min_size=2, max_size=2,
        ) as router:  # fmt: skip
            user_id = await add_user(router, "async-pooled")
            replicas.wait_replayed(cluster.primary.url(), cluster.replicas[0].url())
            zones = set()
            for _ in range(12):
                async with router.reader() as conn:
                    assert (await where(conn))[0]
                    assert conn.prepare_threshold is None and conn.read_only is True
                    cur = await conn.execute("SELECT current_setting('TimeZone')")
                    zones.add(str((await cur.fetchone() or [""])[0]))
                    for _ in range(6):
                        assert await users.get_user_by_id(conn, id=user_id) is not None
            assert zones == {"UTC"} != {SERVER_ZONE}

    asyncio.run(main())


def test_run_refuses_a_stream_that_would_outlive_its_connection(database_url: str) -> None:
    """AsyncRouter.run refuses an async stream, called directly or returned by a
    coroutine; the control (the old run) leaks it into the next borrower."""
    with psycopg.connect(database_url) as setup:
        repo = factories.make_repo(setup)
        setup.commit()
    listing: dict[str, Any] = {"repository_id": repo.id, "state": IssueState.OPEN, "page_size": 50}

    async def stream_of(conn: AConn, **kwargs: Any) -> AsyncIterator[models.Issue]:
        return issues.iter_list_issues(conn, **kwargs)

    async def main() -> None:
        async with await open_async_router(database_url, [], min_size=1, max_size=1) as router:
            with pytest.raises(
                LazyResultError,
                match=r"^router.run\(iter_list_issues\): the function returned an async gen",
            ):
                # mypy refuses this call too; run() refuses it for untyped callers
                await router.run(issues.iter_list_issues, **listing)  # type: ignore[arg-type]
            with pytest.raises(
                LazyResultError, match=r"\(stream_of\): the function returned an async gen"
            ):
                await router.run(stream_of, **listing)
            assert await router.run(issues.list_issues, **listing) == []

            async def old_run(function: Callable[..., Awaitable[Any]], /, **kwargs: Any) -> Any:
                """Negative control: run() before the fix, the result returned unchecked."""
                async with router.reader() as conn:
                    return await function(conn, **kwargs)

            stream = await old_run(stream_of, **listing)
            async with router.connection() as conn:
                uncommitted = await issues.create_issue(
                    conn, repository_id=repo.id, title="uncommitted", body="",
                    author_id=None, milestone_id=None, due_date=None,
                )  # fmt: skip
                assert [issue.id async for issue in stream] == [uncommitted.id]
                await conn.rollback()

    asyncio.run(main())


def test_bad_positions_fail_alike_with_replicas_and_without(
    cluster: replicas.Cluster, database_url: str
) -> None:
    async def main() -> None:
        urls = [r.url(DBNAME) for r in cluster.replicas]
        async with (
            await open_async_router(database_url, [], min_size=1, max_size=1) as bare,
            await open_async_router(cluster.primary.url(DBNAME), urls, min_size=1) as routed,
        ):
            for router in (bare, routed):
                with pytest.raises(ValueError, match=r"^after='1/123456789ABCDEF' is not a WAL"):
                    async with router.reader(after="1/123456789ABCDEF"):
                        pass

    asyncio.run(main())
