"""Apply migrations/NNNN_name.sql in order, each once, each entirely or not at all.

Why our own migration runner: yoyo-migrations 9 (the obvious library) records a hash
of the migration's *id*, not of its contents, so an applied file edited afterwards goes
unnoticed; it serialises migrators with a row in a lock table that a crashed process
leaves behind (until ``yoyo break-lock``), where a session advisory lock is released by
PostgreSQL itself; and it splits SQL files into statements with its own parser. The
rules we need fit in this module and migration_parse: a sha256 checksum per applied
file, checked before anything runs; ``pg_advisory_lock`` around the whole run; every
pending file parsed (by PostgreSQL's parser) and refused if it controls transactions,
before any runs; one transaction per file, or, for a file marked no-transaction, one per
statement with the progress recorded, so a failure halfway is resumed, never hidden.
Each statement goes through the extended protocol, which runs exactly one statement.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, sql

from plue_db import config, extras
from plue_db.schema.migration_parse import MigrationError as MigrationError
from plue_db.schema.migration_parse import ParsedMigration, Statement, line_at, parse

TABLE = "plue_schema_migrations"
# ASCII only, matched whole: \d would take any Unicode digit (Arabic-Indic 0001 sorts after
# 9999 and escapes the duplicate-number check) and $ would accept a trailing newline.
FILE_NAME = re.compile(r"([0-9]{4})_([a-z0-9][a-z0-9_]*)\.sql")
# pg_advisory_lock key shared by every migrator of any plue database ("plue" in ASCII).
LOCK_KEY = 0x706C7565
# The checksum of a partly applied no-transaction file: not a sha256, so an older
# plue-db (which knows no statements_done) refuses the row instead of skipping the file.
PARTIAL = "partial"

_CREATE_TABLE = sql.SQL(
    """CREATE TABLE IF NOT EXISTS {table} (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS statements_done text[]"""
).format(table=sql.Identifier(TABLE))
# NULL statements_done: applied entirely. Otherwise the checksums of the statements of
# a no-transaction file committed so far, in order. {table} is schema-qualified (see
# _ledger): a migration's SET search_path must not move or break the bookkeeping.
_RECORD = sql.SQL(
    """INSERT INTO {table} (name, checksum, statements_done) VALUES (%s, %s, %s)
ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum,
    statements_done = EXCLUDED.statements_done, applied_at = now()"""
)
# What a migration's SET, SET ROLE or SET SESSION AUTHORIZATION left: undone after each
# file, so it cannot change where or as whom the next file runs.
_RESET_SESSION = b"RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL"
# pg_advisory_lock(bigint) shows in pg_locks as classid (high half), objid (low half), 1.
_LOCK_HELD = """SELECT EXISTS (SELECT FROM pg_catalog.pg_locks WHERE locktype = 'advisory'
    AND pid = pg_catalog.pg_backend_pid() AND granted AND objsubid = 1
    AND (classid::bigint << 32 | objid::bigint) = %s)"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    path: Path
    sql: bytes
    checksum: str


@dataclass(frozen=True, slots=True)
class Record:
    """A migration's row: applied entirely (``statements_done`` None) or partly."""

    checksum: str
    statements_done: tuple[str, ...] | None = None


def discover(directory: Path = config.MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, in order. Everything there but hidden entries
    (.gitkeep, editor files) must be an NNNN_name.sql file: anything else, a README or a
    subdirectory included, is refused rather than skipped, so no migration is missed."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        match = None if path.is_dir() else FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(
                f"{path}: not a migration; {directory} may hold only files named like"
                " 0001_create_users.sql (four ASCII digits 0-9, underscore, lower-case"
                " ASCII name, .sql)"
            )
        if match[1] in numbers:
            raise MigrationError(f"{path}: number {match[1]} is also used by {numbers[match[1]]}")
        numbers[match[1]] = path.name
        content = path.read_bytes()
        checksum = hashlib.sha256(content).hexdigest()
        migrations.append(Migration(path.name, path, content, checksum))
    return migrations


def applied(conn: psycopg.Connection[Any]) -> dict[str, Record]:
    """name -> record of the migrations begun in the database (empty if none yet)."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    if exists is None or not exists[0]:
        return {}
    # Through to_jsonb, so a dry run also reads a table made before statements_done.
    query = sql.SQL("SELECT name, checksum, to_jsonb(m) -> 'statements_done' FROM {} m").format(
        sql.Identifier(TABLE)
    )
    return {
        name: Record(checksum, None if done is None else tuple(done))
        for name, checksum, done in conn.execute(query)
    }


def pending(migrations: Sequence[Migration], done: dict[str, Record]) -> list[Migration]:
    """What is left to run (a partly applied file first), after checking the applied
    ones are unchanged and present."""
    by_name = {m.name: m for m in migrations}
    for name, record in sorted(done.items()):
        if name not in by_name:
            state = "applied" if record.statements_done is None else "partly applied"
            raise MigrationError(
                f"{name} is recorded as {state} but its file is missing; a local database "
                "ahead of this branch: `plue-db reset` recreates it with this branch's "
                f"migrations (rows are lost); elsewhere, restore {name}"
            )
        if record.statements_done is None and by_name[name].checksum != record.checksum:
            raise MigrationError(
                f"{by_name[name].path} was changed after it was applied "
                f"(checksum {record.checksum[:12]}… recorded, {by_name[name].checksum[:12]}… "
                "now); add a new migration instead of editing an applied one"
            )
    complete = {name for name, record in done.items() if record.statements_done is None}
    todo = [m for m in migrations if m.name not in complete]
    last_begun = max(done, default="")
    for migration in todo:
        if migration.name < last_begun:
            raise MigrationError(
                f"{migration.path} is new but sorts before the applied {last_begun}; "
                "renumber it after the last applied migration"
            )
    return todo


@dataclass(frozen=True, slots=True)
class _Step:
    """A pending migration, parsed, with how many statements already committed."""

    migration: Migration
    parsed: ParsedMigration
    done: int


def _plan(migrations: Sequence[Migration], conn: psycopg.Connection[Any]) -> list[_Step]:
    """Every pending file parsed and checked, so a refusal comes before anything runs."""
    records = applied(conn)
    steps = []
    for migration in pending(migrations, records):
        parsed = parse(migration.path, migration.sql)
        record = records.get(migration.name)
        done = () if record is None or record.statements_done is None else record.statements_done
        _check_resumable(migration, parsed, done)
        steps.append(_Step(migration, parsed, len(done)))
    return steps


def _check_resumable(migration: Migration, parsed: ParsedMigration, done: tuple[str, ...]) -> None:
    """A partly applied file may change only after its committed statements."""
    if not done:
        return
    state = f"{migration.name} is partly applied (statements 1-{len(done)} committed)"
    if parsed.transactional:
        raise MigrationError(
            f"{migration.path}: {state} as a no-transaction migration but no longer starts "
            "with '-- plue-db: no-transaction'; restore that first line"
        )
    if len(parsed.statements) < len(done):
        raise MigrationError(
            f"{migration.path}: {state} but now has {len(parsed.statements)} statements; "
            "restore the committed ones"
        )
    for statement, checksum in zip(parsed.statements, done, strict=False):
        if statement.checksum != checksum:
            raise MigrationError(
                f"{migration.path}:{statement.line}: statement {statement.number} was changed "
                f"after it was committed; {state}: only statements after "
                f"{len(done)} may change"
            )


def migrate(
    url: str, directory: Path = config.MIGRATIONS_DIR, *, dry_run: bool = False
) -> list[Migration]:
    """Apply the pending migrations (or, with ``dry_run``, only check and report them).

    Returns the migrations applied (or that would be). Holds a session advisory lock
    for the whole run, so concurrent migrators apply each file exactly once.
    """
    extras.require("migrate")  # before anything is read or written
    migrations = discover(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        if dry_run:
            return [step.migration for step in _plan(migrations, conn)]
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(_CREATE_TABLE)
            ledger = _ledger(conn)
            steps = _plan(migrations, conn)
            for step in steps:
                if step.parsed.transactional:
                    _apply_in_one_transaction(conn, step, ledger)
                else:
                    _apply_statement_by_statement(conn, step, ledger)
                conn.execute(_RESET_SESSION)
            return [step.migration for step in steps]
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _ledger(conn: psycopg.Connection[Any]) -> sql.Composed:
    """The INSERT that records progress, into the bookkeeping table where it is now."""
    row = conn.execute(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = to_regclass(%s)",
        (TABLE,),
    ).fetchone()
    assert row is not None  # created just before, under the lock
    return _RECORD.format(table=sql.Identifier(row[0], TABLE))


def _apply_in_one_transaction(
    conn: psycopg.Connection[Any], step: _Step, ledger: sql.Composed
) -> None:
    migration, statement = step.migration, None
    try:
        with conn.transaction():
            for statement in step.parsed.statements:
                _execute(conn, statement)
            _record(conn, ledger, migration, None)
    except _LockReleasedError as exc:
        raise MigrationError(
            f"{migration.path}: {exc} (rolled back: nothing of {migration.name} was applied)"
        ) from exc
    except psycopg.Error as exc:
        outcome = (
            f"rolled back: nothing of {migration.name} was applied"
            if not conn.broken
            else f"connection lost: {migration.name} was applied entirely or not at all; "
            "rerun to find out and finish"
        )
        raise MigrationError(
            f"{_where(migration, statement, exc)} ({outcome}; earlier migrations stay applied)"
        ) from exc


def _apply_statement_by_statement(
    conn: psycopg.Connection[Any], step: _Step, ledger: sql.Composed
) -> None:
    """Commit each statement with its progress record; on failure, say what ran."""
    migration, statements = step.migration, step.parsed.statements
    for statement in statements[: step.done]:
        if statement.session:  # resuming: the committed SETs shape what follows
            try:
                _execute(conn, statement)
            except psycopg.Error as exc:
                raise MigrationError(
                    f"{_where(migration, statement, exc)} (replaying committed statement "
                    f"{statement.number} to resume {migration.name}; nothing else ran)"
                ) from exc
    for statement in statements[step.done :]:
        try:
            _commit(conn, ledger, migration, statements[: statement.number])
        except _StatementError as failed:
            raise MigrationError(
                f"{_where(migration, statement, failed.error)} (no-transaction migration: "
                f"{statement.number - 1} of its {len(statements)} statements are committed; "
                f"statement {statement.number} {failed.outcome}; fix the cause and rerun: "
                "it resumes after the last committed statement, which must stay unchanged)"
            ) from failed.error
    _record(conn, ledger, migration, None)


class _LockReleasedError(Exception):
    """A migration released the runner's advisory lock, letting other migrators in."""


def _record(
    conn: psycopg.Connection[Any],
    ledger: sql.Composed,
    migration: Migration,
    done: Sequence[Statement] | None,
) -> None:
    """Record ``migration`` as applied (``done`` None) or as these statements committed,
    but only while this session still holds the migration lock."""
    held = conn.execute(_LOCK_HELD, (LOCK_KEY,)).fetchone()
    if held is None or not held[0]:
        raise _LockReleasedError(
            "released the migration lock (pg_advisory_unlock_all(), DISCARD ALL, ...), "
            "which lets another migrator run the same files; remove that from the migration"
        )
    if done is None:
        conn.execute(ledger, (migration.name, migration.checksum, None))
    else:
        conn.execute(ledger, (migration.name, PARTIAL, [s.checksum for s in done]))


class _StatementError(Exception):
    """A statement of a no-transaction file failed; ``outcome`` says what it left."""

    def __init__(self, error: Exception, outcome: str) -> None:
        super().__init__(outcome)
        self.error = error
        self.outcome = outcome


def _commit(
    conn: psycopg.Connection[Any],
    ledger: sql.Composed,
    migration: Migration,
    done: Sequence[Statement],
) -> None:
    """Run the last of ``done`` and its progress record in one transaction; if PostgreSQL
    refuses the statement inside a transaction block (CREATE INDEX CONCURRENTLY,
    VACUUM, ALTER SYSTEM), that transaction did nothing, so run it alone, then record
    it. DO and CALL are never run alone: their code could COMMIT halfway."""
    statement, rolled_back = done[-1], "was rolled back"
    try:
        with conn.transaction():
            _execute(conn, statement)
            _record(conn, ledger, migration, done)
        return
    except _LockReleasedError as exc:
        raise _StatementError(exc, rolled_back) from exc
    except errors.ActiveSqlTransaction as exc:
        if statement.procedural:
            raise _StatementError(exc, rolled_back) from exc
    except psycopg.Error as exc:
        raise _StatementError(exc, _lost_or(conn, rolled_back)) from exc
    try:
        _execute(conn, statement)
    except psycopg.Error as exc:
        partial = (
            "ran outside a transaction and may have left partial effects (a failed "
            "CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it before rerunning)"
        )
        raise _StatementError(exc, _lost_or(conn, partial)) from exc
    try:
        _record(conn, ledger, migration, done)
    except (psycopg.Error, _LockReleasedError) as exc:
        unrecorded = "committed, but its progress was not recorded: the rerun repeats it"
        raise _StatementError(exc, _lost_or(conn, unrecorded)) from exc


def _lost_or(conn: psycopg.Connection[Any], outcome: str) -> str:
    """``outcome``, unless the connection died and the server's verdict is unknown."""
    if conn.broken:
        return "lost its connection, so whether it committed is unknown"
    return outcome


def _execute(conn: psycopg.Connection[Any], statement: Statement) -> None:
    # binary=True makes psycopg use the extended protocol, which refuses more than one
    # statement: whatever the split, one message can never smuggle in a second one.
    psycopg.RawCursor(conn).execute(statement.text.encode(), binary=True)


def _where(migration: Migration, statement: Statement | None, exc: Exception) -> str:
    """'path:LINE: reason', LINE where PostgreSQL located the error, else the statement's."""
    if not isinstance(exc, psycopg.Error):
        message, position = str(exc), None
    else:
        message = exc.diag.message_primary or str(exc).strip()
        position = exc.diag.statement_position
    if statement is None:
        return f"{migration.path}: {message}"
    line = statement.line
    if position:
        line += line_at(statement.text, int(position) - 1) - 1
    return f"{migration.path}:{line}: {message}"
