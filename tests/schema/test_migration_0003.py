"""Migration 0003 on a database that already holds data: what it keeps and drops.

Counters that predate window sizes are dropped (their size is unknown), tokens that
expired at creation (never usable) are deleted, every other credential survives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from plue_db import config
from plue_db.schema import migrate
from tests.factories import sha256_hex


def test_0003_takes_existing_data_to_the_new_rules(empty_database_url: str, tmp_path: Path) -> None:
    released = sorted(config.MIGRATIONS_DIR.glob("000[12]_*.sql"))
    assert [p.name[:4] for p in released] == ["0001", "0002"]
    for path in released:
        shutil.copy(path, tmp_path)
    migrate.migrate(empty_database_url, tmp_path)
    with psycopg.connect(empty_database_url) as conn:
        user = conn.execute("INSERT INTO users (username) VALUES ('old') RETURNING id").fetchone()
        assert user is not None
        conn.execute(
            "INSERT INTO access_tokens (user_id, name, token_hash, token_last_eight, expires_at)"
            " VALUES (%(u)s, 'born-expired', %(a)s, '12345678', now() - interval '1 day'),"
            " (%(u)s, 'forever', %(b)s, '12345678', NULL),"
            " (%(u)s, 'month', %(c)s, '12345678', now() + interval '30 days')",
            {"u": user[0], "a": sha256_hex("a"), "b": sha256_hex("b"), "c": sha256_hex("c")},
        )
        conn.execute(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ('login:ip:1', now(), 5)"
        )

    shutil.copy(next(config.MIGRATIONS_DIR.glob("0003_*.sql")), tmp_path)
    assert [m.name[:4] for m in migrate.migrate(empty_database_url, tmp_path)] == ["0003"]
    with psycopg.connect(empty_database_url) as conn:
        names = conn.execute("SELECT name FROM access_tokens ORDER BY name").fetchall()
        assert names == [("forever",), ("month",)]
        assert conn.execute("SELECT count(*) FROM rate_limits").fetchone() == (0,)
        key = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'rate_limits_pkey'"
        ).fetchone()
        assert key == ("PRIMARY KEY (key, window_size, window_start)",)
