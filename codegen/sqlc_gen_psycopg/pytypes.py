"""Mapping PostgreSQL type names (as sqlc reports them) to Python annotations.

sqlc sends type names unnormalised (``bigserial``, ``pg_catalog.int8``, ``int``,
``timestamp with time zone``), so every name is normalised to PostgreSQL's internal
name first, then mapped. The runtime values are whatever psycopg's default loaders
produce; the annotations say exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """A Python annotation plus the imports it needs and how values cross the wire.

    ``args`` are its type arguments (``Range`` of ``datetime.date``); ``load`` is a
    format string applied to each non-NULL value read (``enums.X({})``), ``dump`` wraps
    each value written (json/jsonb); both empty for most types.
    """

    annotation: str
    imports: frozenset[str] = frozenset()
    load: str = ""
    dump: str = ""
    enum_name: str = ""
    args: tuple[PyType, ...] = ()

    def text(self) -> str:
        """The annotation as written: ``psycopg.types.range.Range[datetime.date]``."""
        if not self.args:
            return self.annotation
        return f"{self.annotation}[{', '.join(arg.text() for arg in self.args)}]"


DATETIME = frozenset({"import datetime"})

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
    **{t: PyType("int") for t in ("int2", "int4", "int8", "oid")},
    "numeric": PyType("decimal.Decimal", frozenset({"import decimal"})),
    "float4": PyType("float"),
    "float8": PyType("float"),
    "bool": PyType("bool"),
    "bytea": PyType("bytes"),
    "uuid": PyType("uuid.UUID", frozenset({"import uuid"})),
    "date": PyType("datetime.date", DATETIME),
    "time": PyType("datetime.time", DATETIME),
    "timetz": PyType("datetime.time", DATETIME),
    "timestamp": PyType("datetime.datetime", DATETIME),
    "timestamptz": PyType("datetime.datetime", DATETIME),
    "interval": PyType("datetime.timedelta", DATETIME),
    "json": PyType("JsonValue", frozenset({"from {package}._types import JsonValue"}), dump="Json"),
    "jsonb": PyType(
        "JsonValue", frozenset({"from {package}._types import JsonValue"}), dump="Jsonb"
    ),
    "inet": PyType("Inet", frozenset({"from {package}._types import Inet"})),
    "cidr": PyType("Cidr", frozenset({"from {package}._types import Cidr"})),
    # An anonymous row (``SELECT row(a, b)``): psycopg splits it into its fields' text.
    "record": PyType("tuple[str | None, ...]"),
    **{t: PyType("str") for t in BUILTIN_TEXT},
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
RANGE = "psycopg.types.range"
MULTIRANGE = "psycopg.types.multirange"

# Extension types whose loader (arrays included) one documented call registers per
# connection: psycopg.types.hstore.register_hstore(TypeInfo.fetch(conn, "hstore"), conn).
REGISTERED: dict[str, PyType] = {"hstore": PyType("dict[str, str | None]")}

# What psycopg returns for a type it doesn't know: the text PostgreSQL sends.
TEXT = PyType("str")


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
        return PyType(
            f"{RANGE}.Range", frozenset({f"import {RANGE}"}), args=(SCALARS[RANGES[name]],)
        )
    if name in MULTIRANGES:
        item = SCALARS[RANGES[MULTIRANGES[name]]]
        return PyType(f"{MULTIRANGE}.Multirange", frozenset({f"import {MULTIRANGE}"}), args=(item,))
    return SCALARS.get(name) or REGISTERED.get(name)
