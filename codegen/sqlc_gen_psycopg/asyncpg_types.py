"""Which PostgreSQL types the asyncpg target can share the psycopg annotations for.

The asyncpg modules return the same models, Row classes and enums as the psycopg ones,
so a value must arrive from asyncpg as an instance of the annotation psycopg's value
gave it. These base types do (each read through asyncpg 0.32 on PostgreSQL 15 and 16,
tests/test_asyncpg_target.py; json/jsonb once ``_asyncpg.init_connection`` set their
codecs, enums as ``str`` decoded by the generated code, composite types of these types
as their dataclasses once ``init_connection`` set a tuple codec). Every other type differs
(ranges are ``asyncpg.Range``, multiranges lists of them, ``bit`` an
``asyncpg.BitString``, geometric types asyncpg's own classes, ``pg_lsn`` and ``xid``
ints, ``record`` a Record, unknown types text): a query reading or writing one fails
generation with ``emit_asyncpg``, naming the value and what to cast it to.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model.package import Function, Package
from sqlc_gen_psycopg.model.results import Column, DbType
from sqlc_gen_psycopg.pytypes import UNRESOLVED, normalise

SHARED = frozenset(
    {"int2", "int4", "int8", "oid", "numeric", "float4", "float8", "bool", "bytea",
     "uuid", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "json",
     "jsonb", "inet", "cidr", "text", "varchar", "bpchar", "name", "xml"}
)  # fmt: skip


def values(fn: Function) -> Iterator[tuple[str, DbType]]:
    """Each parameter and result column of ``fn`` (embedded tables' columns included)."""
    for param in fn.params:
        yield f"parameter {param.name}", param.db_type
    if fn.result is not None:
        yield from columns(fn.result.columns)


def columns(items: tuple[Column, ...]) -> Iterator[tuple[str, DbType]]:
    for column in items:
        if column.db_type is not None:
            yield f"column {column.name}", column.db_type
        yield from columns(column.parts)


def check(pkg: Package) -> None:
    """Fail generation on the first value whose asyncpg type differs from its annotation."""
    enums = {normalise(e.sql_name) for e in pkg.enums}
    # a composite whose fields asyncpg reads as psycopg does: init_connection gives
    # it the dataclass (a tuple-format codec)
    composites = {
        normalise(c.name)
        for c in pkg.composites
        if all(normalise(base) in SHARED for base in c.field_bases)
    }
    for module in pkg.modules:
        for fn in module.functions:
            for what, db_type in values(fn):
                base = normalise(db_type.base)
                if base not in SHARED | enums | composites and base not in UNRESOLVED:
                    raise GenerationError(
                        f"{module.source}: query {fn.query_name}: {what} is {db_type.name}, "
                        f"which asyncpg returns as another Python type than psycopg's "
                        f"annotation (emit_asyncpg shares the psycopg models); cast it, "
                        f"e.g. to text, or turn emit_asyncpg off"
                    )
