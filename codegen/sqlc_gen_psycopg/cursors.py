"""Which :many queries get an ``iter_*`` stream: PostgreSQL's DECLARE takes only some.

DECLARE accepts one SELECT or VALUES (PostgreSQL 15 and 16, measured): an INSERT,
UPDATE, DELETE or MERGE with RETURNING is a syntax error there, a data-modifying WITH
is "not supported", SELECT INTO "not allowed". A top-level locking clause (FOR UPDATE,
FOR SHARE, ...) works in a transaction but not WITH HOLD, which streams use on an
autocommit connection outside a transaction; the stream then refuses with a message
naming its function instead of PostgreSQL's. A locking clause in a subquery is fine.
"""

from __future__ import annotations

from enum import Enum

import pglast
from pglast import ast


class Cursor(Enum):
    """What a server-side cursor over the statement can be."""

    NONE = "none"  # DECLARE refuses the statement: no iter_* twin
    IN_TRANSACTION = "in_transaction"  # a locking clause: WITHOUT HOLD only
    ANY = "any"


def cursor_for(sql: str) -> Cursor:
    """The cursor PostgreSQL would DECLARE over ``sql`` (one statement)."""
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return Cursor.NONE
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return Cursor.NONE
    stmt = statements[0].stmt
    if stmt.intoClause is not None:
        return Cursor.NONE
    ctes = stmt.withClause.ctes if stmt.withClause is not None else ()
    if any(not isinstance(cte.ctequery, ast.SelectStmt) for cte in ctes):
        return Cursor.NONE
    return Cursor.IN_TRANSACTION if stmt.lockingClause else Cursor.ANY
