"""Run one untrusted SELECT without letting it write: the engine of the MCP ``query`` tool.

Read-only is not one switch (DESIGN.md §7), so several layers each stop the escapes
we know of, and a hole in one is caught by the next:

1. ``check_statement`` parses the text (pglast) and accepts exactly one plain query,
   with no data-modifying CTE, ``SELECT INTO``, row locks or side-effect functions.
   It exists for clear messages; the layers below do not rely on it.
2. The session is a LOGIN role that can only read (``plue_mcp_reader``: member of
   ``pg_read_all_data``, never a superuser). Permissions are checked against the
   session user, so ``set_config('role', ...)`` and ``SET ROLE`` cannot climb out.
3. ``BEGIN READ ONLY`` with ``SET LOCAL`` timeouts, always rolled back, then
   ``DISCARD ALL`` so nothing (advisory locks, prepared statements) outlives the call.
4. The text goes through ``DECLARE CURSOR`` on the extended protocol: PostgreSQL
   itself rejects a second statement and anything that is not a query.
5. One ``FETCH`` of at most ``max_rows + 1`` rows, then a size cap on the answer.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

import pglast
import psycopg
import psycopg_pool
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.range import Range

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None

READER_ROLE = "plue_mcp_reader"
READER_GRANTS = ("pg_read_all_data", "pg_read_all_stats")
CURSOR_NAME = "plue_mcp_query"

# Functions whose effect outlives the rolled-back transaction or reaches outside the
# database. The role and the read-only transaction stop them too; naming them here
# gives the caller a plain message instead of a permission error.
SIDE_EFFECT_FUNCTIONS = frozenset(
    {
        "dblink",
        "dblink_exec",
        "lo_creat",
        "lo_create",
        "lo_export",
        "lo_from_bytea",
        "lo_import",
        "lo_put",
        "lo_unlink",
        "nextval",
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_cancel_backend",
        "pg_logical_emit_message",
        "pg_notify",
        "pg_read_binary_file",
        "pg_read_file",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_terminate_backend",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "set_config",
        "setval",
    }
)
WRITE_NODES = ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")


class QueryError(Exception):
    """The query did not run to completion; the message says why, for the caller."""


class QueryRefusedError(QueryError):
    """A safety layer refused the query; nothing ran that could write."""


class QueryTimeoutError(QueryError):
    """The query ran past its statement or lock timeout and was cancelled."""


class ReaderSetupError(Exception):
    """The read-only login cannot be created or is not safe to use."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a query may run and how much it may return."""

    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    idle_timeout_ms: int = 10000
    max_rows: int = 500
    max_bytes: int = 1_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """Defaults, overridden by PLUE_MCP_STATEMENT_TIMEOUT_MS, _MAX_ROWS, _MAX_BYTES."""
        names = {
            "statement_timeout_ms": "PLUE_MCP_STATEMENT_TIMEOUT_MS",
            "max_rows": "PLUE_MCP_MAX_ROWS",
            "max_bytes": "PLUE_MCP_MAX_BYTES",
        }
        values: dict[str, int] = {}
        for attr, var in names.items():
            raw = env.get(var, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"{var} must be a positive whole number, got {raw!r}")
            values[attr] = int(raw)
        return cls(**values)


@dataclass(slots=True)
class QueryResult:
    """Rows as JSON-safe values, and whether a cap cut them short."""

    columns: list[str]
    rows: list[list[JsonValue]] = field(default_factory=list)
    truncated: bool = False
    truncated_reason: str | None = None
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "truncated_reason": self.truncated_reason,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def to_json(value: object) -> JsonValue:
    """Render what psycopg decoded as something json.dumps accepts, keeping meaning."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, Range):
        return {
            "lower": to_json(value.lower),
            "upper": to_json(value.upper),
            "bounds": value.bounds,
        }
    return str(value)


def _nodes(node: Any) -> Iterator[Any]:
    """Every pglast AST node under ``node``, itself included."""
    if isinstance(node, pglast.ast.Node):
        yield node
        for name in node:
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _nodes(item)


def check_statement(text: str) -> None:
    """Refuse anything but exactly one plain query, with a message that says what is wrong."""
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        raise QueryRefusedError(f"query is not valid SQL: {exc}") from exc
    if len(statements) != 1:
        raise QueryRefusedError(f"send exactly one statement; got {len(statements)}")
    root = statements[0].stmt
    if not isinstance(root, pglast.ast.SelectStmt):
        kind = type(root).__name__
        raise QueryRefusedError(
            f"{kind} is not allowed: only SELECT, VALUES, TABLE or WITH ... SELECT may run"
        )
    if root.intoClause is not None:
        raise QueryRefusedError("SELECT INTO creates a table; it is not allowed")
    for node in _nodes(root):
        name = type(node).__name__
        if name in WRITE_NODES:
            raise QueryRefusedError(
                f"data-modifying statement ({name}) inside the query is not allowed"
            )
        if name == "SelectStmt" and node.lockingClause:
            raise QueryRefusedError("row locks (FOR UPDATE/SHARE) are not allowed")
        if name == "FuncCall":
            function = node.funcname[-1].sval.lower()
            if function in SIDE_EFFECT_FUNCTIONS:
                raise QueryRefusedError(
                    f"function {function}() has side effects; it is not allowed"
                )


def _explain(exc: psycopg.Error) -> QueryError:
    """Turn a server error into the caller's error, keeping PostgreSQL's own words."""
    text = str(exc).strip()
    if isinstance(exc, errors.QueryCanceled | errors.LockNotAvailable):
        return QueryTimeoutError(f"query cancelled by its time limit: {text}")
    refusals = (
        errors.ReadOnlySqlTransaction,
        errors.InsufficientPrivilege,
        errors.FeatureNotSupported,
        errors.ActiveSqlTransaction,
    )
    if isinstance(exc, refusals) or "multiple commands" in text:
        return QueryRefusedError(f"refused by PostgreSQL: {text}")
    return QueryError(f"PostgreSQL error: {text}")


def _reset(conn: psycopg.Connection[Any]) -> None:
    """End the transaction and wipe session state; a session that can't be reset is closed."""
    try:
        conn.execute("ROLLBACK")
        conn.execute("DISCARD ALL")
    except psycopg.Error:
        conn.close()


def execute_readonly(conn: psycopg.Connection[Any], text: str, limits: Limits) -> QueryResult:
    """Run ``text`` with the server-side layers only (3-5 of the module docstring).

    ``conn`` must be in autocommit mode: the transaction is opened here explicitly so
    its read-only mode and local timeouts are set before the untrusted text arrives.
    """
    if not conn.autocommit:
        raise ValueError("execute_readonly needs an autocommit connection")
    started = time.monotonic()
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true),"
            " set_config('lock_timeout', %s, true),"
            " set_config('idle_in_transaction_session_timeout', %s, true)",
            (
                str(limits.statement_timeout_ms),
                str(limits.lock_timeout_ms),
                str(limits.idle_timeout_ms),
            ),
            prepare=False,  # DISCARD ALL below drops server-side prepared statements
        )
        with conn.cursor(name=CURSOR_NAME) as cur:
            cur.execute(text.encode())
            fetched = cur.fetchmany(limits.max_rows + 1)
            columns = [column.name for column in cur.description or ()]
    except psycopg.Error as exc:
        raise _explain(exc) from exc
    finally:
        _reset(conn)
    result = _capped(columns, fetched, limits)
    result.elapsed_ms = (time.monotonic() - started) * 1000
    return result


def _capped(columns: list[str], fetched: list[Any], limits: Limits) -> QueryResult:
    """Apply the row cap, then the size cap (measured as the JSON the caller will get)."""
    result = QueryResult(columns=columns)
    if len(fetched) > limits.max_rows:
        fetched = fetched[: limits.max_rows]
        result.truncated = True
        result.truncated_reason = f"row cap of {limits.max_rows} rows"
    size = 0
    for row in fetched:
        values = [to_json(v) for v in row]
        size += len(json.dumps(values, ensure_ascii=False).encode())
        if size > limits.max_bytes:
            result.truncated, result.truncated_reason = (
                True,
                f"size cap of {limits.max_bytes} bytes",
            )
            break
        result.rows.append(values)
    return result


def with_user(url: str, user: str) -> str:
    """The same server and database as ``url``, logging in as ``user`` (no password)."""
    params = conninfo_to_dict(url)
    params.pop("password", None)
    params["user"] = user
    return make_conninfo("", **params)


RACE_ERRORS = (errors.DuplicateObject, errors.UniqueViolation, errors.InternalError_)


def ensure_reader_role(admin_url: str, role: str = READER_ROLE) -> str:
    """Create or repair the read-only login (idempotent, safe when run concurrently).

    Returns the URL that logs in as it. Two processes racing here both end with the
    role in place: the loser's CREATE/GRANT fails with a duplicate or a "tuple
    concurrently updated" error, and the retry finds the work done.
    """
    for attempt in range(5):
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                _grant_reader(admin, role)
            return with_user(admin_url, role)
        except RACE_ERRORS:
            time.sleep(0.05 * (attempt + 1))
        except errors.InsufficientPrivilege as exc:
            raise ReaderSetupError(
                f"cannot create the read-only role {role!r}: {exc}. "
                "Set PLUE_MCP_DATABASE_URL to a login that can only read."
            ) from exc
    raise ReaderSetupError(f"could not create the read-only role {role!r} after 5 attempts")


def _grant_reader(admin: psycopg.Connection[Any], role: str) -> None:
    """Bring ``role`` to the wanted state, writing the catalog only where it differs."""
    ident = sql.Identifier(role)
    row = admin.execute(
        "SELECT rolsuper, rolcanlogin, pg_has_role(oid, 'pg_read_all_data', 'USAGE'),"
        " pg_has_role(oid, 'pg_read_all_stats', 'USAGE'),"
        " coalesce('default_transaction_read_only=on' = ANY(rolconfig), false)"
        " FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    if row is None:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(ident)
        )
        row = (False, True, False, False, False)
    superuser, can_login, reads_data, reads_stats, read_only = row
    if superuser:
        raise ReaderSetupError(
            f"role {role!r} is a superuser; it cannot serve as a read-only login"
        )
    if not can_login:
        admin.execute(sql.SQL("ALTER ROLE {} LOGIN").format(ident))
    for granted, group in zip((reads_data, reads_stats), READER_GRANTS, strict=True):
        if not granted:
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), ident))
    if not read_only:
        admin.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))


def verify_reader(conn: psycopg.Connection[Any]) -> None:
    """Refuse a login that could write: a superuser, or one with write rights on any table."""
    row = conn.execute(
        "SELECT session_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user"
    ).fetchone()
    assert row is not None
    user, privileged = row
    if privileged:
        raise ReaderSetupError(
            f"login {user!r} is a superuser or bypasses RLS; use a read-only login"
        )
    writable = conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') LIMIT 1"
    ).fetchone()
    if writable is not None:
        raise ReaderSetupError(
            f"login {user!r} can write to table {writable[0]}; use a read-only login"
        )


class ReadonlyExecutor:
    """All five layers, over a small pool of connections logged in as the reader."""

    def __init__(self, reader_url: str, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        settings: dict[str, Any] = {
            "autocommit": True,
            "prepare_threshold": None,
            "application_name": "plue-mcp",
            "connect_timeout": 10,
            # Session defaults for the fixed catalog queries; query() sets its own.
            "options": f"-c statement_timeout={self.limits.statement_timeout_ms}"
            f" -c lock_timeout={self.limits.lock_timeout_ms}",
        }
        # One direct connection first: an unreachable server or an unsafe login fails
        # here with the server's own words instead of as a pool timeout.
        with psycopg.connect(reader_url, **settings) as conn:
            verify_reader(conn)
        self._pool = psycopg_pool.ConnectionPool(
            reader_url,
            min_size=1,
            max_size=4,
            kwargs=settings,
            check=psycopg_pool.ConnectionPool.check_connection,
            open=True,
            name="plue-mcp-reader",
        )

    @classmethod
    def from_config(cls, admin_url: str, reader_url: str | None = None) -> ReadonlyExecutor:
        """Use ``reader_url`` if given, else create the reader role via ``admin_url``."""
        return cls(reader_url or ensure_reader_role(admin_url), Limits.from_env())

    def query(self, text: str) -> QueryResult:
        """Run one untrusted query; raises QueryError (with a clear message) when it can't."""
        if not text.strip():
            raise QueryRefusedError("the query is empty")
        check_statement(text)
        with self._pool.connection() as conn:
            return execute_readonly(conn, text, self.limits)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A reader connection for the fixed catalog queries of the other tools."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()
