"""The rate-limit queries against a real PostgreSQL: fixed windows counted by one
upsert, raced by 16 threads (with a read-modify-write control that loses hits)."""

from __future__ import annotations

import datetime
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from plue_queries import rate_limits
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import unique_name

MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)


def hit(conn: psycopg.Connection[Any], key: str, window: datetime.timedelta = MINUTE) -> int:
    row = rate_limits.hit_rate_limit(conn, key=key, window_size=window)
    assert row is not None
    return row.count


def test_hits_count_up_within_an_aligned_window(conn: psycopg.Connection[Any]) -> None:
    key = unique_name("api:user:")
    assert [hit(conn, key) for _ in range(3)] == [1, 2, 3]
    row = rate_limits.hit_rate_limit(conn, key=key, window_size=MINUTE)
    assert row is not None and row.count == 4
    clock = conn.execute("SELECT now()").fetchone()
    assert clock is not None
    assert row.window_start <= clock[0] < row.window_start + MINUTE
    assert (row.window_start.second, row.window_start.microsecond) == (0, 0)
    assert rate_limits.get_rate_limit_count(conn, key=key, window_size=MINUTE) == 4


def test_keys_and_window_sizes_are_counted_apart(conn: psycopg.Connection[Any]) -> None:
    key, other = unique_name("login:ip:"), unique_name("login:ip:")
    hit(conn, key)
    hit(conn, key)
    assert hit(conn, other) == 1
    assert hit(conn, key, DAY) == 1
    assert rate_limits.get_rate_limit_count(conn, key=key, window_size=MINUTE) == 2
    assert rate_limits.get_rate_limit_count(conn, key=unique_name("x"), window_size=MINUTE) == 0


def test_reset_forgets_every_window_of_a_key(conn: psycopg.Connection[Any]) -> None:
    key, other = unique_name("login:user:"), unique_name("login:user:")
    hit(conn, key)
    hit(conn, key, DAY)
    hit(conn, other)
    assert rate_limits.reset_rate_limit(conn, key=key) == 2
    assert rate_limits.get_rate_limit_count(conn, key=key, window_size=MINUTE) == 0
    assert rate_limits.get_rate_limit_count(conn, key=other, window_size=MINUTE) == 1


def test_delete_expired_windows(conn: psycopg.Connection[Any]) -> None:
    key = unique_name("api:user:")
    old = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
    conn.execute(
        "INSERT INTO rate_limits (key, window_start, count) VALUES (%s, %s, 7), (%s, %s, 8)",
        (key, old, key, old + DAY),
    )
    hit(conn, key)
    assert rate_limits.delete_expired_rate_limits(conn, before=old + DAY) == 1
    left = conn.execute(
        "SELECT window_start, count FROM rate_limits WHERE key = %s ORDER BY window_start", (key,)
    ).fetchall()
    assert left[0] == (old + DAY, 8) and left[1][1] == 1 and len(left) == 2


def test_an_empty_key_is_rejected(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.CheckViolation, match="rate_limits_key_not_empty"):
        hit(conn, "  ")


THREADS = 16
HITS = 100


def hammer(database_url: str, key: str, one_hit: Callable[[psycopg.Connection[Any]], Any]) -> None:
    """THREADS threads, each on its own connection, HITS hits each, from one barrier."""

    def worker(conn: psycopg.Connection[Any], _: int) -> None:
        for _ in range(HITS):
            one_hit(conn)

    run_on_connections(database_url, THREADS, worker)


def stored_total(database_url: str, key: str) -> int:
    """All hits stored for the key, over every window, then forget the key."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(sum(count), 0)::bigint FROM rate_limits WHERE key = %s", (key,)
        ).fetchone()
        rate_limits.reset_rate_limit(conn, key=key)
    assert row is not None
    return int(row[0])


def test_concurrent_hits_are_never_lost(database_url: str) -> None:
    """16 threads x 100 hits: 1600 stored, and each window handed out 1..n exactly once
    (a day window; a run crossing midnight UTC splits into two windows)."""
    key = unique_name("race:")
    seen: dict[datetime.datetime, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def one_hit(conn: psycopg.Connection[Any]) -> None:
        row = rate_limits.hit_rate_limit(conn, key=key, window_size=DAY)
        assert row is not None
        with lock:
            seen[row.window_start].append(row.count)

    hammer(database_url, key, one_hit)
    assert stored_total(database_url, key) == THREADS * HITS
    assert sum(len(counts) for counts in seen.values()) == THREADS * HITS
    for counts in seen.values():
        assert sorted(counts) == list(range(1, len(counts) + 1))


def test_naive_read_modify_write_loses_hits(database_url: str) -> None:
    """Negative control: reading the count and writing count + 1 back loses updates
    under the same load, so the exact-1600 check above can see a race."""
    key = unique_name("race:")

    def naive_hit(conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT count FROM rate_limits WHERE key = %s"
            " AND window_start = date_bin(%s, now(), timestamptz '2000-01-01 00:00:00+00')",
            (key, DAY),
        ).fetchone()
        count = 1 if row is None else row[0] + 1
        conn.execute(
            "INSERT INTO rate_limits (key, window_start, count)"
            " VALUES (%s, date_bin(%s, now(), timestamptz '2000-01-01 00:00:00+00'), %s)"
            " ON CONFLICT (key, window_start) DO UPDATE SET count = EXCLUDED.count",
            (key, DAY, count),
        )

    hammer(database_url, key, naive_hit)
    assert stored_total(database_url, key) < THREADS * HITS
