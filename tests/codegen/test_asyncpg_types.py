"""The asyncpg target gives every type the psycopg target's Python value, or leaves the
function out (codegen/sqlc_gen_psycopg/asyncpg_types.py).

The type goldens (tests/golden/types_*, emit_asyncpg on) run each round trip of
tests/codegen/test_golden_types.py through their asyncpg twin, on the same database: the row
equals the psycopg row (ids aside) and every value is an instance of its annotation.
``bit``, geometric types, ``macaddr``, ``money``, ``pg_lsn``, ``regclass``, ``void``,
``xid`` and ``tid`` come back as psycopg's text through init_connection's text codecs,
hstore as dicts through asyncpg's contrib codec, ltree/vector/citext as text, ranges and
multiranges (and arrays of them) as psycopg's Range/Multirange, converted both ways by
the generated code. ``int2vector`` and the functions reading an array of a type neither
driver knows are left out of the asyncpg modules, each with a warning. Negative
controls: without init_connection the same calls return asyncpg's own classes
(BitString, Point...), which the comparison reports; asyncpg's codec refuses psycopg's
Range and reads asyncpg.Range, which only the conversion makes psycopg's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import importlib
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import asyncpg
import psycopg
import pytest
from psycopg.types import TypeInfo
from psycopg.types.hstore import register_hstore
from psycopg.types.range import Range

from bench.latency import asyncpg_params
from plue_db.typecheck.runtime_types import Checker
from tests.codegen.extensions import extensions_of, skip_without
from tests.codegen.test_golden_types import hstore_case, package, ranges_case, text_case
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

Case = Callable[[ModuleType], tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]]


def ltree_path_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"path": "top.science", "aliases": ["a.b", "c"]}
    return query.add_category_path, args, {"path": args["path"]}


def vector_only_case(
    query: ModuleType,
) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"embedding": "[1,2,3]", "history": ["[1,2,3]", "[4,5,6]"]}
    return query.add_embedding_only, args, {"embedding": args["embedding"]}


def citext_email_case(
    query: ModuleType,
) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"email": "MiXeD@example.org", "aliases": ["A", "b"]}
    return query.add_account_email, args, {"email": args["email"]}


def catalog_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    expected = {"rel": "shapes", "nap": "", "xact": "5", "tuple_id": "(0,1)"}
    return query.catalog_values, {}, expected


CASES: dict[str, tuple[str, Case]] = {
    "ranges": ("types_ranges", ranges_case),
    "shapes": ("types_text", text_case),
    "catalog": ("types_text", catalog_case),
    "hstore": ("types_hstore", hstore_case),
    "ltree": ("types_ltree", ltree_path_case),
    "vector": ("types_vector", vector_only_case),
    "citext": ("types_citext", citext_email_case),
}
# Left out of the asyncpg modules (asyncpg_types.UNSUPPORTED, UNKNOWN_ARRAY).
LEFT_OUT = {
    "asyncpg_left_out": ("booking_seats",),
    "types_ltree": ("add_category",),
    "types_vector": ("add_embedding",),
    "types_citext": ("add_account",),
}


@pytest.fixture
def database(request: pytest.FixtureRequest, server_url: str) -> Iterator[str]:
    schema = GOLDEN / CASES[request.param][0] / "schema.sql"
    for extension in extensions_of(schema):
        skip_without(extension, server_url)
    with fresh_database(server_url, schema) as url:
        yield url


def psycopg_row(url: str, function: Callable[..., Any], args: dict[str, Any]) -> Any:
    with psycopg.connect(url) as conn:
        conn.execute("SET lc_monetary = 'C'")
        info = TypeInfo.fetch(conn, "hstore")
        if info is not None:
            register_hstore(info, conn)
        row = function(conn, **args)
        conn.rollback()  # the asyncpg twin inserts the same row next
        return row


def asyncpg_row(
    url: str, pkg: str, function: Callable[..., Any], args: dict[str, Any], *, init: bool = True
) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            await conn.execute("SET lc_monetary = 'C'")
            if init:
                await importlib.import_module(f"{pkg}._asyncpg").init_connection(conn)
            return await function(conn, **args)
        finally:
            await conn.close()

    return asyncio.run(go())


def without_id(row: Any) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(row).items() if k != "id"}


@pytest.mark.parametrize("database", sorted(CASES), indirect=True)
def test_asyncpg_gives_psycopgs_values(database: str, request: pytest.FixtureRequest) -> None:
    fixture, case = CASES[request.node.callspec.params["database"]]
    pkg = package(fixture)
    function, args, expected = case(importlib.import_module(f"{pkg}.query"))
    twin, _, _ = case(importlib.import_module(f"{pkg}.asyncpg.query"))
    by_psycopg = psycopg_row(database, function, args)
    by_asyncpg = asyncpg_row(database, pkg, twin, args)
    assert {key: getattr(by_asyncpg, key) for key in expected} == expected
    assert without_id(by_asyncpg) == without_id(by_psycopg)
    checker = Checker(vars(importlib.import_module(f"{pkg}.types")))
    assert checker.returned(function, by_asyncpg, fixture) == []


@pytest.mark.parametrize("database", ["shapes"], indirect=True)
def test_without_init_connection_asyncpg_types_are_seen(database: str) -> None:
    """Control: asyncpg's own codecs refuse psycopg's text for a point (they want a
    Point) and read xid and tid as other Python values."""
    pkg = package("types_text")
    twin, args, _ = text_case(importlib.import_module(f"{pkg}.asyncpg.query"))
    with pytest.raises(asyncpg.DataError, match="must be real number, not str"):
        asyncpg_row(database, pkg, twin, args, init=False)
    catalog, _, expected = catalog_case(importlib.import_module(f"{pkg}.asyncpg.query"))
    row = asyncpg_row(database, pkg, catalog, {}, init=False)
    assert dataclasses.asdict(row) != expected


@pytest.mark.parametrize("fixture", sorted(LEFT_OUT))
def test_functions_asyncpg_cannot_carry_are_left_out_with_a_warning(fixture: str) -> None:
    pkg = package(fixture)
    sync = importlib.import_module(f"{pkg}.query")
    (manifest,) = (GOLDEN / fixture / "expected").glob("*/manifest.json")
    warnings = json.loads(manifest.read_text())["warnings"]
    apg = importlib.import_module(f"{pkg}.asyncpg")
    for name in LEFT_OUT[fixture]:
        assert callable(getattr(sync, name))  # the psycopg targets keep it
        assert not hasattr(apg, name)
    left = [w for w in warnings if w.endswith(f"left out of {pkg}.asyncpg")]
    assert len(left) == len(LEFT_OUT[fixture])


@pytest.mark.parametrize("database", ["ranges"], indirect=True)
def test_ranges_need_the_conversion(database: str) -> None:
    """Control: asyncpg alone refuses psycopg's Range and returns its own, which
    the runtime's ``values.as_range`` turns into psycopg's."""
    package("types_ranges")
    as_range = importlib.import_module("sqlc_gen_psycopg_runtime.values").as_range

    async def go() -> tuple[Any, Any]:
        conn = await asyncpg.connect(**asyncpg_params(database))
        try:
            with pytest.raises(asyncpg.DataError, match="Range object expected"):
                await conn.fetchval("SELECT $1::numrange", Range(1, 2, "(]"))
            raw = await conn.fetchval("SELECT '(1,2]'::numrange")
            return raw, as_range(raw)
        finally:
            await conn.close()

    raw, converted = asyncio.run(go())
    assert raw != Range(decimal.Decimal(1), decimal.Decimal(2), "(]")
    assert converted == Range(decimal.Decimal(1), decimal.Decimal(2), "(]")
