"""Which array columns the schema proves hold no NULL elements.

``NOT NULL`` on an array column covers the array, not its elements: PostgreSQL stores
``'{NULL,x}'`` in a ``text[] NOT NULL`` column. So an array's elements are annotated
``T | None`` unless a CHECK proves otherwise. The shape recognised, alone or as one
conjunct of an ``AND``, is what pg_dump prints back for it too::

    CHECK (array_position(col, NULL) IS NULL)      -- NULL may be cast: NULL::text

``array_position`` finds a NULL element (it compares with IS NOT DISTINCT FROM), and
``IS NULL`` is never NULL itself, so the CHECK fails exactly for arrays holding a NULL
(tests/codegen/test_value_meaning.py shows it on PostgreSQL 15 and 16, and shows that the
look-alike ``NOT (NULL = ANY(col))``, which is NULL and so passes, proves nothing).
A CHECK added ``NOT VALID`` proves nothing until ``VALIDATE CONSTRAINT``; a dropped
one nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import AlterTableType, BoolExprType, ConstrType, NullTestType
from pglast.visitors import Visitor


@dataclass(slots=True)
class Proof:
    """One CHECK constraint's proof: its table's key (``repositories``, ``baz.t``), name
    ("" if unnamed) and columns."""

    table: str
    name: str
    columns: frozenset[str]
    valid: bool


@dataclass(slots=True)
class ElementChecks:
    """The proofs of the schema files, read statement by statement; ``key`` names a
    table (a RangeVar) as the model does."""

    key: Callable[[Any], str]
    proofs: list[Proof] = field(default_factory=list)

    def written(self, sql: str) -> dict[int, str]:
        """Parameter number -> ``table.column`` it is written to (written_columns)."""
        return written_columns(sql, self.key)

    def proven(self) -> frozenset[str]:
        """``table.column`` of every array column whose elements are never NULL."""
        return frozenset(f"{p.table}.{c}" for p in self.proofs if p.valid for c in p.columns)

    def read(self, stmt: Any) -> None:
        if isinstance(stmt, ast.CreateStmt):
            table = self.key(stmt.relation)
            for element in stmt.tableElts or ():
                if isinstance(element, ast.ColumnDef):
                    self._add_all(table, element.constraints)
                elif isinstance(element, ast.Constraint):
                    self._add(table, element)
        elif isinstance(stmt, ast.AlterTableStmt):
            table = self.key(stmt.relation)
            for cmd in stmt.cmds or ():
                self._alter(table, cmd)

    def _alter(self, table: str, cmd: Any) -> None:
        if cmd.subtype == AlterTableType.AT_AddConstraint:
            self._add(table, cmd.def_)
        elif cmd.subtype == AlterTableType.AT_AddColumn:
            self._add_all(table, cmd.def_.constraints)
        elif cmd.subtype == AlterTableType.AT_ValidateConstraint:
            for proof in self.proofs:
                if (proof.table, proof.name) == (table, cmd.name):
                    proof.valid = True
        elif cmd.subtype == AlterTableType.AT_DropConstraint:
            # An unnamed CHECK has a name PostgreSQL chose; rather than derive it, a drop
            # of any name not known here forgets the table's unnamed proofs too.
            named = any((p.table, p.name) == (table, cmd.name) for p in self.proofs)
            self.proofs = [
                p
                for p in self.proofs
                if p.table != table or (p.name != cmd.name and (named or p.name))
            ]

    def _add_all(self, table: str, constraints: Any) -> None:
        for constraint in constraints or ():
            self._add(table, constraint)

    def _add(self, table: str, node: Any) -> None:
        if node.contype != ConstrType.CONSTR_CHECK or not getattr(node, "is_enforced", True):
            return
        columns = no_null_elements(node.raw_expr)
        if columns:
            self.proofs.append(Proof(table, node.conname or "", columns, not node.skip_validation))


def no_null_elements(expr: Any) -> frozenset[str]:
    """The columns a CHECK expression proves to hold no NULL element."""
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        return frozenset().union(*(no_null_elements(arg) for arg in expr.args))
    if not (isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NULL):
        return frozenset()
    call = expr.arg
    if not isinstance(call, ast.FuncCall) or call.agg_star or call.func_variadic:
        return frozenset()
    name = [part.sval for part in call.funcname]
    if name not in (["array_position"], ["pg_catalog", "array_position"]):
        return frozenset()
    args: list[Any] = list(call.args or ())
    if len(args) != 2 or not isinstance(args[0], ast.ColumnRef) or not is_null(args[1]):
        return frozenset()
    column = args[0].fields[-1]
    return frozenset({column.sval}) if isinstance(column, ast.String) else frozenset()


def is_null(node: Any) -> bool:
    """``NULL`` or ``NULL::type``."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.A_Const) and bool(node.isnull)


class _Writes(Visitor):  # type: ignore[misc]  # pglast's Visitor is untyped
    """Parameter number -> ``table.column`` it is written to, in any INSERT ... VALUES,
    INSERT ... SELECT or UPDATE ... SET of a statement (CTEs and ON CONFLICT DO UPDATE
    included)."""

    def __init__(self, key: Callable[[Any], str]) -> None:
        self.key = key
        self.found: dict[int, str] = {}

    def visit_InsertStmt(self, _ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast
        table = self.key(node.relation)
        select = node.selectStmt
        names = [target.name for target in node.cols or ()]
        rows = select.valuesLists or () if select is not None else ()
        if select is not None and select.targetList:  # INSERT ... SELECT $1, ...
            rows = (tuple(target.val for target in select.targetList),)
        for row in rows:
            for name, value in zip(names, row, strict=False):
                self._note(table, name, value)
        if node.onConflictClause is not None:
            self._set(table, node.onConflictClause.targetList)

    def visit_UpdateStmt(self, _ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast
        self._set(self.key(node.relation), node.targetList)

    def _set(self, table: str, targets: Any) -> None:
        for target in targets or ():
            self._note(table, target.name, target.val)

    def _note(self, table: str, column: str, value: Any) -> None:
        if isinstance(value, ast.TypeCast):
            value = value.arg
        if isinstance(value, ast.ParamRef):
            self.found[value.number] = f"{table}.{column}"


def written_columns(sql: str, key: Callable[[Any], str]) -> dict[int, str]:
    """Which column each parameter of ``sql`` is written to, cast or not (sqlc links
    ``sqlc.arg(topics)::text[]`` to no column). Empty if pglast can't parse it."""
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return {}
    writes = _Writes(key)
    for raw in statements:
        writes(raw.stmt)
    return writes.found
