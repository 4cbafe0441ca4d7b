"""``sqlc-gen-psycopg-db generate``: sqlc with its database-backed analysis, set up and
torn down around one run.

sqlc 1.31 PREPAREs each query on the server a ``database: {uri: ...}`` entry names,
but does not load the schema there. So each PostgreSQL entry of the project's
configuration gets a scratch database with that entry's schema files, a temporary copy
of the configuration (configs.py) points each entry at its database through an
environment variable, sqlc runs, and then the copy and the databases go, whatever
happened. sqlc writes nothing when any query fails; its errors are then put back at
their place (explain.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlc_gen_psycopg.analysis import locations
from sqlc_gen_psycopg.analysis.configs import (
    analysed,
    run_sqlc,
    static,
    temporary_config,
    variable,
)
from sqlc_gen_psycopg.analysis.explain import explain, report
from sqlc_gen_psycopg.analysis.project import entry_schema, is_postgresql, read_config
from sqlc_gen_psycopg.analysis.scratch import scratch_database

# Scratch database names start with this (then the pid), so leftovers are findable.
PREFIX = "sqlc_gen_psycopg"


class SqlcError(Exception):
    """sqlc refused the project; the message is every error at its place, one per line."""


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
