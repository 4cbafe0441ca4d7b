"""Throw-away databases: a unique name on the given server, always dropped afterwards.

The drift check, the test fixtures and the benchmarks all need a database nobody else
writes to. Each is created from template0, so nothing an operator added to template1
on a shared server leaks into what we compare or measure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from plue_db import config


class SchemaError(Exception):
    """A schema file is missing or does not load into an empty database."""


def load_schema(url: str, schema: Path) -> None:
    """Run a schema file (several statements) in the database at ``url``, as sqlc reads
    it: psql meta-commands (pg_dump's ``\\restrict``, ``\\connect``), which the server
    can't run, blanked and a migration's rollback section cut off."""
    if not schema.is_file():
        raise SchemaError(f"{schema} does not exist")
    # the codegen extra: imported here so that the CLI, which imports this module for
    # SchemaError, loads without it
    from sqlc_gen_psycopg.schema_info import as_sqlc_reads

    text = as_sqlc_reads(schema.read_text(encoding="utf-8"))
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(text.encode())
        except psycopg.Error as exc:
            reason = exc.diag.message_primary or str(exc).strip()
            raise SchemaError(f"{schema} does not load into an empty database: {reason}") from exc


@contextmanager
def scratch_database(
    server_url: str, *, prefix: str = "plue_scratch", schema: Path | None = None
) -> Iterator[str]:
    """A new database named ``<prefix>_<pid>_<random>``, with ``schema`` loaded if given;
    yields its URL and drops it on exit, whatever happens."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(name)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(ident))
    try:
        url = config.with_database(server_url, name)
        if schema is not None:
            load_schema(url, schema)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
