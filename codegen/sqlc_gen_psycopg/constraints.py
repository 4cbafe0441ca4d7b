"""The schema's constraints as PostgreSQL names them (which ones a statement can violate is
violations.py's).

A constraint violation reaches the client as a psycopg IntegrityError whose
``diag.constraint_name`` and ``diag.table_name`` say what was violated; the generated
``errors`` module turns that into one class per constraint. So the names here must be
the ones PostgreSQL chooses: an explicit ``CONSTRAINT name`` or index name, else the
default PostgreSQL 15/16 derive (``<table>_pkey``, ``<table>_<columns>_key``/``_fkey``/
``_excl``/``_check``, ``<table>_<columns>_idx`` for an unnamed unique index, truncated
to 63 bytes, numbered on a clash). tests/codegen/test_constraint_errors.py compares them with
pg_constraint and pg_index on a real server.

NOT NULL is left out: PostgreSQL 15 and 16 report no constraint name for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.visitors import Visitor

NAME_BYTES = 63  # NAMEDATALEN - 1


class Kind(StrEnum):
    """A constraint kind, named as in the docstrings and the manifest; the value of
    ``base`` is the psycopg class a violation of it raises."""

    PRIMARY_KEY = "primary key"
    UNIQUE = "unique"
    CHECK = "check"
    EXCLUSION = "exclusion"
    FOREIGN_KEY = "foreign key"

    @property
    def base(self) -> str:
        return {
            Kind.PRIMARY_KEY: "UniqueViolation",
            Kind.UNIQUE: "UniqueViolation",
            Kind.CHECK: "CheckViolation",
            Kind.EXCLUSION: "ExclusionViolation",
            Kind.FOREIGN_KEY: "ForeignKeyViolation",
        }[self]


# ON DELETE / ON UPDATE actions as pglast spells them; the ones that raise on the
# referenced row's change (SET DEFAULT raises when the default has no referenced row).
ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
RAISING_ACTIONS = frozenset({"a", "r", "d"})


@dataclass(frozen=True, slots=True)
class Constraint:
    name: str
    table: str
    kind: Kind
    columns: frozenset[str]  # the table's columns it reads (expressions and predicates too)
    deferred: bool = False  # INITIALLY DEFERRED: checked at COMMIT, not by the statement
    references: str = ""  # a foreign key's referenced table
    ref_columns: tuple[str, ...] = ()  # empty: the referenced table's primary key
    fk_columns: tuple[str, ...] = ()
    on_delete: str = "a"
    on_update: str = "a"
    set_columns: tuple[str, ...] = ()  # ON DELETE SET NULL (cols): only these


@dataclass(slots=True)
class Constraints:
    """Every constraint of the schema files, in the order PostgreSQL creates them."""

    all: list[Constraint] = field(default_factory=list)
    relations: set[str] = field(default_factory=set)  # tables and indexes: one namespace
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, table: str) -> Iterator[Constraint]:
        return (c for c in self.all if c.table == table)

    def read(self, stmt: Any) -> None:
        """Take in one parsed statement of the schema."""
        if isinstance(stmt, ast.CreateStmt):
            self._create_table(stmt)
        elif isinstance(stmt, ast.IndexStmt):
            self.relations.add(self._index(stmt))
        elif isinstance(stmt, ast.AlterTableStmt):
            table = stmt.relation.relname
            for cmd in stmt.cmds or ():
                if cmd.subtype == AlterTableType.AT_AddConstraint:
                    self._add(table, [cmd.def_], ())
                elif cmd.subtype == AlterTableType.AT_DropConstraint:
                    self.all = [c for c in self.all if (c.table, c.name) != (table, cmd.name)]
        elif isinstance(stmt, ast.CreateTableAsStmt | ast.ViewStmt):
            target = stmt.into.rel if isinstance(stmt, ast.CreateTableAsStmt) else stmt.view
            self.relations.add(target.relname)

    def _create_table(self, stmt: Any) -> None:
        table = stmt.relation.relname
        self.relations.add(table)
        column_constraints: list[tuple[Any, tuple[str, ...]]] = []
        table_constraints: list[Any] = []
        for element in stmt.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                column_constraints.extend(
                    (c, (element.colname,)) for c in element.constraints or ()
                )
            elif isinstance(element, ast.Constraint):
                table_constraints.append(element)
        items = [*column_constraints, *((c, ()) for c in table_constraints)]
        # PostgreSQL's order: checks with the table, then indexes (primary key first),
        # then foreign keys; each name chosen against those made before it.
        checks = [i for i in items if i[0].contype == ConstrType.CONSTR_CHECK]
        indexed = sorted(
            (i for i in items if i[0].contype in INDEX_KINDS),
            key=lambda i: i[0].contype != ConstrType.CONSTR_PRIMARY,
        )
        foreign = [i for i in items if i[0].contype == ConstrType.CONSTR_FOREIGN]
        for group in (checks, indexed, foreign):
            for constraint, columns in group:
                self._add(table, [constraint], columns)

    def _add(self, table: str, nodes: Iterable[Any], column: tuple[str, ...]) -> None:
        for node in nodes:
            made = self._constraint(table, node, column)
            if made is not None:
                self.all.append(made)

    def _constraint(self, table: str, node: Any, column: tuple[str, ...]) -> Constraint | None:
        deferred = bool(node.initdeferred)
        match node.contype:
            case ConstrType.CONSTR_CHECK:
                columns = referenced_columns(node.raw_expr)
                label_column = next(iter(columns)) if len(columns) == 1 else ""
                name = node.conname or self._constraint_name(table, label_column, "check")
                return Constraint(name, table, Kind.CHECK, columns)
            case ConstrType.CONSTR_PRIMARY | ConstrType.CONSTR_UNIQUE:
                keys = tuple(k.sval for k in node.keys or ()) or column
                primary = node.contype == ConstrType.CONSTR_PRIMARY
                if primary:
                    self.primary_keys[table] = keys
                label = "pkey" if primary else "key"
                name = node.conname or self._relation_name(table, () if primary else keys, label)
                self.relations.add(name)
                kind = Kind.PRIMARY_KEY if primary else Kind.UNIQUE
                return Constraint(name, table, kind, frozenset(keys), deferred)
            case ConstrType.CONSTR_EXCLUSION:
                elems = [elem for elem, _ in node.exclusions]
                name = node.conname or self._relation_name(table, index_column_names(elems), "excl")
                self.relations.add(name)
                columns = frozenset().union(*(referenced_columns(e) for e in elems))
                columns |= referenced_columns(node.where_clause)
                return Constraint(name, table, Kind.EXCLUSION, columns, deferred)
            case ConstrType.CONSTR_FOREIGN:
                fk_columns = tuple(k.sval for k in node.fk_attrs or ()) or column
                name = node.conname or self._constraint_name(table, "_".join(fk_columns), "fkey")
                return Constraint(
                    name,
                    table,
                    Kind.FOREIGN_KEY,
                    frozenset(fk_columns),
                    deferred,
                    references=node.pktable.relname,
                    ref_columns=tuple(k.sval for k in node.pk_attrs or ()),
                    fk_columns=fk_columns,
                    on_delete=node.fk_del_action,
                    on_update=node.fk_upd_action,
                    set_columns=tuple(k.sval for k in node.fk_del_set_cols or ()),
                )
        return None  # NOT NULL, DEFAULT, GENERATED, ...: nothing PostgreSQL names

    def _index(self, stmt: Any) -> str:
        """A CREATE INDEX: its name (PostgreSQL's default when unnamed); a unique index
        is a constraint of its own to the client (``diag.constraint_name``)."""
        table = stmt.relation.relname
        elems = list(stmt.indexParams)
        name = stmt.idxname or self._relation_name(table, index_column_names(elems), "idx")
        if stmt.unique:
            columns = frozenset().union(*(referenced_columns(e) for e in elems))
            columns |= referenced_columns(stmt.whereClause)
            self.all.append(Constraint(name, table, Kind.UNIQUE, columns, bool(stmt.initdeferred)))
        return name

    def _relation_name(self, table: str, columns: Iterable[str], label: str) -> str:
        """ChooseRelationName: unique among tables, indexes and constraints."""
        taken = self.relations | {c.name for c in self.all}
        return choose_name(table, name_addition(columns), label, taken)

    def _constraint_name(self, table: str, addition: str, label: str) -> str:
        """ChooseConstraintName: unique among the schema's constraint names."""
        return choose_name(table, clip(addition, NAME_BYTES), label, {c.name for c in self.all})


INDEX_KINDS = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION)


def clip(text: str, limit: int) -> str:
    """The longest prefix of ``text`` of at most ``limit`` UTF-8 bytes, whole characters."""
    data = text.encode()[:limit]
    return data.decode(errors="ignore")


def make_object_name(name1: str, name2: str, label: str) -> str:
    """PostgreSQL's makeObjectName: ``name1_name2_label`` in 63 bytes, the longer of
    the two names shortened first."""
    overhead = (1 if name2 else 0) + len(label.encode()) + 1
    one, two = len(name1.encode()), len(name2.encode())
    while one + two > NAME_BYTES - overhead:
        if one > two:
            one -= 1
        else:
            two -= 1
    parts = [clip(name1, one), *([clip(name2, two)] if name2 else []), label]
    return "_".join(parts)


def choose_name(name1: str, name2: str, label: str, taken: set[str]) -> str:
    """The first of ``label``, ``label1``, ``label2``, ... whose object name is free."""
    candidate, attempt = make_object_name(name1, name2, label), 0
    while candidate in taken:
        attempt += 1
        candidate = make_object_name(name1, name2, f"{label}{attempt}")
    return candidate


def name_addition(columns: Iterable[str]) -> str:
    """ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: the column
    names joined by ``_``, stopping once the result is a full name long."""
    joined = ""
    for name in columns:
        joined = f"{joined}_{name}" if joined else name
        if len(joined.encode()) >= NAME_BYTES:
            break
    return clip(joined, NAME_BYTES)


def index_column_names(elems: Iterable[Any]) -> list[str]:
    """ChooseIndexColumnNames: each element's column or expression name (``expr``
    when it has none), a repeat numbered."""
    names: list[str] = []
    for elem in elems:
        original = elem.indexcolname or elem.name or expression_name(elem.expr) or "expr"
        current, number = original, 0
        while current in names:
            number += 1
            current = clip(original, NAME_BYTES - len(str(number))) + str(number)
        names.append(current)
    return names


def expression_name(node: Any) -> str:
    """FigureIndexColname: the name PostgreSQL gives an index expression, if any."""
    match node:
        case ast.ColumnRef():
            last = node.fields[-1]
            return "" if isinstance(last, ast.A_Star) else str(last.sval)
        case ast.FuncCall():
            return str(node.funcname[-1].sval)
        case ast.TypeCast():
            return expression_name(node.arg) or str(node.typeName.names[-1].sval)
        case ast.CollateClause():
            return expression_name(node.arg)
        case ast.CoalesceExpr():
            return "coalesce"
        case ast.MinMaxExpr():
            return "greatest" if node.op.name == "IS_GREATEST" else "least"
        case ast.CaseExpr():
            return expression_name(node.defresult) or "case"
        case ast.A_ArrayExpr():
            return "array"
        case ast.RowExpr():
            return "row"
        case ast.A_Expr() if node.kind.name == "AEXPR_NULLIF":
            return "nullif"
    return ""


def referenced_columns(node: Any) -> frozenset[str]:
    """The column names an expression of one table reads."""
    if node is None:
        return frozenset()
    finder = _ColumnFinder()
    finder(node)
    return frozenset(finder.names)


class _ColumnFinder(Visitor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_ColumnRef(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        last = node.fields[-1]
        if not isinstance(last, ast.A_Star):
            self.names.append(last.sval)

    def visit_IndexElem(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        if node.name:
            self.names.append(node.name)
