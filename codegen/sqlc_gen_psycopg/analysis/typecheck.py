"""Type fidelity: the generator's manifest vs PostgreSQL's own description of each query.

sqlc-gen-psycopg writes manifest.json beside every package it generates: for each
function its SQL, and for each parameter and result column the PostgreSQL type its
annotation was made from and whether it may be NULL. This PREPAREs every function's SQL
on a database with the project's schema and compares what PostgreSQL reports: parameter
and column count, column names, types (domains resolved to their base type, arrays as
arrays), and, for columns that come straight from a table, nullability against
pg_attribute.attnotnull. COPY can't be PREPAREd: a :copyfrom's target columns are
compared with the table's catalog instead (its INSERT is PREPAREd like any query).

Usable by any project that uses the plugin (``sqlc-gen-psycopg-db check``; ``plue-db
check`` calls it too): everything it needs is named by sqlc.yaml. Whether each type's
annotation is right is the generator's table (one truth).

Over 400 lines on purpose: reading the manifest, describing each statement on the server
and comparing the two work on the same records (GeneratedFunction, Value) and catalog
reads; one module keeps the comparison readable top to bottom.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import JoinType

from sqlc_gen_psycopg.analysis.project import PLUGIN, ProjectError, targets
from sqlc_gen_psycopg.analysis.scratch import scratch_database
from sqlc_gen_psycopg.pytypes import CHECKS, UNRESOLVED, element

PREFIX = "sqlc_gen_psycopg_check"  # scratch database names

# ---- the generated side: manifest.json -------------------------------------------


@dataclasses.dataclass(frozen=True)
class Value:
    """A parameter or result column as the generator describes it.

    name is the parameter's name, or the column's name as PostgreSQL labels it (the
    alias with any `!`/`?`); base is the PostgreSQL type the annotation was made from,
    domains resolved.
    """

    name: str
    annotation: str
    nullable: bool
    base: str
    is_array: bool

    @property
    def type_text(self) -> str:
        return f"{self.base}[]" if self.is_array else self.base


@dataclasses.dataclass(frozen=True)
class GeneratedFunction:
    """One manifest entry; columns has sqlc.embed fields expanded into their columns."""

    module: str
    name: str
    sql: str
    copy_sql: str | None
    params: tuple[Value, ...]
    columns: tuple[Value, ...]
    returns_rows: bool = True  # False for :exec* and :copyfrom, which discard any rows
    strict: bool = True  # generated with strict_types: every type difference is an error

    @property
    def where(self) -> str:
        return f"{self.module}.{self.name}"


def read_manifest(path: Path, *, strict: bool = True) -> list[GeneratedFunction]:
    """Every function a manifest.json lists (``strict``: its package's strict_types)."""
    try:
        document = json.loads(path.read_text())
        return [function_from(entry, strict) for entry in document["functions"]]
    except FileNotFoundError:
        raise ProjectError(
            f"{path}: no manifest; regenerate the package with {PLUGIN} (`sqlc generate`)"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError(f"{path}: not a {PLUGIN} manifest ({exc!r})") from exc


def function_from(entry: dict[str, Any], strict: bool = True) -> GeneratedFunction:
    return GeneratedFunction(
        module=entry["module"],
        name=entry["name"],
        sql=entry["sql"],
        copy_sql=entry["copy_sql"],
        params=tuple(value_from(p, p["name"]) for p in entry["params"]),
        columns=tuple(flatten(entry["columns"])),
        returns_rows=entry["command"] in (":one", ":many", ":batchone", ":batchmany"),
        strict=strict,
    )


def flatten(columns: list[dict[str, Any]]) -> Iterator[Value]:
    for column in columns:
        if column["embed"] is None:
            yield value_from(column, column["name"])
        else:
            yield from flatten(column["columns"])


def value_from(entry: dict[str, Any], name: str) -> Value:
    type_ = entry["type"]
    return Value(
        name, entry["annotation"], entry["nullable"], type_["base"], type_["base_array_dims"] > 0
    )


# ---- the server side -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServerColumn:
    """A result column as PostgreSQL describes it (table_oid 0: not a table column)."""

    name: str
    type_oid: int
    table_oid: int
    table_col: int


@dataclasses.dataclass(frozen=True)
class ServerQuery:
    """PostgreSQL's description of a prepared statement."""

    param_oids: tuple[int, ...]
    columns: tuple[ServerColumn, ...]


@dataclasses.dataclass(frozen=True)
class PgType:
    name: str
    kind: str  # pg_type.typtype: b base, e enum, d domain, c composite, p pseudo
    element: int  # array element type, 0 if not an array
    base: int  # domain base type, 0 if not a domain
    schema: str = "public"


@dataclasses.dataclass(frozen=True)
class Catalog:
    """The parts of pg_catalog the comparison needs, read once."""

    types: dict[int, PgType]
    tables: dict[int, str]
    not_null: dict[tuple[int, int], bool]

    def base(self, oid: int) -> tuple[str, bool]:
        """(base type name, is an array) of a type: domains resolved, as the generator does."""
        pg = self.types.get(oid)
        if pg is None:
            return f"<unknown type oid {oid}>", False
        if pg.kind == "d":
            return self.base(pg.base)
        if pg.element and pg.name.startswith("_"):
            return self.base(pg.element)[0], True
        # qualified as the generator keys types (sqlc_gen_psycopg.schema_info.qualified)
        if pg.schema in ("public", "pg_catalog"):
            return pg.name, False
        return f"{pg.schema}.{pg.name}", False

    def base_text(self, oid: int) -> str:
        name, is_array = self.base(oid)
        return f"{name}[]" if is_array else name


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    types = {
        oid: PgType(name, kind, element, base, schema)
        for oid, name, kind, element, base, schema in conn.execute(
            "SELECT t.oid::int8, typname::text, typtype::text, typelem::int8, typbasetype::int8,"
            " nspname::text FROM pg_type t JOIN pg_namespace n ON n.oid = typnamespace"
        )
    }
    tables: dict[int, str] = {}
    not_null: dict[tuple[int, int], bool] = {}
    for rel, relname, attnum, notnull in conn.execute(
        "SELECT c.oid::int8, c.relname::text, a.attnum::int8, a.attnotnull"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0"
        " AND c.relkind NOT IN ('v', 'm')"  # a view's attnotnull is always false
    ):
        tables[rel] = relname
        not_null[(rel, attnum)] = notnull
    return Catalog(types, tables, not_null)


def describe_on_server(conn: psycopg.Connection[Any], sql: str) -> ServerQuery:
    """PREPARE sql as the unnamed statement (each PREPARE replaces the last) and read
    PostgreSQL's description of its parameters and result columns."""
    pgconn = conn.pgconn
    prepared = pgconn.prepare(b"", sql.encode())
    if prepared.status != psycopg.pq.ExecStatus.COMMAND_OK:
        raise psycopg.ProgrammingError((prepared.error_message or b"").decode().strip())
    res = pgconn.describe_prepared(b"")
    return ServerQuery(
        tuple(res.param_type(i) for i in range(res.nparams)),
        tuple(
            ServerColumn(
                (res.fname(i) or b"").decode(), res.ftype(i), res.ftable(i), res.ftablecol(i)
            )
            for i in range(res.nfields)
        ),
    )


def copy_target_types(conn: psycopg.Connection[Any], copy_sql: str) -> tuple[str, dict[str, int]]:
    """The table a COPY ... FROM STDIN writes and the type oid of each of its columns."""
    [raw] = pglast.parse_sql(copy_sql)
    assert isinstance(raw.stmt, ast.CopyStmt) and raw.stmt.relation is not None
    relation = raw.stmt.relation
    rows = conn.execute(
        "SELECT a.attname::text, a.atttypid::int8 FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = %s AND n.nspname = coalesce(%s, current_schema())"
        " AND a.attnum > 0 AND NOT a.attisdropped",
        (relation.relname, relation.schemaname),
    ).fetchall()
    return relation.relname, dict(rows)


# ---- the comparison --------------------------------------------------------------


def compare(function: GeneratedFunction, server: ServerQuery, catalog: Catalog) -> list[str]:
    """Every disagreement between the manifest and PostgreSQL, one line each."""
    where = function.where
    problems: list[str] = []
    if len(function.params) != len(server.param_oids):
        problems.append(
            f"{where}: PostgreSQL sees {len(server.param_oids)} parameters,"
            f" the function takes {len(function.params)}"
        )
    for i, (param, oid) in enumerate(zip(function.params, server.param_oids, strict=False), 1):
        at = f"{where}: parameter ${i} {param.name}"
        problems.extend(compare_type(at, param, oid, catalog, function.strict))
    if function.returns_rows and len(function.columns) != len(server.columns):
        problems.append(
            f"{where}: PostgreSQL returns {len(server.columns)} columns,"
            f" the generated row has {len(function.columns)}"
        )
    nullable_tables = outer_joined_tables(function.sql) if server.columns else frozenset()
    for value, column in zip(function.columns, server.columns, strict=False):
        problems.extend(compare_column(function, value, column, catalog, nullable_tables))
    return problems


# A finding that does not fail the check (report prints it, says ok).
NOTE = "note: "


def compare_type(at: str, value: Value, oid: int, catalog: Catalog, strict: bool) -> list[str]:
    """The type difference, if any. Without strict_types, a static guess of another
    built-in type that is the same Python value, read and written alike (int4 for int8,
    varchar for text), is a note: the annotation is honest; only the name differs."""
    server, is_array = catalog.base(oid)
    if (server, is_array) == (value.base, value.is_array):
        return []
    if value.base in UNRESOLVED:  # sqlc's any: annotated object, which claims nothing
        return []
    found = (
        f"{at}: PostgreSQL type {catalog.base_text(oid)}, generated {value.annotation}"
        f" from {value.type_text}"
    )
    if not strict and is_array == value.is_array and same_value(value.base, server):
        return [f"{NOTE}{found} (the same Python value; an error with strict_types)"]
    return [found]


def same_value(generated: str, server: str) -> bool:
    """Whether two built-in types load as one Python type and take the same check and
    wrapper as a parameter (timestamp and timestamptz differ: naive vs aware)."""
    python = element(generated)
    return (
        python is not None
        and python == element(server)
        and CHECKS.get(generated) == (CHECKS.get(server))
    )


def compare_column(
    function: GeneratedFunction,
    value: Value,
    column: ServerColumn,
    catalog: Catalog,
    nullable_tables: frozenset[str],
) -> list[str]:
    at = f"{function.where}: column {column.name}"
    problems: list[str] = []
    if value.name and value.name != column.name:  # "": unnamed, PostgreSQL's ?column?
        problems.append(f"{at}: the manifest names it {value.name}")
    problems.extend(compare_type(at, value, column.type_oid, catalog, function.strict))
    not_null = catalog.not_null.get((column.table_oid, column.table_col))
    if not_null is None:  # an expression: PostgreSQL does not say whether it can be NULL
        return problems
    if column.name.endswith(("!", "?")):  # `AS "x!"`: the developer's word, not a table's
        return problems
    table = catalog.tables[column.table_oid]
    if not not_null and not value.nullable:
        problems.append(
            f"{at}: {table}.{column.name} is nullable, generated non-optional {value.annotation}"
        )
    if not_null and value.nullable and table not in nullable_tables:
        problems.append(
            f"{at}: {table}.{column.name} is NOT NULL and no outer join can null it,"
            f" generated {value.annotation}"
        )
    return problems


def compare_copy(
    function: GeneratedFunction, table: str, columns: dict[str, int], catalog: Catalog
) -> list[str]:
    """A :copyfrom's parameters, in order, against its COPY target columns' types."""
    assert function.copy_sql is not None
    [raw] = pglast.parse_sql(function.copy_sql)
    assert isinstance(raw.stmt, ast.CopyStmt)
    names = [node.sval for node in raw.stmt.attlist or ()]
    where = f"{function.where}: COPY"
    if not columns:
        return [f"{where}: table {table} does not exist"]
    if len(names) != len(function.params):
        return [f"{where}: copies {len(names)} columns, the function takes {len(function.params)}"]
    problems: list[str] = []
    for name, param in zip(names, function.params, strict=True):
        oid = columns.get(name)
        if oid is None:
            problems.append(f"{where}: table {table} has no column {name}")
        else:
            at = f"{where} column {table}.{name}"
            problems.extend(compare_type(at, param, oid, catalog, function.strict))
    return problems


def nodes(root: Any) -> Iterator[Any]:
    """Every pglast AST node under ``root``, itself included, in no promised order."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Node):
            yield node
            stack.extend(getattr(node, name) for name in node)
        elif isinstance(node, tuple | list):
            stack.extend(node)


def outer_joined_tables(sql: str) -> frozenset[str]:
    """Tables on the nullable side of some outer join in the statement, through the
    CTEs named there (PostgreSQL gives a column read through ``LEFT JOIN claims c``,
    a CTE over a table, that table as its origin)."""
    statement = pglast.parse_sql(sql)
    ctes = {
        node.ctename: {n.relname for n in nodes(node.ctequery) if isinstance(n, ast.RangeVar)}
        for node in nodes(statement)
        if isinstance(node, ast.CommonTableExpr)
    }
    found: set[str] = set()
    for node in nodes(statement):
        if isinstance(node, ast.JoinExpr):
            sides = {
                JoinType.JOIN_LEFT: (node.rarg,),
                JoinType.JOIN_RIGHT: (node.larg,),
                JoinType.JOIN_FULL: (node.larg, node.rarg),
            }.get(node.jointype, ())
            for side in sides:
                found.update(n.relname for n in nodes(side) if isinstance(n, ast.RangeVar))
    pending = found & ctes.keys()
    while pending:  # a CTE over CTEs: every table under it
        tables = ctes.pop(pending.pop())
        pending |= tables & ctes.keys() - found
        found |= tables
    return frozenset(found)


def check_functions(conn: psycopg.Connection[Any], functions: list[GeneratedFunction]) -> list[str]:
    """Problems found comparing these functions with the database at conn (autocommit)."""
    catalog = read_catalog(conn)
    problems: list[str] = []
    for function in functions:
        try:
            server = describe_on_server(conn, function.sql)
        except psycopg.Error as error:
            problems.append(f"{function.where}: PostgreSQL rejects the SQL: {error}")
            continue
        problems.extend(compare(function, server, catalog))
        if function.copy_sql is not None:
            table, columns = copy_target_types(conn, function.copy_sql)
            problems.extend(compare_copy(function, table, columns, catalog))
    return problems


def check(conninfo: str, sqlc_yaml: Path) -> list[str]:
    """Problems found comparing every manifest sqlc.yaml names with the database at
    conninfo, which must already have the schema applied; nothing is written to it."""
    functions = [
        f
        for target in targets(sqlc_yaml)
        for m in target.manifests
        for f in read_manifest(m, strict=m in target.strict)
    ]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return check_functions(conn, functions)


def check_project(sqlc_yaml: Path, server_url: str) -> list[str]:
    """The whole check for any project using the plugin: each sql entry's schema files
    loaded into a scratch database on server_url, its manifests compared with it."""
    problems: list[str] = []
    for target in targets(sqlc_yaml):
        functions = [
            f for m in target.manifests for f in read_manifest(m, strict=m in target.strict)
        ]
        with (
            scratch_database(server_url, prefix=PREFIX, schema=target.schema) as url,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            problems.extend(check_functions(conn, functions))
    return problems


def report(sqlc_yaml: Path, problems: list[str]) -> bool:
    """Print the result as one ok/FAIL line and a line per problem or note; passed
    (no problem but notes)?"""
    passed = all(problem.startswith(NOTE) for problem in problems)
    print(f"{'ok  ' if passed else 'FAIL'} {sqlc_yaml}: generated types match PostgreSQL's")
    for problem in problems:
        print("  " + problem.replace("\n", "\n  "))
    return passed
