"""The MCP ``query`` tool's memory stays bounded, measured on the real server process.

The server runs as a subprocess over stdio (the SDK's client); for each case its peak
resident memory above idle (VmHWM after a reset, tests/mcp/memory_probe.py) must stay under
BOUND_MB: one huge row, many big rows, and concurrent calls. NEGATIVE CONTROL: the old
fetch-all path, measured the same way in a fresh process, passes the bound on the same
statement, and the new path in the same harness does not.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from anyio.from_thread import start_blocking_portal
from mcp.client.session import ClientSession

from plue_db.mcp import reader_role
from tests.mcp.memory_probe import peak_mb
from tests.mcp.test_mcp import Client, connected, structured
from tests.paths import ROOT

BOUND_MB = 100
HUGE_ROWS = "SELECT repeat('x', 100000000) AS v FROM generate_series(1, 3)"
BIG_ROWS = "SELECT repeat('x', 50000000) AS v FROM generate_series(1, 20)"
SIZE_CAP = "size cap of 1000000 bytes"


def _server_pid() -> int:
    """The MCP server: a child of this process (any thread) running plue_db.mcp.server."""
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            if b"plue_db.mcp.server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
    raise LookupError("the MCP server subprocess is not running")


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[Client, int]]:
    env = {"DATABASE_URL": database_url, "PLUE_MCP_STATEMENT_TIMEOUT_MS": "60000"}
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connected(env)) as session,
    ):
        client = Client(portal, session)
        structured(client.call("query", sql="SELECT 1"))  # pool and imports warm
        yield client, _server_pid()


def test_one_huge_row_never_reaches_the_server_whole(server: tuple[Client, int]) -> None:
    client, pid = server
    answers: list[dict[str, Any]] = []
    peak = peak_mb(pid, lambda: answers.append(structured(client.call("query", sql=HUGE_ROWS))))
    assert answers[0]["rows"] == [] and answers[0]["truncated_reason"] == SIZE_CAP
    assert peak < BOUND_MB, peak


def test_many_big_rows_stay_bounded(server: tuple[Client, int]) -> None:
    client, pid = server
    answers: list[dict[str, Any]] = []
    peak = peak_mb(pid, lambda: answers.append(structured(client.call("query", sql=BIG_ROWS))))
    assert answers[0]["truncated_reason"] == SIZE_CAP
    assert peak < BOUND_MB, peak
    fits = structured(
        client.call("query", sql="SELECT repeat('y', 1900) FROM generate_series(1, 400)")
    )
    assert fits["row_count"] == 400 and fits["truncated"] is False


def test_concurrent_huge_calls_stay_bounded(server: tuple[Client, int]) -> None:
    client, pid = server
    results: list[types.CallToolResult] = []

    async def three(session: ClientSession) -> None:
        async def one() -> None:
            results.append(await session.call_tool("query", {"sql": HUGE_ROWS}))

        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(one)

    peak = peak_mb(pid, lambda: client.portal.call(three, client.session))
    assert [structured(r)["truncated_reason"] for r in results] == [SIZE_CAP] * 3
    assert peak < BOUND_MB, peak


def probe(url: str, mode: str, text: str) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "tests.mcp.memory_probe", url, mode, text],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return float(done.stdout)


def test_negative_control_the_old_fetch_all_path_passes_the_bound(database_url: str) -> None:
    url = reader_role.ensure_reader_role(database_url)
    assert probe(url, "old", HUGE_ROWS) > 2 * BOUND_MB
    assert probe(url, "new", HUGE_ROWS) < BOUND_MB
