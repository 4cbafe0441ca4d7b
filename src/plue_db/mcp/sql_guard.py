"""The statement guard of the MCP ``query`` tool: refuse, with a reason, before anything runs.

It parses the text (pglast) and accepts exactly one plain query: no data-modifying CTE,
no ``SELECT INTO``, no row locks. Which functions may run is decided by PostgreSQL's own
facts, not a list of names we thought of: every function the statement calls by name
(directly or through an operator) is looked up in ``pg_proc``, and one that is
``volatile`` or ``parallel unsafe`` is refused (advisory locks, ``pg_sleep``,
``txid_current()``/``pg_current_xact_id()``, ``set_config``, ``nextval``, ``lo_*``,
``pg_notify``, dblink ...), except the few harmless volatile ones in HARMLESS_FUNCTIONS.

Before parsing, the text is bounded in size and tokens: the parser recurses over an
expression's depth (20,000 ``+`` terms crash the C extension outright), so a statement
past the bound is refused as too complex rather than parsed.

Functions reached only through a view's definition or a cast are not seen here; the
server-side layers of plue_db.mcp.readonly (a role that can only read, a read-only
transaction, the statement timeout) bound those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pglast
import psycopg

from plue_db.mcp import pg_ast

MAX_QUERY_BYTES = 100_000
MAX_TOKENS = 10_000

# Marked volatile or parallel unsafe, yet they change nothing: only their answers vary.
HARMLESS_FUNCTIONS = (
    "clock_timestamp",
    "current_schema",
    "current_schemas",
    "gen_random_uuid",
    "pg_database_size",
    "pg_indexes_size",
    "pg_relation_size",
    "pg_table_size",
    "pg_total_relation_size",
    "random",
    "timeofday",
)
# A statement kind in SQL's words, not the parser's class names (DeleteStmt).
WRITES = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
}
READS_ONLY = "the query tool only reads (SELECT, VALUES, TABLE or WITH ... SELECT)"

UNSAFE_CALL = """
WITH called AS (
    SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[], %(operators)s::bool[])
        WITH ORDINALITY AS f(schema, name, operator, position)
), visible AS (
    SELECT c.*, n.oid AS namespace FROM called c JOIN pg_namespace n
        ON n.nspname = c.schema OR (c.schema IS NULL AND n.nspname = ANY(current_schemas(true)))
), candidates AS (
    SELECT v.position, v.name, v.operator, p.oid AS function FROM visible v
        JOIN pg_proc p ON p.pronamespace = v.namespace AND p.proname = v.name
        WHERE NOT v.operator
    UNION ALL
    SELECT v.position, v.name, v.operator, o.oprcode::oid FROM visible v
        JOIN pg_operator o ON o.oprnamespace = v.namespace AND o.oprname = v.name
        WHERE v.operator AND o.oprcode <> 0
)
SELECT c.name, c.operator, p.oid::regprocedure::text, p.provolatile = 'v'
FROM candidates c JOIN pg_proc p ON p.oid = c.function
WHERE (p.provolatile = 'v' OR p.proparallel = 'u')
  AND NOT (p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = ANY(%(allowed)s))
ORDER BY c.position
LIMIT 1
"""


class QueryError(Exception):
    """The query did not run to completion; the message says why, for the caller."""


class QueryRefusedError(QueryError):
    """A safety layer refused the query; nothing ran that could write."""


@dataclass(frozen=True, slots=True)
class Call:
    """A function or operator the statement names, as written (schema optional), and
    where (characters into the text)."""

    position: int
    schema: str | None
    name: str
    operator: bool


@dataclass(frozen=True, slots=True)
class Statement:
    """One checked query: its text without a trailing semicolon, what it calls, and
    where it starts in what the user sent (after leading comments)."""

    text: str
    calls: tuple[Call, ...]
    start: int = 0


def require_text(what: str, value: str) -> None:
    """Refuse text PostgreSQL cannot receive: a NUL byte or a lone UTF-16 surrogate."""
    if "\x00" in value:
        raise QueryRefusedError(
            f"{what} contains a NUL byte (\\x00) at character {value.index(chr(0))};"
            " PostgreSQL text cannot hold it"
        )
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise QueryRefusedError(
            f"{what} is not valid Unicode: a lone surrogate at character {exc.start}"
        ) from exc


def _name(parts: Any) -> tuple[str | None, str]:
    """``(schema, name)`` of a qualified name's String nodes (catalog names are ignored)."""
    names = [part.sval for part in parts]
    return (names[-2] if len(names) > 1 else None), names[-1]


def _parse(text: str) -> Any:
    """The single raw statement of ``text``, refusing oversized or malformed input."""
    require_text("the query", text)
    if not text.strip():
        raise QueryRefusedError("the query is empty")
    size = len(text.encode())
    if size > MAX_QUERY_BYTES:
        raise QueryRefusedError(
            f"the query is {size} bytes long; at most {MAX_QUERY_BYTES} are accepted"
        )
    try:
        tokens = len(pglast.parser.scan(text))
        if tokens > MAX_TOKENS:
            raise QueryRefusedError(
                f"statement too deeply nested or complex: {tokens} tokens,"
                f" at most {MAX_TOKENS} are accepted"
            )
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        raise QueryRefusedError(f"query is not valid SQL: {exc}") from exc
    except RecursionError as exc:
        raise QueryRefusedError("statement too deeply nested or complex to check") from exc
    if len(statements) != 1:
        raise QueryRefusedError(f"send exactly one statement; got {len(statements)}")
    return statements[0]


def _kind(root: Any, text: str, start: int) -> str:
    """What the statement is, as its author wrote it: the write's keyword (even after a
    WITH), else the statement's first word (DROP, CREATE, SET, COPY ...)."""
    name = type(root).__name__
    return WRITES.get(name) or text[start:].split(None, 1)[0].upper()


def check_statement(text: str) -> Statement:
    """Refuse anything but exactly one plain query, with a message that says what is wrong;
    return the statement and the functions and operators it calls, for check_calls."""
    raw = _parse(text)
    root = raw.stmt
    if not isinstance(root, pglast.ast.SelectStmt):
        raise QueryRefusedError(
            f"{_kind(root, text, raw.stmt_location)} is not allowed: {READS_ONLY}"
        )
    if root.intoClause is not None:
        raise QueryRefusedError("SELECT INTO creates a table; it is not allowed")
    calls: list[Call] = []
    for node in pg_ast.nodes(root):
        name = type(node).__name__
        if name in WRITES:
            raise QueryRefusedError(f"{WRITES[name]} inside the query is not allowed: {READS_ONLY}")
        if name == "SelectStmt" and node.lockingClause:
            raise QueryRefusedError("row locks (FOR UPDATE/SHARE) are not allowed")
        if name == "FuncCall":
            calls.append(Call(node.location, *_name(node.funcname), operator=False))
        elif name == "A_Expr" and node.name:
            calls.append(Call(node.location, *_name(node.name), operator=True))
    end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)  # characters
    return Statement(
        text[raw.stmt_location : end].rstrip(),
        tuple(sorted(calls, key=lambda c: c.position)),
        raw.stmt_location,
    )


def check_calls(conn: psycopg.Connection[Any], calls: tuple[Call, ...]) -> None:
    """Refuse the first call PostgreSQL marks volatile or parallel unsafe (see module doc).

    Every overload of a name is considered, so a name is refused if any of its
    overloads could change state. Unknown names pass: PostgreSQL reports them itself.
    """
    if not calls:
        return
    found = conn.execute(
        UNSAFE_CALL,
        {
            "schemas": [c.schema for c in calls],
            "names": [c.name for c in calls],
            "operators": [c.operator for c in calls],
            "allowed": list(HARMLESS_FUNCTIONS),
        },
    ).fetchone()
    if found is None:
        return
    name, operator, function, volatile = found
    what = f"operator {name} calls {function}, which" if operator else f"function {function}"
    why = (
        "volatile (it may change state, e.g. take a lock, sleep or write)"
        if volatile
        else "parallel unsafe (it changes state, e.g. assigns a transaction ID)"
    )
    allowed = ", ".join(f"{f}()" for f in HARMLESS_FUNCTIONS)
    raise QueryRefusedError(
        f"{what} is not allowed: PostgreSQL marks it {why}; queries may call only"
        f" stable or immutable, parallel-safe functions, and {allowed}"
    )
