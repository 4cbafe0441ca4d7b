"""tests/README.md's table is tests/'s folders: one row per folder on disk, so a folder
added, renamed or removed fails here until the README says so, and every test module
sits in a folder of it, but the tests of the suite's own top-level modules (the runner
and the server plugin)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.paths import ROOT

TESTS = ROOT / "tests"
README = TESTS / "README.md"
ROW = re.compile(r"^\| `(\w+)/` \|", re.MULTILINE)
# Tests of tests/run_suites.py and tests/fix_server.py, which stay at the top with them.
TOP_LEVEL_TESTS = ["test_suite_selection.py"]


def folders(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}


def drift(text: str, root: Path) -> tuple[list[str], list[str]]:
    """(folders on disk the table misses, rows naming no folder on disk)."""
    rows = ROW.findall(text)
    assert len(rows) == len(set(rows)), "a folder listed twice"
    return sorted(folders(root) - set(rows)), sorted(set(rows) - folders(root))


def test_the_table_lists_exactly_the_folders_on_disk() -> None:
    assert drift(README.read_text(), TESTS) == ([], [])


def test_control_a_missing_and_a_stale_row_are_both_seen() -> None:
    text = README.read_text().replace("| `mcp/` |", "| `mcp_tool/` |")
    assert drift(text, TESTS) == (["mcp"], ["mcp_tool"])


def test_every_test_module_is_in_a_folder() -> None:
    assert sorted(p.name for p in TESTS.glob("test_*.py")) == TOP_LEVEL_TESTS
