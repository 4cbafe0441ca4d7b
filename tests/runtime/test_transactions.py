"""run_in_transaction against a real deadlock and a real serialization failure.

Both races start at a Barrier so the two transactions really overlap; each scenario
also runs without retries to prove it does produce the error it claims to survive.
Then what fn may end with: psycopg.Rollback, and results that still need the
connection, each against the old attempt's shape as a control.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
import pytest
from plue_queries import enums, issues, models
from psycopg import IsolationLevel, errors, pq

from plue_db.eager import LazyResultError
from plue_db.pool import SyncPool, open_pool
from plue_db.transactions import RolledBackError, run_in_transaction
from tests import factories
from tests.concurrency import run_together
from tests.fixtures.fix_db import Conn

Work = Callable[[Conn], int]
T = TypeVar("T")


@pytest.fixture
def race_url(empty_database_url: str) -> str:
    """Two accounts of 100 and two doctors on call (also test_transactions_async.py)."""
    with psycopg.connect(empty_database_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE account (id int PRIMARY KEY, balance int NOT NULL)")
        setup.execute("INSERT INTO account VALUES (1, 100), (2, 100)")
        setup.execute("CREATE TABLE doctor (id int PRIMARY KEY, on_call bool NOT NULL)")
        setup.execute("INSERT INTO doctor VALUES (1, true), (2, true)")
    return empty_database_url


@pytest.fixture
def pool(race_url: str) -> Iterator[SyncPool]:
    with open_pool(race_url, min_size=2, max_size=4) as p:
        yield p


def race(pool: SyncPool, first: Work, second: Work, **options: Any) -> list[int]:
    """Run two units of work at once, each through run_in_transaction."""

    works = (first, second)
    return run_together(2, lambda n: run_in_transaction(pool, works[n], **options))


def transfer(src: int, dst: int, barrier: threading.Barrier, attempts: list[int]) -> Work:
    """Move 10 from src to dst, locking src first; meet the other thread in between."""

    def work(conn: Conn) -> int:
        attempts.append(src)
        conn.execute("UPDATE account SET balance = balance - 10 WHERE id = %s", (src,))
        if len(attempts) <= 2:  # only the first attempts meet; a retry runs alone
            barrier.wait(timeout=10)
        conn.execute("UPDATE account SET balance = balance + 10 WHERE id = %s", (dst,))
        return src

    return work


def balances(url: str) -> list[tuple[int, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, balance FROM account ORDER BY id").fetchall()


def test_deadlock_is_retried_and_both_transfers_apply(pool: SyncPool, race_url: str) -> None:
    barrier, attempts = threading.Barrier(2), list[int]()
    results = race(pool, transfer(1, 2, barrier, attempts), transfer(2, 1, barrier, attempts))
    assert results == [1, 2]
    assert len(attempts) == 3  # exactly one transaction was chosen as the deadlock victim
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_deadlock_without_retry_raises(pool: SyncPool, race_url: str) -> None:
    barrier, attempts = threading.Barrier(2), list[int]()
    with pytest.raises(errors.DeadlockDetected) as info:
        race(
            pool,
            transfer(1, 2, barrier, attempts),
            transfer(2, 1, barrier, attempts),
            retries=0,
        )
    assert "gave up after 1 attempts" in (info.value.__notes__ or [])
    assert sum(b for _, b in balances(race_url)) == 200


def go_off_call(doctor: int, barrier: threading.Barrier, attempts: list[int]) -> Work:
    """Leave the rota if someone else is still on call: the classic write skew."""

    def work(conn: Conn) -> int:
        attempts.append(doctor)
        row = conn.execute("SELECT count(*) FROM doctor WHERE on_call").fetchone()
        assert row is not None
        if len(attempts) <= 2:
            barrier.wait(timeout=10)
        if row[0] < 2:
            return 0
        conn.execute("UPDATE doctor SET on_call = false WHERE id = %s", (doctor,))
        return 1

    return work


def on_call(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM doctor WHERE on_call ORDER BY id")]


def test_serialization_failure_is_retried_and_one_doctor_stays(
    pool: SyncPool, race_url: str
) -> None:
    barrier, attempts = threading.Barrier(2), list[int]()
    results = race(
        pool,
        go_off_call(1, barrier, attempts),
        go_off_call(2, barrier, attempts),
        isolation=IsolationLevel.SERIALIZABLE,
    )
    assert sorted(results) == [0, 1]  # one left the rota; the retried one saw it and stayed
    assert len(attempts) == 3
    assert len(on_call(race_url)) == 1


def test_serializable_without_retry_raises(pool: SyncPool, race_url: str) -> None:
    barrier, attempts = threading.Barrier(2), list[int]()
    with pytest.raises(errors.SerializationFailure):
        race(
            pool,
            go_off_call(1, barrier, attempts),
            go_off_call(2, barrier, attempts),
            isolation=IsolationLevel.SERIALIZABLE,
            retries=0,
        )
    assert len(on_call(race_url)) == 1


def test_read_committed_lets_the_write_skew_through(pool: SyncPool, race_url: str) -> None:
    """Negative control: without SERIALIZABLE both leave, so the test can see the race."""
    barrier, attempts = threading.Barrier(2), list[int]()
    results = race(pool, go_off_call(1, barrier, attempts), go_off_call(2, barrier, attempts))
    assert results == [1, 1]
    assert on_call(race_url) == []


def test_other_errors_propagate_at_once_and_roll_back(pool: SyncPool, race_url: str) -> None:
    calls = list[int]()

    def duplicate(conn: Conn) -> int:
        calls.append(1)
        conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
        conn.execute("INSERT INTO account VALUES (2, 5)")
        return 0

    with pytest.raises(errors.UniqueViolation, match="account_pkey"):
        run_in_transaction(pool, duplicate, retries=5)
    assert calls == [1]
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_plain_connection_commits_once(race_url: str) -> None:
    with psycopg.connect(race_url) as conn:
        moved = run_in_transaction(
            conn,
            lambda c: c.execute("UPDATE account SET balance = balance + 1").rowcount,
            isolation=IsolationLevel.REPEATABLE_READ,
        )
    assert moved == 2
    assert balances(race_url) == [(1, 101), (2, 101)]


def test_connection_already_in_a_transaction_is_refused(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(ValueError, match="no transaction open"):
            run_in_transaction(conn, lambda c: 1)


def old_attempt(conn: Conn, fn: Callable[[Conn], T]) -> T:
    """run_in_transaction's attempt before issue 17: fn's outcome taken as it comes."""
    with conn.transaction():
        result = fn(conn)
    return result


def zero_then_roll_back(calls: list[int]) -> Work:
    def work(conn: Conn) -> int:
        calls.append(1)
        conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
        raise psycopg.Rollback()

    return work


@pytest.mark.parametrize("source", ["pool", "plain connection"])
def test_rollback_raised_by_fn_rolls_back_and_raises(
    pool: SyncPool, race_url: str, source: str
) -> None:
    calls = list[int]()
    with psycopg.connect(race_url) as plain:
        with pytest.raises(RolledBackError, match="rolled back and nothing it wrote was kept") as e:
            run_in_transaction(
                plain if source == "plain connection" else pool, zero_then_roll_back(calls)
            )
        assert isinstance(e.value.__cause__, psycopg.Rollback)
        assert plain.info.transaction_status == pq.TransactionStatus.IDLE
        assert plain.execute("SELECT 1").fetchone() == (1,)  # usable afterwards
    assert calls == [1]  # not run again
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_rollback_raised_by_fn_left_the_old_attempt_without_a_result(race_url: str) -> None:
    """NEGATIVE CONTROL: psycopg's transaction block swallows the Rollback."""
    with psycopg.connect(race_url) as conn, pytest.raises(UnboundLocalError):
        old_attempt(conn, zero_then_roll_back([]))
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_rollback_of_fns_own_savepoint_keeps_the_rest(pool: SyncPool, race_url: str) -> None:
    def work(conn: Conn) -> int:
        conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
        with conn.transaction() as savepoint:
            conn.execute("UPDATE account SET balance = 0 WHERE id = 2")
            raise psycopg.Rollback(savepoint)
        return 7

    assert run_in_transaction(pool, work) == 7
    assert balances(race_url) == [(1, 0), (2, 100)]


async def _never_awaited(conn: Conn) -> int:
    return 1


LAZY: dict[str, tuple[Callable[[Conn], object], str]] = {
    "generator": (lambda c: (row for row in c.execute("SELECT 1")), "a generator"),
    "iterator": (lambda c: iter([1]), "an iterator"),
    "server cursor": (lambda c: c.cursor("named"), "a server-side cursor"),
    "connection": (lambda c: c, "the connection"),
    "coroutine": (_never_awaited, "an awaitable"),
}


@pytest.mark.parametrize("kind", LAZY)
def test_a_result_that_needs_the_connection_is_refused_and_rolled_back(
    pool: SyncPool, race_url: str, kind: str
) -> None:
    make, named = LAZY[kind]

    def work(conn: Conn) -> object:
        conn.execute("UPDATE account SET balance = 0 WHERE id = 1")
        return make(conn)

    with pytest.raises(LazyResultError, match=f"run_in_transaction: the function returned {named}"):
        run_in_transaction(pool, work)
    assert balances(race_url) == [(1, 100), (2, 100)]


def test_a_client_side_cursor_is_returned_with_its_rows(pool: SyncPool, race_url: str) -> None:
    """``lambda c: c.execute(...)`` is the common shape: its rows are already in memory,
    so the cursor comes back and the write is committed."""
    cursor = run_in_transaction(
        pool, lambda c: c.execute("UPDATE account SET balance = 7 WHERE id = 1 RETURNING id")
    )
    assert cursor.fetchall() == [(1,)]
    assert balances(race_url) == [(1, 7), (2, 100)]


@pytest.mark.parametrize("via", ["run_in_transaction", "old attempt"])
def test_a_stream_never_runs_in_the_next_borrowers_transaction(database_url: str, via: str) -> None:
    """The issue's case: one pooled connection; the stream fn returned is read while
    another caller holds it with an uncommitted issue."""
    with open_pool(database_url, min_size=1, max_size=1) as one:
        with one.connection() as setup:
            repo = factories.make_repo(setup)

        def list_open(conn: Conn) -> Iterator[models.Issue]:
            return issues.iter_list_issues(
                conn, repository_id=repo.id, state=enums.IssueState.OPEN, page_size=10
            )

        if via == "run_in_transaction":
            with pytest.raises(
                LazyResultError, match=r"returned a generator.*return list\(\.\.\.\)"
            ):
                run_in_transaction(one, list_open)
            assert run_in_transaction(one, lambda c: list(list_open(c))) == []  # the fix it names
            return
        with one.connection() as conn:  # NEGATIVE CONTROL: the old attempt hands it back
            stream = old_attempt(conn, list_open)
        with one.connection() as other:
            factories.make_issue(other, repo, title="not committed")
            seen = [issue.title for issue in stream]
            other.rollback()
        assert seen == ["not committed"]
