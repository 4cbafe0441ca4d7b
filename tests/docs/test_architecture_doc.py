"""docs/architecture.md names every module as it is on disk, and every command: its
module tables have one row per module of src/plue_db and codegen/sqlc_gen_psycopg
(``__init__.py`` aside), so a module added, moved or removed fails here until the doc
says so; the runtime's folder table is src/plue_db's folders, each module row under its
folder's heading; the diagram's command box lists every ``plue-db`` command."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from plue_db import cli
from tests.paths import ROOT

DOC = ROOT / "docs" / "architecture.md"
PACKAGES = {
    "## The plugin's modules (codegen/sqlc_gen_psycopg)": ROOT / "codegen" / "sqlc_gen_psycopg",
    "## The plugin's runtime (codegen/runtime/sqlc_gen_psycopg_runtime)": ROOT
    / "codegen"
    / "runtime"
    / "sqlc_gen_psycopg_runtime",
    "## The runtime beside it (src/plue_db)": ROOT / "src" / "plue_db",
}
ROW = re.compile(r"^\| `([\w/]+\.py)` \|", re.MULTILINE)


def on_disk(package: Path) -> set[str]:
    return {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and "templates" not in path.parts
    }


def listed(text: str, heading: str) -> list[str]:
    """The modules of the table under ``heading`` (up to the next heading)."""
    section = text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    return ROW.findall(section)


def drift(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """Per section: (modules on disk it misses, rows naming no module on disk)."""
    found = {}
    for heading, package in PACKAGES.items():
        rows, disk = listed(text, heading), on_disk(package)
        assert len(rows) == len(set(rows)), f"{heading}: a module listed twice"
        found[heading] = (sorted(disk - set(rows)), sorted(set(rows) - disk))
    return found


def test_the_module_tables_list_exactly_the_modules_on_disk() -> None:
    assert all(drift(DOC.read_text())[h] == ([], []) for h in PACKAGES), drift(DOC.read_text())


def test_control_a_missing_and_a_stale_row_are_both_seen() -> None:
    text = DOC.read_text().replace("| `servers/pidfile.py` |", "| `servers/pidfiles.py` |")
    heading = "## The runtime beside it (src/plue_db)"
    assert drift(text)[heading] == (["servers/pidfile.py"], ["servers/pidfiles.py"])
    # a module listed at its old place, before the move into servers/, is stale too
    text = DOC.read_text().replace("| `servers/pidfile.py` |", "| `pidfile.py` |")
    assert drift(text)[heading] == (["servers/pidfile.py"], ["pidfile.py"])


RUNTIME = "## The runtime beside it (src/plue_db)"
FOLDER_ROW = re.compile(r"^\| \[`([\w/.]+)`\]", re.MULTILINE)
SUBSECTION = re.compile(r"^### `([\w/.]+)`", re.MULTILINE)


def folders(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """The runtime's folder table (``./`` and one row per sub-package), and the module
    rows under each folder's ``###`` heading."""
    section = text.split(RUNTIME + "\n", 1)[1].split("\n## ", 1)[0]
    overview, *parts = SUBSECTION.split(section)
    grouped = {
        folder: ROW.findall(body) for folder, body in zip(parts[::2], parts[1::2], strict=True)
    }
    return FOLDER_ROW.findall(overview), grouped


def folder_drift(text: str) -> list[str]:
    """What keeps the folder table from being the tree: a folder missing or extra, a
    folder without its heading, a module row under another folder's heading."""
    package = PACKAGES[RUNTIME]
    tree = ["./", *sorted(f"{d.name}/" for d in package.iterdir() if (d / "__init__.py").is_file())]
    table, grouped = folders(text)
    problems = [f"folder table {sorted(table)} != tree {tree}"] if sorted(table) != tree else []
    problems += [f"no ### heading for {f}" for f in tree if f not in grouped]
    for folder, rows in grouped.items():
        prefix = "" if folder == "./" else folder
        problems += [
            f"{row} under {folder}"
            for row in rows
            if not row.startswith(prefix) or "/" in row[len(prefix) :]
        ]
    return problems


def test_the_runtime_folder_table_is_the_tree() -> None:
    assert folder_drift(DOC.read_text()) == []


def test_control_a_misplaced_row_and_a_missing_folder_are_seen() -> None:
    text = DOC.read_text()
    moved = text.replace("| `servers/scratch.py` |", "| `servers/scratchy.py` |").replace(
        "| `schema/reset.py` |", "| `servers/reset.py` |"
    )
    assert "servers/reset.py under schema/" in folder_drift(moved)
    no_mcp = text.replace("| [`mcp/`]", "| [`mcp`]")
    assert any(p.startswith("folder table") for p in folder_drift(no_mcp))


def commands() -> set[str]:
    parser = cli.build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_the_diagram_names_every_command() -> None:
    [box] = re.findall(r'tools\["plue-db: ([^"]+)"\]', DOC.read_text())
    assert set(box.split(", ")) == commands()
    assert "down" in commands()
