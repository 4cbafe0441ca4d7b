"""Running sqlc with our plugin on a fixture directory, for the generator tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
GOLDEN = Path(__file__).parent / "golden"


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


def copy_fixture(name: str, dest: Path) -> Path:
    """A fixture's inputs (not its expected output) copied into ``dest``.

    The project's pyproject.toml goes alongside, so the plugin formats with the same
    ruff settings as in the repository.
    """
    shutil.copy(GOLDEN.parents[1] / "pyproject.toml", dest / "pyproject.toml")
    target = dest / name
    shutil.copytree(GOLDEN / name, target, ignore=shutil.ignore_patterns("expected"))
    return target


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".py", ".typed", ".json")
    }
