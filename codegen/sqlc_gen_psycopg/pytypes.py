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
}

UNRESOLVED = frozenset(
    {"", "any", "anyarray", "anyelement", "anynonarray", "anyenum", "unknown", "anycompatible"}
)


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

    ``load`` is a format string applied to each non-NULL value read (``enums.X({})``),
    ``dump`` wraps each value written (json/jsonb); both empty for most types.
    """

    annotation: str
    imports: frozenset[str] = frozenset()
    load: str = ""
    dump: str = ""
    enum_name: str = ""


SCALARS: dict[str, PyType] = {
    **{t: PyType("int") for t in ("int2", "int4", "int8", "oid", "xid", "cid")},
    "numeric": PyType("decimal.Decimal", frozenset({"import decimal"})),
    "float4": PyType("float"),
    "float8": PyType("float"),
    "bool": PyType("bool"),
    **{t: PyType("str") for t in ("text", "varchar", "bpchar", "citext", "name", "xml")},
    "bytea": PyType("bytes"),
    "uuid": PyType("uuid.UUID", frozenset({"import uuid"})),
    "date": PyType("datetime.date", frozenset({"import datetime"})),
    "time": PyType("datetime.time", frozenset({"import datetime"})),
    "timetz": PyType("datetime.time", frozenset({"import datetime"})),
    "timestamp": PyType("datetime.datetime", frozenset({"import datetime"})),
    "timestamptz": PyType("datetime.datetime", frozenset({"import datetime"})),
    "interval": PyType("datetime.timedelta", frozenset({"import datetime"})),
    "json": PyType("JsonValue", frozenset({"from {package}._types import JsonValue"}), dump="Json"),
    "jsonb": PyType(
        "JsonValue", frozenset({"from {package}._types import JsonValue"}), dump="Jsonb"
    ),
    "inet": PyType("Inet", frozenset({"from {package}._types import Inet"})),
    "cidr": PyType("Cidr", frozenset({"from {package}._types import Cidr"})),
    "void": PyType("None"),
}


def wrap_list(base: str, dims: int) -> str:
    annotation = base
    for _ in range(dims):
        annotation = f"list[{annotation}]"
    return annotation
