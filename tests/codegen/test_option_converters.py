"""Converters (overrides with from_db and to_db; tests/golden/option_converters) on a real
server: every value crosses the boundary as the user's type (numeric as Money by db_type,
accounts.tags as a list of Tag by column) on psycopg sync, psycopg async and asyncpg, in
rows, bare columns, model rows, parameters, streams and COPY; NULL stays None, a NULL
array element too. Control: the same fixture generated without from_db/to_db returns
psycopg's own Decimal and str."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlc_gen_psycopg.analysis import typecheck
from sqlc_gen_psycopg.analysis.scratch import scratch_database
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model import convert
from sqlc_gen_psycopg.model.convert import Convert
from sqlc_gen_psycopg.model.package import Param
from sqlc_gen_psycopg.model.results import DbType
from sqlc_gen_psycopg.model.types import INT, Scope, from_import
from sqlc_gen_psycopg.options import Converter, parse_options

from tests.codegen import option_goldens
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "option_converters"
SCHEMA = GOLDEN / FIXTURE / "schema.sql"
MANIFEST = GOLDEN / FIXTURE / "expected" / FIXTURE / "manifest.json"
if str(GOLDEN / FIXTURE) not in sys.path:  # converters_shop, the user's module
    sys.path.append(str(GOLDEN / FIXTURE))

shop: Any = importlib.import_module("converters_shop")
Money, Tag = shop.Money, shop.Tag
NULL_TAG = "INSERT INTO accounts (balance, tags) VALUES (1, ARRAY['x', NULL])"


def load(module: str) -> Any:
    return option_goldens.load(FIXTURE, module)


def test_sync_values_are_the_users_types(server_url: str) -> None:
    query, models = load("query"), load("models")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        account = query.create_account(conn, balance=Money(1234), tags=[Tag("a"), Tag("b")])
        assert account == models.Account(account.id, Money(1234), None, [Tag("a"), Tag("b")])
        assert query.get_balance(conn, id=account.id) == Money(1234)
        assert query.get_balance(conn, id=-1) is None
        query.set_credit(conn, id=account.id, credit=Money(5))
        credits = query.list_credits(conn, balance=Money(1234))
        assert credits == [query.ListCreditsRow(account.id, Money(5))]
        assert list(query.iter_list_credits(conn, balance=Money(1235))) == []
        query.set_credit(conn, id=account.id, credit=None)
        assert query.list_credits(conn, balance=Money(0))[0].credit is None
        rows = [query.AddAccountsParams(Money(1), Money(2), [Tag("c")])]
        assert query.add_accounts(conn, rows) == 1
        conn.execute(NULL_TAG)
        tags = [[Tag("a"), Tag("b")], [Tag("c")], [Tag("x"), None]]
        assert query.list_tags(conn) == tags
        assert list(query.iter_list_tags(conn, batch_size=2)) == tags
        stored = conn.execute("SELECT balance, credit::text FROM accounts ORDER BY id").fetchall()
        assert stored == [(Decimal("12.34"), None), (Decimal("0.01"), "0.02"), (1, None)]


def test_async_values_are_the_users_types(server_url: str) -> None:
    query = load("aio.query")

    async def go(url: str) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            account = await query.create_account(conn, balance=Money(7), tags=[Tag("a")])
            assert (account.balance, account.tags) == (Money(7), [Tag("a")])
            await query.set_credit(conn, id=account.id, credit=Money(-3))
            assert await query.list_credits(conn, balance=Money(7)) == [
                load("query").ListCreditsRow(account.id, Money(-3))
            ]
            await conn.execute(NULL_TAG)
            assert await query.list_tags(conn) == [[Tag("a")], [Tag("x"), None]]
            assert await query.get_balance(conn, id=account.id) == Money(7)

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_asyncpg_values_are_the_users_types(server_url: str) -> None:
    query, sync = load("asyncpg.query"), load("query")

    async def go(url: str) -> None:
        async with option_goldens.asyncpg_connection(url, FIXTURE) as conn:
            account = await query.create_account(conn, balance=Money(7), tags=[Tag("a")])
            assert (account.balance, account.credit, account.tags) == (Money(7), None, [Tag("a")])
            await query.set_credit(conn, id=account.id, credit=Money(250))
            assert await query.list_credits(conn, balance=Money(7)) == [
                sync.ListCreditsRow(account.id, Money(250))
            ]
            rows = [sync.AddAccountsParams(Money(100), None, [Tag("c"), Tag("d")])]
            assert await query.add_accounts(conn, rows) == 1
            await conn.execute(NULL_TAG)
            tags = [[Tag("a")], [Tag("c"), Tag("d")], [Tag("x"), None]]
            assert await query.list_tags(conn) == tags
            assert await query.get_balance(conn, id=account.id) == Money(7)
            assert await conn.fetchval("SELECT sum(balance) FROM accounts") == Decimal("2.07")

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_without_converters_values_are_psycopgs(server_url: str, tmp_path: Path) -> None:
    dropped = ("from_db:", "to_db:")
    query: Any = option_goldens.without_lines(FIXTURE, tmp_path, "option_no_converters", dropped)
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        account = query.create_account(conn, balance=Decimal("12.34"), tags=["a"])
        assert (account.balance, account.tags) == (Decimal("12.34"), ["a"])
        assert query.get_balance(conn, id=account.id) == Decimal("12.34")
        with pytest.raises(psycopg.ProgrammingError, match="cannot adapt type 'Money'"):
            query.create_account(conn, balance=Money(1), tags=[])


def test_a_converter_needs_both_dotted_paths() -> None:
    base = {"package": "p", "overrides": [{"db_type": "numeric", "python_type": "m.Money"}]}
    assert parse_options(base).by_db_type["numeric"].converter is None
    item = {"db_type": "numeric", "python_type": "m.Money", "from_db": "m.load", "to_db": "m.dump"}
    found = parse_options({**base, "overrides": [item]}).by_db_type["numeric"].converter
    assert found == Converter("m.load", "m.dump")
    for key, value in (("to_db", None), ("from_db", "load"), ("to_db", "m.1x")):
        bad = {**item, key: value}
        with pytest.raises(GenerationError) as raised:
            parse_options({**base, "overrides": [bad]})
        assert str(raised.value) == (
            f"sqlc.yaml: override {bad!r}: {key!r} must be a dotted path to a function "
            f"(module.function), not {value!r}"
        )


def test_a_written_json_value_is_converted_then_wrapped() -> None:
    """to_db runs first, on each element of an array, and psycopg's Jsonb after it."""
    for dims, want in (
        (0, "None if doc is None else Jsonb(shapes.dump(doc))"),
        (1, "None if doc is None else [Jsonb(_e1) for _e1 in [shapes.dump(_e1) for _e1 in doc]]"),
    ):
        param = Param(
            "doc",
            INT,
            from_import("psycopg.types.json", "Jsonb"),
            True,
            DbType("jsonb", dims, "jsonb", dims, "shapes.Doc", "shapes.load", "shapes.dump"),
            "docs.body",
            to_db=Convert(convert.function("shapes.dump"), dims),
        )
        assert param.arg(Scope("p", "p.query"), "") == want


def test_check_compares_the_database_type_behind_a_converter(server_url: str) -> None:
    """The manifest keeps numeric under Money, so PREPARE agrees; control: the same
    functions with the converted columns described as text are refused."""
    functions = typecheck.read_manifest(MANIFEST)
    with (
        scratch_database(server_url, prefix="plue_test", schema=(SCHEMA,)) as url,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        assert typecheck.check_functions(conn, functions) == []
        retyped = [as_text(f, "balance") for f in functions]
        found = typecheck.check_functions(conn, retyped)
        assert found and all("PostgreSQL type numeric" in line for line in found), found


def as_text(function: typecheck.GeneratedFunction, column: str) -> typecheck.GeneratedFunction:
    """The function with ``column`` (a parameter or result column) typed text."""
    return dataclasses.replace(
        function,
        params=tuple(
            dataclasses.replace(v, base="text") if v.name == column else v for v in function.params
        ),
        columns=tuple(
            dataclasses.replace(v, base="text") if v.name == column else v for v in function.columns
        ),
    )
