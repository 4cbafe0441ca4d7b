"""The pool serves, applies its timeouts, and survives a killed backend."""

from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout

from plue_db.pool import Timeouts, open_async_pool, open_pool

PLUE_DB = str(Path(sys.executable).parent / "plue-db")
FAST = Timeouts(statement_ms=300, lock_ms=200)


def test_pool_serves_with_configured_timeouts(empty_database_url: str) -> None:
    with open_pool(empty_database_url, min_size=2, max_size=3, timeouts=FAST) as pool:
        assert pool.get_stats()["pool_size"] == 2
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                " current_database()"
            ).fetchone()
    assert row is not None
    assert row[0] == "300ms"
    assert row[1] == "200ms"
    assert row[2] == conninfo_to_dict(empty_database_url)["dbname"]


def test_naive_datetimes_mean_utc_on_pooled_connections(empty_database_url: str) -> None:
    """PostgreSQL reads a naive datetime sent for timestamptz in the session TimeZone;
    the pool pins it to UTC, whatever the server's default (checked against a plain
    connection set to Asia/Tokyo, where the same value means 9 hours earlier)."""
    naive = datetime.datetime(2026, 11, 22, 12, 0)
    as_utc = naive.replace(tzinfo=datetime.UTC)
    with open_pool(empty_database_url) as pool, pool.connection() as conn:
        row = conn.execute("SELECT %s::timestamptz", (naive,)).fetchone()
    assert row is not None and row[0] == as_utc and row[0].utcoffset() == datetime.timedelta(0)
    with psycopg.connect(empty_database_url, options="-c TimeZone=Asia/Tokyo") as tokyo:
        other = tokyo.execute("SELECT %s::timestamptz", (naive,)).fetchone()
    assert other is not None and other[0] == as_utc - datetime.timedelta(hours=9)


def test_long_query_is_cut_off_by_statement_timeout(empty_database_url: str) -> None:
    with open_pool(empty_database_url, timeouts=FAST) as pool, pool.connection() as conn:
        started = time.monotonic()
        with pytest.raises(errors.QueryCanceled, match="statement timeout"):
            conn.execute("SELECT pg_sleep(10)")
    assert time.monotonic() - started < 3


def test_blocked_update_fails_with_lock_timeout(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)")
        setup.execute("INSERT INTO counter VALUES (1, 0)")
    with psycopg.connect(empty_database_url) as holder:
        holder.execute("SELECT n FROM counter WHERE id = 1 FOR UPDATE")
        slow = Timeouts(statement_ms=30_000, lock_ms=200)
        with open_pool(empty_database_url, timeouts=slow) as pool, pool.connection() as conn:
            started = time.monotonic()
            with pytest.raises(errors.LockNotAvailable, match="lock timeout"):
                conn.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
            waited = time.monotonic() - started
        holder.rollback()
    assert 0.15 < waited < 3
    with psycopg.connect(empty_database_url) as check:
        assert check.execute("SELECT n FROM counter").fetchone() == (0,)


def test_pool_replaces_a_terminated_backend(empty_database_url: str) -> None:
    with open_pool(empty_database_url, min_size=1, max_size=1) as pool:
        with pool.connection() as conn:
            first_pid = conn.info.backend_pid
        with psycopg.connect(empty_database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != first_pid


def test_unreachable_server_fails_fast_naming_it() -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/nowhere"
    started = time.monotonic()
    with pytest.raises(PoolTimeout, match=r"127\.0\.0\.1.*within 1s") as info:
        open_pool(url, timeout=1.0, timeouts=Timeouts(connect_s=1))
    assert "secret" not in str(info.value)
    assert time.monotonic() - started < 5


def test_async_pool_serves(empty_database_url: str) -> None:
    async def scenario() -> tuple[Any, ...] | None:
        pool = await open_async_pool(empty_database_url, timeouts=FAST)
        async with pool, pool.connection() as conn:
            cur = await conn.execute("SELECT current_setting('lock_timeout'), 41 + 1")
            return await cur.fetchone()

    assert asyncio.run(scenario()) == ("200ms", 42)


def test_pool_recovers_after_a_server_restart(tmp_path: Path) -> None:
    """Stop and start a private embedded server (via plue-db down/up) under an open pool."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PLUE_DB_PGDATA"] = str(tmp_path / "pgdata")
    (tmp_path / "migrations").mkdir()

    def plue_db(command: str) -> str:
        args = [command]
        if command == "up":
            args += ["--migrations-dir", str(tmp_path / "migrations")]
        done = subprocess.run(
            [PLUE_DB, *args], env=env, capture_output=True, text=True, check=True, timeout=120
        )
        return done.stdout.strip().splitlines()[-1]

    url = plue_db("up")
    try:
        with open_pool(url, max_size=2, timeout=2.0, timeouts=Timeouts(connect_s=1)) as pool:
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert plue_db("down").startswith("stopped the embedded PostgreSQL")
            started = time.monotonic()
            with (
                pytest.raises((psycopg.OperationalError, PoolTimeout)),
                pool.connection() as conn,
            ):
                conn.execute("SELECT 1")
            assert time.monotonic() - started < 5  # fails within its timeout, no hang
            plue_db("up")
            restarted = time.monotonic()
            while True:
                try:
                    with pool.connection(timeout=1.0) as conn:
                        assert conn.execute("SELECT 2").fetchone() == (2,)
                    break
                except (psycopg.OperationalError, PoolTimeout):
                    assert time.monotonic() - restarted < 30, "pool did not recover in 30 s"
    finally:
        plue_db("down")
