"""The MCP ``query`` tool's errors speak of the user's own SQL: a server error's caret
sits under the text the user sent (not inside the DECLARE that carries it), and a
refused statement is named by its SQL keyword, not by the parser's class name."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from plue_db.mcp import readonly, sql_guard
from plue_db.mcp.readonly import Limits, QueryError, QueryRefusedError
from tests.fixtures.fix_db import Conn


@pytest.fixture(scope="module")
def reader_limits() -> Limits:
    return Limits(statement_timeout_ms=2000, lock_timeout_ms=500)


@pytest.fixture(scope="module")
def reader_conn(reader_url: str) -> Iterator[Conn]:
    with psycopg.connect(reader_url, autocommit=True) as conn:
        yield conn


def error_of(executor: readonly.ReadonlyExecutor, text: str) -> str:
    with pytest.raises(QueryError) as caught:
        executor.query(text)
    return str(caught.value)


def test_a_server_error_points_into_the_users_text(executor: readonly.ReadonlyExecutor) -> None:
    assert error_of(executor, "SELECT * FROM gadgets") == (
        'PostgreSQL error: relation "gadgets" does not exist\n'
        "LINE 1: SELECT * FROM gadgets\n"
        "                      ^"
    )
    assert error_of(executor, "SELECT 1\nFROM (SELECT 2) AS s\nWHERE nope > 0") == (
        'PostgreSQL error: column "nope" does not exist\nLINE 3: WHERE nope > 0\n              ^'
    )


def test_lines_are_counted_in_what_the_user_sent(executor: readonly.ReadonlyExecutor) -> None:
    """Leading comments are not sent to the server, yet the line numbers count them."""
    assert error_of(executor, "-- café, all of them\nSELECT *\n  FROM gadgets") == (
        'PostgreSQL error: relation "gadgets" does not exist\n'
        "LINE 3:   FROM gadgets\n"
        "               ^"
    )


def test_detail_and_hint_are_kept(executor: readonly.ReadonlyExecutor) -> None:
    message = error_of(executor, "SELECT lenght('x')")
    assert message.startswith(
        "PostgreSQL error: function lenght(unknown) does not exist\n"
        "LINE 1: SELECT lenght('x')\n"
        "               ^\n"
        "HINT:  No function matches"
    ), message


def test_an_error_without_a_position_in_the_text_has_no_caret(
    executor: readonly.ReadonlyExecutor,
) -> None:
    assert error_of(executor, "SELECT 1 / 0") == "PostgreSQL error: division by zero"


def test_control_psycopgs_own_text_shows_the_declare(reader_conn: Conn) -> None:
    """The old message was str(exc): the caret sat inside a DECLARE the user never wrote."""
    probe = reader_conn.cursor(name=readonly.PROBE_CURSOR)
    with reader_conn.transaction(), pytest.raises(psycopg.errors.UndefinedTable) as caught:
        probe.execute(b"SELECT * FROM gadgets")
    old = str(caught.value)
    assert f"LINE 1: {readonly.PROBE_PREFIX}SELECT * FROM gadgets" in old
    assert readonly.server_words(caught.value, "SELECT * FROM gadgets", None) == (
        'relation "gadgets" does not exist'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DELETE FROM users", "DELETE is not allowed: "),
        ("WITH x AS (SELECT 1) UPDATE users SET id = 1", "UPDATE is not allowed: "),
        ("-- tidy up\nDROP TABLE users", "DROP is not allowed: "),
        ("insert into users values (1)", "INSERT is not allowed: "),
        (
            "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
            "DELETE inside the query is not allowed: ",
        ),
    ],
)
def test_a_refused_statement_is_named_in_sql_words(text: str, message: str) -> None:
    with pytest.raises(QueryRefusedError) as caught:
        sql_guard.check_statement(text)
    assert str(caught.value) == message + sql_guard.READS_ONLY
    assert "Stmt" not in str(caught.value)


def test_control_the_parsers_name_for_delete_is_a_class_name() -> None:
    """What the old message printed: pglast's node class."""
    import pglast

    [raw] = pglast.parse_sql("DELETE FROM users")
    assert type(raw.stmt).__name__ == "DeleteStmt"
