"""Option query_parameter_limit (tests/golden/option_query_parameter_limit, limit 2) on a
real server: a function of three or more parameters takes one frozen, keyword-only
``<Query>Params`` (the sync module's class, shared by the async twins and the methods),
and its values reach PostgreSQL, checks included, on psycopg sync, async and asyncpg.
Control: the same classification finds no parameter object in a package generated
without the option."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import inspect
from types import ModuleType

import psycopg
import pytest

from tests.codegen import option_goldens
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "option_query_parameter_limit"
SCHEMA = GOLDEN / FIXTURE / "schema.sql"
JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def load(module: str, fixture: str = FIXTURE) -> ModuleType:
    return option_goldens.load(fixture, module)


def object_takers(module: ModuleType) -> dict[str, str]:
    """Each function of ``module`` whose one parameter after ``conn`` is ``params``
    (an ``iter_*`` stream's ``batch_size`` aside), with its annotation."""
    found = {}
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != module.__name__:
            continue
        taken = [p for p in list(inspect.signature(fn).parameters.values())[1:]]
        taken = [p for p in taken if p.name != "batch_size"]
        if [p.name for p in taken] == ["params"]:
            found[name] = taken[0].annotation
    return found


def test_functions_above_the_limit_take_the_module_s_params_class() -> None:
    objects = {
        "create_author": "CreateAuthorParams",
        "list_joined": "ListJoinedParams",
        "iter_list_joined": "ListJoinedParams",
        "set_bio": "SetBioParams",
        "params_": "ParamsParams",  # query Params: its method passes params on to params_
    }
    assert object_takers(load("query")) == objects
    qualified = {name: f"q.{cls}" for name, cls in objects.items()}
    assert object_takers(load("aio.query")) == qualified
    assert object_takers(load("asyncpg.query")) == qualified
    assert object_takers(load("query", "option_emit_classes")) == {}  # control: no limit


def test_the_params_class_is_frozen_and_keyword_only() -> None:
    query = load("query")
    params = query.CreateAuthorParams(name="a", joined=JAN)
    assert params.bio is None  # a parameter that may be NULL defaults to None
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.name = "b"
    with pytest.raises(TypeError):
        query.CreateAuthorParams("a", None, JAN)


def test_sync_functions_and_methods_read_the_object(server_url: str) -> None:
    query = load("query")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        created = query.create_author(conn, query.CreateAuthorParams(name="a", joined=JAN))
        assert (created.name, created.bio, created.joined) == ("a", None, JAN)
        q = query.Queries(conn)
        q.create_author(query.CreateAuthorParams(name="b", bio="x", joined=JAN + DAY))
        window = query.ListJoinedParams(since=JAN, until=JAN + 2 * DAY, not_name="b")
        assert [a.name for a in q.list_joined(window)] == ["a"]
        assert list(query.iter_list_joined(conn, window, batch_size=1)) == [created]
        assert q.set_bio(query.SetBioParams(bio="y", name="a", before=JAN + DAY)) == 1
        between = query.ParamsParams(name="-", joined=JAN, joined_2=JAN + 2 * DAY)
        assert q.params_(between) == query.params_(conn, between) == 2
        assert query.get_author(conn, id=created.id).bio == "y"
        naive = query.SetBioParams(name="a", before=datetime.datetime(2024, 1, 2))
        with pytest.raises(load("types").ParameterValueError, match="set_bio: before"):
            q.set_bio(naive)


def test_async_functions_read_the_object(server_url: str) -> None:
    query = load("aio.query")
    sync = load("query")

    async def go(url: str) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            q = query.AsyncQueries(conn)
            created = await q.create_author(sync.CreateAuthorParams(name="a", joined=JAN))
            window = sync.ListJoinedParams(since=JAN, until=JAN + DAY, not_name="-")
            assert await query.list_joined(conn, window) == [created]
            assert [a async for a in q.iter_list_joined(window)] == [created]
            bio = sync.SetBioParams(bio="y", name="a", before=JAN + DAY)
            assert await query.set_bio(conn, bio) == 1

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_asyncpg_functions_read_the_object(server_url: str) -> None:
    query = load("asyncpg.query")
    sync = load("query")

    async def go(url: str) -> None:
        async with option_goldens.asyncpg_connection(url, FIXTURE) as conn:
            q = query.AsyncQueries(conn)
            created = await q.create_author(sync.CreateAuthorParams(name="a", joined=JAN))
            window = sync.ListJoinedParams(since=JAN, until=JAN + DAY, not_name="-")
            assert await query.list_joined(conn, window) == [created]
            async with conn.transaction():  # an asyncpg stream needs the caller's
                assert [a async for a in q.iter_list_joined(window)] == [created]
            bio = sync.SetBioParams(bio="y", name="a", before=JAN + DAY)
            assert await query.set_bio(conn, bio) == 1

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))
