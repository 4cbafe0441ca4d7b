"""Which statements get an ``iter_*`` stream (codegen cursors.py), table-driven; each
verdict is checked against PostgreSQL's own DECLARE, in a transaction and WITH HOLD."""

from __future__ import annotations

import psycopg
import pytest
from sqlc_gen_psycopg.cursors import Cursor, cursor_for

from tests.fixtures.fix_db import Conn

CASES: list[tuple[str, Cursor]] = [
    ("SELECT relname FROM pg_class", Cursor.ANY),
    ("VALUES (1), (2)", Cursor.ANY),
    ("SELECT 1 UNION ALL SELECT 2", Cursor.ANY),
    ("WITH c AS (SELECT 1 AS n) SELECT n FROM c", Cursor.ANY),
    ("SELECT * FROM (SELECT relname FROM pg_class FOR UPDATE) s", Cursor.ANY),
    ("SELECT relname FROM pg_class FOR UPDATE", Cursor.IN_TRANSACTION),
    ("SELECT relname FROM pg_class FOR KEY SHARE SKIP LOCKED", Cursor.IN_TRANSACTION),
    ("WITH d AS (DELETE FROM probe RETURNING n) SELECT n FROM d", Cursor.NONE),
    ("WITH d AS (INSERT INTO probe VALUES (1) RETURNING n) SELECT n FROM d", Cursor.NONE),
    ("INSERT INTO probe VALUES (1) RETURNING n", Cursor.NONE),
    ("UPDATE probe SET n = 2 RETURNING n", Cursor.NONE),
    ("DELETE FROM probe RETURNING n", Cursor.NONE),
    ("SELECT 1 INTO probe_copy", Cursor.NONE),
]


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[c[0] for c in CASES])
def test_verdict_is_what_postgresql_declares(conn: Conn, sql: str, expected: Cursor) -> None:
    assert cursor_for(sql) is expected
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS probe (n int)")
    outcomes = []
    for hold in ("WITHOUT HOLD", "WITH HOLD"):
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(f"DECLARE c NO SCROLL CURSOR {hold} FOR {sql}".encode())
            outcomes.append(True)
        except (psycopg.errors.FeatureNotSupported, psycopg.errors.SyntaxError):
            outcomes.append(False)
    declares = {Cursor.ANY: [True, True], Cursor.IN_TRANSACTION: [True, False]}
    assert outcomes == declares.get(expected, [False, False])


def test_unparsable_sql_gets_no_stream() -> None:
    assert cursor_for("SELECT FROM WHERE") is Cursor.NONE
    assert cursor_for("SELECT 1; SELECT 2") is Cursor.NONE
