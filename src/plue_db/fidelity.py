"""Type fidelity: PostgreSQL's own description of every generated query vs the Python.

The generator reads types from sqlc's static analysis; the server is the authority.
For each query in plue_queries this PREPAREs the SQL (with schema.sql applied), reads
the parameter and result types PostgreSQL infers, and compares them with the generated
annotations: parameter count and types, result column count, names and types, and, for
columns that come straight from a table, nullability against pg_attribute.attnotnull.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import keyword
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import JoinType

PACKAGE = "plue_queries"
NOT_QUERY_MODULES = frozenset({"models", "enums", "_types"})
SQL_NAME = re.compile(r"--\s*name:\s*(\w+)\s+:(\w+)")
# Positional arguments that are not SQL parameters.
PLUMBING = frozenset({"conn", "batch_size"})
# sqlc commands whose functions return rows.
ROW_COMMANDS = frozenset({"one", "many", "batchone", "batchmany"})

# PostgreSQL base type -> the Python annotation the generator promises (module prefix
# dropped: "datetime.datetime" and "enums.IssueState" compare as "datetime", "IssueState").
SCALARS: dict[str, str] = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "oid": "int",
    "numeric": "Decimal",
    "float4": "float",
    "float8": "float",
    "text": "str",
    "varchar": "str",
    "bpchar": "str",
    "name": "str",
    "citext": "str",
    "bool": "bool",
    "bytea": "bytes",
    "uuid": "UUID",
    "date": "date",
    "time": "time",
    "timetz": "time",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "interval": "timedelta",
    "inet": "Inet",
    "cidr": "Cidr",
}
JSON_TYPES = frozenset({"json", "jsonb"})


@dataclasses.dataclass(frozen=True)
class Slot:
    """One generated parameter or result field: its name and annotation as written.

    name is None for a query returning one bare column (no field to name), where a
    :one's `| None` also means "no row", so it says nothing about the column.
    """

    name: str | None
    annotation: str


@dataclasses.dataclass(frozen=True)
class GeneratedQuery:
    """What the generated code claims about one query; columns is None for :exec*."""

    module: str
    name: str
    sql: str
    params: tuple[Slot, ...]
    columns: tuple[Slot, ...] | None


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


@dataclasses.dataclass(frozen=True)
class Catalog:
    """The parts of pg_catalog the comparison needs, read once."""

    types: dict[int, PgType]
    tables: dict[int, str]
    not_null: dict[tuple[int, int], bool]


# ---- the generated side ----------------------------------------------------------


def query_modules() -> Iterator[ModuleType]:
    """Every module of plue_queries (and its async twins) that holds queries."""
    package = importlib.import_module(PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if not info.ispkg and info.name.rsplit(".", 1)[1] not in NOT_QUERY_MODULES:
            yield importlib.import_module(info.name)


def generated_queries(module: ModuleType) -> Iterator[GeneratedQuery]:
    """Each `-- name:` SQL constant with its function's annotations; an async twin
    (plue_queries.aio.x) runs the SQL constants of its sync module plue_queries.x."""
    short = module.__name__.removeprefix(f"{PACKAGE}.")
    sql_module = importlib.import_module(module.__name__.replace(".aio.", ".", 1))
    for constant, sql in vars(sql_module).items():
        match = SQL_NAME.match(sql) if isinstance(sql, str) and constant.isupper() else None
        if match is None:
            continue
        function = getattr(module, constant.lower(), None)
        if function is None:
            raise LookupError(f"{short}.{match[1]}: no function {constant.lower()}()")
        yield describe_function(short, match[1], match[2], sql, function, module)


def describe_function(
    module_name: str, query: str, command: str, sql: str, function: Any, module: ModuleType
) -> GeneratedQuery:
    """Read parameters and result fields from a generated function's annotations."""
    signature = inspect.signature(function)
    params = [p for name, p in signature.parameters.items() if name not in PLUMBING]
    if [p.name for p in params] == ["rows"]:  # :copyfrom / :batch*: one Params dataclass
        params_class = dataclass_named(item_name(str(params[0].annotation)), module)
        if params_class is None:
            raise TypeError(f"{module_name}.{query}: rows is not an Iterable of a dataclass")
        slots = fields_of(params_class)
    else:
        slots = tuple(Slot(p.name, str(p.annotation)) for p in params)
    if command not in ROW_COMMANDS:
        return GeneratedQuery(module_name, query, sql, slots, None)
    returned = str(signature.return_annotation)
    item = item_name(returned)
    row_class = dataclass_named(item, module)
    if row_class is not None:
        columns = fields_of(row_class)
    else:  # a single column comes back bare; :one adds `| None` for "no row"
        columns = (Slot(None, item if command == "many" else returned),)
    return GeneratedQuery(module_name, query, sql, slots, columns)


def item_name(annotation: str) -> str:
    """`list[X]` -> `X`, `X | None` (a :one) -> `X`, `Iterable[X]` -> `X`."""
    inner = re.sub(r"^(list|Iterable)\[(.*)\]$", r"\2", annotation.strip())
    return inner if inner != annotation else inner.removesuffix(" | None")


def dataclass_named(name: str, module: ModuleType) -> type[Any] | None:
    """The dataclass `models.User` / `q.FooRow` / `FooParams` names in module, else None."""
    target: Any = module
    for part in name.split("."):
        target = getattr(target, part, None)
    return target if isinstance(target, type) and dataclasses.is_dataclass(target) else None


def fields_of(cls: type[Any]) -> tuple[Slot, ...]:
    return tuple(Slot(f.name, str(f.type)) for f in dataclasses.fields(cls))


# ---- the server side -------------------------------------------------------------


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    types = {
        oid: PgType(name, kind, element, base)
        for oid, name, kind, element, base in conn.execute(
            "SELECT oid::int8, typname::text, typtype::text, typelem::int8, typbasetype::int8"
            " FROM pg_type"
        )
    }
    tables: dict[int, str] = {}
    not_null: dict[tuple[int, int], bool] = {}
    for rel, relname, attnum, notnull in conn.execute(
        "SELECT c.oid::int8, c.relname::text, a.attnum::int8, a.attnotnull"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0"
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


# ---- the comparison --------------------------------------------------------------


def expected_annotation(catalog: Catalog, oid: int, *, is_param: bool) -> str:
    """The Python type (module prefixes dropped, no `| None`) promised for a PG type."""
    pg = catalog.types.get(oid)
    if pg is None:
        return f"<unknown type oid {oid}>"
    if pg.element and pg.name.startswith("_"):
        return f"list[{expected_annotation(catalog, pg.element, is_param=is_param)}]"
    if pg.kind == "d":
        return expected_annotation(catalog, pg.base, is_param=is_param)
    if pg.kind in {"e", "c"}:
        return "".join(part.capitalize() for part in pg.name.split("_"))
    if pg.name in JSON_TYPES:
        return "JsonInput" if is_param else "JsonValue"
    return SCALARS.get(pg.name, f"<unmapped PostgreSQL type {pg.name}>")


def type_name(catalog: Catalog, oid: int) -> str:
    pg = catalog.types.get(oid)
    return f"oid {oid}" if pg is None else pg.name


def split_optional(annotation: str) -> tuple[str, bool]:
    """`enums.IssueState | None` -> ("IssueState", True): prefixes dropped, None split off."""
    bare = re.sub(r"\b[A-Za-z_]\w*\.", "", annotation.replace(" ", ""))
    parts = [p for p in bare.split("|") if p != "None"]
    return "|".join(parts), len(parts) != bare.count("|") + 1


def outer_joined_tables(sql: str) -> frozenset[str]:
    """Tables on the nullable side of some outer join in the statement."""
    found: set[str] = set()
    for node in walk(pglast.parse_sql(sql)):
        if isinstance(node, ast.JoinExpr):
            sides = {
                JoinType.JOIN_LEFT: (node.rarg,),
                JoinType.JOIN_RIGHT: (node.larg,),
                JoinType.JOIN_FULL: (node.larg, node.rarg),
            }.get(node.jointype, ())
            for side in sides:
                found.update(n.relname for n in walk(side) if isinstance(n, ast.RangeVar))
    return frozenset(found)


def walk(node: Any) -> Iterator[Any]:
    """Every pglast node under node (inclusive)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attribute in type(node).__slots__:
            yield from walk(getattr(node, attribute))


def field_name(column: str) -> str:
    """The field name the generator derives from a column name (`total!` -> `total`)."""
    name = column.rstrip("!?")
    return f"{name}_" if keyword.iskeyword(name) else name


def compare(query: GeneratedQuery, server: ServerQuery, catalog: Catalog) -> list[str]:
    """Every disagreement between the generated code and PostgreSQL, one line each."""
    where = f"{query.module}.{query.name}"
    problems: list[str] = []
    if len(query.params) != len(server.param_oids):
        problems.append(
            f"{where}: PostgreSQL sees {len(server.param_oids)} parameters,"
            f" the function takes {len(query.params)}"
        )
    for i, (slot, oid) in enumerate(zip(query.params, server.param_oids, strict=False), 1):
        want = expected_annotation(catalog, oid, is_param=True)
        got, _ = split_optional(slot.annotation)
        if got != want:
            problems.append(
                f"{where}: parameter ${i} {slot.name}: PostgreSQL type"
                f" {type_name(catalog, oid)} wants {want}, generated {slot.annotation}"
            )
    generated = query.columns or ()
    if len(generated) != len(server.columns):
        problems.append(
            f"{where}: PostgreSQL returns {len(server.columns)} columns,"
            f" the generated row has {len(generated)}"
        )
    nullable_tables = outer_joined_tables(query.sql) if server.columns else frozenset()
    for slot, column in zip(generated, server.columns, strict=False):
        problems.extend(compare_column(where, slot, column, catalog, nullable_tables))
    return problems


def compare_column(
    where: str,
    slot: Slot,
    column: ServerColumn,
    catalog: Catalog,
    nullable_tables: frozenset[str],
) -> list[str]:
    problems: list[str] = []
    at = f"{where}: column {column.name}"
    if slot.name is not None and field_name(column.name) != slot.name:
        problems.append(f"{at}: generated field is named {slot.name}")
    want = expected_annotation(catalog, column.type_oid, is_param=False)
    got, optional = split_optional(slot.annotation)
    if got != want:
        problems.append(
            f"{at}: PostgreSQL type {type_name(catalog, column.type_oid)} wants {want},"
            f" generated {slot.annotation}"
        )
    not_null = catalog.not_null.get((column.table_oid, column.table_col))
    if not_null is None:  # an expression: PostgreSQL does not say whether it can be NULL
        return problems
    table = catalog.tables[column.table_oid]
    if not not_null and not optional:
        problems.append(
            f"{at}: {table}.{column.name} is nullable, generated non-optional {slot.annotation}"
        )
    if not_null and optional and table not in nullable_tables and slot.name is not None:
        problems.append(
            f"{at}: {table}.{column.name} is NOT NULL and no outer join can null it,"
            f" generated {slot.annotation}"
        )
    return problems


def check_queries(conn: psycopg.Connection[Any], queries: list[GeneratedQuery]) -> list[str]:
    catalog = read_catalog(conn)
    problems: list[str] = []
    for query in queries:
        try:
            server = describe_on_server(conn, query.sql)
        except psycopg.Error as error:
            problems.append(f"{query.module}.{query.name}: PostgreSQL rejects the SQL: {error}")
            continue
        problems.extend(compare(query, server, catalog))
    return problems


def all_generated_queries() -> list[GeneratedQuery]:
    return [query for module in query_modules() for query in generated_queries(module)]


def check(conninfo: str) -> list[str]:
    """Problems found comparing every generated query with PostgreSQL (empty: all agree).

    The database at conninfo must have schema.sql applied; nothing is written to it.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return check_queries(conn, all_generated_queries())
