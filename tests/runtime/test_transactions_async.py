"""run_in_transaction_async against a real deadlock, a real serialization failure and a
lost connection: the sync tests' scenarios, on two async connections of one pool that
meet at an asyncio.Barrier so the two transactions really overlap. Each race also runs
without retries (or at READ COMMITTED) to prove it produces what it claims to survive.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import pytest
from plue_queries import enums, models
from plue_queries.aio import issues as aio_issues
from psycopg import IsolationLevel, errors, pq

from plue_db.eager import LazyResultError
from plue_db.pool import open_async_pool
from plue_db.transactions import CommitOutcomeUnknown, RolledBackError, run_in_transaction_async
from tests import factories
from tests.fixtures.fix_db import AConn
from tests.runtime.test_lost_connections import (
    _cut_off_waiting_commits,
    _notes,
    ledger_url,
    stalled_primary,
)
from tests.runtime.test_transactions import balances, on_call, race_url

__all__ = ["ledger_url", "race_url", "stalled_primary"]  # fixtures shared with the sync tests

AsyncWork = Callable[[AConn], Awaitable[int]]
T = TypeVar("T")


def race(
    url: str, works: Callable[[asyncio.Barrier], tuple[AsyncWork, AsyncWork]], **options: Any
) -> list[int]:
    """Run two units of work at once on one event loop, each through
    run_in_transaction_async on its own pooled connection."""

    async def scenario() -> list[int]:
        barrier = asyncio.Barrier(2)
        async with await open_async_pool(url, min_size=2, max_size=4) as pool:
            return list(
                await asyncio.gather(
                    *(run_in_transaction_async(pool, w, **options) for w in works(barrier))
                )
            )

    return asyncio.run(scenario())


async def meet(barrier: asyncio.Barrier, attempts: list[int]) -> None:
    """Only the first two attempts meet; a retry runs alone."""
    if len(attempts) <= 2:
        async with asyncio.timeout(10):
            await barrier.wait()


def transfers(attempts: list[int]) -> Callable[[asyncio.Barrier], tuple[AsyncWork, AsyncWork]]:
    """1 -> 2 and 2 -> 1, each locking its source first: a deadlock once both wait."""

    def pair(barrier: asyncio.Barrier) -> tuple[AsyncWork, AsyncWork]:
        def transfer(src: int, dst: int) -> AsyncWork:
            async def work(conn: AConn) -> int:
                attempts.append(src)
                await conn.execute(
                    "UPDATE account SET balance = balance - 10 WHERE id = %s", (src,)
                )
                await meet(barrier, attempts)
                await conn.execute(
                    "UPDATE account SET balance = balance + 10 WHERE id = %s", (dst,)
                )
                return src

            return work

        return transfer(1, 2), transfer(2, 1)

    return pair


def test_deadlock_is_retried_and_both_transfers_apply(race_url: str) -> None:
    attempts: list[int] = []
    assert race(race_url, transfers(attempts)) == [1, 2]
    assert len(attempts) == 3  # exactly one transaction was chosen as the deadlock victim
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_deadlock_without_retry_raises(race_url: str) -> None:
    attempts: list[int] = []
    with pytest.raises(errors.DeadlockDetected) as info:
        race(race_url, transfers(attempts), retries=0)
    assert "gave up after 1 attempts" in (info.value.__notes__ or [])
    assert sum(b for _, b in balances(race_url)) == 200


def doctors(attempts: list[int]) -> Callable[[asyncio.Barrier], tuple[AsyncWork, AsyncWork]]:
    """Each doctor leaves the rota if someone else is still on call: the write skew."""

    def pair(barrier: asyncio.Barrier) -> tuple[AsyncWork, AsyncWork]:
        def go_off_call(doctor: int) -> AsyncWork:
            async def work(conn: AConn) -> int:
                attempts.append(doctor)
                cur = await conn.execute("SELECT count(*) FROM doctor WHERE on_call")
                row = await cur.fetchone()
                assert row is not None
                await meet(barrier, attempts)
                if row[0] < 2:
                    return 0
                await conn.execute("UPDATE doctor SET on_call = false WHERE id = %s", (doctor,))
                return 1

            return work

        return go_off_call(1), go_off_call(2)

    return pair


def test_serialization_failure_is_retried_and_one_doctor_stays(race_url: str) -> None:
    attempts: list[int] = []
    results = race(race_url, doctors(attempts), isolation=IsolationLevel.SERIALIZABLE)
    assert sorted(results) == [0, 1]  # one left the rota; the retried one saw it and stayed
    assert len(attempts) == 3
    assert len(on_call(race_url)) == 1


def test_serializable_without_retry_raises(race_url: str) -> None:
    with pytest.raises(errors.SerializationFailure) as info:
        race(race_url, doctors([]), isolation=IsolationLevel.SERIALIZABLE, retries=0)
    assert "gave up after 1 attempts" in (info.value.__notes__ or [])
    assert len(on_call(race_url)) == 1


def test_read_committed_lets_the_write_skew_through(race_url: str) -> None:
    """Negative control: without SERIALIZABLE both leave, so the test can see the race."""
    assert race(race_url, doctors([])) == [1, 1]
    assert on_call(race_url) == []


def test_other_errors_propagate_at_once_and_roll_back(race_url: str) -> None:
    calls: list[int] = []

    async def duplicate(conn: AConn) -> int:
        calls.append(1)
        await conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
        await conn.execute("INSERT INTO account VALUES (2, 5)")
        return 0

    async def scenario() -> None:
        async with await open_async_pool(race_url) as pool:
            await run_in_transaction_async(pool, duplicate, retries=5)

    with pytest.raises(errors.UniqueViolation, match="account_pkey"):
        asyncio.run(scenario())
    assert calls == [1]
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_plain_connection_runs_at_the_isolation_asked_and_commits_once(race_url: str) -> None:
    async def work(conn: AConn) -> tuple[str, int]:
        cur = await conn.execute("SHOW transaction_isolation")
        level = await cur.fetchone()
        moved = await conn.execute("UPDATE account SET balance = balance + 1")
        assert level is not None
        return str(level[0]), moved.rowcount

    async def scenario() -> tuple[str, int]:
        async with await psycopg.AsyncConnection.connect(race_url) as conn:
            return await run_in_transaction_async(
                conn, work, isolation=IsolationLevel.REPEATABLE_READ
            )

    assert asyncio.run(scenario()) == ("repeatable read", 2)
    assert balances(race_url) == [(1, 101), (2, 101)]


@pytest.mark.parametrize("autocommit", [False, True], ids=["in-a-transaction", "autocommit"])
def test_a_connection_that_cannot_own_the_transaction_is_refused(
    race_url: str, autocommit: bool
) -> None:
    async def scenario() -> None:
        async with await psycopg.AsyncConnection.connect(race_url, autocommit=autocommit) as conn:
            await conn.execute("SELECT 1")
            await run_in_transaction_async(conn, lambda c: asyncio.sleep(0, 1))

    with pytest.raises(ValueError, match="non-autocommit connection with no transaction open"):
        asyncio.run(scenario())


def write_then_die_once(note: str, calls: list[int]) -> AsyncWork:
    """Insert ``note``; on the first call the backend then terminates itself."""

    async def work(conn: AConn) -> int:
        calls.append(conn.info.backend_pid)
        await conn.execute("INSERT INTO ledger (note) VALUES (%s)", (note,))
        if len(calls) == 1:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return len(calls)

    return work


def test_lost_before_commit_is_retried_on_another_connection(ledger_url: str) -> None:
    calls: list[int] = []

    async def scenario() -> int:
        async with await open_async_pool(ledger_url, max_size=2) as pool:
            return await run_in_transaction_async(
                pool, write_then_die_once("before", calls), backoff_s=0.01
            )

    assert asyncio.run(scenario()) == 2
    assert calls[0] != calls[1]  # a second backend ran it
    assert _notes(ledger_url, "before") == 1  # the first attempt left nothing


def test_lost_before_commit_on_a_plain_connection_is_not_retried(ledger_url: str) -> None:
    calls: list[int] = []

    async def scenario() -> int:
        async with await psycopg.AsyncConnection.connect(ledger_url) as conn:
            return await run_in_transaction_async(conn, write_then_die_once("plain", calls))

    with pytest.raises(psycopg.OperationalError) as caught:
        asyncio.run(scenario())
    assert not isinstance(caught.value, CommitOutcomeUnknown)
    assert "connection lost before COMMIT; gave up after 1 attempts" in caught.value.__notes__
    assert len(calls) == 1
    assert _notes(ledger_url, "plain") == 0


def test_lost_during_commit_is_reported_never_rerun(stalled_primary: str) -> None:
    """The COMMIT waits for a standby that never comes and its backend is cut off: the
    commit was durable locally, so running the work again would write it twice (the sync
    test's naive-retry control shows that it does)."""
    calls: list[int] = []

    async def write(conn: AConn) -> int:
        calls.append(conn.info.backend_pid)
        await conn.execute("INSERT INTO ledger (note) VALUES ('commit-async')")
        return 1

    async def scenario() -> int:
        async with await open_async_pool(stalled_primary, max_size=2) as pool:
            return await run_in_transaction_async(pool, write)

    stop = threading.Event()
    killer = threading.Thread(target=_cut_off_waiting_commits, args=(stalled_primary, stop))
    killer.start()
    try:
        with pytest.raises(CommitOutcomeUnknown, match="lost while COMMIT was in flight"):
            asyncio.run(scenario())
    finally:
        stop.set()
        killer.join()
    assert len(calls) == 1
    assert _notes(stalled_primary, "commit-async") == 1


async def old_attempt(conn: AConn, fn: Callable[[AConn], Awaitable[T]]) -> T:
    """run_in_transaction_async's attempt before issue 17: fn's outcome as it comes."""
    async with conn.transaction():
        result = await fn(conn)
    return result


async def zero_then_roll_back(conn: AConn) -> int:
    await conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
    raise psycopg.Rollback()


@pytest.mark.parametrize("source", ["pool", "plain connection"])
def test_rollback_raised_by_fn_rolls_back_and_raises(race_url: str, source: str) -> None:
    async def scenario() -> tuple[object, pq.TransactionStatus]:
        async with (
            await psycopg.AsyncConnection.connect(race_url) as plain,
            await open_async_pool(race_url) as pool,
        ):
            try:
                await run_in_transaction_async(
                    plain if source == "plain connection" else pool, zero_then_roll_back
                )
            except RolledBackError as exc:
                return exc.__cause__, plain.info.transaction_status
        raise AssertionError("no RolledBackError")

    cause, status = asyncio.run(scenario())
    assert isinstance(cause, psycopg.Rollback)
    assert status == pq.TransactionStatus.IDLE
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_rollback_raised_by_fn_left_the_old_attempt_without_a_result(race_url: str) -> None:
    """NEGATIVE CONTROL: psycopg's transaction block swallows the Rollback."""

    async def scenario() -> int:
        async with await psycopg.AsyncConnection.connect(race_url) as conn:
            return await old_attempt(conn, zero_then_roll_back)

    with pytest.raises(UnboundLocalError):
        asyncio.run(scenario())
    assert balances(race_url) == [(1, 100), (2, 100)]


async def _rows(conn: AConn) -> AsyncIterator[int]:
    yield 1


async def _zero_then(conn: AConn, result: Callable[[AConn], object]) -> object:
    await conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
    return result(conn)


LAZY: dict[str, tuple[Callable[[AConn], object], str]] = {
    "async generator": (_rows, "an async generator"),
    "server cursor": (lambda c: c.cursor("named"), "a server-side cursor"),
    "coroutine": (lambda c: asyncio.sleep(0, 1), "an awaitable"),
    "generator": (lambda c: (n for n in [1]), "a generator"),
}


@pytest.mark.parametrize("kind", LAZY)
def test_a_result_that_needs_the_connection_is_refused_and_rolled_back(
    race_url: str, kind: str
) -> None:
    make, named = LAZY[kind]

    async def scenario() -> None:
        async with await open_async_pool(race_url) as pool:
            await run_in_transaction_async(pool, lambda c: _zero_then(c, make))

    expected = f"run_in_transaction_async: the function returned {named}"
    with pytest.raises(LazyResultError, match=expected):
        asyncio.run(scenario())
    assert balances(race_url) == [(1, 100), (2, 100)]


@pytest.mark.parametrize("via", ["run_in_transaction_async", "old attempt"])
def test_a_stream_never_runs_in_the_next_borrowers_transaction(database_url: str, via: str) -> None:
    """The issue's case on asyncio: one pooled connection; the stream fn returned is
    read while another task holds it with an uncommitted issue."""
    with psycopg.connect(database_url) as setup:
        repo = factories.make_repo(setup)
        setup.commit()

    async def list_open(conn: AConn) -> AsyncIterator[models.Issue]:
        return aio_issues.iter_list_issues(
            conn, repository_id=repo.id, state=enums.IssueState.OPEN, page_size=10
        )

    async def scenario() -> list[str]:
        async with await open_async_pool(database_url, min_size=1, max_size=1) as one:
            if via == "run_in_transaction_async":
                with pytest.raises(LazyResultError, match="returned an async generator"):
                    await run_in_transaction_async(one, list_open)
                return []
            async with one.connection() as conn:  # NEGATIVE CONTROL: handed back
                stream = await old_attempt(conn, list_open)
            async with one.connection() as other:
                await aio_issues.create_issue(
                    other, repository_id=repo.id, title="not committed", body=""
                )
                seen = [issue.title async for issue in stream]
                await other.rollback()
            return seen

    assert asyncio.run(scenario()) == (
        [] if via == "run_in_transaction_async" else ["not committed"]
    )
