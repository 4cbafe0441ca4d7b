"""Which queries return exactly one row whatever the data, so ``:one`` needn't say ``| None``.

Two statement shapes are proven here, conservatively (anything else may return no row):

- an INSERT of one ``VALUES`` row (or ``DEFAULT VALUES``) with RETURNING, and no
  ``ON CONFLICT DO NOTHING`` nor ``DO UPDATE ... WHERE`` (both can skip the row);
- a plain SELECT with no GROUP BY, HAVING, LIMIT, OFFSET or set operation, no
  function call in its output outside an aggregate (a set-returning one such as
  ``unnest(array_agg(x))`` could return no rows), and either an aggregate in its
  output or no FROM and no WHERE (``SELECT $1::text || 'x'``); constants, casts,
  operators, COALESCE, CASE and scalar subqueries are fine.

A BEFORE trigger returning NULL or a rule can still discard an inserted row; the
generated function then raises instead of returning None (see ``_types.NoRowError``).
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast, enums

from sqlc_gen_psycopg.expression_types import NULL_ON_EMPTY_AGGREGATES
from sqlc_gen_psycopg.inference import returning

AGGREGATES = NULL_ON_EMPTY_AGGREGATES | {"count"}


def always_one_row(sql: str) -> bool:
    """True when the statement returns exactly one row, or fails, for any data."""
    try:
        parsed = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return False
    if len(parsed) != 1:
        return False
    stmt = parsed[0].stmt
    if isinstance(stmt, ast.InsertStmt):
        return _inserts_one_row(stmt)
    if isinstance(stmt, ast.SelectStmt):
        return _selects_one_row(stmt)
    return False


def _inserts_one_row(stmt: Any) -> bool:
    if not returning(stmt):
        return False
    conflict = stmt.onConflictClause
    if conflict is not None and (
        conflict.action != enums.OnConflictAction.ONCONFLICT_UPDATE
        or conflict.whereClause is not None
    ):
        return False
    source = stmt.selectStmt
    if source is None:  # DEFAULT VALUES
        return True
    return (
        isinstance(source, ast.SelectStmt)
        and source.valuesLists is not None
        and len(source.valuesLists) == 1
    )


def _selects_one_row(stmt: Any) -> bool:
    if (
        stmt.op != enums.SetOperation.SETOP_NONE
        or stmt.valuesLists
        or stmt.groupClause
        or stmt.havingClause is not None
        or stmt.limitCount is not None
        or stmt.limitOffset is not None
        or not stmt.targetList
    ):
        return False
    values = [target.val for target in stmt.targetList]
    if not all(_one_value(v) for v in values):
        return False
    no_rows_to_filter = not stmt.fromClause and stmt.whereClause is None
    return no_rows_to_filter or any(_has_aggregate(v) for v in values)


def _is_aggregate(node: Any) -> bool:
    return (
        isinstance(node, ast.FuncCall)
        and node.over is None
        and node.funcname[-1].sval.lower() in AGGREGATES
    )


def _children(node: Any) -> list[Any]:
    """Direct sub-expressions, without descending into subqueries (their rows are theirs)."""
    if isinstance(node, ast.SubLink):
        return [node.testexpr] if node.testexpr is not None else []
    out: list[Any] = []
    for name in node:
        value = getattr(node, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Node):
                out.append(item)
    return out


def _one_value(node: Any) -> bool:
    """One value per row: no function call outside an aggregate (it may return a set)."""
    if _is_aggregate(node):
        return True
    if isinstance(node, ast.FuncCall):
        return False
    return all(_one_value(child) for child in _children(node))


def _has_aggregate(node: Any) -> bool:
    if _is_aggregate(node):
        return True
    if isinstance(node, ast.SubLink):
        return False
    return any(_has_aggregate(child) for child in _children(node))
