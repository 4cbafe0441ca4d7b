"""Static facts about a query's result columns that sqlc gets wrong or leaves open.

sqlc reports every function call, aggregate and subquery as NOT NULL and many types as
``any``. We parse the query text sqlc sends (``*`` already expanded) with pglast and
walk each output expression: may it be NULL, and what is its type? The answers are
conservative: ``None`` means "can't tell", and the caller then keeps sqlc's verdict
for nullability and rejects the column if sqlc had no type either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast, enums

from sqlc_gen_psycopg.pytypes import normalise
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, type_from_node

# Aggregates that return NULL over zero rows (or all-NULL input); count never does.
NULL_ON_EMPTY_AGGREGATES = frozenset(
    {
        "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
        "json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and",
        "bit_or", "bit_xor", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
        "var_samp", "xmlagg", "percentile_cont", "percentile_disc", "mode", "corr",
        "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "range_agg",
    }
)  # fmt: skip
NEVER_NULL_FUNCTIONS = frozenset(
    {
        "count", "now", "gen_random_uuid", "row_number", "rank", "dense_rank", "ntile",
        "percent_rank", "cume_dist", "clock_timestamp", "statement_timestamp",
        "transaction_timestamp", "random", "pg_backend_pid", "current_database",
    }
)  # fmt: skip
JSON_OPERATORS = frozenset({"->", "->>", "#>", "#>>"})
JSON_TEXT_OPERATORS = frozenset({"->>", "#>>"})

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
}

Relation = dict[str, tuple[SqlType | None, bool | None]]  # column -> (type, not_null)


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What inference found for one output column."""

    name: str | None
    nullable: bool | None
    type: SqlType | None
    is_aggregate: bool


@dataclass(slots=True)
class Scope:
    """Relations visible to an expression, and which of them an outer join may null out."""

    relations: dict[str, Relation] = field(default_factory=dict)
    nullable: set[str] = field(default_factory=set)
    parent: Scope | None = None

    def lookup(self, qualifier: str | None, column: str) -> tuple[SqlType | None, bool | None]:
        scope: Scope | None = self
        while scope is not None:
            if qualifier is not None:
                if qualifier in scope.relations:
                    type_, not_null = scope.relations[qualifier].get(column, (None, None))
                    return type_, False if qualifier in scope.nullable else not_null
            else:
                hits = [
                    (alias, rel[column]) for alias, rel in scope.relations.items() if column in rel
                ]
                if len(hits) == 1:
                    alias, (type_, not_null) = hits[0]
                    return type_, False if alias in scope.nullable else not_null
                if hits:
                    return None, None
            scope = scope.parent
        return None, None


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
            first = [self.expr_facts(v, scope) for v in stmt.valuesLists[0]]
            return [TargetFacts(None, n, t, False) for n, t in first]
        self.add_with(stmt.withClause, scope)
        for item in stmt.fromClause or ():
            self.add_range(item, scope, alias_tables, nullable=False)
        return [self.target(t, scope) for t in stmt.targetList or ()]

    def target(self, res: Any, scope: Scope) -> TargetFacts:
        nullable, type_ = self.expr_facts(res.val, scope)
        return TargetFacts(res.name, nullable, type_, is_aggregate_call(res.val))

    def relation_of(self, stmt: Any, scope: Scope) -> Relation:
        """Output columns of a subquery or CTE, as a relation for the outer scope."""
        relation: Relation = {}
        if isinstance(stmt, ast.SelectStmt):
            inner = Scope(parent=scope)
            for facts, res in zip(
                self.select_targets(stmt, inner, {}), self.output_targets(stmt), strict=False
            ):
                name = res.name or column_name_of(res.val)
                if name:
                    not_null = None if facts.nullable is None else not facts.nullable
                    relation[name] = (facts.type, not_null)
        return relation

    def output_targets(self, stmt: Any) -> tuple[Any, ...]:
        while stmt.op != enums.SetOperation.SETOP_NONE:
            stmt = stmt.larg
        return tuple(stmt.targetList or ())

    def add_with(self, with_clause: Any, scope: Scope) -> None:
        for cte in (with_clause.ctes if with_clause else None) or ():
            query = cte.ctequery
            if isinstance(query, ast.SelectStmt):
                scope.relations[cte.ctename] = self.relation_of(query, scope)
            elif returning(query):
                inner = Scope(parent=scope)
                self.add_range(query.relation, inner, {}, nullable=False)
                scope.relations[cte.ctename] = {
                    (res.name or column_name_of(res.val) or ""): self.inverted(res.val, inner)
                    for res in returning(query)
                }

    def inverted(self, node: Any, scope: Scope) -> tuple[SqlType | None, bool | None]:
        nullable, type_ = self.expr_facts(node, scope)
        return type_, None if nullable is None else not nullable

    def add_range(
        self, item: Any, scope: Scope, alias_tables: dict[str, str], *, nullable: bool
    ) -> None:
        kind = type(item).__name__
        if kind == "RangeVar":
            alias = item.alias.aliasname if item.alias else item.relname
            relation = scope.relations.get(item.relname)  # a CTE of that name wins
            if relation is None:
                relation = self.tables.get(item.relname, {})
                alias_tables[alias] = item.relname
            scope.relations[alias] = relation
            if nullable:
                scope.nullable.add(alias)
        elif kind == "RangeSubselect" and item.alias:
            scope.relations[item.alias.aliasname] = self.relation_of(item.subquery, scope)
            if nullable:
                scope.nullable.add(item.alias.aliasname)
        elif kind == "JoinExpr":
            join = item.jointype
            left_null = nullable or join in (enums.JoinType.JOIN_RIGHT, enums.JoinType.JOIN_FULL)
            right_null = nullable or join in (enums.JoinType.JOIN_LEFT, enums.JoinType.JOIN_FULL)
            self.add_range(item.larg, scope, alias_tables, nullable=left_null)
            self.add_range(item.rarg, scope, alias_tables, nullable=right_null)
        elif kind == "RangeFunction" and item.alias:
            scope.relations[item.alias.aliasname] = {}

    # -- expressions: (may be NULL?, type) ------------------------------------------
    def expr_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        method = EXPRESSION_HANDLERS.get(type(node).__name__)
        if method is None:
            return None, None
        result: tuple[bool | None, SqlType | None] = getattr(self, method)(node, scope)
        return result

    def a_const_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        if node.isnull:
            return True, None
        kinds = {"String": "text", "Integer": "int4", "Float": "numeric", "Boolean": "bool"}
        kind = kinds.get(type(node.val).__name__)
        return False, SqlType(kind) if kind else None

    def type_cast_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        nullable, _ = self.expr_facts(node.arg, scope)
        cast = type_from_node(node.typeName)
        return nullable, SqlType(normalise(cast.name), cast.array_dims)

    def column_ref_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        fields: list[str] = [f.sval for f in node.fields if isinstance(f, ast.String)]
        if len(fields) != len(node.fields) or not fields:
            return None, None
        qualifier = fields[-2] if len(fields) >= 2 else None
        type_, not_null = scope.lookup(qualifier, fields[-1])
        return (None if not_null is None else not not_null), type_

    def func_call_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        name = node.funcname[-1].sval.lower()
        args = [self.expr_facts(a, scope) for a in node.args or ()]
        arg_type = args[0][1] if args else None
        type_ = self.function_type(name, arg_type)
        if node.over is not None and name not in NEVER_NULL_FUNCTIONS:
            return True, type_
        if name in NEVER_NULL_FUNCTIONS:
            return False, type_
        if name in NULL_ON_EMPTY_AGGREGATES or name in self.schema.functions:
            return True, type_
        return strict_nullability([n for n, _ in args]), type_

    def function_type(self, name: str, arg: SqlType | None) -> SqlType | None:
        if name in self.schema.functions:
            declared = self.schema.functions[name]
            return SqlType(normalise(declared.name), declared.array_dims)
        if name == "count":
            return SqlType("int8")
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

    def coalesce_expr_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        args = [self.expr_facts(a, scope) for a in node.args]
        nulls = [n for n, _ in args]
        nullable = False if False in nulls else (True if all(nulls) else None)
        return nullable, next((t for _, t in args if t is not None), None)

    def sub_link_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        kind = node.subLinkType
        if kind == enums.SubLinkType.EXISTS_SUBLINK:
            return False, SqlType("bool")
        if kind in (enums.SubLinkType.EXPR_SUBLINK, enums.SubLinkType.ARRAY_SUBLINK):
            relation = self.relation_of(node.subselect, scope)
            inner = next(iter(relation.values()), (None, None))[0] if len(relation) == 1 else None
            if kind == enums.SubLinkType.ARRAY_SUBLINK:
                array = SqlType(inner.name, inner.array_dims + 1) if inner else None
                return False, array
            return True, inner
        return None, SqlType("bool")

    def case_expr_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        branches = [self.expr_facts(w.result, scope) for w in node.args]
        if node.defresult is not None:
            branches.append(self.expr_facts(node.defresult, scope))
        nulls = [n for n, _ in branches]
        if node.defresult is None or True in nulls:
            nullable: bool | None = True
        else:
            nullable = False if all(n is False for n in nulls) else None
        types = [t for _, t in branches if t is not None]
        typed = [t for t in types if t.name != "text"] or types
        return nullable, typed[0] if typed else None

    def a_expr_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        op = node.name[-1].sval if node.name else ""
        if node.kind == enums.A_Expr_Kind.AEXPR_NULLIF:
            return True, self.expr_facts(node.lexpr, scope)[1]
        if op in JSON_OPERATORS:
            left_type = self.expr_facts(node.lexpr, scope)[1]
            if op in JSON_TEXT_OPERATORS:
                return True, SqlType("text")
            return True, left_type
        sides = [self.expr_facts(s, scope) for s in (node.lexpr, node.rexpr) if s is not None]
        if op in ("=", "<>", "<", ">", "<=", ">=", "~", "~*", "!~", "!~*") or node.kind in (
            enums.A_Expr_Kind.AEXPR_LIKE,
            enums.A_Expr_Kind.AEXPR_ILIKE,
            enums.A_Expr_Kind.AEXPR_IN,
            enums.A_Expr_Kind.AEXPR_OP_ANY,
            enums.A_Expr_Kind.AEXPR_BETWEEN,
        ):
            return strict_nullability([n for n, _ in sides]), SqlType("bool")
        if op == "||":
            return strict_nullability([n for n, _ in sides]), next(
                (t for _, t in sides if t is not None and t.array_dims), SqlType("text")
            )
        return strict_nullability([n for n, _ in sides]), None

    def bool_expr_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        nulls = [self.expr_facts(a, scope)[0] for a in node.args]
        return strict_nullability(nulls), SqlType("bool")

    def null_test_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        return False, SqlType("bool")

    def boolean_test_facts(self, node: Any, scope: Scope) -> tuple[bool | None, SqlType | None]:
        return False, SqlType("bool")

    def sqlvalue_function_facts(
        self, node: Any, scope: Scope
    ) -> tuple[bool | None, SqlType | None]:
        op = enums.SQLValueFunctionOp
        types = {
            op.SVFOP_CURRENT_DATE: "date",
            op.SVFOP_CURRENT_TIMESTAMP: "timestamptz",
            op.SVFOP_CURRENT_TIMESTAMP_N: "timestamptz",
            op.SVFOP_LOCALTIMESTAMP: "timestamp",
            op.SVFOP_LOCALTIMESTAMP_N: "timestamp",
        }
        return False, SqlType(types.get(node.op, "text"))


def returning(stmt: Any) -> tuple[Any, ...]:
    """The RETURNING targets of an INSERT/UPDATE/DELETE (none for other statements)."""
    clause = getattr(stmt, "returningClause", None)
    return tuple(clause.exprs or ()) if clause is not None else ()


def strict_nullability(nulls: list[bool | None]) -> bool | None:
    """NULL in, NULL out (true of almost every operator and builtin function)."""
    if True in nulls:
        return True
    if nulls and all(n is False for n in nulls):
        return False
    return None


def merge_branches(a: TargetFacts, b: TargetFacts) -> TargetFacts:
    """A UNION column may be NULL if any branch may; its name and type come from the first."""
    if a.nullable is True or b.nullable is True:
        nullable: bool | None = True
    elif a.nullable is False and b.nullable is False:
        nullable = False
    else:
        nullable = None
    return TargetFacts(a.name, nullable, a.type or b.type, a.is_aggregate or b.is_aggregate)


def is_aggregate_call(node: Any) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return (
        isinstance(node, ast.FuncCall)
        and node.over is None
        and node.funcname[-1].sval.lower() in NULL_ON_EMPTY_AGGREGATES
    )


def column_name_of(node: Any) -> str | None:
    """The name PostgreSQL gives an unaliased output column, for the cases we can name."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return str(node.fields[-1].sval)
    if isinstance(node, ast.FuncCall):
        return str(node.funcname[-1].sval)
    return None
