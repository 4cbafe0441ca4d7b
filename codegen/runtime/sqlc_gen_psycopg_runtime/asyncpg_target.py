"""What the asyncpg target of every generated package shares (its ``_asyncpg`` module
keeps only what its schema decides: ``init_connection``'s codecs and which errors have
names).

asyncpg ships no type information, so the generated functions take a ``Connection``:
this module's Protocol of the methods they call, which an ``asyncpg.Connection`` and
the connection an ``asyncpg.Pool`` hands out both have. Nothing here imports asyncpg
but :func:`to_asyncpg_range`, by name, once a range is sent.

Transactions stay the caller's, as in the psycopg modules:

- ``:copyfrom`` and ``:batch*`` are all or nothing: inside a transaction in a
  savepoint (on error only their own rows are undone and the caller's transaction
  stays usable), outside one in a transaction of their own (:func:`atomic`).
- ``iter_*`` streams DECLARE a server-side cursor in the caller's transaction and open
  none (leaving the loop early undoes nothing); outside one they raise
  :class:`StreamNeedsTransactionError` before sending anything (:class:`ServerStream`).

Errors by name: a violation of a constraint the package's ``errors`` knows is raised as
that class made a subclass of asyncpg's own class too (:func:`raise_named`), so
``except errors.UsersPkeyViolation`` and ``except asyncpg.UniqueViolationError`` both
catch it.

Tracing (OpenTelemetry's asyncpg instrumentation wraps ``execute``, ``executemany``,
``fetch``, ``fetchval``, ``fetchrow`` and the cursor's fetches, not ``fetchmany``): each
call sends its own statement through those, so its one span carries the ``-- name:``
line, and its bookkeeping (BEGIN, SAVEPOINT, RELEASE, ROLLBACK, COMMIT; a stream's
FETCH, CLOSE and checks) through ``fetchmany``. A ``:copyfrom`` or
``:batchone``/``:batchmany`` call, whose rows go through methods that are not traced or
traced once per row, passes its ``-- name:`` line as ``mark``: its first bookkeeping
statement is then sent where tracing sees it. A stream's traced statement is its
DECLARE, which holds the query and so its ``-- name:`` line.
"""

from __future__ import annotations

import importlib
import itertools
import json
import types
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, LiteralString, Protocol

import psycopg.errors
from psycopg import sql
from psycopg.pq import DiagnosticField

from sqlc_gen_psycopg_runtime.types import StreamEndedError

Record = Sequence[Any]
"""An ``asyncpg.Record`` as the generated decoders use it: indexed, sliced, unpacked."""

_BEGIN: LiteralString = "BEGIN"
_COMMIT: LiteralString = "COMMIT"
_ROLLBACK: LiteralString = "ROLLBACK"
_SAVEPOINT: LiteralString = "SAVEPOINT sqlc_gen_psycopg_atomic"
_RELEASE: LiteralString = "RELEASE SAVEPOINT sqlc_gen_psycopg_atomic"
_ROLLBACK_TO: LiteralString = "ROLLBACK TO SAVEPOINT sqlc_gen_psycopg_atomic"


class Connection(Protocol):
    """What the generated asyncpg functions call on a connection."""

    async def execute(self, query: str, *args: Any) -> str: ...

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> None: ...

    async def fetch(self, query: str, *args: Any) -> list[Record]: ...

    async def fetchrow(self, query: str, *args: Any) -> Record | None: ...

    async def fetchmany(self, query: str, args: Iterable[Sequence[Any]]) -> list[Record]: ...

    async def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Iterable[Sequence[Any]],
        columns: Sequence[str],
        schema_name: str | None = None,
    ) -> str: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def is_in_transaction(self) -> bool: ...

    def is_closed(self) -> bool: ...

    async def set_type_codec(
        self,
        typename: str,
        *,
        schema: str,
        encoder: Callable[[Any], Any],
        decoder: Callable[[Any], Any],
        format: str,
    ) -> None: ...

    async def set_builtin_type_codec(
        self, typename: str, *, schema: str, codec_name: str
    ) -> None: ...


def to_asyncpg_range(value: Any) -> Any:
    """psycopg's Range as ``asyncpg.Range``, the only range asyncpg's codec takes (a
    tuple can't say its bounds); None stays None. asyncpg is imported here, once a range
    is sent, and by name: it ships no type information."""
    if value is None:
        return None
    asyncpg_range = importlib.import_module("asyncpg").Range
    return asyncpg_range(
        value.lower,
        value.upper,
        lower_inc=value.lower_inc,
        upper_inc=value.upper_inc,
        empty=value.isempty,
    )


def to_asyncpg_multirange(value: Any) -> Any:
    """psycopg's Multirange as asyncpg takes one: a list of ``asyncpg.Range``."""
    return None if value is None else [to_asyncpg_range(item) for item in value]


class JsonItem:
    """One element of a json[]/jsonb[] parameter. asyncpg takes a list or tuple element
    of an array for a sub-array, so a JSON array there would be refused (non-homogeneous
    array); the generated functions hand each element over in this box instead."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _json_text(value: Any) -> bytes:
    return json.dumps(value.value if isinstance(value, JsonItem) else value).encode()


def _jsonb_out(value: Any) -> bytes:
    return b"\x01" + _json_text(value)  # jsonb's binary format: version 1, text


def _jsonb_in(data: bytes) -> Any:
    return json.loads(data[1:])


async def set_json_codecs(conn: Connection) -> None:
    """json and jsonb read and written as Python values (asyncpg's default is their
    text), binary, so ``:copyfrom`` (asyncpg copies in binary) writes json too."""
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_jsonb_out, decoder=_jsonb_in, format="binary"
    )
    await conn.set_type_codec(
        "json", schema="pg_catalog", encoder=_json_text, decoder=json.loads, format="binary"
    )


def rowcount(status: str) -> int:
    """The row count of a command tag (``UPDATE 3``, ``INSERT 0 3``, ``COPY 3``); 0 if none."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


async def _quiet(conn: Connection, statement: LiteralString) -> None:
    """Run a bookkeeping statement where tracing does not see it (``fetchmany``)."""
    await conn.fetchmany(statement, [()])


@asynccontextmanager
async def atomic(conn: Connection, mark: LiteralString = "") -> AsyncGenerator[None, None]:
    """Run the block in a savepoint of the open transaction, else in a transaction of
    its own; ``mark`` (a ``-- name:`` line) is sent with its first statement, traced."""
    own = not conn.is_in_transaction()
    first = _BEGIN if own else _SAVEPOINT
    if mark:
        await conn.execute(mark + "\n" + first)
    else:
        await _quiet(conn, first)
    try:
        yield
    except BaseException:
        if not conn.is_closed() and conn.is_in_transaction():
            await _quiet(conn, _ROLLBACK if own else _ROLLBACK_TO)
            if not own:
                await _quiet(conn, _RELEASE)
        raise
    await _quiet(conn, _COMMIT if own else _RELEASE)


class StreamNeedsTransactionError(psycopg.errors.NoActiveSqlTransaction):
    """An ``iter_*`` function of the asyncpg target was called outside a transaction:
    its cursor lives in the caller's, as asyncpg's own cursors do (SQLSTATE 25P01)."""


# The cursors already open on the connection whose names start with the prefix, and
# the transaction's start (now()), which tells this transaction from a later one.
_TAKEN: LiteralString = (
    "SELECT now(), array(SELECT name FROM pg_catalog.pg_cursors WHERE starts_with(name, $1))"
)
_STILL_OPEN: LiteralString = (
    "SELECT now() = $1 AND EXISTS (SELECT FROM pg_catalog.pg_cursors WHERE name = $2)"
)


class ServerStream:
    """An ``iter_*`` call's server-side cursor, read ``batch_size`` rows per FETCH.

    One span per call: only the DECLARE goes through a traced method. The cursor's
    name is the function's prefix and the lowest number no open cursor has, so each
    name's statements stay few in asyncpg's statement cache and always read one
    query's columns. Before each fetch after the first (the caller's code ran in
    between, and may have ended the transaction) the stream checks that its cursor is
    still there in the same transaction, else raises ``StreamEndedError`` and sends
    nothing more. The cursor is closed with the last, short batch; a stream left early
    sends nothing (asyncio may close it from another task while the connection is
    busy) and its cursor ends with the transaction.
    """

    def __init__(self, conn: Connection, label: str, prefix: str, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"iter_{label}: batch_size must be at least 1, got {batch_size}")
        if not conn.is_in_transaction():
            raise StreamNeedsTransactionError(
                f"iter_{label}: asyncpg streams through a cursor, which needs a transaction;"
                " call it inside `async with conn.transaction():`"
            )
        self._conn = conn
        self._label = label
        self._prefix = prefix
        self._batch_size = batch_size
        self._name = ""
        self._fetch = ""
        self._began: Any = None
        self._open = False
        self._fresh = True  # no caller code has run since the last statement

    async def declare(self, query: LiteralString, *args: Any) -> None:
        """Open the cursor over ``query``: the one statement tracing sees."""
        began, open_names = (await self._conn.fetchmany(_TAKEN, [(self._prefix,)]))[0]
        taken = set(open_names)
        names = (f"{self._prefix}{n}" for n in itertools.count(1))
        self._name = next(name for name in names if name not in taken)
        cursor = sql.Identifier(self._name)
        self._fetch = (
            sql.SQL("FETCH FORWARD {} FROM {}")
            .format(sql.Literal(self._batch_size), cursor)
            .as_string(None)
        )
        declare = sql.SQL("DECLARE {} NO SCROLL CURSOR FOR {}").format(cursor, sql.SQL(query))
        await self._conn.execute(declare.as_string(None), *args)
        self._began, self._open, self._fresh = began, True, True

    async def fetch(self) -> list[Record]:
        """The next batch, ``[]`` at the end; the cursor is closed with the last batch."""
        if not self._open:
            return []
        if not self._fresh and not await self._still_open():
            self._open = False
            raise StreamEndedError(
                f"iter_{self._label}: the transaction holding this stream's cursor has ended;"
                " read a stream to its end inside the transaction that opened it"
            )
        rows = await self._conn.fetchmany(self._fetch, [()])
        self._fresh = False
        if len(rows) < self._batch_size:
            close = sql.SQL("CLOSE {}").format(sql.Identifier(self._name)).as_string(None)
            await self._conn.fetchmany(close, [()])
            self._open = False
        return rows

    async def _still_open(self) -> bool:
        if self._conn.is_closed() or not self._conn.is_in_transaction():
            return False
        found = await self._conn.fetchmany(_STILL_OPEN, [(self._began, self._name)])
        return bool(found[0][0])


# asyncpg's attribute for each field of PostgreSQL's report, so that a named class's
# psycopg ``.diag`` reads what asyncpg received.
_DIAGNOSTICS: Final = {
    "severity": DiagnosticField.SEVERITY,
    "severity_en": DiagnosticField.SEVERITY_NONLOCALIZED,
    "sqlstate": DiagnosticField.SQLSTATE,
    "message": DiagnosticField.MESSAGE_PRIMARY,
    "detail": DiagnosticField.MESSAGE_DETAIL,
    "hint": DiagnosticField.MESSAGE_HINT,
    "schema_name": DiagnosticField.SCHEMA_NAME,
    "table_name": DiagnosticField.TABLE_NAME,
    "column_name": DiagnosticField.COLUMN_NAME,
    "data_type_name": DiagnosticField.DATATYPE_NAME,
    "constraint_name": DiagnosticField.CONSTRAINT_NAME,
}
Named = type[psycopg.errors.IntegrityError]  # a package's errors.ConstraintViolation class
Violations = Callable[[str | None, str | None, str | None], Named | None]
"""A package's ``errors.violation_class``: (SQLSTATE, table, constraint) to its class."""
_NAMED: dict[tuple[type[Exception], type[Exception]], Named] = {}


def raise_named(error: Exception, violation_class: Violations) -> None:
    """Raise asyncpg's ``error`` as its constraint's class (``violation_class``, the
    package's ``errors.violation_class``), from ``error``, when there is one; return
    otherwise, for the caller to re-raise ``error`` itself.

    The class raised subclasses both the named class and ``error``'s own asyncpg class
    (made once per pair), and carries asyncpg's attributes (``constraint_name``,
    ``table_name``, ``detail``, ...) and the same fields as psycopg's ``.diag``.
    """
    named = violation_class(
        getattr(error, "sqlstate", None),
        getattr(error, "table_name", None),
        getattr(error, "constraint_name", None),
    )
    if named is None:
        return
    key = (named, type(error))
    both = _NAMED.get(key) or _NAMED.setdefault(key, _subclass(named, type(error)))
    diagnostics: dict[int, bytes | None] = {
        field: str(value).encode()
        for attribute, field in _DIAGNOSTICS.items()
        if (value := getattr(error, attribute, None)) is not None
    }
    translated = both(*error.args, info=diagnostics)
    vars(translated).update(vars(error))
    raise translated from error


def _subclass(named: Named, driver: type[Exception]) -> Named:
    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__module__=__name__, __doc__=f"{named.__doc__} (asyncpg)")

    made: Named = types.new_class(named.__name__, (named, driver), exec_body=body)
    return made
