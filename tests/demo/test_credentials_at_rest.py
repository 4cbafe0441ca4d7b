"""Credentials at rest: after a full demo run, no session key or access token the demo
handed out appears in any text, varchar, bytea or json column of any table.

The scanner finds the columns in the catalog and searches each with one parameterized
query; a planted-secret control proves it finds what it is looking for in every kind
of column, so a clean scan means something.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg
import pytest
from psycopg import sql

from plue_db.demo import scenario
from plue_db.schema import migrate
from plue_db.values import sha256_hex
from tests.fixtures.fix_db import Conn

# Columns whose type (or domain base type, or array element type) holds text or bytes.
TEXT_COLUMNS = """
SELECT c.relname, a.attname, b.typname = 'bytea'
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND (b.typcategory = 'S' OR b.typname IN ('json', 'jsonb', 'bytea')
       OR e.typcategory = 'S' OR e.typname IN ('json', 'jsonb'))
ORDER BY c.relname, a.attnum
"""


def text_columns(conn: Conn) -> list[tuple[str, str, bool]]:
    """(table, column, is_bytea) for every text-like column of the public schema."""
    return [(t, c, b) for t, c, b in conn.execute(TEXT_COLUMNS)]


def find(conn: Conn, needles: Sequence[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every needle found inside some value of a column."""
    found: set[tuple[str, str, str]] = set()
    for table, column, is_bytea in text_columns(conn):
        match = (
            sql.SQL("position(convert_to(s, 'UTF8') IN {}) > 0")
            if is_bytea
            else sql.SQL("strpos({}::text, s) > 0")
        ).format(sql.Identifier(column))
        query = sql.SQL(
            "SELECT s FROM unnest(%s::text[]) AS s WHERE EXISTS (SELECT 1 FROM {} WHERE {})"
        ).format(sql.Identifier(table), match)
        found |= {(table, column, s) for (s,) in conn.execute(query, (list(needles),))}
    return found


@pytest.fixture
def demo_run(empty_database_url: str) -> Iterator[tuple[Conn, scenario.DemoResult]]:
    """A migrated database after one full demo run, and what the demo handed out."""
    migrate.migrate(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        result = scenario.run(conn, say=lambda _: None)
        yield conn, result
        conn.rollback()


def test_no_plaintext_session_key_or_access_token_is_stored(
    demo_run: tuple[Conn, scenario.DemoResult],
) -> None:
    conn, result = demo_run
    columns = {(t, c) for t, c, _ in text_columns(conn)}
    # The scan covers the credential tables and every kind of text-like column.
    assert {
        ("auth_sessions", "session_key_hash"),
        ("auth_sessions", "user_agent"),
        ("access_tokens", "token_hash"),
        ("access_tokens", "token_last_eight"),
        ("access_tokens", "scopes"),
        ("workflow_runs", "inputs"),
        ("workflow_logs", "content"),
        ("users", "bio"),
    } <= columns
    assert len(columns) > 100
    key, token = result.credentials
    assert len(key) >= 32 and len(token) >= 32

    assert find(conn, result.credentials) == set()
    # What is stored instead: the sha256 digests, exactly where they belong.
    assert find(conn, [sha256_hex(key), sha256_hex(token)]) == {
        ("auth_sessions", "session_key_hash", sha256_hex(key)),
        ("access_tokens", "token_hash", sha256_hex(token)),
    }
    assert result.session.session_key_hash == sha256_hex(key)


def test_scan_finds_a_planted_secret_in_every_kind_of_column(
    demo_run: tuple[Conn, scenario.DemoResult],
) -> None:
    """Negative control: a secret written in plain text is found, whatever the type."""
    conn, result = demo_run
    key, token = result.credentials
    conn.execute(
        "UPDATE users SET bio = %s WHERE id = %s", (f"my token is {token}!", result.user.id)
    )
    conn.execute("CREATE DOMAIN probe_text AS text")
    conn.execute(
        "CREATE TABLE leak_probe (v varchar(200), b bytea, j jsonb, a text[], d probe_text)"
    )
    conn.execute(
        "INSERT INTO leak_probe VALUES (%s, %s, %s::jsonb, %s, %s)",
        (
            f"v:{key}",
            f"bytes:{token}".encode(),
            f'{{"cookie": "{key}"}}',
            ["x", f"a:{token}"],
            f"d:{key}",
        ),
    )
    assert find(conn, result.credentials) == {
        ("users", "bio", token),
        ("leak_probe", "v", key),
        ("leak_probe", "b", token),
        ("leak_probe", "j", key),
        ("leak_probe", "a", token),
        ("leak_probe", "d", key),
    }
