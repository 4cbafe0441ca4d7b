"""The MCP server as a client sees it: started over stdio by the SDK's own client.

Each test launches ``python -m plue_db.mcp.server`` against the test database (with
schema.sql), so the tools are checked through the real protocol, process and login.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import psycopg
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from plue_db.mcp import reader_role, stats
from tests.fixtures.fix_db import Conn

TOOLS = {"query", "list_tables", "describe_table", "find_user", "db_stats"}


SERVER = ["-m", "plue_db.mcp.server"]


@asynccontextmanager
async def connected(env: dict[str, str]) -> AsyncIterator[ClientSession]:
    """Start the server as a subprocess and open an initialised client session to it."""
    params = StdioServerParameters(command=sys.executable, args=SERVER, env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@dataclass
class Client:
    """Synchronous calls into one server process shared by the module's tests."""

    portal: BlockingPortal
    session: ClientSession

    def call(self, tool: str, **arguments: Any) -> types.CallToolResult:
        result: types.CallToolResult = self.portal.call(self.session.call_tool, tool, arguments)
        return result

    def list_tools(self) -> types.ListToolsResult:
        return self.portal.call(self.session.list_tools)


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[Client]:
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            connected({"DATABASE_URL": database_url, "PLUE_MCP_STATEMENT_TIMEOUT_MS": "2000"})
        ) as session,
    ):
        yield Client(portal, session)


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, error_text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: types.CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.fixture
def tester(database_url: str) -> Iterator[tuple[str, int]]:
    """A committed user owning two repositories (the server sees only committed rows)."""
    username = f"McpTester_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO users (username, email) VALUES (%s, %s) RETURNING id",
            (username, f"{username.lower()}@example.com"),
        ).fetchone()
        assert row is not None
        for name in ("alpha", "beta"):
            conn.execute(
                "INSERT INTO repositories (owner_id, name) VALUES (%s, %s)", (row[0], name)
            )
        yield username, row[0]
        conn.execute("DELETE FROM users WHERE id = %s", (row[0],))


def test_lists_the_five_read_only_tools(client: Client) -> None:
    tools = {tool.name: tool for tool in client.list_tools().tools}
    assert set(tools) == TOOLS
    assert tools["query"].input_schema["required"] == ["sql"]
    assert tools["describe_table"].input_schema["required"] == ["table"]
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())


def test_query_returns_columns_and_rows(client: Client, tester: tuple[str, int]) -> None:
    username, user_id = tester
    values = structured(client.call("query", sql="VALUES (1, 'one'), (2, 'two')"))
    assert values["columns"] == ["column1", "column2"]
    assert values["rows"] == [[1, "one"], [2, "two"]]
    assert values["row_count"] == 2 and values["truncated"] is False
    sql = f"SELECT id, username, created_at FROM users WHERE id = {user_id}"
    users = structured(client.call("query", sql=sql))
    assert users["columns"] == ["id", "username", "created_at"]
    [[found_id, found_name, created_at]] = users["rows"]
    assert (found_id, found_name) == (user_id, username)
    assert isinstance(created_at, str) and created_at.startswith("20")


def test_write_through_query_is_refused_and_nothing_is_written(
    client: Client, database_url: str, tester: tuple[str, int]
) -> None:
    username, user_id = tester
    attempts = [
        "INSERT INTO users (username) VALUES ('mcp_mallory')",
        f"UPDATE users SET username = 'mcp_mallory' WHERE id = {user_id}",
        f"COMMIT; DELETE FROM users WHERE id = {user_id}",
        f"WITH d AS (DELETE FROM repositories WHERE owner_id = {user_id} RETURNING 1)"
        " SELECT * FROM d",
        "SELECT set_config('transaction_read_only', 'off', false)",
        "DROP TABLE repositories",
        f"SELECT * FROM users WHERE id = {user_id} FOR UPDATE",
    ]
    for sql in attempts:
        result = client.call("query", sql=sql)
        assert result.is_error, sql
        message = error_text(result)
        assert "not allowed" in message or "exactly one statement" in message, message
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT u.username, (SELECT count(*) FROM repositories WHERE owner_id = u.id),"
            " (SELECT count(*) FROM users WHERE username = 'mcp_mallory')"
            " FROM users u WHERE u.id = %s",
            (user_id,),
        ).fetchone()
    assert row == (username, 2, 0)


def test_runaway_query_is_cut_off_by_the_timeout(client: Client) -> None:
    started = time.monotonic()
    runaway = client.call(
        "query", sql="SELECT count(*) FROM generate_series(1, 1e5) a, generate_series(1, 1e5) b"
    )
    elapsed = time.monotonic() - started
    assert runaway.is_error
    assert "statement timeout" in error_text(runaway)
    assert elapsed < 5, elapsed
    assert structured(client.call("query", sql="SELECT 42 AS answer"))["rows"] == [[42]]


def test_many_fetches_share_one_deadline(client: Client) -> None:
    """Issue 17's query, four times heavier: each FETCH of 50 rows stays far under the
    2 s limit, the whole would take many seconds (tests/mcp/test_readonly_query.py has the
    per-fetch control)."""
    started = time.monotonic()
    slow = client.call(
        "query",
        sql="SELECT g, (SELECT count(*) FROM generate_series(1, 600 + g * 0) a,"
        " generate_series(1, 600) b) FROM generate_series(1, 500) g",
    )
    elapsed = time.monotonic() - started
    assert slow.is_error
    assert error_text(slow).endswith(
        ": query cancelled by its time limit: canceling statement due to statement timeout"
    )
    assert elapsed < 3, elapsed


def test_huge_result_is_truncated(client: Client) -> None:
    result = structured(client.call("query", sql="SELECT generate_series(1, 100000000)"))
    assert result["row_count"] == 500 and result["truncated"] is True
    assert result["rows"][-1] == [500]


def test_bad_input_to_every_tool_gets_a_message_naming_it(client: Client) -> None:
    """Not the SDK's bare "Error executing tool <name>": the message says what is wrong."""
    cases = [
        ("query", {"sql": "SELECT 1\x00; DROP TABLE users"}, "the query contains a NUL byte"),
        ("query", {"sql": "SELECT " + "+".join(["1"] * 20_000)}, "too deeply nested or complex"),
        ("query", {"sql": "SELECT pg_advisory_xact_lock(1)"}, "pg_advisory_xact_lock(bigint)"),
        ("query", {"sql": "SELECT txid_current()"}, "txid_current() is not allowed"),
        ("query", {"sql": "SELECT rolpassword FROM pg_authid"}, "permission denied for table"),
        ("describe_table", {"table": "users\x00"}, "table contains a NUL byte"),
        ("find_user", {"username": "a\x00b"}, "username contains a NUL byte"),
    ]
    for tool, arguments, expected in cases:
        result = client.call(tool, **arguments)
        assert result.is_error, (tool, arguments)
        assert expected in error_text(result), (tool, error_text(result))
    assert structured(client.call("query", sql="SELECT 1 AS still_serving"))["rows"] == [[1]]


def test_unknown_table_gives_a_clear_error(client: Client) -> None:
    result = client.call("describe_table", table="userz")
    assert result.is_error
    message = error_text(result)
    assert "no table named 'userz' in schema 'public'" in message
    assert "did you mean users" in message


def test_describe_table_shows_columns_constraints_indexes_and_keys(client: Client) -> None:
    info = structured(client.call("describe_table", table="repositories"))
    assert info["table"] == "public.repositories"
    columns = {c["name"]: c for c in info["columns"]}
    assert columns["owner_id"]["type"] == "bigint" and columns["owner_id"]["nullable"] is False
    assert columns["default_branch"]["default"] == "'main'::text"
    assert columns["id"]["identity"] == "always"
    kinds = {c["kind"] for c in info["constraints"]}
    assert {"primary key", "foreign key", "check"} <= kinds
    assert any(i["primary"] and i["unique"] for i in info["indexes"])
    owner_key = next(fk for fk in info["foreign_keys"] if fk["columns"] == ["owner_id"])
    assert owner_key["references"] == "users" and owner_key["referenced_columns"] == ["id"]
    assert owner_key["on_delete"] == "cascade"


def test_find_user_finds_a_user_case_insensitively(client: Client, tester: tuple[str, int]) -> None:
    username, user_id = tester
    user = structured(client.call("find_user", username=username.upper()))
    assert (user["id"], user["username"], user["repositories"]) == (user_id, username, 2)
    assert user["email"] == f"{username.lower()}@example.com"
    missing = client.call("find_user", username="nobody_" + username)
    assert missing.is_error and f"no user named 'nobody_{username}'" in error_text(missing)


def test_list_tables_and_db_stats_return_sane_numbers(
    client: Client, database_url: str, tester: tuple[str, int]
) -> None:
    tables = {t["table"]: t for t in structured(client.call("list_tables"))["tables"]}
    assert {"users", "repositories"} <= set(tables)
    assert tables["users"]["total_bytes"] > 0 and tables["users"]["row_estimate"] >= 0
    stats = structured(client.call("db_stats"))
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT current_database(), current_setting('server_version'),"
            " pg_database_size(current_database())"
        ).fetchone()
    assert row is not None
    assert (stats["database"], stats["server_version"]) == row[:2]
    assert 0.5 * row[2] < stats["size_bytes"] < 2 * row[2]
    assert stats["cache_hit_ratio"] is None or 0 <= stats["cache_hit_ratio"] <= 1
    assert stats["connections"].get("active", 0) >= 1
    assert stats["connections"].get("not visible", 0) >= 1  # this test's own superuser session
    assert stats["uptime_seconds"] >= 0
    assert stats["table_count"] == len(tables)
    assert 0 < len(stats["largest_tables"]) <= 10


def test_a_dedicated_reader_login_is_used_as_given(database_url: str) -> None:
    """With PLUE_MCP_DATABASE_URL the server never touches DATABASE_URL (here unreachable)."""
    env = {
        "PLUE_MCP_DATABASE_URL": reader_role.ensure_reader_role(database_url),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    }

    async def ask(session: ClientSession) -> types.CallToolResult:
        return await session.call_tool("query", {"sql": "SELECT session_user::text"})

    async def run() -> types.CallToolResult:
        async with connected(env) as session:
            return await ask(session)

    with start_blocking_portal() as portal:
        result = portal.call(run)
    assert structured(result)["rows"] == [[reader_role.READER_ROLE]]


def test_an_unsafe_login_stops_the_server_with_a_clear_reason(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, *SERVER],
        env={"PLUE_MCP_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "login 'postgres' is a superuser" in done.stderr


def test_stats_render_prints_readable_tables(conn: Conn) -> None:
    collected = stats.collect(conn)
    text = stats.render(collected)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert any(line.startswith("database") and collected["database"] in line for line in lines)
    largest = collected["largest_tables"][0]["table"]
    assert any(line.split()[:1] == [largest] for line in lines)
    assert "cache hit ratio" in text and "connection state" in text
