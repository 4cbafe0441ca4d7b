"""Database health at a glance: ``plue-db stats`` and the MCP ``db_stats`` tool.

Only catalog and statistics views are read, so the numbers are cheap to get and
safe to ask for on a busy production server. Row counts are the planner's
estimates (``reltuples``, or the live-tuple count for a never-analysed table).

Every number is an aggregate: no query text, role name or setting is ever selected.
Who reads them, and why:

- MCP ``db_stats`` reads as the MCP reader, which is not a member of
  ``pg_read_all_stats``: PostgreSQL shows another role's session state only together
  with its query text, so those sessions are counted as ``not visible`` instead of by
  state (PostgreSQL hides even their type, so a background worker busy in this
  database counts there too). A security-definer view could count them by state, but
  would be a new object owned by a superuser in the application's database, for one
  number.
- ``plue-db stats`` reads as the DATABASE_URL login, the operator's own, in a read-only
  session. Its SQL is fixed in this module, so it cannot be steered past these
  aggregates; going through the reader instead would make a read command create roles.
"""

from __future__ import annotations

from typing import Any

import psycopg

from plue_db import servers
from plue_db.demo.tables import format_table

TABLE_SIZES = """
SELECT c.relname,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END,
       pg_total_relation_size(c.oid),
       pg_size_pretty(pg_total_relation_size(c.oid))
FROM pg_class c
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
"""

DATABASE = """
SELECT current_database(),
       current_setting('server_version'),
       extract(epoch FROM now() - pg_postmaster_start_time())::bigint,
       pg_database_size(current_database()),
       pg_size_pretty(pg_database_size(current_database())),
       (SELECT round(blks_hit::numeric / nullif(blks_hit + blks_read, 0), 4)::float8
        FROM pg_stat_database WHERE datname = current_database())
"""

CONNECTIONS = """
SELECT coalesce(state, 'not visible'), count(*)
FROM pg_stat_activity
WHERE datname = current_database()
  AND coalesce(backend_type, 'client backend') = 'client backend'  -- NULL: hidden from us
GROUP BY 1 ORDER BY 1
"""

LARGEST = 10


def table_sizes(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every table in ``public``, largest first, with its row estimate and size."""
    return [
        {"table": name, "row_estimate": rows, "total_bytes": size, "total_size": pretty}
        for name, rows, size, pretty in conn.execute(TABLE_SIZES).fetchall()
    ]


def collect(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Size, uptime, cache hit ratio, connections by state and the largest tables."""
    row = conn.execute(DATABASE).fetchone()
    assert row is not None
    name, version, uptime, size, pretty, hit_ratio = row
    tables = table_sizes(conn)
    return {
        "database": name,
        "server_version": version,
        "uptime_seconds": uptime,
        "size_bytes": size,
        "size": pretty,
        "cache_hit_ratio": hit_ratio,
        "connections": dict(conn.execute(CONNECTIONS).fetchall()),
        "table_count": len(tables),
        "row_estimate_total": sum(t["row_estimate"] or 0 for t in tables),
        "largest_tables": tables[:LARGEST],
    }


def render(stats: dict[str, Any]) -> str:
    """The stats as the text ``plue-db stats`` prints."""
    ratio = stats["cache_hit_ratio"]
    summary = [
        ["database", stats["database"]],
        ["server version", stats["server_version"]],
        ["uptime", f"{stats['uptime_seconds'] // 3600}h {stats['uptime_seconds'] % 3600 // 60}m"],
        ["size", stats["size"]],
        ["cache hit ratio", "n/a" if ratio is None else f"{ratio:.2%}"],
        ["tables", stats["table_count"]],
        ["rows (estimate)", stats["row_estimate_total"]],
    ]
    connections = [[state, n] for state, n in stats["connections"].items()]
    largest = [[t["table"], t["row_estimate"], t["total_size"]] for t in stats["largest_tables"]]
    return "\n\n".join(
        [
            format_table(["metric", "value"], summary),
            format_table(["connection state", "count"], connections),
            format_table(["largest tables", "rows (est.)", "size"], largest),
        ]
    )


def main() -> None:
    """``plue-db stats``: print the stats of the configured database."""
    with psycopg.connect(servers.database_url()) as conn:
        conn.read_only = True
        print(render(collect(conn)))
