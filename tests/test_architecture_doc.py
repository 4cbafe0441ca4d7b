"""docs/architecture.md names every module as it is on disk, and every command: its
module tables have one row per module of src/plue_db and codegen/sqlc_gen_psycopg
(``__init__.py`` aside), so a module added, moved or removed fails here until the doc
says so; the diagram's command box lists every ``plue-db`` command."""

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


def commands() -> set[str]:
    parser = cli.build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_the_diagram_names_every_command() -> None:
    [box] = re.findall(r'tools\["plue-db: ([^"]+)"\]', DOC.read_text())
    assert set(box.split(", ")) == commands()
    assert "down" in commands()
