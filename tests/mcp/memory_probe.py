"""Peak resident memory of a process during one action, for tests/mcp/test_mcp_memory.py.

``peak_mb`` resets the kernel's high-water mark (``/proc/<pid>/clear_refs``, "5") to
the current resident size, runs the action and reads ``VmHWM``: the peak above idle.

Run as ``python -m tests.mcp.memory_probe URL old|new SQL`` it measures one fetch in a
fresh process: ``new`` is plue_db.mcp.readonly's bounded path, ``old`` the fetch-all path
it replaced (a plain cursor, ``FETCHing max_rows + 1`` rows whatever their size), kept
here only as the negative control. It prints the peak in MB.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from plue_db.mcp import readonly
from tests.fixtures.fix_db import Conn

LIMITS = readonly.Limits(statement_timeout_ms=60_000)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"no {field} for process {pid}")


def peak_mb(pid: int, action: Callable[[], Any]) -> float:
    """How far above its resident size before ``action`` process ``pid`` peaked during it."""
    idle = _status_kb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    action()
    return (_status_kb(pid, "VmHWM") - idle) / 1024


def fetch_all(conn: Conn, text: str) -> list[Any]:
    """NEGATIVE CONTROL: the old path, every fetched row whole in memory."""
    conn.execute("BEGIN READ ONLY")
    try:
        with conn.cursor(name="plue_old_fetch") as cur:
            cur.execute(text.encode())
            return cur.fetchmany(LIMITS.max_rows + 1)
    finally:
        conn.execute("ROLLBACK")


def main(url: str, mode: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if mode == "old":
            peak = peak_mb(os.getpid(), lambda: fetch_all(conn, text))
        else:
            peak = peak_mb(os.getpid(), lambda: readonly.execute_readonly(conn, text, LIMITS))
    print(f"{peak:.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
