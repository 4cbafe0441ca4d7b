"""Mapping PostgreSQL type names (as sqlc reports them) to Python annotations.

sqlc sends type names unnormalised (``bigserial``, ``pg_catalog.int8``, ``int``,
``timestamp with time zone``), so every name is normalised to PostgreSQL's internal
name first, then mapped. The runtime values are whatever psycopg's default loaders
produce; the annotations say exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlc_gen_psycopg.model.types import (
    Scope,
    Symbol,
    TypeRef,
    attribute,
    builtin,
    from_import,
    from_runtime,
)

ALIASES: dict[str, str] = {
    "smallint": "int2",
    "smallserial": "int2",
    "serial2": "int2",
    "integer": "int4",
    "int": "int4",
    "serial": "int4",
    "serial4": "int4",
    "bigint": "int8",
    "bigserial": "int8",
    "serial8": "int8",
    "decimal": "numeric",
    "real": "float4",
    "float": "float8",
    "double precision": "float8",
    "boolean": "bool",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "bit varying": "varbit",
}

# information_schema's domains (PostgreSQL 12 and later) by their base types. sqlc names
# them bare (``cardinal_number``) and sends no base, and PostgreSQL sends a domain's
# value as its base type's, which psycopg and asyncpg load (``ordinal_position``: int).
INFORMATION_SCHEMA_DOMAINS: dict[str, str] = {
    "cardinal_number": "int4",
    "character_data": "varchar",
    "sql_identifier": "name",
    "time_stamp": "timestamptz",
    "yes_or_no": "varchar",
}

# Pseudo-types: no value has them, so nothing can describe a parameter or column typed
# so (sqlc says ``any`` where its static analysis gives up).
UNRESOLVED = frozenset(
    {"", "any", "anyarray", "anyelement", "anynonarray", "anyenum", "anyrange",
     "anymultirange", "anycompatible", "anycompatiblearray", "anycompatiblenonarray",
     "anycompatiblerange", "anycompatiblemultirange", "unknown", "internal", "trigger",
     "event_trigger", "language_handler", "fdw_handler", "table_am_handler",
     "index_am_handler", "tsm_handler", "pg_ddl_command"}
)  # fmt: skip


def normalise(name: str) -> str:
    """``pg_catalog.int8`` / ``bigserial`` / ``BIGINT`` -> ``int8``."""
    lowered = name.strip().lower()
    if lowered.startswith("pg_catalog."):
        lowered = lowered.removeprefix("pg_catalog.")
    elif "." in lowered:
        lowered = lowered.rsplit(".", 1)[1]
    return ALIASES.get(lowered, lowered)


@dataclass(frozen=True, slots=True)
class PyType:
    """A Python type as the model's symbols (which know their imports), its type
    arguments (``Range`` of ``datetime.date``), and the psycopg wrapper each written
    value needs (``Jsonb`` for jsonb; empty for most types)."""

    symbol: Symbol
    args: tuple[PyType, ...] = ()
    dump: str = ""
    optional: bool = False

    def ref(self) -> TypeRef:
        return TypeRef(self.symbol, tuple(arg.ref() for arg in self.args), self.optional)

    def text(self) -> str:
        """The annotation as written outside the package: ``psycopg.types.range.Range[int]``."""
        return self.ref().text(Scope("", ""))


def plain(name: str, *args: PyType, optional: bool = False) -> PyType:
    """A builtin (``int``, ``dict[str, str | None]``)."""
    return PyType(builtin(name), args, optional=optional)


def stdlib(module: str, name: str) -> PyType:
    """``import module`` and ``module.name`` (``datetime.date``)."""
    return PyType(attribute(module, name))


def helper(name: str, dump: str = "") -> PyType:
    """A type of the generated package's public ``types`` module (``JsonValue``)."""
    return PyType(from_import(".types", name), dump=dump)


# What psycopg returns for a type it has no loader for: the text PostgreSQL sends.
TEXT = plain("str")

# A value sqlc types ``any`` (it couldn't infer one): no claim about it at all. Never
# ``Any``, which would switch the type checker off for whatever touches it.
UNKNOWN = plain("object")

# Built-in types psycopg knows (so it loads their arrays as lists) but has no loader
# for: it hands over the text PostgreSQL sends (``money`` as ``$1,234.50``, ``void``
# as ``''``).
BUILTIN_TEXT = frozenset(
    {"text", "varchar", "bpchar", "name", '"char"', "xml", "money", "bit", "varbit",
     "point", "line", "lseg", "box", "path", "polygon", "circle", "macaddr", "macaddr8",
     "tsvector", "tsquery", "gtsvector", "jsonpath", "pg_lsn", "txid_snapshot", "xid",
     "xid8", "cid", "tid", "aclitem", "int2vector", "oidvector", "refcursor", "regclass",
     "regcollation", "regconfig", "regdictionary", "regnamespace", "regoper",
     "regoperator", "regproc", "regprocedure", "regrole", "regtype", "void"}
)  # fmt: skip

# Every built-in type psycopg loads, by the Python type it loads it as.
SCALARS: dict[str, PyType] = {
    **{t: plain("int") for t in ("int2", "int4", "int8", "oid")},
    "numeric": stdlib("decimal", "Decimal"),
    "float4": plain("float"),
    "float8": plain("float"),
    "bool": plain("bool"),
    "bytea": plain("bytes"),
    "uuid": stdlib("uuid", "UUID"),
    "date": stdlib("datetime", "date"),
    "time": stdlib("datetime", "time"),
    "timetz": stdlib("datetime", "time"),
    "timestamp": stdlib("datetime", "datetime"),
    "timestamptz": stdlib("datetime", "datetime"),
    "interval": stdlib("datetime", "timedelta"),
    "json": helper("JsonValue", dump="Json"),
    "jsonb": helper("JsonValue", dump="Jsonb"),
    "inet": helper("Inet"),
    "cidr": helper("Cidr"),
    # An anonymous row (``SELECT row(a, b)``): psycopg splits it into its fields' text.
    "record": plain("tuple", plain("str", optional=True), plain("...")),
    **{t: TEXT for t in BUILTIN_TEXT},
}

# Range type -> element type, multirange -> range: psycopg's Range / Multirange of the
# element's Python type (multiranges exist from PostgreSQL 14).
RANGES: dict[str, str] = {
    "int4range": "int4",
    "int8range": "int8",
    "numrange": "numeric",
    "daterange": "date",
    "tsrange": "timestamp",
    "tstzrange": "timestamptz",
}
MULTIRANGES: dict[str, str] = {
    "int4multirange": "int4range",
    "int8multirange": "int8range",
    "nummultirange": "numrange",
    "datemultirange": "daterange",
    "tsmultirange": "tsrange",
    "tstzmultirange": "tstzrange",
}
RANGE = attribute("psycopg.types.range", "Range")
MULTIRANGE = attribute("psycopg.types.multirange", "Multirange")

# Extension types whose loader (arrays included) one documented call registers per
# connection: psycopg.types.hstore.register_hstore(TypeInfo.fetch(conn, "hstore"), conn).
REGISTERED: dict[str, PyType] = {"hstore": plain("dict", TEXT, plain("str", optional=True))}


@dataclass(frozen=True, slots=True)
class Described:
    """A PostgreSQL value in Python: ``element`` nested in ``dims`` lists."""

    element: PyType
    dims: int


def describe(name: str, dims: int, *, result: bool) -> Described | None:
    """The Python type of a value of the normalised type ``name`` with ``dims`` array
    dimensions, read from a result (``result``) or written as a parameter; None for a
    pseudo-type, which nothing can describe.

    A type psycopg doesn't know (an extension's, a user's base type) is ``str``. Its
    arrays psycopg can't split either: a result is the array's text literal
    (``{a.b,c}`` for ltree[]), so ``str``; a parameter may still be a list of str,
    which psycopg writes as an array literal PostgreSQL casts to the column's type.
    """
    if name in UNRESOLVED:
        return None
    known = element(name)
    if known is not None:
        return Described(known, dims)
    return Described(TEXT, 0 if result else dims)


def element(name: str) -> PyType | None:
    """The type psycopg loads a value of ``name`` as, if it knows ``name``."""
    if name in RANGES:
        return PyType(RANGE, (SCALARS[RANGES[name]],))
    if name in MULTIRANGES:
        return PyType(MULTIRANGE, (SCALARS[RANGES[MULTIRANGES[name]]],))
    return SCALARS.get(name) or REGISTERED.get(name)


# Parameters psycopg and asyncpg would store differently: the check of generated
# ``_types`` each one's value passes first (the scalar's, the array's), which refuses
# the value before anything is sent (docs/generated-api.md, "One meaning per value").
CHECKS: dict[str, tuple[str, str]] = {
    "timestamptz": ("aware", "aware_items"),
    "timetz": ("aware", "aware_items"),
    "timestamp": ("naive", "naive_items"),
    "date": ("plain_date", ""),
}


def checks(name: str, dims: int, *, no_null_items: bool) -> tuple[Symbol, ...]:
    """The checks a parameter of the normalised type ``name`` with ``dims`` array
    dimensions gets, innermost first; ``no_null_items`` for an array written to a
    column whose CHECK keeps NULL elements out (element_checks.py)."""
    scalar, array = CHECKS.get(name, ("", ""))
    names = [array if dims else scalar]
    if dims and no_null_items:
        names.append("no_null_items")
    return tuple(from_runtime("values", n) for n in names if n)
