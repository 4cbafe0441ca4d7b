"""Throw-away databases: a unique name on the given server, always dropped afterwards.

The drift check, the test fixtures and the benchmarks all need a database nobody else
writes to. The plugin's ``sqlc_gen_psycopg.analysis.scratch`` makes them (from
template0, so nothing an operator added to template1 leaks in) and loads schema files as
sqlc reads them; imported when used (the codegen extra), so that the CLI, which imports
this module for SchemaError, loads without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SchemaError(Exception):
    """A schema file is missing or does not load into an empty database."""


def load_schema(url: str, schema: Path) -> None:
    """Run a schema file in the database at ``url``, as sqlc reads it (psql
    meta-commands blanked, a migration's rollback section cut off)."""
    from sqlc_gen_psycopg.analysis.scratch import SchemaError as Refused
    from sqlc_gen_psycopg.analysis.scratch import load_schema as load

    try:
        load(url, schema)
    except Refused as exc:
        raise SchemaError(str(exc)) from exc


@contextmanager
def scratch_database(
    server_url: str, *, prefix: str = "plue_scratch", schema: Path | None = None
) -> Iterator[str]:
    """A new database named ``<prefix>_<pid>_<random>``, with ``schema`` loaded if given;
    yields its URL and drops it on exit, whatever happens."""
    from sqlc_gen_psycopg.analysis.scratch import scratch_database as scratch

    with scratch(server_url, prefix=prefix) as url:
        if schema is not None:
            load_schema(url, schema)
        yield url
