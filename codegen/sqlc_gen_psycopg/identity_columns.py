"""An identity column is NOT NULL: PostgreSQL makes it so (``GENERATED ... AS IDENTITY``
sets attnotnull), but sqlc's catalog keeps it nullable unless the column also says NOT
NULL, so its model field and every query reading it were ``int | None``. The catalog is
corrected before anything is built; a query column then follows the plugin's own
inference, which still makes it optional on an outer join's nullable side.
"""

from __future__ import annotations

from dataclasses import replace

from sqlc_gen_psycopg.protocol import Request, Table
from sqlc_gen_psycopg.schema_info import SchemaInfo, qualified


def identities_not_null(request: Request, schema: SchemaInfo) -> Request:
    """``request`` with each identity column of the schema files NOT NULL."""
    if not schema.identities:
        return request
    return replace(request, tables=tuple(corrected(t, schema.identities) for t in request.tables))


def corrected(table: Table, identities: set[str]) -> Table:
    key = qualified(table.schema, table.name)
    columns = tuple(
        replace(c, not_null=True) if f"{key}.{c.name}" in identities else c for c in table.columns
    )
    return replace(table, columns=columns)
