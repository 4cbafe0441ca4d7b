"""Patroni with etcd (Debian's packages): kill the leader, the pool writes to the new one.

A pool on a multi-host DSN over both nodes (``target_session_attrs=read-write``,
``check`` on checkout) writes through run_in_transaction. The leader's machine dies
(Patroni killed, its PostgreSQL stopped with ``-m immediate``); Patroni on the other
node takes the leader key when its TTL runs out and promotes its PostgreSQL. The same
pool, untouched, then writes there. If Patroni or etcd is not installed the fixture
fails, naming what is missing: this test never passes without running.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from plue_db.pool import open_pool
from plue_db.transactions import run_in_transaction
from tests.fixtures.fix_db import Conn
from tests.servers import patroni_cluster
from tests.servers.patroni_cluster import PatroniCluster, PatroniNode


@pytest.fixture(scope="module")
def patroni() -> Iterator[PatroniCluster]:
    with patroni_cluster.running(nodes=2) as cluster:
        yield cluster


def _insert(note: str) -> Any:
    def work(conn: Conn) -> tuple[int, bool]:
        conn.execute("INSERT INTO notes (note) VALUES (%s)", (note,))
        row = conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone()
        assert row is not None
        return int(row[0]), bool(row[1])

    return work


def _wait_replayed(patroni: PatroniCluster, leader: PatroniNode, timeout: float = 30) -> None:
    """Until every other node has replayed the leader's WAL up to now (a fixed sleep was
    sometimes too short, and the promoted node then lacked the notes table)."""
    with psycopg.connect(port=leader.pg_port, host="127.0.0.1", user="postgres") as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + timeout
    for node in patroni.nodes:
        if node is leader:
            continue
        with psycopg.connect(port=node.pg_port, host="127.0.0.1", user="postgres") as conn:
            while True:
                done = conn.execute(
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", (row[0],)
                ).fetchone()
                if done == (True,):
                    break
                assert time.monotonic() < deadline, f"{node.name} did not replay within {timeout}s"
                time.sleep(0.1)


@pytest.mark.slow
def test_pool_writes_to_the_new_leader_after_the_old_one_dies(patroni: PatroniCluster) -> None:
    old = patroni.leader()
    assert old is not None
    with psycopg.connect(patroni.url(), autocommit=True) as setup:
        setup.execute("CREATE TABLE notes (note text PRIMARY KEY)")
    with open_pool(patroni.url(), min_size=2, max_size=2, timeout=3.0) as pool:
        port, in_recovery = run_in_transaction(pool, _insert("before"))
        assert (port, in_recovery) == (old.pg_port, False)
        _wait_replayed(patroni, old)  # asynchronous replication: "before" must be there
        old.kill()
        killed_at = time.monotonic()
        deadline = killed_at + 60
        while True:
            try:
                port, in_recovery = run_in_transaction(pool, _insert("after"), retries=0)
                break
            except (psycopg.OperationalError, PoolTimeout) as exc:
                assert time.monotonic() < deadline, f"no write within 60 s: {exc}"
                time.sleep(0.2)
        back_after = time.monotonic() - killed_at
    new = patroni.leader()
    assert new is not None and new is not old
    assert (port, in_recovery) == (new.pg_port, False)
    with psycopg.connect(patroni.url()) as conn:
        notes = [r[0] for r in conn.execute("SELECT note FROM notes ORDER BY note")]
    assert notes == ["after", "before"]
    print(
        f"\nPatroni (ttl={patroni_cluster.TTL_S}s): writes again {back_after:.1f} s after the kill"
    )
    assert back_after > 1  # the pool really waited for Patroni, not for a live leader
