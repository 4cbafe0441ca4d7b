"""Throw-away databases: a unique name on a server, always dropped afterwards, and the
embedded PostgreSQL 16 (pgserver) as a temporary cluster when no server is given.

Each database is created from template0, so nothing an operator added to template1 on
a shared server leaks into what sqlc or the check sees. A run killed outright (SIGKILL,
out of memory) can't drop its database, so each one is written down in a local ledger
first, and the next run on the same server drops those whose process is gone. A schema
file is loaded as sqlc reads it into its catalog: the statements that define the schema,
one at a time, each failure named by file:line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pglast
import psycopg
from pglast import ast
from pglast.enums import AlterTableType
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


# Statements sqlc's catalog ignores that would change data or the session rather than
# the schema: a query file listed among the schema files (its `-- name:` queries), a
# lookup table's rows, pg_dump's set_config SELECT and COPY ... FROM stdin, and
# transaction control (each statement runs on its own, so CREATE INDEX CONCURRENTLY
# loads as a migration tool runs it). Privileges and owners name roles a scratch server
# lacks (pg_dump's GRANT ... TO app, ALTER ... OWNER TO app) and change no type.
NOT_SCHEMA = (
    ast.SelectStmt,
    ast.InsertStmt,
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.MergeStmt,
    ast.CopyStmt,
    ast.ExplainStmt,
    ast.TransactionStmt,
    ast.CallStmt,
    ast.PrepareStmt,
    ast.ExecuteStmt,
    ast.DeallocateStmt,
    ast.LockStmt,
    ast.NotifyStmt,
    ast.ListenStmt,
    ast.UnlistenStmt,
    ast.GrantStmt,
    ast.GrantRoleStmt,
    ast.AlterOwnerStmt,
    ast.AlterDefaultPrivilegesStmt,
)


def defines_schema(stmt: ast.Node) -> bool:
    """Whether a schema file's statement is loaded: not NOT_SCHEMA, nor an ALTER TABLE
    whose only commands change the owner."""
    if isinstance(stmt, ast.AlterTableStmt):
        return any(cmd.subtype != AlterTableType.AT_ChangeOwner for cmd in stmt.cmds or ())
    return not isinstance(stmt, NOT_SCHEMA)


def schema_statements(text: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each statement of a schema file that defines the schema (all but
    NOT_SCHEMA), as sqlc reads the file; line counts from 1 at the statement's start."""
    text = as_sqlc_reads(text)
    for raw in pglast.parse_sql(text):
        if not defines_schema(raw.stmt):
            continue
        start = raw.stmt_location or 0
        statement = text[start : start + raw.stmt_len] if raw.stmt_len else text[start:]
        yield text.count("\n", 0, start) + 1, statement


def load_schema(url: str, schema: Path) -> None:
    """Run the statements of a schema file that define the schema (schema_statements),
    one at a time outside a transaction, in the database at ``url``."""
    if not schema.is_file():
        raise SchemaError(f"{schema} does not exist")
    try:
        statements = list(schema_statements(schema.read_text(encoding="utf-8")))
    except pglast.parser.ParseError as exc:
        raise SchemaError(f"{schema}: cannot parse it: {exc}") from exc
    with psycopg.connect(url, autocommit=True) as conn:
        for line, statement in statements:
            try:
                conn.execute(statement.encode())
            except psycopg.Error as exc:
                reason = exc.diag.message_primary or str(exc).strip()
                first = " ".join(statement.split())[:80]
                raise SchemaError(
                    f"{schema}:{line}: does not load into an empty database: {reason}"
                    f" (in `{first}`)"
                ) from exc


def ledger(server_url: str) -> Path:
    """This user's folder of scratch databases not yet dropped on that server: one empty
    file ``<database>`` each, kept only on this machine, so a pid in a name is a process
    here. The server is named by a hash of its address and user, never its password."""
    where = {k: v for k, v in conninfo_to_dict(server_url).items() if k != "password"}
    server = hashlib.sha256(repr(sorted(where.items())).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"sqlc-gen-psycopg-{os.getuid()}" / server


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def drop_left_behind(admin: psycopg.Connection[object], folder: Path, prefix: str) -> None:
    """Drop the databases in ``folder`` whose run was killed before it could (its pid, the
    name's second part, is no process here), and forget them. Only a folder of this user's
    own and only scratch names: /tmp is shared, and a name there is something we drop."""
    if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
        return
    for entry in folder.glob(f"{prefix}_*"):
        pid = entry.name.rsplit("_", 2)[-2]
        if pid.isdigit() and not alive(int(pid)):
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(entry.name)))
            forget(entry)


def remember(entry: Path) -> None:
    """Write a database into the ledger (its folder made private to this user)."""
    for _ in range(3):
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            entry.touch()
            return
        except FileNotFoundError:  # another run removed the empty folder just now
            continue
    entry.touch()


def forget(entry: Path) -> None:
    """Take a dropped database out of the ledger, and the ledger's folders once empty."""
    entry.unlink(missing_ok=True)
    for folder in (entry.parent, entry.parent.parent):
        try:
            folder.rmdir()
        except OSError:  # not empty: another run's entries
            return


@contextmanager
def scratch_database(
    server_url: str, *, prefix: str, schema: tuple[Path, ...] = ()
) -> Iterator[str]:
    """A new database named ``<prefix>_<pid>_<random>`` with the ``schema`` files loaded
    in order; yields its URL and drops it on exit, whatever happens. Databases an earlier
    run here could not drop (it was killed) are dropped first."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(name)
    folder = ledger(server_url)
    kept = server_url not in TEMPORARY
    if kept:
        with psycopg.connect(server_url, autocommit=True) as admin:
            drop_left_behind(admin, folder, prefix)
        remember(folder / name)  # before CREATE: a kill right after it is still seen
    try:
        # Inside the try: a signal (SIGTERM unwinds like Ctrl-C) that lands after the
        # server committed the CREATE but before the client moved on must still drop it.
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(ident))
        url = with_database(server_url, name)
        for path in schema:
            load_schema(url, path)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        if kept:
            forget(folder / name)


@contextmanager
def embedded_server() -> Iterator[str]:
    """A PostgreSQL 16 cluster of the pgserver wheel in a temporary directory (the
    ``embedded`` extra): its URL, then stopped and deleted (about 3 s in all)."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); that is harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver.postgres_server import get_server

    stop_left_behind(Path(tempfile.gettempdir()))
    # the pid in the name tells a later run whether this one is still alive
    with tempfile.TemporaryDirectory(prefix=f"{CLUSTER}{os.getpid()}-") as tmp:
        try:
            server = get_server(Path(tmp), cleanup_mode="delete")
        except subprocess.CalledProcessError as exc:
            raise ServerError(not_started(tmp, f"{Path(str(exc.cmd[0])).name} failed")) from exc
        except (OSError, RuntimeError) as exc:  # RuntimeError: no usable socket path
            raise ServerError(not_started(tmp, str(exc))) from exc
        url = str(server.get_uri())
        TEMPORARY.add(url)
        try:
            yield url
        finally:
            TEMPORARY.discard(url)
            server.cleanup()


CLUSTER = "sqlc-gen-psycopg-pg-"  # a temporary cluster's folder: CLUSTER<pid>-<random>
# The URLs of the temporary clusters this process runs: a scratch database there goes
# with its cluster, so it needs no ledger entry (which no later run could act on).
TEMPORARY: set[str] = set()


def pgserver_user() -> tuple[int, ...]:
    """Run as root, pgserver hands its clusters to its own user: that user's id too."""
    if os.getuid() != 0:
        return ()
    import pwd

    try:
        return (pwd.getpwnam("pgserver").pw_uid,)
    except KeyError:
        return ()


def stop_left_behind(parent: Path) -> None:
    """Stop and delete the temporary clusters of runs killed outright (SIGKILL) before
    they could: folders of this user's whose run's pid is no process here. The server is
    stopped only if the process its postmaster.pid names is a postgres of that folder."""
    import psutil  # pgserver's own dependency: present wherever a cluster was made

    for folder in parent.glob(f"{CLUSTER}*-*"):
        pid = folder.name.removeprefix(CLUSTER).split("-", 1)[0]
        if not pid.isdigit() or alive(int(pid)) or folder.is_symlink():
            continue
        if folder.stat().st_uid not in (os.getuid(), *pgserver_user()):
            continue
        try:
            server = psutil.Process(int((folder / "postmaster.pid").read_text().split()[0]))
            if str(folder) in " ".join(server.cmdline()):
                server.send_signal(signal.SIGQUIT)  # immediate shutdown: it is thrown away
                server.wait(timeout=10)
        except (OSError, ValueError, IndexError, psutil.Error):
            pass  # no pid file, or its process is gone or another one
        shutil.rmtree(folder, ignore_errors=True)


def not_started(directory: str, reason: str) -> str:
    return (
        f"the embedded PostgreSQL did not start in {directory} ({reason}); set TMPDIR to a "
        "short, writable folder, or pass --database-url"
    )
