"""Option docstrings: google (tests/golden/option_docstrings) on a real server: every
function's Args section names exactly its parameters (the sync, psycopg async and
asyncpg twins alike), and what its Returns and Raises sections promise happens on
psycopg sync, async and asyncpg: None when no row matches, the constraint class
named, ReadOnlyConnectionError, ParameterValueError. Control: a package generated
without the option has no sections, which the same Args check reports."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import re
from types import ModuleType

import psycopg
import pytest

from tests.codegen import option_goldens
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "option_docstrings"
SCHEMA = GOLDEN / FIXTURE / "schema.sql"
JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def load(module: str, fixture: str = FIXTURE) -> ModuleType:
    return option_goldens.load(fixture, module)


def section(doc: str, title: str) -> list[str]:
    """The first word of each entry of a Google-style section (its names)."""
    match = re.search(rf"^{title}:\n((?:(?: {{4}}.*)?\n)*)", doc + "\n", re.MULTILINE)
    if match is None:
        return []
    entries = [line for line in match[1].splitlines() if line.strip() and line[4:5] != " "]
    return [line.split()[0].rstrip(":") for line in entries]


def args_mismatches(module: ModuleType) -> list[str]:
    """Each function (``iter_*`` streams aside) whose Args section doesn't name its
    parameters after ``conn``."""
    found = []
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != module.__name__ or name.startswith("iter_"):
            continue
        taken = list(inspect.signature(fn).parameters)[1:]
        if section(inspect.getdoc(fn) or "", "Args") != taken:
            found.append(name)
    return found


def test_args_name_each_function_s_parameters() -> None:
    for module in ("query", "aio.query", "asyncpg.query"):
        assert args_mismatches(load(module)) == []
    sync = load("query")
    assert section(inspect.getdoc(sync.create_author) or "", "Raises") == [
        "NoRowError",
        "ReadOnlyConnectionError",
        "ParameterValueError",
        "AuthorsNameKeyViolation",
        "AuthorsPkeyViolation",
    ]
    # control: without the option the same check finds no Args where there are parameters
    plain = load("query", "option_emit_classes")
    assert args_mismatches(plain) == ["add_authors", "copy_authors", "create_author", "get_bio"]


def test_sync_calls_do_what_the_sections_say(server_url: str) -> None:
    query = load("query")
    errors = load("errors")
    types = load("types")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        ada = query.create_author(conn, name="Ada", joined=JAN)
        assert query.get_author(conn, id=ada.id + 1) is None  # "or None when no row matches"
        with pytest.raises(errors.AuthorsNameKeyViolation), conn.transaction():
            query.create_author(conn, name="Ada", joined=JAN)
        with pytest.raises(types.ParameterValueError, match="list_names: since"):
            query.list_names(conn, since=JAN.replace(tzinfo=None))
        conn.commit()
        conn.read_only = True
        with pytest.raises(types.ReadOnlyConnectionError):
            query.set_bio(conn, bio="x", id=ada.id)


def test_async_calls_do_what_the_sections_say(server_url: str) -> None:
    query = load("aio.query")
    errors = load("errors")

    async def go(url: str) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            ada = await query.create_author(conn, name="Ada", joined=JAN)
            assert await query.get_author(conn, id=ada.id + 1) is None
            with pytest.raises(errors.AuthorsNameKeyViolation):
                async with conn.transaction():
                    await query.create_author(conn, name="Ada", joined=JAN)

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_asyncpg_calls_do_what_the_sections_say(server_url: str) -> None:
    query = load("asyncpg.query")
    errors = load("errors")

    async def go(url: str) -> None:
        async with option_goldens.asyncpg_connection(url, FIXTURE) as conn:
            ada = await query.create_author(conn, name="Ada", joined=JAN)
            assert await query.get_author(conn, id=ada.id + 1) is None
            with pytest.raises(errors.AuthorsNameKeyViolation):
                await query.create_author(conn, name="Ada", joined=JAN)

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))
