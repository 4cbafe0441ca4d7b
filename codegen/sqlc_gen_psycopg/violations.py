"""Which of the schema's constraints a statement can violate when it runs: those of the
tables it writes, and the foreign keys whose referential actions it sets off, followed
through CASCADE and SET NULL/DEFAULT to the tables they change.

Each generated function lists them (its docstring's Raises, the errors module's classes);
the constraints themselves, named as PostgreSQL names them, are constraints.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pglast
from pglast.visitors import Visitor

from sqlc_gen_psycopg.constraints import RAISING_ACTIONS, Constraint, Constraints, Kind


def violated_by(sql: str, constraints: Constraints) -> tuple[Constraint, ...]:
    """The constraints ``sql`` (one statement) can violate when it runs: those of the
    tables it writes (INSERT, UPDATE of the columns it sets, MERGE, data-modifying
    WITH) and the foreign keys whose ON DELETE/UPDATE action raises, followed through
    CASCADE and SET NULL/DEFAULT to the tables they change. Initially deferred ones
    are checked at COMMIT and left out. Sorted by table, then name."""
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return ()
    effects = _Effects(constraints)
    for raw in statements:
        _WriteVisitor(effects)(raw.stmt)
    found = {c for c in effects.found if not c.deferred}
    return tuple(sorted(found, key=lambda c: (c.table, c.name)))


class _Effects:
    """What changing rows of a table can violate, followed through referential actions."""

    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self.found: set[Constraint] = set()
        self.seen: set[tuple[str, str, frozenset[str] | None, Constraint | None]] = set()

    def insert(self, table: str) -> None:
        self.found.update(self.constraints.of(table))

    def update(
        self,
        table: str,
        columns: frozenset[str] | None,
        besides: Constraint | None = None,
        *,
        nulled: bool = False,
    ) -> None:
        """Rows of ``table`` get new values in ``columns`` (None: any column);
        ``besides`` is the foreign key whose own action makes the change. Values set
        to NULL (ON DELETE SET NULL) satisfy unique and foreign keys, not checks."""
        if not self._first(("update", table, columns, besides)):
            return
        self.found.update(
            c
            for c in self.constraints.of(table)
            if c is not besides
            and (columns is None or c.columns & columns)
            and not (nulled and c.kind is not Kind.CHECK)
        )
        for fk in self._referencing(table):
            keys = frozenset(fk.ref_columns or self.constraints.primary_keys.get(table, ()))
            if columns is None or keys & columns:
                self._act(fk, fk.on_update, deleting=False)

    def delete(self, table: str) -> None:
        if not self._first(("delete", table, None, None)):
            return
        for fk in self._referencing(table):
            self._act(fk, fk.on_delete, deleting=True)

    def _act(self, fk: Constraint, action: str, *, deleting: bool) -> None:
        """The referenced rows of ``fk`` are deleted or get new keys."""
        if action in RAISING_ACTIONS:
            self.found.add(fk)
        if action == "c" and deleting:
            self.delete(fk.table)
        elif action == "c":
            self.update(fk.table, frozenset(fk.fk_columns), besides=fk)
        elif action in ("n", "d"):
            columns = frozenset(fk.set_columns or fk.fk_columns)
            self.update(fk.table, columns, besides=fk, nulled=action == "n")

    def _referencing(self, table: str) -> list[Constraint]:
        return [
            c for c in self.constraints.all if c.kind is Kind.FOREIGN_KEY and c.references == table
        ]

    def _first(self, key: tuple[str, str, frozenset[str] | None, Constraint | None]) -> bool:
        """Whether this change is new (referential actions may form cycles)."""
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _WriteVisitor(Visitor):  # type: ignore[misc]
    def __init__(self, effects: _Effects) -> None:
        super().__init__()
        self.effects = effects

    def visit_InsertStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        table = node.relation.relname
        self.effects.insert(table)
        conflict = node.onConflictClause
        if conflict is not None and conflict.targetList:
            self.effects.update(table, set_columns(conflict.targetList))

    def visit_UpdateStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        self.effects.update(node.relation.relname, set_columns(node.targetList))

    def visit_DeleteStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        self.effects.delete(node.relation.relname)

    def visit_MergeStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        table = node.relation.relname
        self.effects.insert(table)
        self.effects.update(table, None)
        self.effects.delete(table)

    def visit_CopyStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        if node.is_from and node.relation is not None:
            self.effects.insert(node.relation.relname)


def set_columns(targets: Iterable[Any]) -> frozenset[str]:
    """The columns an UPDATE's SET list (or ON CONFLICT DO UPDATE SET) writes."""
    return frozenset(t.name for t in targets)
