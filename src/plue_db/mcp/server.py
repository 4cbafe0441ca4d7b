"""``plue-db mcp``: a Model Context Protocol server for looking into a Plue database.

It speaks stdio (the client starts it as a subprocess) and offers read-only tools:
``query``, ``list_tables``, ``describe_table``, ``find_user`` and ``db_stats``. Every
tool runs as the read-only login of plue_db.mcp.readonly; ``query`` also goes through
all of that module's layers, because its SQL comes from a model or a person.

Every failure a caller can cause (bad SQL, a refusal, a NUL byte in a name, a server
error) reaches the client as one message naming what is at fault: an exception the SDK
does not know would reach it only as "Error executing tool <name>".

Configuration: PLUE_MCP_DATABASE_URL, a login that can only read; without it the
server creates or downgrades ``plue_mcp_reader`` through DATABASE_URL (or the embedded
server). Limits: PLUE_MCP_STATEMENT_TIMEOUT_MS, PLUE_MCP_MAX_ROWS, PLUE_MCP_MAX_BYTES,
PLUE_MCP_MAX_CONCURRENT.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from plue_db import dsn, servers
from plue_db.mcp import stats
from plue_db.mcp.reader_role import ReaderSetupError
from plue_db.mcp.readonly import QueryError, ReadonlyExecutor, to_json
from plue_db.mcp.sql_guard import require_text

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)

FIND_TABLE = """
SELECT c.oid, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""

TABLE_NAMES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum),
       nullif(a.attidentity, ''), nullif(a.attgenerated, '')
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

CONSTRAINTS = """
SELECT conname,
       CASE contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
            WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclusion' ELSE contype::text END,
       pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = %s::oid AND contype <> 'n'
ORDER BY contype, conname
"""

FOREIGN_KEYS = """
SELECT conname, conrelid::regclass::text,
       ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute ON attrelid = conrelid AND attnum = k.n ORDER BY k.i),
       confrelid::regclass::text,
       ARRAY(SELECT attname FROM unnest(confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute ON attrelid = confrelid AND attnum = k.n ORDER BY k.i),
       CASE confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null'
            WHEN 'd' THEN 'set default' WHEN 'r' THEN 'restrict' ELSE 'no action' END
FROM pg_constraint
WHERE contype = 'f' AND (conrelid = %(oid)s::oid OR confrelid = %(oid)s::oid)
ORDER BY conrelid <> %(oid)s::oid, conname
"""

INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary,
       pg_size_pretty(pg_relation_size(i.indexrelid))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %s::oid ORDER BY c.relname
"""

FIND_USER = """
SELECT u.id, u.username, u.display_name, u.email, u.wallet_address, u.is_active,
       u.is_admin, u.prohibit_login, u.created_at, u.last_login_at,
       (SELECT count(*) FROM repositories r WHERE r.owner_id = u.id) AS repositories
FROM users u WHERE lower(u.username) = lower(%s)
"""

SIMILAR_USERS = """
SELECT username FROM users
WHERE lower(username) LIKE lower(left(%s, 3)) || '%%' ORDER BY username LIMIT 5
"""


def _rows(conn: psycopg.Connection[Any], query: str, params: Any) -> list[tuple[Any, ...]]:
    """Run one of this module's fixed catalog queries (never caller-supplied SQL)."""
    with conn.cursor() as cur:
        cur.execute(query.encode(), params)
        return cur.fetchall()


def _split_name(table: str) -> tuple[str, str]:
    """``schema.table`` or ``table`` (schema ``public``), as written; no quoting rules."""
    schema, _, name = table.strip().rpartition(".")
    return schema or "public", name


def describe(conn: psycopg.Connection[Any], table: str) -> dict[str, Any]:
    """Columns, constraints, indexes and foreign keys of one table."""
    schema, name = _split_name(table)
    found = _rows(conn, FIND_TABLE, (schema, name))
    if not found:
        names = [row[0] for row in _rows(conn, TABLE_NAMES, (schema,))]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; list_tables() lists them"
        raise ToolError(f"no table named {table!r} in schema {schema!r}{hint}")
    oid, comment = found[0]
    return {
        "table": f"{schema}.{name}",
        "comment": comment,
        "columns": [
            {
                "name": col,
                "type": typ,
                "nullable": nullable,
                "default": default,
                "comment": col_comment,
                "identity": {"a": "always", "d": "by default"}.get(identity or ""),
                "generated": generated is not None,
            }
            for col, typ, nullable, default, col_comment, identity, generated in _rows(
                conn, COLUMNS, (oid,)
            )
        ],
        "constraints": [
            {"name": n, "kind": kind, "definition": d}
            for n, kind, d in _rows(conn, CONSTRAINTS, (oid,))
        ],
        "indexes": [
            {"name": n, "definition": d, "unique": u, "primary": p, "size": size}
            for n, d, u, p, size in _rows(conn, INDEXES, (oid,))
        ],
        "foreign_keys": [
            {
                "name": n,
                "table": src,
                "columns": cols,
                "references": dst,
                "referenced_columns": ref_cols,
                "on_delete": on_delete,
            }
            for n, src, cols, dst, ref_cols, on_delete in _rows(conn, FOREIGN_KEYS, {"oid": oid})
        ],
    }


def lookup_user(conn: psycopg.Connection[Any], username: str) -> dict[str, Any]:
    """One user by name (case-insensitive), with how many repositories they own."""
    with conn.cursor() as cur:
        cur.execute(FIND_USER.encode(), (username,))
        row = cur.fetchone()
        columns = [c.name for c in cur.description or ()]
    if row is None:
        similar = [r[0] for r in _rows(conn, SIMILAR_USERS, (username,))]
        hint = f"; similar names: {', '.join(similar)}" if similar else ""
        raise ToolError(f"no user named {username!r}{hint}")
    return {name: to_json(value) for name, value in zip(columns, row, strict=True)}


@contextmanager
def _reported(tool: str) -> Iterator[None]:
    """Turn a refusal or a server error into the ToolError the client reads."""
    try:
        yield
    except QueryError as exc:
        raise ToolError(str(exc)) from exc
    except psycopg.Error as exc:
        reason = exc.diag.message_primary or str(exc).strip()
        raise ToolError(f"{tool} failed: PostgreSQL error: {reason}") from exc


def build_server(executor: ReadonlyExecutor) -> MCPServer[Any]:
    """The MCP server with its five tools, all reading through ``executor``."""
    server: MCPServer[Any] = MCPServer(
        "plue-db",
        instructions="Read-only tools for inspecting the Plue PostgreSQL database.",
    )

    @server.tool(annotations=READ_ONLY)
    def query(sql: str) -> dict[str, Any]:
        """Run one read-only SQL query (SELECT / VALUES / TABLE / WITH ... SELECT).

        Runs in a read-only transaction with a statement timeout; at most a capped
        number of rows come back, and `truncated` says whether more existed.
        """
        with _reported("query"):
            return executor.query(sql).as_dict()

    @server.tool(annotations=READ_ONLY)
    def list_tables() -> dict[str, Any]:
        """Tables in the public schema with row estimates and total sizes, largest first."""
        with _reported("list_tables"), executor.connection() as conn:
            return {"tables": stats.table_sizes(conn)}

    @server.tool(annotations=READ_ONLY)
    def describe_table(table: str) -> dict[str, Any]:
        """Columns (type, nullable, default, comment), constraints, indexes and foreign keys."""
        with _reported("describe_table"):
            require_text("table", table)
            with executor.connection() as conn:
                return describe(conn, table)

    @server.tool(annotations=READ_ONLY)
    def find_user(username: str) -> dict[str, Any]:
        """Look a user up by username, case-insensitively, with their repository count."""
        with _reported("find_user"):
            require_text("username", username)
            with executor.connection() as conn:
                return lookup_user(conn, username)

    @server.tool(annotations=READ_ONLY)
    def db_stats() -> dict[str, Any]:
        """Database size, uptime, version, cache hit ratio, connections and largest tables."""
        with _reported("db_stats"), executor.connection() as conn:
            return stats.collect(conn)

    return server


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send anything written to fd 1 (e.g. the embedded server starting) to stderr.

    On stdio, stdout carries the protocol; one stray line would corrupt it.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main() -> int:
    """``plue-db mcp``: serve the tools on stdio until the client closes the pipe.

    Exits with 2 and a one-line reason on stderr when no safe read-only login is
    available, rather than serving with one that could write. A server that can't be
    reached propagates to the CLI, which words it as one scrubbed line like every command.
    """
    reader_url = os.environ.get("PLUE_MCP_DATABASE_URL", "").strip() or None
    try:
        with _stdout_to_stderr():
            admin_url = "" if reader_url else servers.database_url()
            executor = ReadonlyExecutor.from_config(admin_url, reader_url)
    except (ReaderSetupError, ValueError) as exc:
        urls = [os.environ.get("DATABASE_URL", ""), reader_url or ""]
        print(f"plue-db mcp: {' '.join(dsn.scrub(str(exc), urls).split())}", file=sys.stderr)
        return 2
    try:
        build_server(executor).run("stdio")
    finally:
        executor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
