"""Run one untrusted SELECT without letting it write or exhaust us: the engine of MCP ``query``.

Read-only is not one switch (inside ``BEGIN READ ONLY``, a text sent through the simple
query protocol may hold ``COMMIT; CREATE TABLE ...`` and it runs), so several layers each
stop the escapes we know of, and a hole in one is caught by the next:

1. plue_db.mcp.sql_guard parses the text and accepts exactly one plain query, and refuses
   any function PostgreSQL marks volatile or parallel unsafe. It exists for clear
   messages; the layers below do not rely on it.
2. The session is a LOGIN role granted only SELECT on the application's tables
   (plue_db.mcp.reader_role), never a superuser nor a member of ``pg_read_all_data``.
   Permissions are checked against the session user, so ``set_config('role', ...)``
   and ``SET ROLE`` cannot climb out.
3. ``BEGIN READ ONLY`` with ``SET LOCAL`` timeouts, always rolled back, then
   ``DISCARD ALL`` so nothing (advisory locks, prepared statements) outlives the call.
   The statement timeout is one deadline for the whole query: before each DECLARE and
   FETCH it is set to the time left, since PostgreSQL restarts it with every statement.
4. The text goes through ``DECLARE CURSOR`` on the extended protocol: PostgreSQL
   itself rejects a second statement and anything that is not a query.
5. Memory is bounded before rows cross the wire: the statement is wrapped so the
   server keeps a running count of each row's size and sends only NULLs once the
   answer would pass the size cap (one 100 MB value never reaches us whole). Rows
   come in small FETCHes up to the row cap, and at most ``max_concurrent`` queries
   run at once.

Over 400 lines on purpose: the layers above guard one call, and reading them in one
module is how a reviewer checks that none is skipped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
import psycopg_pool
from plue_queries.types import JsonValue
from psycopg import errors, sql
from psycopg.types.range import Range

from plue_db.mcp.reader_role import ensure_reader_role, verify_reader
from plue_db.mcp.sql_guard import QueryError as QueryError
from plue_db.mcp.sql_guard import QueryRefusedError as QueryRefusedError
from plue_db.mcp.sql_guard import check_calls, check_statement

PROBE_CURSOR = "plue_mcp_probe"
# What psycopg sends before the user's text when it declares the probe cursor: a server
# error's position counts these characters too.
PROBE_PREFIX = f'DECLARE "{PROBE_CURSOR}" CURSOR FOR '
CURSOR_NAME = "plue_mcp_query"
FETCH_BATCH = 50


class QueryTimeoutError(QueryError):
    """The query ran past its statement or lock timeout and was cancelled."""


# PostgreSQL's own words for a statement timeout, which the deadline repeats when it
# passes between two statements: one message, whichever side noticed.
STATEMENT_TIMEOUT = "canceling statement due to statement timeout"


def _timed_out(text: str) -> QueryTimeoutError:
    return QueryTimeoutError(f"query cancelled by its time limit: {text}")


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a query may run and how much it may return."""

    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    idle_timeout_ms: int = 10000
    max_rows: int = 500
    max_bytes: int = 1_000_000
    max_concurrent: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """Defaults, overridden by PLUE_MCP_STATEMENT_TIMEOUT_MS, _MAX_ROWS, _MAX_BYTES,
        _MAX_CONCURRENT."""
        names = {
            "statement_timeout_ms": "PLUE_MCP_STATEMENT_TIMEOUT_MS",
            "max_rows": "PLUE_MCP_MAX_ROWS",
            "max_bytes": "PLUE_MCP_MAX_BYTES",
            "max_concurrent": "PLUE_MCP_MAX_CONCURRENT",
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


def server_words(exc: psycopg.Error, query: str, offset: int | None, lead: str = "") -> str:
    """PostgreSQL's message, with its ``LINE n:`` caret under the user's own ``query``.

    The server saw ``offset`` characters of ours before the query (the DECLARE), so its
    position is shifted back; without an offset (the statement we wrapped) or outside
    the query, the caret is left out rather than drawn under text the user never wrote.
    ``lead`` is what the user sent before the query (comments), counted in the lines.
    """
    diag = exc.diag
    if diag.message_primary is None:  # not from the server (a loader, a lost connection)
        return str(exc).strip()
    lines = [diag.message_primary]
    query = lead + query
    position = int(diag.statement_position or 0) - 1 - (offset or 0) + len(lead)
    if offset is not None and 0 <= position <= len(query):
        start = query.rfind("\n", 0, position) + 1
        end = query.find("\n", position)
        label = f"LINE {query.count(chr(10), 0, position) + 1}: "
        lines.append(label + query[start : end if end >= 0 else None])
        lines.append(" " * (len(label) + position - start) + "^")
    lines += [f"{name}:  {text}" for name, text in _notes(diag) if text]
    return "\n".join(lines)


def _notes(diag: psycopg.errors.Diagnostic) -> list[tuple[str, str | None]]:
    return [("DETAIL", diag.message_detail), ("HINT", diag.message_hint)]


def _explain(exc: psycopg.Error, text: str) -> QueryError:
    """Turn a server (or decoding) error into the caller's error, keeping its own words
    (``text``, from server_words)."""
    if isinstance(exc, errors.QueryCanceled | errors.LockNotAvailable):
        return _timed_out(text)
    refusals = (
        errors.ReadOnlySqlTransaction,
        errors.InsufficientPrivilege,
        errors.FeatureNotSupported,
        errors.ActiveSqlTransaction,
    )
    if isinstance(exc, refusals) or "multiple commands" in text:
        return QueryRefusedError(f"refused by PostgreSQL: {text}")
    if isinstance(exc, psycopg.DataError) and exc.sqlstate is None:  # raised by a loader
        return QueryError(f"a value in the result cannot be read: {text}; cast it to text")
    return QueryError(f"PostgreSQL error: {text}")


class _Deadline:
    """One time limit across a query's statements. ``statement_timeout`` starts afresh
    with every statement, so FETCHes of 50 rows that each stayed under it once ran a
    1 s query for 5 s; each statement gets only what is left instead."""

    def __init__(self, limit_ms: int) -> None:
        self.at = time.monotonic() + limit_ms / 1000

    def left_ms(self) -> str:
        """Milliseconds left, as ``statement_timeout`` takes them; raises the timeout
        error once none are (0 would mean no limit at all)."""
        left = math.ceil((self.at - time.monotonic()) * 1000)
        if left <= 0:
            raise _timed_out(STATEMENT_TIMEOUT)
        return str(left)

    def arm(self, conn: psycopg.Connection[Any]) -> None:
        """Let the next statement on ``conn`` run only until the deadline."""
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true)", (self.left_ms(),), prepare=False
        )

    def fetchmany(self, cur: psycopg.ServerCursor[Any], size: int) -> list[Any]:
        self.arm(cur.connection)
        return cur.fetchmany(size)


def _reset(conn: psycopg.Connection[Any]) -> None:
    """End the transaction and wipe session state; a session that can't be reset is closed."""
    try:
        conn.execute("ROLLBACK", prepare=False)
        conn.execute("DISCARD ALL", prepare=False)
    except psycopg.Error:
        conn.close()


def bounded(conn: psycopg.Connection[Any], statement: str, width: int, max_bytes: int) -> bytes:
    """``statement`` wrapped so the server sends values only while the answer fits.

    Its ``width`` columns are renamed by position (names may repeat or be ``?column?``);
    each row carries, last, the running total of its values' text size, and every value
    of a row past ``max_bytes`` comes back NULL. The statement is spliced in as bytes
    (it is the query being run, already checked); the cap goes in as a Literal.
    """
    names = [sql.Identifier(f"c{i}") for i in range(1, width + 1)]
    sizes = [sql.SQL("coalesce(octet_length(q.{}::text), 0)").format(n) for n in names]
    head = sql.SQL(
        "SELECT {values}plue_running FROM (SELECT q.*, sum({size})"
        " OVER (ROWS UNBOUNDED PRECEDING) AS plue_running FROM (\n"
    ).format(
        values=sql.SQL("").join(
            sql.SQL("CASE WHEN w.plue_running <= {} THEN w.{} END, ").format(
                sql.Literal(max_bytes), n
            )
            for n in names
        ),
        size=sql.SQL(" + ").join(sizes) if sizes else sql.Literal(0),
    )
    tail = sql.SQL("\n) AS q{}) AS w").format(
        sql.SQL("({})").format(sql.SQL(", ").join(names)) if names else sql.SQL("")
    )
    return head.as_bytes(conn) + statement.encode() + tail.as_bytes(conn)


def execute_readonly(
    conn: psycopg.Connection[Any], text: str, limits: Limits, lead: str = ""
) -> QueryResult:
    """Run ``text`` with the server-side layers only (2-5 of the module docstring);
    ``lead`` is what the user sent before it (comments), so error lines count it too.

    ``conn`` must be in autocommit mode: the transaction is opened here explicitly so
    its read-only mode and local timeouts are set before the untrusted text arrives.
    The text is first declared as it is (a cursor that is never fetched, for its column
    names and PostgreSQL's own refusals), then declared again inside ``bounded``. The
    first declaration also proves the text is one complete statement (its parentheses,
    quotes and comments closed), so splicing it between parentheses cannot change it.
    From BEGIN to the last FETCH, the statements share one ``statement_timeout_ms``.
    """
    if not conn.autocommit:
        raise ValueError("execute_readonly needs an autocommit connection")
    started = time.monotonic()
    deadline = _Deadline(limits.statement_timeout_ms)
    offset: int | None = None  # only the probe's DECLARE holds the text as the user wrote it
    try:
        # prepare=False throughout: DISCARD ALL drops server-side prepared statements.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", prepare=False)
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true),"
            " set_config('lock_timeout', %s, true),"
            " set_config('idle_in_transaction_session_timeout', %s, true)",
            (
                deadline.left_ms(),
                str(limits.lock_timeout_ms),
                str(limits.idle_timeout_ms),
            ),
            prepare=False,
        )
        offset = len(PROBE_PREFIX)
        with conn.cursor(name=PROBE_CURSOR) as probe:
            probe.execute(text.encode())
            columns = [column.name for column in probe.description or ()]
        offset = None
        with conn.cursor(name=CURSOR_NAME) as cur:
            deadline.arm(conn)
            cur.execute(bounded(conn, text, len(columns), limits.max_bytes))
            result = _fetch(cur, columns, limits, deadline)
    except psycopg.Error as exc:
        raise _explain(exc, server_words(exc, text, offset, lead)) from exc
    finally:
        _reset(conn)
    result.elapsed_ms = (time.monotonic() - started) * 1000
    return result


def _fetch(
    cur: psycopg.ServerCursor[Any], columns: list[str], limits: Limits, deadline: _Deadline
) -> QueryResult:
    """Rows in small FETCHes, each within the deadline, until the row cap, the size cap
    or the end; the size cap is measured again as the JSON the caller will get (escaping
    can make it larger)."""
    result = QueryResult(columns=columns)
    size = 0
    while batch := deadline.fetchmany(cur, FETCH_BATCH):
        for *row, running in batch:
            if len(result.rows) == limits.max_rows:
                result.truncated_reason = f"row cap of {limits.max_rows} rows"
            elif running > limits.max_bytes:
                result.truncated_reason = f"size cap of {limits.max_bytes} bytes"
            else:
                values = [to_json(v) for v in row]
                size += len(json.dumps(values, ensure_ascii=False).encode())
                if size > limits.max_bytes:
                    result.truncated_reason = f"size cap of {limits.max_bytes} bytes"
            if result.truncated_reason:
                result.truncated = True
                return result
            result.rows.append(values)
    return result


class ReadonlyExecutor:
    """All five layers, over a small pool of connections logged in as the reader."""

    def __init__(self, reader_url: str, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._slots = threading.BoundedSemaphore(self.limits.max_concurrent)
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
            max_size=self.limits.max_concurrent + 2,  # the other tools' catalog queries
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
        statement = check_statement(text)
        wait = self.limits.statement_timeout_ms / 1000
        if not self._slots.acquire(timeout=wait):
            raise QueryRefusedError(
                f"{self.limits.max_concurrent} queries are already running"
                f" and none finished within {wait:g} s; try again later"
            )
        try:
            with self._pool.connection() as conn:
                try:
                    check_calls(conn, statement.calls)
                except psycopg.Error as exc:
                    raise _explain(exc, server_words(exc, text, None)) from exc
                lead = text[: statement.start]
                return execute_readonly(conn, statement.text, self.limits, lead)
        finally:
            self._slots.release()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A reader connection for the fixed catalog queries of the other tools."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()
