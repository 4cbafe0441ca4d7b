"""Typed json columns (option json_types; tests/golden/option_json_types) on a real
server: a TypedDict, a dataclass, a msgspec Struct and a pydantic model, read and written
on psycopg sync, psycopg async and asyncpg; a value that doesn't fit raises one
JsonShapeError naming the function, the column and the path in the JSON. Control: the
same fixture generated without json_types returns psycopg's dicts, a misfit included."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.options import parse_options

from tests.codegen import option_goldens
from tests.codegen.codegen_support import copy_fixture, run_sqlc
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "option_json_types"
SCHEMA = GOLDEN / FIXTURE / "schema.sql"
if str(GOLDEN / FIXTURE) not in sys.path:  # json_types_shapes, the user's module
    sys.path.append(str(GOLDEN / FIXTURE))

shapes: Any = importlib.import_module("json_types_shapes")
PLAN = {
    "steps": [{"name": "build", "run": "make"}, {"name": "test", "run": "t", "needs": ["build"]}]
}
USAGE = shapes.Usage(input_tokens=3, output_tokens=4)
SETTINGS = shapes.Settings(theme="dark", width=80)
BAD_PLAN = {"steps": [{"name": "build", "run": 1}]}
BAD_PLAN_ERROR = (
    "get_plan: column documents.plan: the JSON does not fit Plan: "
    "expected a string, got an integer 1 at $.steps[0].run"
)
INSERT = "INSERT INTO documents (plan, owner, usage, settings) VALUES (%s, %s, %s, %s) RETURNING id"
VALID = (Jsonb(PLAN), None, '{"input_tokens": 1, "output_tokens": 2}', Jsonb(SETTINGS.model_dump()))


def load(module: str) -> Any:
    return option_goldens.load(FIXTURE, module)


def test_sync_values_are_the_types(server_url: str) -> None:
    query, models = load("query"), load("models")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        owner = shapes.Person(name="Ada")
        made = query.create_document(conn, plan=PLAN, owner=owner, usage=USAGE, settings=SETTINGS)
        assert made == models.Document(made.id, PLAN, owner, USAGE, SETTINGS)
        assert query.get_plan(conn, id=made.id) == PLAN
        query.set_plan(conn, id=made.id, plan={"steps": []})
        assert query.get_plan(conn, id=made.id) == {"steps": []}
        assert query.list_owners(conn) == [query.ListOwnersRow(made.id, owner)]
        stored = conn.execute("SELECT owner, usage::text, settings FROM documents").fetchone()
        assert stored == (
            {"name": "Ada", "email": None},
            '{"input_tokens": 3, "output_tokens": 4}',
            {"theme": "dark", "width": 80},
        )


@pytest.mark.parametrize(
    ("column", "value", "error"),
    [
        (
            "owner",
            Jsonb({"email": "a@b"}),
            "list_owners: column documents.owner: the JSON does not fit Person: "
            "a required key is missing at $.name",
        ),
        (
            "owner",
            Jsonb({"name": "Ada", "age": 3}),
            "list_owners: column documents.owner: the JSON does not fit Person: "
            "a key the type doesn't declare at $.age",
        ),
        (
            "usage",
            '{"input_tokens": "3", "output_tokens": 4}',
            "models.load_document: column documents.usage: the JSON does not fit Usage: "
            "Expected `int`, got `str` at $.input_tokens",
        ),
        (
            "settings",
            Jsonb({"theme": "blue", "width": 80}),
            "models.load_document: column documents.settings: the JSON does not fit "
            "Settings: Input should be 'light' or 'dark' at $.theme",
        ),
        ("plan", Jsonb(BAD_PLAN), BAD_PLAN_ERROR),
    ],
)
def test_a_misfit_raises_one_error_naming_function_column_and_path(
    server_url: str, column: str, value: object, error: str
) -> None:
    query, models, types = load("query"), load("models"), load("types")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        row = conn.execute(INSERT, VALID).fetchone()
        assert row is not None
        update = sql.SQL("UPDATE documents SET {} = %s").format(sql.Identifier(column))
        conn.execute(update, (value,))
        with pytest.raises(types.JsonShapeError) as raised:
            if column == "owner":
                query.list_owners(conn)
            elif column == "plan":
                query.get_plan(conn, id=row[0])
            else:  # through the model's decoder, as create_document reads
                models.load_document(conn.execute("TABLE documents").fetchone())
        assert str(raised.value) == error


def test_async_values_are_the_types(server_url: str) -> None:
    query, types = load("aio.query"), load("types")

    async def go(url: str) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            made = await query.create_document(
                conn, plan=PLAN, owner=None, usage=USAGE, settings=SETTINGS
            )
            assert (made.usage, made.settings, made.owner) == (USAGE, SETTINGS, None)
            assert await query.get_plan(conn, id=made.id) == PLAN
            await conn.execute("UPDATE documents SET plan = %s", (Jsonb(BAD_PLAN),))
            with pytest.raises(types.JsonShapeError) as raised:
                await query.get_plan(conn, id=made.id)
            assert str(raised.value) == BAD_PLAN_ERROR

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_asyncpg_values_are_the_types(server_url: str) -> None:
    query, types = load("asyncpg.query"), load("types")

    async def go(url: str) -> None:
        async with option_goldens.asyncpg_connection(url, FIXTURE) as conn:
            owner = shapes.Person(name="Ada", email="a@b")
            made = await query.create_document(
                conn, plan=PLAN, owner=owner, usage=USAGE, settings=SETTINGS
            )
            assert (made.plan, made.owner, made.usage, made.settings) == (
                PLAN,
                owner,
                USAGE,
                SETTINGS,
            )
            assert await query.list_owners(conn) == [load("query").ListOwnersRow(made.id, owner)]
            await conn.execute("UPDATE documents SET plan = $1", BAD_PLAN)
            with pytest.raises(types.JsonShapeError) as raised:
                await query.get_plan(conn, id=made.id)
            assert str(raised.value) == BAD_PLAN_ERROR

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_without_json_types_values_are_psycopgs(server_url: str, tmp_path: Path) -> None:
    dropped = ("json_types:", "documents.")
    query: Any = option_goldens.without_lines(FIXTURE, tmp_path, "option_no_json_types", dropped)
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        row = conn.execute(INSERT, VALID).fetchone()
        assert row is not None
        conn.execute("UPDATE documents SET plan = %s, owner = '{}'", (Jsonb(BAD_PLAN),))
        assert query.get_plan(conn, id=row[0]) == BAD_PLAN  # the misfit, unchecked
        assert query.list_owners(conn)[0].owner == {}  # a dict, not a Person


def test_option_errors() -> None:
    base: dict[str, Any] = {"package": "p"}
    with pytest.raises(GenerationError) as raised:
        parse_options({**base, "json_types": {"plan": "Plan"}})
    assert str(raised.value) == (
        "sqlc.yaml: option 'json_types' must map table.column to a dotted type "
        "(module.Type), not {'plan': 'Plan'}"
    )
    both = {
        "json_types": {"t.c": "m.T"},
        "overrides": [{"column": "t.c", "python_type": "m.T"}],
    }
    with pytest.raises(GenerationError) as raised:
        parse_options({**base, **both})
    assert str(raised.value) == (
        "sqlc.yaml: column t.c has both an override and a json_types entry; keep one"
    )


def test_a_column_that_isnt_json_is_refused(tmp_path: Path) -> None:
    work = copy_fixture(GOLDEN / FIXTURE, tmp_path)
    config = (work / "sqlc.yaml").read_text()
    config = config.replace("documents.plan:", "documents.id:")
    (work / "sqlc.yaml").write_text(config)
    done = run_sqlc(work)
    assert done.returncode != 0
    assert (
        "sqlc.yaml: option json_types gives documents.id the type json_types_shapes.Plan, "
        "but the column is int8, not json or jsonb"
    ) in done.stderr
