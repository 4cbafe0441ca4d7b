"""A failed database-backed run's errors, each at its own place, with its query.

sqlc runs again statically, writing only its request (``gen: json``). An error that run
reports too is shown at sqlc's static place. One only PostgreSQL sees is relocated from
the request, which holds each query as sqlc sent it to PostgreSQL (locations.relocate);
when the static run fails on other queries, it runs once more on copies of the query
files with those queries blanked, so the request exists.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlc_gen_psycopg.analysis import locations
from sqlc_gen_psycopg.analysis.configs import requesting, run_sqlc, temporary_config
from sqlc_gen_psycopg.analysis.locations import Located

FALLBACK = (
    "PostgreSQL's analysis refuses what sqlc's static analysis accepts: a function, type "
    "or table the queries use is not in the `schema:` files (add its file there), or the "
    "query is wrong in a way only PostgreSQL sees. To generate with sqlc's static "
    "analysis instead (its guesses for uncast expressions): sqlc-gen-psycopg-db generate "
    "--static, or a plain `sqlc generate`."
)
Rewritten = dict[tuple[str, str], tuple[str, str]]


def explain(config: Path, settings: dict[str, Any], urls: dict[int, str], output: str) -> str:
    """Every error of ``output`` (the database-backed run's) at its place, one per line,
    then sqlc's other lines; the static fallback named when only PostgreSQL refuses."""
    errors, other = locations.parse_errors(output)
    if not errors:
        return output.strip()  # the plugin's own errors, or sqlc's about its configuration
    found, rewritten = static_run(config, settings, urls, [])
    both = [e for e in found if any(same(e, error) for error in errors)]
    only = [e for e in errors if not any(same(e, static) for static in found)]
    if found and only:
        _, rewritten = static_run(config, settings, urls, found)
    moved = [locations.relocate(e, config.parent, rewritten) for e in only]
    unplaced = [
        f"{e.path}: {e.message} (PostgreSQL's analysis; sqlc reports it at {e.line}:"
        f"{e.column}, which need not be its place)"
        for e, m in zip(only, moved, strict=True)
        if m is None
    ]
    fallback = [] if found else [FALLBACK]
    return report(config, [*both, *(m for m in moved if m)], [*unplaced, *other, *fallback])


def same(one: Located, other: Located) -> bool:
    return (one.path, one.message) == (other.path, other.message)


def static_run(
    config: Path, settings: dict[str, Any], urls: dict[int, str], without: list[Located]
) -> tuple[list[Located], Rewritten]:
    """sqlc's static run, writing only its request: its errors, else each query as sqlc
    sends it (with the URL of the database its entry was analysed on). The queries at
    ``without``'s places are blanked first, in copies of the query files."""
    with tempfile.TemporaryDirectory(prefix="sqlc-gen-psycopg-request-") as tmp:
        dump = requesting(settings, config, Path(tmp) / "out")
        if without:
            blank_queries(dump, config, Path(tmp) / "queries", without)
        with temporary_config(config, dump) as path:
            done = run_sqlc(path, {})
        if done.returncode != 0:
            return locations.parse_errors(done.stdout + done.stderr)[0], {}
        return [], locations.queries_in(
            (json.loads((Path(tmp) / "out" / str(index) / "request.json").read_text()), url)
            for index, url in urls.items()
        )


def blank_queries(dump: dict[str, Any], config: Path, into: Path, without: list[Located]) -> None:
    """Point each entry of ``dump`` at copies of its query files (under ``into``) in
    which the queries holding an error of ``without`` are blanked."""
    failing = [((config.parent / e.path).resolve(), e) for e in without]
    for number, entry in enumerate(dump["sql"]):
        queries = entry.get("queries")
        names = [queries] if isinstance(queries, str) else list(queries or [])
        entry["queries"] = [
            os.path.relpath(
                copy_queries(config.parent / name, into / str(number) / str(i), failing),
                config.parent,
            )
            for i, name in enumerate(names)
        ]


def copy_queries(source: Path, target: Path, failing: list[tuple[Path, Located]]) -> Path:
    """A copy of a query file or folder in ``target`` without the queries that hold a
    failing error; the path to give sqlc."""
    files = sorted(source.glob("*.sql")) if source.is_dir() else [source]
    target.mkdir(parents=True)
    for file in files:
        text = file.read_text(encoding="utf-8")
        at = [locations.offset(text, e.line, e.column) for p, e in failing if p == file.resolve()]
        queries = {locations.enclosing(text, offset) for offset in at}
        for query in (q for q in queries if q is not None):
            text = query.blanked(text)  # positions are kept, so the others still hold
        (target / file.name).write_text(text)
    return target if source.is_dir() else target / source.name


def report(config: Path, errors: list[Located], other: list[str]) -> str:
    """Each located error with the query it is in, then the other lines."""
    return "\n".join([*(locations.name_query(e, config.parent) for e in errors), *other])
