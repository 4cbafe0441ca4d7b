"""How the asyncpg target gives each PostgreSQL type the psycopg target's Python value.

The asyncpg modules return the same models, Row classes and enums as the psycopg ones,
so a value must arrive from asyncpg as an instance of the annotation psycopg's value
gave it. Each read through asyncpg 0.32 on PostgreSQL 15 and 16
(tests/runtime/test_asyncpg_target.py, tests/codegen/test_golden_types.py):

- ``SHARED``: asyncpg's own codecs give psycopg's value (json/jsonb once
  ``_asyncpg.init_connection`` set their codecs; enums arrive as ``str`` and the
  generated code decodes them; composite types of these types become their dataclasses
  through the tuple codec ``init_connection`` sets);
- ``TEXT``: psycopg reads these as the text PostgreSQL sends (``bit``, geometric types,
  ``macaddr``, ``money``, ``pg_lsn``, ``xid``, ``reg*``, ``void``...), asyncpg as its
  own classes (``BitString``, ``Point``) or ints: ``init_connection`` gives each one the
  package uses a text codec, so asyncpg hands over the same text (arrays: lists of it);
- ``hstore``: asyncpg's built-in contrib codec gives psycopg's dicts;
- ranges and multiranges: asyncpg takes no codec on range types, so the generated code
  converts: parameters to ``asyncpg.Range`` (``asyncpg_target.to_asyncpg_range``), results to
  psycopg's ``Range``/``Multirange`` (``_types.as_range``, which the psycopg decoders
  call too and which passes psycopg's values through);
- a type neither driver knows (``ltree``, ``vector``, ``citext``...): the text, from both.

The rest can't be given psycopg's value, and each function reading or writing one is
left out of the asyncpg target only, with a warning naming it (``UNSUPPORTED``): asyncpg
takes no codec on ``int2vector``/``oidvector`` (lists of int), ``record`` is an
``asyncpg.Record``, a composite type keeps asyncpg's values of its fields, a result
array of a type neither knows is a list from asyncpg and its text literal from psycopg,
and asyncpg copies (``:copyfrom``) only through binary codecs.
"""

from __future__ import annotations

from collections.abc import Container, Iterator

from sqlc_gen_psycopg import pytypes
from sqlc_gen_psycopg.model.package import AsyncpgSupport, Function, Package
from sqlc_gen_psycopg.model.results import Column, DbType
from sqlc_gen_psycopg.notices import Notices
from sqlc_gen_psycopg.pytypes import UNRESOLVED, normalise

SHARED = frozenset(
    {"int2", "int4", "int8", "oid", "numeric", "float4", "float8", "bool", "bytea",
     "uuid", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "json",
     "jsonb", "inet", "cidr", "text", "varchar", "bpchar", "name", "xml"}
)  # fmt: skip
# Arrays to asyncpg's set_type_codec, which refuses them a codec.
VECTORS = frozenset({"int2vector", "oidvector"})
TEXT = pytypes.BUILTIN_TEXT - SHARED - VECTORS
HSTORE = "hstore"

RANGES = frozenset({*pytypes.RANGES, *pytypes.MULTIRANGES})
UNSUPPORTED = {
    **{v: "asyncpg reads it as a list of int and takes no codec for it" for v in VECTORS},
    "record": "asyncpg reads it as an asyncpg.Record, psycopg as a tuple of text",
}  # fmt: skip
UNKNOWN_ARRAY = (
    "asyncpg reads an array of a type neither driver knows as a list, psycopg as its text"
)
NOT_BINARY = "asyncpg's COPY takes only types with binary codecs"


def values(fn: Function) -> Iterator[tuple[str, DbType, bool]]:
    """Each parameter and result column of ``fn`` (embedded tables' columns included),
    and whether it is read (a column) rather than written."""
    for param in fn.params:
        yield f"parameter {param.name}", param.db_type, False
    if fn.result is not None:
        yield from ((what, db_type, True) for what, db_type in columns(fn.result.columns))


def columns(items: tuple[Column, ...]) -> Iterator[tuple[str, DbType]]:
    for column in items:
        if column.db_type is not None:
            yield f"column {column.name}", column.db_type
        yield from columns(column.parts)


def support(pkg: Package, notices: Notices) -> AsyncpgSupport:
    """The text codecs and hstore codec ``init_connection`` sets, and the functions the
    asyncpg modules leave out (each told to ``notices``)."""
    composites = {normalise(c.name): c for c in pkg.composites}
    # enums, and composites whose fields asyncpg reads as psycopg does: init_connection
    # gives those their dataclass (a tuple-format codec)
    known = {normalise(e.sql_name) for e in pkg.enums} | {
        name
        for name, c in composites.items()
        if all(normalise(base) in SHARED for base in c.field_bases)
    }
    used: set[str] = set()
    left_out: set[str] = set()
    for module in pkg.modules:
        for fn in module.functions:
            bases: set[str] = set()
            for what, db_type, read in values(fn):
                base = normalise(db_type.base)
                why = problem(base, db_type.base_array_dims, known, composites, read=read, fn=fn)
                if why:
                    shown = db_type.name + "[]" * db_type.array_dims
                    reason = f"{shown}: {why}; left out of {pkg.name}.asyncpg"
                    notices.left_out(module.source, fn.query_name, what, reason)
                    left_out.add(fn.name)
                    break
                bases.add(base)
            else:
                used |= bases
    return AsyncpgSupport(
        tuple(sorted(used & TEXT)), HSTORE in used, frozenset(left_out), bool(used & RANGES)
    )


def problem(
    base: str, dims: int, known: set[str], composites: Container[str], *, read: bool, fn: Function
) -> str:
    """Why the asyncpg target can't give this value psycopg's Python value ('' if it can)."""
    if base in SHARED or base in known or base in UNRESOLVED or base in RANGES:
        return ""
    if base in UNSUPPORTED:
        return UNSUPPORTED[base]
    if base in composites:
        return "a composite type with a field asyncpg reads as another Python type than psycopg"
    if fn.copy_sql and base != HSTORE:
        return NOT_BINARY
    if base not in TEXT and base != HSTORE and read and dims:  # a type neither driver knows
        return UNKNOWN_ARRAY
    return ""
