"""The rate-limit queries against a real PostgreSQL: fixed windows counted by one
upsert, raced by 16 threads (with a read-modify-write control that loses hits), and
windows of different sizes on one key counted apart (issue 9, defect 6), with the old
one-row-per-(key, window_start) shape as the control that shares the count."""

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
from psycopg.rows import TupleRow

from tests.concurrency import run_on_connections
from tests.factories import unique_name
from tests.fixtures.fix_db import Conn

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
SIZES = (MINUTE, HOUR, DAY)
MIDNIGHT = datetime.datetime(2025, 1, 1, 0, 0, 3, tzinfo=datetime.UTC)
"""An instant where the minute, hour and day windows all start at 00:00:00."""


def hit(conn: Conn, key: str, window: datetime.timedelta = MINUTE) -> int:
    row = rate_limits.hit_rate_limit(conn, key=key, window_size=window)
    return row.count


def test_hits_count_up_within_an_aligned_window(conn: Conn) -> None:
    key = unique_name("api:user:")
    assert [hit(conn, key) for _ in range(3)] == [1, 2, 3]
    row = rate_limits.hit_rate_limit(conn, key=key, window_size=MINUTE)
    assert row is not None and row.count == 4
    clock = conn.execute("SELECT now()").fetchone()
    assert clock is not None
    assert row.window_start <= clock[0] < row.window_start + MINUTE
    assert (row.window_start.second, row.window_start.microsecond) == (0, 0)
    assert rate_limits.get_rate_limit_count(conn, key=key, window_size=MINUTE) == 4


def test_keys_and_window_sizes_are_counted_apart(conn: Conn) -> None:
    key, other = unique_name("login:ip:"), unique_name("login:ip:")
    assert [hit(conn, key, size) for _ in range(3) for size in SIZES] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert hit(conn, key) == 4
    assert hit(conn, other) == 1
    counts = [rate_limits.get_rate_limit_count(conn, key=key, window_size=s) for s in SIZES]
    assert counts == [4, 3, 3]
    assert rate_limits.get_rate_limit_count(conn, key=unique_name("x"), window_size=MINUTE) == 0
    # The same length spelled differently is the same window.
    assert hit(conn, key, datetime.timedelta(seconds=3600)) == 4


# HitRateLimit's own text with the clock pinned, so every run meets the collision the
# issue reported (at 13:00:03 a minute and an hour window start together) instead of
# only runs that happen to start on an aligned minute.
PINNED_HIT = rate_limits.HIT_RATE_LIMIT.replace("now()", "$3::timestamptz")
assert PINNED_HIT.count("$3") == 1

# The shape before migration 0003: one row per (key, window_start), whatever the size.
OLD_TABLE = "CREATE TEMP TABLE old_rate_limits (key text, window_start timestamptz,"
OLD_TABLE += " count bigint NOT NULL, PRIMARY KEY (key, window_start)) ON COMMIT DROP"
OLD_HIT = """INSERT INTO old_rate_limits (key, window_start, count)
VALUES ($1, date_bin($2::interval, $3::timestamptz, timestamptz '2000-01-01 00:00:00+00'), 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = old_rate_limits.count + 1
RETURNING count, window_start"""


def pinned_hit(conn: Conn, key: str, size: datetime.timedelta, text: str = PINNED_HIT) -> int:
    """One hit at MIDNIGHT through the given SQL text; the window's new count."""
    row = psycopg.RawCursor[TupleRow](conn).execute(text, (key, size, MIDNIGHT)).fetchone()
    assert row is not None and row[1] == MIDNIGHT.replace(second=0)
    count: int = row[0]
    return count


def counts_at_shared_start(conn: Conn, text: str) -> list[int]:
    """Three rounds of minute, hour and day hits on one key at an instant all three
    windows share; the count each hit returned."""
    key = unique_name("login:ip:")
    return [pinned_hit(conn, key, size, text) for _ in range(3) for size in SIZES]


APART = [1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_window_sizes_starting_together_count_apart(conn: Conn) -> None:
    assert counts_at_shared_start(conn, PINNED_HIT) == APART


def test_negative_control_old_key_shares_one_count(conn: Conn) -> None:
    """The old primary key (key, window_start) fails the same check: the three sizes
    count 1 to 9 in one row, as the issue reported."""
    conn.execute(OLD_TABLE)
    shared = counts_at_shared_start(conn, OLD_HIT)
    assert shared == list(range(1, 10)) != APART


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (datetime.timedelta(0), "window_size must be positive, got 00:00:00"),
        (-MINUTE, "window_size must be positive, got -1 days \\+23:59:00"),
    ],
)
def test_a_window_size_that_is_not_positive_is_refused(
    conn: Conn, size: datetime.timedelta, message: str
) -> None:
    key = unique_name("api:user:")
    for query in (rate_limits.hit_rate_limit, rate_limits.get_rate_limit_count):
        with pytest.raises(errors.InvalidParameterValue, match=message), conn.transaction():
            query(conn, key=key, window_size=size)
    row = conn.execute("SELECT count(*) FROM rate_limits WHERE key = %s", (key,)).fetchone()
    assert row == (0,)


def test_a_window_size_in_months_is_refused(conn: Conn) -> None:
    """psycopg sends a timedelta in days, so months only come from SQL; the guard
    names window_size where date_bin would speak of a 'stride'."""
    with pytest.raises(errors.InvalidParameterValue, match="window_size must not contain months"):
        conn.execute("SELECT rate_limit_window(interval '1 month')")
    conn.rollback()
    with pytest.raises(errors.CheckViolation, match="rate_limits_window_size_positive"):
        conn.execute(
            "INSERT INTO rate_limits (key, window_size, window_start) VALUES ('k', '0', now())"
        )


def test_reset_forgets_every_window_of_a_key(conn: Conn) -> None:
    key, other = unique_name("login:user:"), unique_name("login:user:")
    for size in SIZES:
        hit(conn, key, size)
    hit(conn, other)
    assert rate_limits.reset_rate_limit(conn, key=key) == 3
    assert rate_limits.get_rate_limit_count(conn, key=key, window_size=MINUTE) == 0
    assert rate_limits.get_rate_limit_count(conn, key=other, window_size=MINUTE) == 1


def test_delete_expired_windows_each_by_its_own_size(conn: Conn) -> None:
    """An hour window and a day window that started 61 minutes ago: only the hour
    window has ended, so only it goes (a single cutoff would treat both alike)."""
    key = unique_name("api:user:")
    conn.execute(
        "INSERT INTO rate_limits (key, window_size, window_start, count)"
        " VALUES (%(k)s, %(hour)s, now() - interval '61 minutes', 7),"
        " (%(k)s, %(day)s, now() - interval '61 minutes', 8),"
        " (%(k)s, %(hour)s, now() - interval '1 hour', 9)",
        {"k": key, "hour": HOUR, "day": DAY},
    )
    hit(conn, key)
    ended = conn.execute(
        "SELECT count(*) FROM rate_limits WHERE window_start + window_size <= now()"
    ).fetchone()
    assert ended is not None and ended[0] >= 2
    assert rate_limits.delete_expired_rate_limits(conn) == ended[0]
    left = conn.execute(
        "SELECT window_size, count FROM rate_limits WHERE key = %s ORDER BY count", (key,)
    ).fetchall()
    assert left == [(MINUTE, 1), (DAY, 8)]


def test_an_empty_key_is_rejected(conn: Conn) -> None:
    with pytest.raises(errors.CheckViolation, match="rate_limits_key_not_empty"):
        hit(conn, "  ")


THREADS = 16
HITS = 100


def hammer(database_url: str, key: str, one_hit: Callable[[Conn], Any]) -> None:
    """THREADS threads, each on its own connection, HITS hits each, from one barrier."""

    def worker(conn: Conn, _: int) -> None:
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

    def one_hit(conn: Conn) -> None:
        row = rate_limits.hit_rate_limit(conn, key=key, window_size=DAY)
        with lock:
            seen[row.window_start].append(row.count)

    hammer(database_url, key, one_hit)
    assert stored_total(database_url, key) == THREADS * HITS
    assert sum(len(counts) for counts in seen.values()) == THREADS * HITS
    for counts in seen.values():
        assert sorted(counts) == list(range(1, len(counts) + 1))


def test_concurrent_hits_on_three_window_sizes_count_apart_exactly(database_url: str) -> None:
    """16 threads x 100 rounds of a minute, an hour and a day hit on one key, at an
    instant the three windows share: each size stores exactly 1600 and handed out
    1..1600 exactly once, so no hit of one size lands in another's row."""
    key = unique_name("race:")
    seen: dict[datetime.timedelta, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def one_round(conn: Conn) -> None:
        for size in SIZES:
            count = pinned_hit(conn, key, size)
            with lock:
                seen[size].append(count)

    hammer(database_url, key, one_round)
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = conn.execute(
            "SELECT window_size, count FROM rate_limits WHERE key = %s ORDER BY window_size",
            (key,),
        ).fetchall()
    assert stored == [(size, THREADS * HITS) for size in SIZES]
    assert stored_total(database_url, key) == 3 * THREADS * HITS
    for size in SIZES:
        assert sorted(seen[size]) == list(range(1, THREADS * HITS + 1))


def test_naive_read_modify_write_loses_hits(database_url: str) -> None:
    """Negative control: reading the count and writing count + 1 back loses updates
    under the same load, so the exact-1600 check above can see a race."""
    key = unique_name("race:")

    def naive_hit(conn: Conn) -> None:
        row = conn.execute(
            "SELECT count FROM rate_limits WHERE key = %s AND window_size = %s"
            " AND window_start = date_bin(%s, now(), timestamptz '2000-01-01 00:00:00+00')",
            (key, DAY, DAY),
        ).fetchone()
        count = 1 if row is None else row[0] + 1
        conn.execute(
            "INSERT INTO rate_limits (key, window_size, window_start, count)"
            " VALUES (%s, %s, date_bin(%s, now(), timestamptz '2000-01-01 00:00:00+00'), %s)"
            " ON CONFLICT (key, window_size, window_start) DO UPDATE SET count = EXCLUDED.count",
            (key, DAY, DAY, count),
        )

    hammer(database_url, key, naive_hit)
    assert stored_total(database_url, key) < THREADS * HITS
