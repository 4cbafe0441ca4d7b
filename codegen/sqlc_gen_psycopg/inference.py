"""Static facts about a query's result columns that sqlc gets wrong or leaves open.

sqlc reports every expression as NOT NULL (even with its database-backed analysis) and,
without a database, many types as ``any``. We parse the query text sqlc sends (``*``
already expanded) with pglast and walk each output expression: may it be NULL, and what
is its type? Nullability is always decided, and "non-null" only when proven: a NOT NULL
column outside an outer join's nullable side, a literal, or functions and operators
from the curated lists in ``nullability`` over non-null inputs. Anything else may be
NULL. A type of ``None`` means "can't tell": the caller keeps sqlc's type, and rejects
the column if sqlc had none either.

Over 400 lines on purpose: one walk over an expression tree decides nullability and type
together, a branch per node kind; split, each half would walk the tree again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import pglast
from pglast import ast, enums

from sqlc_gen_psycopg.expression_types import (
    ARITHMETIC_OPERATORS,
    BOOLEAN_KINDS,
    COMPARISON_OPERATORS,
    DATE_TRUNC_RESULTS,
    DATETIME_OPERATORS,
    JSON_OPERATORS,
    JSON_TEXT_OPERATORS,
    NULL_ON_EMPTY_AGGREGATES,
    SQL_VALUE_FUNCTION_TYPES,
    STRICT_KINDS,
    TIMESTAMPTZ_FUNCTIONS,
)
from sqlc_gen_psycopg.nullability import (
    INTEGER_TYPES,
    NULL_TOLERANT_FUNCTIONS,
    NULLABLE_SQL_VALUE_FUNCTIONS,
    STRICT_FUNCTIONS,
    STRICT_OPERATORS,
    WINDOW_FUNCTIONS,
)
from sqlc_gen_psycopg.pytypes import normalise
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, type_from_node

# pglast node class name -> Analyser method giving (may be NULL?, type) for it.
EXPRESSION_HANDLERS = {
    "A_Const": "a_const_facts",
    "TypeCast": "type_cast_facts",
    "ColumnRef": "column_ref_facts",
    "FuncCall": "func_call_facts",
    "CoalesceExpr": "coalesce_expr_facts",
    "SubLink": "sub_link_facts",
    "CaseExpr": "case_expr_facts",
    "A_Expr": "a_expr_facts",
    "BoolExpr": "bool_expr_facts",
    "NullTest": "null_test_facts",
    "BooleanTest": "boolean_test_facts",
    "SQLValueFunction": "sqlvalue_function_facts",
    "MinMaxExpr": "min_max_expr_facts",
    "A_ArrayExpr": "array_expr_facts",
    "CollateClause": "wrapped_facts",
    "NamedArgExpr": "wrapped_facts",
}

Relation = dict[str, tuple[SqlType | None, bool]]  # column -> (type, not_null)
Facts = tuple[bool, SqlType | None]  # (may be NULL?, type)
UNKNOWN: Facts = (True, None)


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What inference found for one output column."""

    name: str | None
    nullable: bool
    type: SqlType | None
    is_aggregate: bool
    # The type is PostgreSQL's own rule over operands of known types (date/time
    # arithmetic, now()), so it beats a static guess of sqlc's.
    exact: bool = False


@dataclass(slots=True)
class Scope:
    """Relations visible to an expression, and which of them an outer join may null out."""

    relations: dict[str, Relation] = field(default_factory=dict)  # in FROM, by alias
    ctes: dict[str, Relation] = field(default_factory=dict)  # WITH, usable in FROM
    nullable: set[str] = field(default_factory=set)
    parent: Scope | None = None

    def lookup(self, qualifier: str | None, column: str) -> tuple[SqlType | None, bool]:
        """(type, NOT NULL?) of a column reference; a column we can't place may be NULL."""
        scope: Scope | None = self
        while scope is not None:
            if qualifier is not None:
                if qualifier in scope.relations:
                    type_, not_null = scope.relations[qualifier].get(column, (None, False))
                    return type_, not_null and qualifier not in scope.nullable
            else:
                hits = [
                    (alias, rel[column]) for alias, rel in scope.relations.items() if column in rel
                ]
                if len(hits) == 1:
                    alias, (type_, not_null) = hits[0]
                    return type_, not_null and alias not in scope.nullable
                if hits:  # ambiguous, or merged by JOIN ... USING
                    return None, False
            scope = scope.parent
        return None, False

    def cte(self, name: str) -> Relation | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.ctes:
                return scope.ctes[name]
            scope = scope.parent
        return None


@dataclass(frozen=True, slots=True)
class StatementFacts:
    targets: tuple[TargetFacts, ...]
    nullable_relations: frozenset[str]  # table names/aliases on an outer join's nullable side
    alias_tables: dict[str, str]  # alias -> table name, for embeds


class Analyser:
    """Walks one statement. ``tables`` maps table name -> columns from sqlc's catalog."""

    def __init__(self, tables: dict[str, Relation], schema: SchemaInfo) -> None:
        self.tables = tables
        self.schema = schema

    # -- statements ---------------------------------------------------------------
    def statement(self, text: str) -> StatementFacts | None:
        try:
            parsed = pglast.parse_sql(text)
        except pglast.parser.ParseError:
            return None
        if len(parsed) != 1:
            return None
        stmt: Any = parsed[0].stmt
        scope = Scope()
        alias_tables: dict[str, str] = {}
        if isinstance(stmt, ast.SelectStmt):
            targets = self.select_targets(stmt, scope, alias_tables)
        elif isinstance(stmt, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
            self.add_with(stmt.withClause, scope)
            self.add_range(stmt.relation, scope, alias_tables, nullable=False)
            if isinstance(stmt, ast.UpdateStmt):
                for item in stmt.fromClause or ():
                    self.add_range(item, scope, alias_tables, nullable=False)
            if isinstance(stmt, ast.DeleteStmt):
                for item in stmt.usingClause or ():
                    self.add_range(item, scope, alias_tables, nullable=False)
            targets = [self.target(t, scope) for t in returning(stmt)]
        else:
            return None
        return StatementFacts(tuple(targets), frozenset(scope.nullable), alias_tables)

    def select_targets(
        self, stmt: Any, scope: Scope, alias_tables: dict[str, str]
    ) -> list[TargetFacts]:
        if stmt.op != enums.SetOperation.SETOP_NONE:
            left = self.select_targets(stmt.larg, Scope(parent=scope), alias_tables)
            right = self.select_targets(stmt.rarg, Scope(parent=scope), {})
            return [merge_branches(a, b) for a, b in zip(left, right, strict=False)]
        if stmt.valuesLists:
            rows = [
                [TargetFacts(None, *self.expr_facts(v, scope), False) for v in row]
                for row in stmt.valuesLists
            ]
            return [reduce(merge_branches, column) for column in zip(*rows, strict=False)]
        self.add_with(stmt.withClause, scope)
        for item in stmt.fromClause or ():
            self.add_range(item, scope, alias_tables, nullable=False)
        if any(isinstance(g, ast.GroupingSet) for g in stmt.groupClause or ()):
            # ROLLUP/CUBE/GROUPING SETS rows hold NULL for the columns they group away.
            scope.nullable.update(scope.relations)
        return [self.target(t, scope) for t in stmt.targetList or ()]

    def view_columns(self, query: Any) -> list[tuple[str | None, bool]] | None:
        """(name, proven NOT NULL?) of each output column of a view's defining query,
        ``*`` expanded as PostgreSQL expands it (from_columns); None when a ``*`` can't
        be expanded (in a UNION branch, or over a relation we don't know)."""
        if not isinstance(query, ast.SelectStmt):
            return None
        scope = Scope()
        facts = self.select_targets(query, scope, {})
        targets = self.output_targets(query)
        if len(targets) != len(facts):  # VALUES lists have no targets to name
            return None
        columns: list[tuple[str | None, bool]] = []
        for res, fact in zip(targets, facts, strict=True):
            star = star_of(res.val)
            if star is None:
                columns.append((res.name or column_name_of(res.val), not fact.nullable))
                continue
            if query.op != enums.SetOperation.SETOP_NONE:
                return None
            expanded = (
                self.from_columns(query.fromClause or (), scope)
                if star == ""
                else self.alias_columns(star, scope)
            )
            if expanded is None:
                return None
            columns.extend(expanded)
        return columns

    def from_columns(self, items: Any, scope: Scope) -> list[tuple[str | None, bool]] | None:
        """The columns ``*`` gives over a FROM list (after select_targets filled
        ``scope``): each item's in order; a join's are its left's then its right's, but
        with USING or NATURAL the merged columns come first, once, then the left's and
        the right's others (PostgreSQL's rule). None for an item we can't expand."""
        columns: list[tuple[str | None, bool]] = []
        for item in items:
            if isinstance(item, ast.JoinExpr):
                found = self.join_columns(item, scope)
            elif isinstance(item, ast.RangeVar):
                found = self.alias_columns(
                    item.alias.aliasname if item.alias else item.relname, scope
                )
            elif isinstance(item, ast.RangeSubselect | ast.RangeFunction) and item.alias:
                found = self.alias_columns(item.alias.aliasname, scope)
            else:
                found = None
            if found is None:
                return None
            columns.extend(found)
        return columns

    def join_columns(self, join: Any, scope: Scope) -> list[tuple[str | None, bool]] | None:
        left = self.from_columns((join.larg,), scope)
        right = self.from_columns((join.rarg,), scope)
        if left is None or right is None:
            return None
        if join.usingClause:
            merged = [name.sval for name in join.usingClause]
        elif join.isNatural:
            right_names = {name for name, _ in right}
            merged = [name for name, _ in left if name in right_names]
        else:
            return left + right
        lefts, rights = dict(left), dict(right)
        if not all(name in lefts and name in rights for name in merged):
            return None
        kind = join.jointype
        # INNER and LEFT give the left's value, RIGHT the right's, FULL COALESCE(l, r).
        if kind == enums.JoinType.JOIN_RIGHT:
            proven = {name: rights[name] for name in merged}
        elif kind == enums.JoinType.JOIN_FULL:
            proven = {name: lefts[name] and rights[name] for name in merged}
        else:
            proven = {name: lefts[name] for name in merged}
        return [
            *((name, proven[name]) for name in merged),
            *((name, nn) for name, nn in left if name not in proven),
            *((name, nn) for name, nn in right if name not in proven),
        ]

    def alias_columns(self, alias: str, scope: Scope) -> list[tuple[str | None, bool]] | None:
        """``alias.*``: the relation's columns, NULL on an outer join's nullable side."""
        relation = scope.relations.get(alias)
        if not relation:
            return None
        return [
            (name, not_null and alias not in scope.nullable)
            for name, (_, not_null) in relation.items()
        ]

    def target(self, res: Any, scope: Scope) -> TargetFacts:
        nullable, type_ = self.expr_facts(res.val, scope)
        exact = type_ is not None and self.exact(res.val)
        return TargetFacts(res.name, nullable, type_, is_aggregate_call(res.val), exact)

    def exact(self, node: Any) -> bool:
        """Is a typed expression's type fixed by PostgreSQL, not a guess of ours? Date and
        time arithmetic (typed only from DATETIME_OPERATORS), the built-in clocks and
        date_trunc (DATE_TRUNC_RESULTS, by its source's type)."""
        if isinstance(node, ast.A_Expr):
            return (
                node.kind == enums.A_Expr_Kind.AEXPR_OP
                and bool(node.name)
                and node.name[-1].sval in ARITHMETIC_OPERATORS
            )
        if isinstance(node, ast.FuncCall):
            name = node.funcname[-1].sval.lower()
            qualifier = [n.sval for n in node.funcname[:-1]]
            return (
                (name in TIMESTAMPTZ_FUNCTIONS or name == "date_trunc")
                and qualifier in ([], ["pg_catalog"])
                and name not in self.schema.functions
            )
        return isinstance(node, ast.SQLValueFunction) and node.op in SQL_VALUE_FUNCTION_TYPES

    def relation_of(self, stmt: Any, scope: Scope, aliases: Any = None) -> Relation:
        """Output columns of a subquery or CTE, as a relation for the outer scope;
        column aliases (``AS s(a, b)``, ``WITH c(a, b)``) rename them in order."""
        if not isinstance(stmt, ast.SelectStmt):
            return {}
        facts = self.select_targets(stmt, Scope(parent=scope), {})
        names = [res.name or column_name_of(res.val) for res in self.output_targets(stmt)]
        names += [None] * (len(facts) - len(names))
        for index, alias in enumerate((aliases or ())[: len(names)]):
            names[index] = alias.sval
        return {
            name: (f.type, not f.nullable) for name, f in zip(names, facts, strict=False) if name
        }

    def output_targets(self, stmt: Any) -> tuple[Any, ...]:
        while stmt.op != enums.SetOperation.SETOP_NONE:
            stmt = stmt.larg
        return tuple(stmt.targetList or ())

    def add_with(self, with_clause: Any, scope: Scope) -> None:
        for cte in (with_clause.ctes if with_clause else None) or ():
            query = cte.ctequery
            if isinstance(query, ast.SelectStmt):
                scope.ctes[cte.ctename] = self.relation_of(query, scope, cte.aliascolnames)
            elif returning(query):
                inner = Scope(parent=scope)
                self.add_range(query.relation, inner, {}, nullable=False)
                scope.ctes[cte.ctename] = {
                    (res.name or column_name_of(res.val) or ""): self.inverted(res.val, inner)
                    for res in returning(query)
                }

    def inverted(self, node: Any, scope: Scope) -> tuple[SqlType | None, bool]:
        nullable, type_ = self.expr_facts(node, scope)
        return type_, not nullable

    def add_range(
        self, item: Any, scope: Scope, alias_tables: dict[str, str], *, nullable: bool
    ) -> None:
        kind = type(item).__name__
        if kind == "RangeVar":
            alias = item.alias.aliasname if item.alias else item.relname
            relation = scope.cte(item.relname)  # a CTE of that name wins
            if relation is None:
                relation = self.tables.get(item.relname, {})
                alias_tables[alias] = item.relname
            scope.relations[alias] = relation
            if nullable:
                scope.nullable.add(alias)
        elif kind == "RangeSubselect" and item.alias:
            scope.relations[item.alias.aliasname] = self.relation_of(
                item.subquery, scope, item.alias.colnames
            )
            if nullable:
                scope.nullable.add(item.alias.aliasname)
        elif kind == "JoinExpr":
            join = item.jointype
            left_null = nullable or join in (enums.JoinType.JOIN_RIGHT, enums.JoinType.JOIN_FULL)
            right_null = nullable or join in (enums.JoinType.JOIN_LEFT, enums.JoinType.JOIN_FULL)
            self.add_range(item.larg, scope, alias_tables, nullable=left_null)
            self.add_range(item.rarg, scope, alias_tables, nullable=right_null)
        elif kind == "RangeFunction" and item.alias:
            # unnest() and friends: known names, values that may be NULL.
            names = [c.sval for c in item.alias.colnames or ()] or [item.alias.aliasname]
            scope.relations[item.alias.aliasname] = {name: (None, False) for name in names}

    # -- expressions: (may be NULL?, type) ------------------------------------------
    def expr_facts(self, node: Any, scope: Scope) -> Facts:
        method = EXPRESSION_HANDLERS.get(type(node).__name__)
        if method is None:
            return UNKNOWN
        result: Facts = getattr(self, method)(node, scope)
        return result

    def strict_over(self, nodes: Any, scope: Scope) -> bool:
        """May a strict function or operator over ``nodes`` be NULL? Only if one may."""
        return any(self.expr_facts(n, scope)[0] for n in nodes)

    def a_const_facts(self, node: Any, scope: Scope) -> Facts:
        if node.isnull:
            return UNKNOWN
        kinds = {"String": "text", "Integer": "int4", "Float": "numeric", "Boolean": "bool"}
        kind = kinds.get(type(node.val).__name__)
        return False, SqlType(kind) if kind else None

    def type_cast_facts(self, node: Any, scope: Scope) -> Facts:
        nullable, _ = self.expr_facts(node.arg, scope)
        cast = type_from_node(node.typeName)
        return nullable, SqlType(normalise(cast.name), cast.array_dims)

    def wrapped_facts(self, node: Any, scope: Scope) -> Facts:
        """``x COLLATE "C"`` and ``name => x`` are x."""
        return self.expr_facts(node.arg, scope)

    def column_ref_facts(self, node: Any, scope: Scope) -> Facts:
        fields: list[str] = [f.sval for f in node.fields if isinstance(f, ast.String)]
        if len(fields) != len(node.fields) or not fields:
            return UNKNOWN
        qualifier = fields[-2] if len(fields) >= 2 else None
        type_, not_null = scope.lookup(qualifier, fields[-1])
        return not not_null, type_

    def func_call_facts(self, node: Any, scope: Scope) -> Facts:
        name = node.funcname[-1].sval.lower()
        args = [self.expr_facts(a, scope) for a in node.args or ()]
        type_ = self.function_type(name, [t for _, t in args])
        return self.call_nullable(node, name, args), type_

    def call_nullable(self, node: Any, name: str, args: list[Facts]) -> bool:
        """A call is non-null only if it is a listed built-in over non-null arguments."""
        qualifier = [n.sval for n in node.funcname[:-1]]
        if qualifier not in ([], ["pg_catalog"]) or name in self.schema.functions:
            return True  # a user function: anything may come back
        if node.over is not None and name not in WINDOW_FUNCTIONS:
            return True
        if name in NULL_TOLERANT_FUNCTIONS:
            return False
        if name == "substring" and (
            len(args) < 2 or args[1][1] is None or args[1][1].name not in INTEGER_TYPES
        ):
            return True
        return name not in STRICT_FUNCTIONS or any(n for n, _ in args)

    def function_type(self, name: str, args: list[SqlType | None]) -> SqlType | None:
        if name in self.schema.functions:
            declared = self.schema.functions[name]
            return SqlType(normalise(declared.name), declared.array_dims)
        if name == "count":
            return SqlType("int8")
        if name in TIMESTAMPTZ_FUNCTIONS:
            return SqlType("timestamptz")
        if name == "date_trunc":
            source = args[1] if len(args) > 1 else None
            if source is None or source.array_dims or source.name not in DATE_TRUNC_RESULTS:
                return None
            return SqlType(DATE_TRUNC_RESULTS[source.name])
        arg = args[0] if args else None
        if name in ("min", "max"):
            return arg
        if name == "array_agg" and arg is not None:
            return SqlType(arg.name, arg.array_dims + 1)
        if name in ("string_agg", "lower", "upper", "btrim", "trim", "concat"):
            return SqlType("text")
        if name in ("json_agg", "json_build_object", "to_json"):
            return SqlType("json")
        if name in ("jsonb_agg", "jsonb_build_object", "to_jsonb"):
            return SqlType("jsonb")
        if name in ("bool_and", "bool_or", "every"):
            return SqlType("bool")
        if arg is None or arg.array_dims:
            return None
        if name == "sum":
            sums = {"int2": "int8", "int4": "int8", "int8": "numeric", "numeric": "numeric"}
            return SqlType(sums.get(arg.name, arg.name))
        if name == "avg":
            return SqlType("float8" if arg.name in ("float4", "float8") else "numeric")
        return None

    def coalesce_expr_facts(self, node: Any, scope: Scope) -> Facts:
        args = [self.expr_facts(a, scope) for a in node.args]
        return all(n for n, _ in args), next((t for _, t in args if t is not None), None)

    def min_max_expr_facts(self, node: Any, scope: Scope) -> Facts:
        """GREATEST/LEAST skip NULLs: NULL only when every argument is."""
        return self.coalesce_expr_facts(node, scope)

    def array_expr_facts(self, node: Any, scope: Scope) -> Facts:
        """``ARRAY[...]`` is an array even of NULLs (its elements' nullability is not typed)."""
        types = [self.expr_facts(e, scope)[1] for e in node.elements or ()]
        inner = next((t for t in types if t is not None), None)
        return False, SqlType(inner.name, inner.array_dims + 1) if inner else None

    def sub_link_facts(self, node: Any, scope: Scope) -> Facts:
        kind = node.subLinkType
        if kind == enums.SubLinkType.EXISTS_SUBLINK:
            return False, SqlType("bool")
        if kind in (enums.SubLinkType.EXPR_SUBLINK, enums.SubLinkType.ARRAY_SUBLINK):
            relation = self.relation_of(node.subselect, scope)
            inner = next(iter(relation.values()), (None, False))[0] if len(relation) == 1 else None
            if kind == enums.SubLinkType.ARRAY_SUBLINK:  # no rows: an empty array
                return False, SqlType(inner.name, inner.array_dims + 1) if inner else None
            return True, inner  # no rows: NULL
        return True, SqlType("bool")  # IN/ANY/ALL (subquery): NULL when a NULL decides

    def case_expr_facts(self, node: Any, scope: Scope) -> Facts:
        branches = [self.expr_facts(w.result, scope) for w in node.args]
        if node.defresult is not None:
            branches.append(self.expr_facts(node.defresult, scope))
        nullable = node.defresult is None or any(n for n, _ in branches)
        types = [t for _, t in branches if t is not None]
        typed = [t for t in types if t.name != "text"] or types
        return nullable, typed[0] if typed else None

    def a_expr_facts(self, node: Any, scope: Scope) -> Facts:
        op = node.name[-1].sval if node.name else ""
        kind = node.kind
        if kind == enums.A_Expr_Kind.AEXPR_NULLIF:
            return True, self.expr_facts(node.lexpr, scope)[1]
        if op in JSON_OPERATORS:
            left_type = self.expr_facts(node.lexpr, scope)[1]
            return True, SqlType("text") if op in JSON_TEXT_OPERATORS else left_type
        operands = [node.lexpr] if node.lexpr is not None else []
        operands += list(node.rexpr) if isinstance(node.rexpr, tuple) else [node.rexpr]
        boolean = kind in BOOLEAN_KINDS or op in COMPARISON_OPERATORS
        if kind in (enums.A_Expr_Kind.AEXPR_DISTINCT, enums.A_Expr_Kind.AEXPR_NOT_DISTINCT):
            nullable = False
        elif kind in STRICT_KINDS or (
            kind == enums.A_Expr_Kind.AEXPR_OP and op in STRICT_OPERATORS
        ):
            nullable = self.strict_over(operands, scope)
        else:  # = ANY(array) and unlisted operators
            nullable = True
        if boolean:
            return nullable, SqlType("bool")
        if op == "||":
            types = [self.expr_facts(n, scope)[1] for n in operands]
            return nullable, next(
                (t for t in types if t is not None and t.array_dims), SqlType("text")
            )
        if kind == enums.A_Expr_Kind.AEXPR_OP and op in ARITHMETIC_OPERATORS and len(operands) == 2:
            return nullable, self.datetime_arithmetic(op, operands, scope)
        return nullable, None

    def datetime_arithmetic(self, op: str, operands: list[Any], scope: Scope) -> SqlType | None:
        """The type of date/time arithmetic when both operands' types are known."""
        left, right = (self.scalar_base(self.expr_facts(n, scope)[1]) for n in operands)
        if left is None or right is None:
            return None
        result = DATETIME_OPERATORS.get((left, op, right))
        return SqlType(result) if result else None

    def scalar_base(self, type_: SqlType | None) -> str | None:
        """A non-array type's name, a domain resolved to its base type."""
        seen: set[str] = set()
        while type_ is not None and type_.name in self.schema.domains and type_.name not in seen:
            seen.add(type_.name)
            base = self.schema.domains[type_.name]
            type_ = SqlType(normalise(base.name), type_.array_dims + base.array_dims)
        return type_.name if type_ is not None and not type_.array_dims else None

    def bool_expr_facts(self, node: Any, scope: Scope) -> Facts:
        return self.strict_over(node.args, scope), SqlType("bool")

    def null_test_facts(self, node: Any, scope: Scope) -> Facts:
        return False, SqlType("bool")

    def boolean_test_facts(self, node: Any, scope: Scope) -> Facts:
        return False, SqlType("bool")

    def sqlvalue_function_facts(self, node: Any, scope: Scope) -> Facts:
        type_ = SQL_VALUE_FUNCTION_TYPES.get(node.op)
        return node.op in NULLABLE_SQL_VALUE_FUNCTIONS, SqlType(type_) if type_ else None


def returning(stmt: Any) -> tuple[Any, ...]:
    """The RETURNING targets of an INSERT/UPDATE/DELETE (none for other statements)."""
    clause = getattr(stmt, "returningClause", None)
    return tuple(clause.exprs or ()) if clause is not None else ()


def merge_branches(a: TargetFacts, b: TargetFacts) -> TargetFacts:
    """A UNION (or VALUES) column may be NULL if any branch may; name and type come first."""
    return TargetFacts(
        a.name,
        a.nullable or b.nullable,
        a.type or b.type,
        a.is_aggregate or b.is_aggregate,
        a.exact and b.exact and a.type == b.type,
    )


def is_aggregate_call(node: Any) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return (
        isinstance(node, ast.FuncCall)
        and node.over is None
        and node.funcname[-1].sval.lower() in NULL_ON_EMPTY_AGGREGATES
    )


def star_of(node: Any) -> str | None:
    """For ``*`` "", for ``t.*`` "t"; None for any other expression."""
    if not (isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.A_Star)):
        return None
    return str(node.fields[-2].sval) if len(node.fields) == 2 else ""


def column_name_of(node: Any) -> str | None:
    """The name PostgreSQL gives an unaliased output column, for the cases we can name."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return str(node.fields[-1].sval)
    if isinstance(node, ast.FuncCall):
        return str(node.funcname[-1].sval)
    return None
