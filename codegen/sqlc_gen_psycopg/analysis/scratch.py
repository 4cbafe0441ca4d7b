"""Throw-away databases: a unique name on a server, always dropped afterwards, and the
embedded PostgreSQL 16 (pgserver) as a temporary cluster when no server is given.

Each database is created from template0, so nothing an operator added to template1 on
a shared server leaks into what sqlc or the check sees.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sqlc_gen_psycopg.schema_info import as_sqlc_reads


class SchemaError(Exception):
    """A schema file is missing or does not load into an empty database."""


class ServerError(Exception):
    """The embedded server did not start; says where and what to do instead."""


def with_database(url: str, dbname: str) -> str:
    """The same server as ``url``, another database (libpq's parser and printer)."""
    return make_conninfo("", **{**conninfo_to_dict(url), "dbname": dbname})


def load_schema(url: str, schema: Path) -> None:
    """Run a schema file (several statements) in the database at ``url``, as sqlc reads
    it: psql meta-commands (pg_dump's ``\\restrict``, ``\\connect``), which the server
    can't run, blanked and a migration's rollback section cut off."""
    if not schema.is_file():
        raise SchemaError(f"{schema} does not exist")
    text = as_sqlc_reads(schema.read_text(encoding="utf-8"))
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(text.encode())
        except psycopg.Error as exc:
            reason = exc.diag.message_primary or str(exc).strip()
            raise SchemaError(f"{schema} does not load into an empty database: {reason}") from exc


@contextmanager
def scratch_database(
    server_url: str, *, prefix: str, schema: tuple[Path, ...] = ()
) -> Iterator[str]:
    """A new database named ``<prefix>_<pid>_<random>`` with the ``schema`` files loaded
    in order; yields its URL and drops it on exit, whatever happens."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(name)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(ident))
    try:
        url = with_database(server_url, name)
        for path in schema:
            load_schema(url, path)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


@contextmanager
def embedded_server() -> Iterator[str]:
    """A PostgreSQL 16 cluster of the pgserver wheel in a temporary directory (the
    ``embedded`` extra): its URL, then stopped and deleted (about 3 s in all)."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); that is harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver.postgres_server import get_server

    with tempfile.TemporaryDirectory(prefix="sqlc-gen-psycopg-pg-") as tmp:
        try:
            server = get_server(Path(tmp), cleanup_mode="delete")
        except subprocess.CalledProcessError as exc:
            raise ServerError(not_started(tmp, f"{Path(str(exc.cmd[0])).name} failed")) from exc
        except (OSError, RuntimeError) as exc:  # RuntimeError: no usable socket path
            raise ServerError(not_started(tmp, str(exc))) from exc
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def not_started(directory: str, reason: str) -> str:
    return (
        f"the embedded PostgreSQL did not start in {directory} ({reason}); set TMPDIR to a "
        "short, writable folder, or pass --database-url"
    )
