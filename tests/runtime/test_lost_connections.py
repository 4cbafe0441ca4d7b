"""run_in_transaction when the connection dies: retried before COMMIT, never during it.

A backend that terminates itself (``pg_terminate_backend(pg_backend_pid())``) loses the
connection mid-transaction, deterministically, before COMMIT. A COMMIT kept in flight
needs a primary whose commits wait for a synchronous standby that never comes
(``synchronous_standby_names`` naming nobody): the commit is then durable locally, the
client is cut off while it waits, and running the work again would write it twice. The
negative control retries on any connection error, as a naive loop would, and does
write it twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from plue_db.pool import SyncPool, open_pool
from plue_db.servers import replicas
from plue_db.transactions import CommitOutcomeUnknown, run_in_transaction
from tests.fixtures.fix_db import Conn

TABLE = "CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY, note text NOT NULL)"


@pytest.fixture
def ledger_url(empty_database_url: str) -> str:
    with psycopg.connect(empty_database_url, autocommit=True) as setup:
        setup.execute(TABLE)
    return empty_database_url


def _notes(url: str, note: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger WHERE note = %s", (note,)).fetchone()
    assert row is not None
    return int(row[0])


def _write_then_die_once(note: str, calls: list[int]) -> Callable[[Conn], str]:
    """Insert ``note``; on the first call the backend then terminates itself."""

    def work(conn: Conn) -> str:
        calls.append(conn.info.backend_pid)
        conn.execute("INSERT INTO ledger (note) VALUES (%s)", (note,))
        if len(calls) == 1:
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return note

    return work


def test_lost_before_commit_is_retried_on_another_connection(ledger_url: str) -> None:
    calls: list[int] = []
    with open_pool(ledger_url, max_size=2) as pool:
        done = run_in_transaction(pool, _write_then_die_once("before", calls), backoff_s=0.01)
    assert done == "before"
    assert len(calls) == 2 and calls[0] != calls[1]  # a second backend ran it
    assert _notes(ledger_url, "before") == 1  # the first attempt left nothing


def test_lost_before_commit_on_a_plain_connection_is_not_retried(ledger_url: str) -> None:
    calls: list[int] = []
    with psycopg.connect(ledger_url) as conn, pytest.raises(psycopg.OperationalError) as caught:
        run_in_transaction(conn, _write_then_die_once("plain", calls))
    assert not isinstance(caught.value, CommitOutcomeUnknown)
    assert "connection lost before COMMIT; gave up after 1 attempts" in caught.value.__notes__
    assert len(calls) == 1
    assert _notes(ledger_url, "plain") == 0


@pytest.fixture(scope="module")
def stalled_primary() -> Iterator[str]:
    """A primary whose commits wait for a synchronous standby that never connects."""
    with replicas.running_cluster(replicas=0) as cluster:
        with psycopg.connect(cluster.primary.url(), autocommit=True) as setup:
            setup.execute(TABLE)
        cluster.set_synchronous(["nobody"], level="on")
        yield cluster.primary.url()


def _cut_off_waiting_commits(url: str, stop: threading.Event) -> None:
    """Terminate each backend that waits for the standby at COMMIT (it committed locally)."""
    with psycopg.connect(url, autocommit=True) as killer:
        killer.execute("SET synchronous_commit = local")
        while not stop.is_set():
            killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE wait_event = 'SyncRep'"
            )
            time.sleep(0.01)


def _naive_retry(pool: SyncPool, fn: Callable[[Conn], str]) -> str:
    """What run_in_transaction must not be: any connection error means "run it again"."""
    while True:
        try:
            with pool.connection() as conn:
                return fn(conn)
        except psycopg.OperationalError:
            continue


def _write(note: str, calls: list[int]) -> Callable[[Conn], str]:
    """Insert ``note``; attempts after the first commit without waiting for the standby
    (so the naive loop ends once it has written twice)."""

    def work(conn: Conn) -> str:
        calls.append(conn.info.backend_pid)
        if len(calls) > 1:
            conn.execute("SET LOCAL synchronous_commit = local")
        conn.execute("INSERT INTO ledger (note) VALUES (%s)", (note,))
        return note

    return work


@pytest.mark.parametrize("naive", [False, True], ids=["run_in_transaction", "naive-retry"])
def test_lost_during_commit_is_reported_never_rerun(stalled_primary: str, naive: bool) -> None:
    note = f"commit-{naive}"
    calls: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_cut_off_waiting_commits, args=(stalled_primary, stop))
    killer.start()
    try:
        with open_pool(stalled_primary, max_size=2) as pool:
            if naive:
                _naive_retry(pool, _write(note, calls))
            else:
                with pytest.raises(CommitOutcomeUnknown, match="lost while COMMIT was in flight"):
                    run_in_transaction(pool, _write(note, calls))
    finally:
        stop.set()
        killer.join()
    # The first attempt's COMMIT was durable before the client was cut off.
    if naive:
        assert len(calls) == 2 and _notes(stalled_primary, note) == 2  # written twice
    else:
        assert len(calls) == 1 and _notes(stalled_primary, note) == 1
