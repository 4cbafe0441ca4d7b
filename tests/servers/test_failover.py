"""Crash the primary under a write loop, promote its replica, count what survived.

A primary and a streaming replica from the wheel's PostgreSQL 16 binaries
(plue_db.servers.replicas). Four threads write through one pool on a multi-host DSN
(``target_session_attrs=read-write``, ``check`` on checkout) with run_in_transaction,
each row keyed by thread and sequence. The primary is stopped with ``-m immediate``
(a crash: no checkpoint, no goodbye to the replica) and the replica promoted.

- With ``synchronous_commit=remote_apply`` every acknowledged row is on the promoted
  replica (acknowledged ⊆ found); a commit cut off in flight may be there or not, and
  is reported as CommitOutcomeUnknown.
- With asynchronous replication and the walreceiver paused (SIGSTOP), acknowledged rows
  are lost: the documented price, and the negative control of the first check.

In both, nothing is found that was neither acknowledged nor reported unknown.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from plue_db.pool import SyncPool, open_pool
from plue_db.servers import replicas
from plue_db.transactions import CommitOutcomeUnknown, run_in_transaction
from tests.fixtures.fix_db import Conn

WRITERS = 4
TABLE = (
    "CREATE TABLE acked (key bigint PRIMARY KEY, payload text NOT NULL,"
    " at timestamptz NOT NULL DEFAULT clock_timestamp())"
)
# ~2 kB of incompressible text per row, so the WAL outgrows socket buffers quickly.
INSERT = (
    "INSERT INTO acked (key, payload)"
    " SELECT %s, string_agg(md5(random()::text), '') FROM generate_series(1, 64)"
)


@dataclass
class Tally:
    """What the writers were told, per key, and when writes succeeded."""

    acknowledged: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)
    failed: int = 0
    successes: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _insert(key: int) -> Callable[[Conn], None]:
    def work(conn: Conn) -> None:
        conn.execute(INSERT, (key,))

    return work


def _writer(pool: SyncPool, worker: int, tally: Tally, stop: threading.Event) -> None:
    for seq in itertools.count():
        if stop.is_set():
            return
        key = worker * 1_000_000 + seq
        try:
            run_in_transaction(pool, _insert(key), retries=2, backoff_s=0.05)
        except CommitOutcomeUnknown:
            with tally.lock:
                tally.unknown.add(key)
        except (psycopg.OperationalError, PoolTimeout):
            with tally.lock:
                tally.failed += 1  # never committed: lost before COMMIT, or no connection
        else:
            with tally.lock:
                tally.acknowledged.add(key)
                tally.successes.append(time.monotonic())


Resume = Callable[[], None]


@dataclass
class Failover:
    tally: Tally
    found: set[int]
    promoted_at: float

    @property
    def lost(self) -> set[int]:
        return self.tally.acknowledged - self.found

    @property
    def back_after_s(self) -> float:
        after = [t for t in self.tally.successes if t > self.promoted_at]
        assert after, "no write succeeded after the promotion"
        return min(after) - self.promoted_at


def _crash_and_promote(
    cluster: replicas.Cluster, *, before_crash: Callable[[], Resume] | None = None
) -> Failover:
    """Write from WRITERS threads, crash the primary, promote the replica, write on;
    return what the writers were told and what the promoted replica holds."""
    replica = cluster.replicas[0]
    url = cluster.multi_host_url(target_session_attrs="read-write", connect_timeout="2")
    tally, stop = Tally(), threading.Event()
    with open_pool(url, min_size=WRITERS, max_size=WRITERS, timeout=3.0) as pool:
        threads = [
            threading.Thread(target=_writer, args=(pool, w, tally, stop)) for w in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.7)
            resume = before_crash() if before_crash else None
            time.sleep(0.3)
            cluster.primary.stop("immediate")
            if resume:
                resume()
            replica.promote()
            promoted_at = time.monotonic()
            deadline = promoted_at + 20
            while time.monotonic() < deadline and not any(
                t > promoted_at + 0.3 for t in tally.successes
            ):
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    with psycopg.connect(replica.url()) as conn:
        found = {int(r[0]) for r in conn.execute("SELECT key FROM acked")}
    return Failover(tally, found, promoted_at)


@pytest.fixture
def cluster() -> Iterator[replicas.Cluster]:
    with replicas.running_cluster(replicas=1) as running:
        with psycopg.connect(running.primary.url(), autocommit=True) as setup:
            setup.execute(TABLE)
        replicas.wait_replayed(running.primary.url(), running.replicas[0].url())
        yield running


@pytest.mark.slow
def test_remote_apply_loses_no_acknowledged_write(cluster: replicas.Cluster) -> None:
    cluster.set_synchronous([cluster.replicas[0].name], "remote_apply")
    result = _crash_and_promote(cluster)
    tally = result.tally
    print(
        f"\nremote_apply: {len(tally.acknowledged)} acknowledged, {len(tally.unknown)} unknown,"
        f" {len(result.found)} found, {len(result.found - tally.acknowledged)} committed but"
        f" unacknowledged; writes again {result.back_after_s * 1000:.0f} ms after promotion"
    )
    assert len(tally.acknowledged) > 100  # the loop really wrote before the crash
    assert result.lost == set()
    assert result.found <= tally.acknowledged | tally.unknown
    assert result.back_after_s < 10


# WAL the primary has not even handed to its socket when it crashes: more than the
# kernel's socket buffers hold, which a resumed walreceiver would still read.
UNSENT_BYTES = 4 * 1024 * 1024


def _wait_unsent(primary_url: str, unsent: int) -> None:
    """Block until the primary has written ``unsent`` bytes of WAL it could not send."""
    deadline = time.monotonic() + 30
    with psycopg.connect(primary_url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT pg_current_wal_lsn() - sent_lsn FROM pg_stat_replication"
            ).fetchone()
            if row is not None and row[0] is not None and row[0] >= unsent:
                return
            assert time.monotonic() < deadline, f"primary still sends WAL: {row}"
            time.sleep(0.05)


@pytest.mark.slow
def test_async_replication_loses_acknowledged_writes(cluster: replicas.Cluster) -> None:
    """The walreceiver is paused until the primary holds UNSENT_BYTES of WAL it could
    not send, and resumed (it must be, for promotion) once the primary is gone."""
    replica = cluster.replicas[0]

    def pause() -> Resume:
        pid = replica.pause_walreceiver()
        _wait_unsent(cluster.primary.url(), UNSENT_BYTES)
        return lambda: replica.resume_walreceiver(pid)

    result = _crash_and_promote(cluster, before_crash=pause)
    tally = result.tally
    print(
        f"\nasync, walreceiver paused: {len(tally.acknowledged)} acknowledged,"
        f" {len(result.lost)} of them lost; writes again"
        f" {result.back_after_s * 1000:.0f} ms after promotion"
    )
    assert len(result.lost) > 0
    assert result.found <= tally.acknowledged | tally.unknown
