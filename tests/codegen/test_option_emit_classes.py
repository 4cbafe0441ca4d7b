"""Option emit_classes (tests/golden/option_emit_classes) on a real server: ``Queries(conn)``
and its twins (``AsyncQueries`` over psycopg and over asyncpg) return what the module
functions return, every command and the ``iter_*`` stream included, and each method
takes exactly its function's parameters after ``conn``. Control: a class whose method
lost a parameter is reported by the same drift check."""

from __future__ import annotations

import asyncio
import inspect
from functools import partial
from types import ModuleType
from typing import Any

import psycopg

from tests.codegen import option_goldens
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "option_emit_classes"
SCHEMA = GOLDEN / FIXTURE / "schema.sql"


load = partial(option_goldens.load, FIXTURE)


def functions(module: ModuleType) -> dict[str, Any]:
    """The query functions ``module`` defines (its ``iter_*`` streams included)."""
    return {
        name: fn
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
    }


def drift(cls: type, module: ModuleType) -> list[str]:
    """Each function of ``module`` the class lacks, or whose method takes other
    parameters (after ``self``/``conn``) or returns another type."""
    found = []
    for name, fn in functions(module).items():
        method = getattr(cls, name, None)
        if method is None:
            found.append(f"{name}: missing")
            continue
        want, got = inspect.signature(fn), inspect.signature(method)
        if list(want.parameters.values())[1:] != list(got.parameters.values())[1:]:
            found.append(f"{name}: parameters {got} != {want}")
        elif want.return_annotation != got.return_annotation:
            found.append(f"{name}: returns {got.return_annotation} != {want.return_annotation}")
    return found


def test_every_class_has_each_function_with_its_signature() -> None:
    for module, cls in (("query", "Queries"), ("aio.query", "AsyncQueries")):
        functions_module = load(module)
        assert drift(getattr(functions_module, cls), functions_module) == []
    apg = load("asyncpg.query")
    assert drift(apg.AsyncQueries, apg) == []
    assert len(functions(apg)) == 7  # six queries and the stream


def test_a_drifted_method_is_reported() -> None:
    """Control: the drift check above sees a method that lost a parameter."""
    query = load("query")

    class Drifted(query.Queries):  # type: ignore[misc,name-defined]
        def create_author(self, *, name: str) -> Any:
            return query.create_author(self.conn, name=name)

    assert drift(Drifted, query) == [
        "create_author: parameters (self, *, name: 'str') -> 'Any' != "
        "(conn: 'psycopg.Connection[Any]', *, name: 'str', bio: 'str | None' = None) "
        "-> 'models.Author'"
    ]


def test_sync_methods_return_what_the_functions_return(server_url: str) -> None:
    query = load("query")
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        q = query.Queries(conn)
        author = q.create_author(name="a", bio="x")
        assert author.name == "a"
        assert q.get_bio(self_="a", get_bio_="-") == query.get_bio(conn, self_="a", get_bio_="-")
        assert q.get_bio(self_="a", get_bio_="-").bio == "x"
        q.add_authors([query.AddAuthorsParams(name="b", bio=None)])
        assert q.copy_authors([query.CopyAuthorsParams(name="c", bio=None)]) == 1
        listed = q.list_authors()
        assert [a.name for a in listed] == ["a", "b", "c"]
        assert listed == query.list_authors(conn) == list(q.iter_list_authors(batch_size=2))
        assert q.delete_authors() == 3
        assert q.list_authors() == []


def test_async_methods_return_what_the_functions_return(server_url: str) -> None:
    query = load("aio.query")
    sync = load("query")

    async def go(url: str) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            q = query.AsyncQueries(conn)
            assert (await q.create_author(name="a", bio="x")).name == "a"
            bio = await q.get_bio(self_="a", get_bio_="-")
            assert bio == await query.get_bio(conn, self_="a", get_bio_="-")
            assert bio.bio == "x"
            await q.add_authors([sync.AddAuthorsParams(name="b", bio=None)])
            assert await q.copy_authors([sync.CopyAuthorsParams(name="c", bio=None)]) == 1
            listed = await q.list_authors()
            assert [a.name for a in listed] == ["a", "b", "c"]
            assert listed == await query.list_authors(conn)
            assert listed == [a async for a in q.iter_list_authors(batch_size=2)]
            assert await q.delete_authors() == 3

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))


def test_asyncpg_methods_return_what_the_functions_return(server_url: str) -> None:
    query = load("asyncpg.query")
    sync = load("query")

    async def go(url: str) -> None:
        async with option_goldens.asyncpg_connection(url, FIXTURE) as conn:
            q = query.AsyncQueries(conn)
            assert (await q.create_author(name="a", bio="x")).name == "a"
            bio = await q.get_bio(self_="a", get_bio_="-")
            assert bio == await query.get_bio(conn, self_="a", get_bio_="-")
            assert bio.bio == "x"
            await q.add_authors([sync.AddAuthorsParams(name="b", bio=None)])
            assert await q.copy_authors([sync.CopyAuthorsParams(name="c", bio=None)]) == 1
            listed = await q.list_authors()
            assert [a.name for a in listed] == ["a", "b", "c"]
            assert listed == await query.list_authors(conn)
            async with conn.transaction():  # an asyncpg stream needs the caller's
                assert listed == [a async for a in q.iter_list_authors(batch_size=2)]
            assert await q.delete_authors() == 3

    with fresh_database(server_url, SCHEMA) as url:
        asyncio.run(go(url))
