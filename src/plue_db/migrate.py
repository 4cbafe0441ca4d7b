"""Apply migrations/NNNN_name.sql in order, each once, each in its own transaction.

Why our own migration runner: yoyo-migrations 9 (the obvious library) records a hash
of the migration's *id*, not of its contents, so an applied file edited afterwards goes
unnoticed; it serialises migrators with a row in a lock table that a crashed process
leaves behind (until ``yoyo break-lock``), where a session advisory lock is released by
PostgreSQL itself; and it splits SQL files into statements with its own parser. The
rules we need fit in this module: a sha256 checksum per applied file, checked before
anything runs; ``pg_advisory_lock`` around the whole run; one transaction per file,
sent as one simple-protocol query so PostgreSQL parses it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from plue_db import config

TABLE = "plue_schema_migrations"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")
# pg_advisory_lock key shared by every migrator of any plue database ("plue" in ASCII).
LOCK_KEY = 0x706C7565

_CREATE_TABLE = sql.SQL(
    """CREATE TABLE IF NOT EXISTS {} (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
).format(sql.Identifier(TABLE))


class MigrationError(Exception):
    """A migration set or run that cannot proceed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    path: Path
    sql: bytes
    checksum: str


def discover(directory: Path = config.MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, in order; every file must be NNNN_name.sql."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        match = FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path}: migration file names must look like 0001_create_users.sql "
                "(four digits, underscore, lower-case name, .sql)"
            )
        if match[1] in numbers:
            raise MigrationError(f"{path}: number {match[1]} is also used by {numbers[match[1]]}")
        numbers[match[1]] = path.name
        content = path.read_bytes()
        checksum = hashlib.sha256(content).hexdigest()
        migrations.append(Migration(path.name, path, content, checksum))
    return migrations


def applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """name -> checksum of the migrations recorded in the database (empty if none yet)."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    if exists is None or not exists[0]:
        return {}
    query = sql.SQL("SELECT name, checksum FROM {}").format(sql.Identifier(TABLE))
    return {name: checksum for name, checksum in conn.execute(query)}


def pending(migrations: Sequence[Migration], done: dict[str, str]) -> list[Migration]:
    """What is left to run, after checking the applied ones are unchanged and present."""
    by_name = {m.name: m for m in migrations}
    for name, checksum in sorted(done.items()):
        if name not in by_name:
            raise MigrationError(f"{name} is recorded as applied but its file is missing")
        if by_name[name].checksum != checksum:
            raise MigrationError(
                f"{by_name[name].path} was changed after it was applied "
                f"(checksum {checksum[:12]}… recorded, {by_name[name].checksum[:12]}… now); "
                "add a new migration instead of editing an applied one"
            )
    todo = [m for m in migrations if m.name not in done]
    last_done = max(done, default="")
    for migration in todo:
        if migration.name < last_done:
            raise MigrationError(
                f"{migration.path} is new but sorts before the applied {last_done}; "
                "renumber it after the last applied migration"
            )
    return todo


def migrate(
    url: str, directory: Path = config.MIGRATIONS_DIR, *, dry_run: bool = False
) -> list[Migration]:
    """Apply the pending migrations (or, with ``dry_run``, only report them).

    Returns the migrations applied (or that would be). Holds a session advisory lock
    for the whole run, so concurrent migrators apply each file exactly once.
    """
    migrations = discover(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        if dry_run:
            return pending(migrations, applied(conn))
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(_CREATE_TABLE)
            todo = pending(migrations, applied(conn))
            for migration in todo:
                _apply(conn, migration)
            return todo
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    record = sql.SQL("INSERT INTO {} (name, checksum) VALUES (%s, %s)").format(
        sql.Identifier(TABLE)
    )
    try:
        with conn.transaction():
            conn.execute(migration.sql)
            conn.execute(record, (migration.name, migration.checksum))
    except psycopg.Error as exc:
        raise MigrationError(
            f"{migration.path}{_line_of(exc, migration.sql)}: {_message(exc)} "
            "(rolled back; earlier migrations stay applied)"
        ) from exc


def _message(exc: psycopg.Error) -> str:
    return exc.diag.message_primary or str(exc).strip()


def _line_of(exc: psycopg.Error, text: bytes) -> str:
    """':LINE' for errors PostgreSQL located in the file, else ''."""
    position = exc.diag.statement_position
    if not position:
        return ""
    prefix = text.decode(errors="replace")[: int(position) - 1]
    return f":{prefix.count(chr(10)) + 1}"
