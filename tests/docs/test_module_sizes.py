"""Modules with one job each (issue 21): no hand-written module passes 700 lines, and one
over 400 says at the top why it is one module ("Over 400 lines on purpose: ...")."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT

HAND_WRITTEN = (ROOT / "src", ROOT / "codegen" / "sqlc_gen_psycopg", ROOT / "codegen" / "runtime")
LIMIT = 700
EXPLAIN_ABOVE = 400
WHY = "Over 400 lines on purpose:"


def modules() -> dict[Path, str]:
    return {
        path: path.read_text()
        for root in HAND_WRITTEN
        for path in root.rglob("*.py")
        if "templates" not in path.parts
    }


def offenders(sources: dict[Path, str]) -> list[str]:
    """Each module too long, or long without saying why, as ``path: lines``."""
    found = []
    for path, text in sources.items():
        lines = len(text.splitlines())
        doc = ast.get_docstring(ast.parse(text)) or ""
        if lines > LIMIT or (lines > EXPLAIN_ABOVE and WHY not in doc):
            found.append(f"{path.relative_to(ROOT)}: {lines}")
    return found


def test_no_module_is_too_long_or_long_without_a_reason() -> None:
    assert offenders(modules()) == []


def test_control_a_long_module_without_its_reason_is_named() -> None:
    sources = modules()
    routing = ROOT / "src" / "plue_db" / "routing.py"
    assert WHY in sources[routing]
    sources[routing] = sources[routing].replace(WHY, "Long:")
    assert offenders(sources) == [f"src/plue_db/routing.py: {len(sources[routing].splitlines())}"]
    sources[routing] += "\n" * LIMIT
    assert len(offenders(sources)) == 1
