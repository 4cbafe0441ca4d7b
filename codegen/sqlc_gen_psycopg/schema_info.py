"""What sqlc's catalog leaves out, read from schema.sql with a real SQL parser (pglast).

sqlc names composite types and domains but sends neither their fields nor their base
type, and it reports user-defined functions as never returning NULL. We parse the
schema files ourselves for exactly those facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pglast
from pglast import ast, enums

from sqlc_gen_psycopg.constraints import Constraints
from sqlc_gen_psycopg.element_checks import ElementChecks
from sqlc_gen_psycopg.errors import GenerationError


@dataclass(frozen=True, slots=True)
class SqlType:
    """A PostgreSQL type reference as written in SQL: name plus array dimensions."""

    name: str
    array_dims: int = 0


@dataclass(frozen=True, slots=True)
class CompositeField:
    name: str
    type: SqlType
    not_null: bool


@dataclass(frozen=True, slots=True)
class ViewDefinition:
    """The defining query of a view or materialized view (a pglast SelectStmt), and the
    column names its CREATE gives (``CREATE VIEW v (a, b) AS ...``), if any."""

    query: Any
    names: tuple[str, ...]


@dataclass(slots=True)
class SchemaInfo:
    domains: dict[str, SqlType] = field(default_factory=dict)
    composites: dict[str, tuple[CompositeField, ...]] = field(default_factory=dict)
    functions: dict[str, SqlType] = field(default_factory=dict)
    # name -> volatility of each overload ("volatile" unless declared), for access.py
    volatility: dict[str, frozenset[str]] = field(default_factory=dict)
    # unique, check, exclusion and foreign-key constraints, as PostgreSQL names them
    constraints: Constraints = field(default_factory=Constraints)
    # the CHECKs proving array columns hold no NULL element (element_checks.py)
    elements: ElementChecks = field(default_factory=lambda: ElementChecks(relation_key))
    # views and materialized views as last defined, in definition order (view_nullability.py)
    views: dict[str, ViewDefinition] = field(default_factory=dict)
    # "table.column" of each identity column, NOT NULL whatever it says (identity_columns.py)
    identities: set[str] = field(default_factory=set)


DEFAULT_SCHEMA = "public"
_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")


def qualified(schema: str, name: str, default: str = DEFAULT_SCHEMA) -> str:
    """The key of a table or type: its name as PostgreSQL stores it (``TenantMemberRole``
    when created quoted), qualified unless it is in the default schema (``baz.users``).
    Two schemas' objects of one name never share a key."""
    return name if schema in ("", default, "pg_catalog") else f"{schema}.{name}"


def regtype(key: str) -> str:
    """A key as PostgreSQL's ``::regtype`` reads it: a part that isn't a plain lower-case
    name quoted (``foo."PointType"``)."""
    parts = key.split(".")
    return ".".join(
        p if _PLAIN_IDENTIFIER.fullmatch(p) else '"' + p.replace('"', '""') + '"' for p in parts
    )


def type_from_node(node: Any) -> SqlType:
    """A pglast TypeName node as (key, dims): the exact name, qualified when its schema is
    neither the default one nor pg_catalog (``foo.mood``, ``int4``)."""
    names = [n.sval for n in node.names]
    schema = names[-2] if len(names) > 1 else ""
    return SqlType(name=qualified(schema, names[-1]), array_dims=len(node.arrayBounds or ()))


def relation_key(relation: Any) -> str:
    """The key of a table from its pglast RangeVar."""
    return qualified(relation.schemaname or "", relation.relname)


def object_key(names: list[Any]) -> str:
    """The key of a created object from its (possibly qualified) name nodes."""
    return qualified(names[-2].sval if len(names) > 1 else "", names[-1].sval)


def read_schema(paths: list[Path]) -> SchemaInfo:
    info = SchemaInfo()
    for file in schema_files(paths):
        _read_file(file, info)
    return info


def schema_files(paths: list[Path]) -> list[Path]:
    """The files sqlc 1.31 reads for ``schema:``: each listed file, or a folder's
    entries in name order (not recursive), keeping only ``*.sql`` that are not hidden
    and not golang-migrate ``*.down.sql``."""
    files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    return [
        f
        for f in files
        if f.name.endswith(".sql")
        and not f.name.startswith(".")
        and not f.name.endswith(".down.sql")
    ]


ROLLBACK_MARKERS = (
    "-- +goose down",
    "-- +migrate down",
    "---- create above / drop below ----",
    "-- migrate:down",
)
# A line that is a psql meta-command (``\connect db``, ``\restrict KEY`` as pg_dump
# 17.6/16.10/15.14 and later write): sqlc 1.31 drops exactly these, column 0 only.
PSQL_META_COMMAND = re.compile(r"\\[A-Za-z!?;].*")


def as_sqlc_reads(text: str) -> str:
    """Schema text as sqlc 1.31 parses it: a migration's rollback section (goose,
    sql-migrate, tern, dbmate markers) cut off, psql meta-command lines blanked (so
    parse errors keep their line numbers). Anything sqlc still rejects is its error."""
    lines = text.split("\n")  # as Go's line scanner: only \n ends a line
    for index, line in enumerate(lines):
        if line.lower().startswith(ROLLBACK_MARKERS):
            lines = lines[:index]
            break
    return "\n".join("" if PSQL_META_COMMAND.fullmatch(line) else line for line in lines)


def _read_file(file: Path, info: SchemaInfo) -> None:
    try:
        statements = pglast.parse_sql(as_sqlc_reads(file.read_text()))
    except pglast.parser.ParseError as exc:
        raise GenerationError(f"{file}: cannot parse schema: {exc}") from exc
    for raw in statements:
        stmt = raw.stmt
        info.constraints.read(stmt)
        info.elements.read(stmt)
        _read_view(stmt, info.views)
        _read_identities(stmt, info.identities)
        if isinstance(stmt, ast.CreateDomainStmt):
            info.domains[object_key(stmt.domainname)] = type_from_node(stmt.typeName)
        elif isinstance(stmt, ast.CompositeTypeStmt):
            key = qualified(stmt.typevar.schemaname or "", stmt.typevar.relname)
            info.composites[key] = tuple(
                CompositeField(
                    name=col.colname,
                    type=type_from_node(col.typeName),
                    not_null=bool(col.is_not_null),
                )
                for col in stmt.coldeflist or ()
            )
        elif isinstance(stmt, ast.CreateFunctionStmt) and stmt.returnType is not None:
            name = stmt.funcname[-1].sval
            info.functions[name] = type_from_node(stmt.returnType)
            info.volatility[name] = info.volatility.get(name, frozenset()) | {_volatility(stmt)}


def _read_identities(stmt: Any, identities: set[str]) -> None:
    """The columns ``GENERATED ... AS IDENTITY`` (in CREATE TABLE, ALTER TABLE ... ADD
    COLUMN or ALTER COLUMN ... ADD GENERATED), which PostgreSQL makes NOT NULL."""
    if not isinstance(stmt, ast.CreateStmt | ast.AlterTableStmt):
        return
    table = relation_key(stmt.relation)
    if isinstance(stmt, ast.CreateStmt):
        columns = [e for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
    else:
        columns = []
        for cmd in stmt.cmds or ():
            if cmd.subtype == enums.AlterTableType.AT_AddIdentity:
                identities.add(f"{table}.{cmd.name}")
            elif cmd.subtype == enums.AlterTableType.AT_AddColumn:
                columns.append(cmd.def_)
    for column in columns:
        kinds = {c.contype for c in column.constraints or () if isinstance(c, ast.Constraint)}
        if enums.ConstrType.CONSTR_IDENTITY in kinds:
            identities.add(f"{table}.{column.colname}")


VIEW_KINDS = (enums.ObjectType.OBJECT_VIEW, enums.ObjectType.OBJECT_MATVIEW)


def _read_view(stmt: Any, views: dict[str, ViewDefinition]) -> None:
    """Track a view's definition through CREATE [OR REPLACE], DROP and RENAME TO."""
    if isinstance(stmt, ast.ViewStmt):
        views[relation_key(stmt.view)] = ViewDefinition(
            stmt.query, tuple(a.sval for a in stmt.aliases or ())
        )
    elif isinstance(stmt, ast.CreateTableAsStmt) and stmt.objtype in VIEW_KINDS:
        names = tuple(c.sval for c in stmt.into.colNames or ())
        views[relation_key(stmt.into.rel)] = ViewDefinition(stmt.query, names)
    elif isinstance(stmt, ast.DropStmt) and stmt.removeType in VIEW_KINDS:
        for names in stmt.objects or ():
            views.pop(object_key(list(names)), None)
    elif isinstance(stmt, ast.RenameStmt) and stmt.relation is not None and not stmt.subname:
        old = relation_key(stmt.relation)
        if old in views:
            views[qualified(stmt.relation.schemaname or "", stmt.newname)] = views.pop(old)


def _volatility(stmt: ast.CreateFunctionStmt) -> str:
    """STABLE, IMMUTABLE or (PostgreSQL's default) VOLATILE, in lower case."""
    for option in stmt.options or ():
        if option.defname == "volatility":
            return str(option.arg.sval).lower()
    return "volatile"
