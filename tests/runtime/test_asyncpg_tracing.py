"""Tracing sees every call of the asyncpg target: OpenTelemetry's asyncpg
instrumentation (the real package, ``AsyncPGInstrumentor().instrument()`` as a service
sets it up), the SDK's in-memory exporter.

Each call of every command gives exactly one span whose statement starts with its
query's ``-- name:`` line (tests/golden/asyncpg_target has them all; Plue's
create_user plus three lookups is the issue's case): :one, :many, :exec, :execrows,
:execresult and :batchexec send their statement; :copyfrom, :batchone and :batchmany,
whose rows go untraced or once per row, their marked BEGIN or SAVEPOINT, in the
caller's transaction and in their own. An ``iter_*`` stream is one span, its DECLARE,
however many fetches it takes. Controls: the shapes before (rows through the cursor's
iterator, a batch in ``conn.transaction()``, fetches of asyncpg's cursor) give a span per
row, BEGIN/COMMIT spans and a span per fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from apg_target import asyncpg as tapg
from apg_target import query
from apg_target.enums import Mood
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from plue_queries import asyncpg as apg

from bench.latency import asyncpg_params
from tests.factories import unique_name
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

Session = Callable[[Any], Awaitable[None]]


@pytest.fixture(scope="module")
def target_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, Path(GOLDEN / "asyncpg_target" / "schema.sql")) as url:
        yield url


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """asyncpg instrumented for this test only (the instrumentor wraps its classes)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()


def statements(exporter: InMemorySpanExporter) -> list[str]:
    """Each finished span's statement, in order; the exporter is emptied."""
    spans = exporter.get_finished_spans()
    exporter.clear()
    return [str((span.attributes or {}).get("db.statement", "")) for span in spans]


def named(query_name: str, command: str) -> str:
    return f"-- name: {query_name} {command}\n"


def run(url: str, session: Session, *, init: Any = tapg.init_connection) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            await init(conn)
            await session(conn)
        finally:
            await conn.close()

    asyncio.run(go())


def one_span(exporter: InMemorySpanExporter, query_name: str, command: str) -> None:
    got = statements(exporter)
    assert len(got) == 1, got
    assert got[0].startswith(named(query_name, command)), got


def test_create_user_and_three_lookups_are_four_spans(
    database_url: str, exporter: InMemorySpanExporter
) -> None:
    async def session(conn: Any) -> None:
        statements(exporter)  # init_connection's codec lookups
        user = await apg.create_user(
            conn, username=unique_name("traced"), display_name="T", bio="", is_admin=False
        )
        for _ in range(3):
            assert await apg.get_user_by_id(conn, id=user.id) == user
        await apg.delete_user(conn, id=user.id)

    run(database_url, session, init=apg.init_connection)
    got = statements(exporter)
    assert len(got) == 5
    assert got[0].startswith(named("CreateUser", ":one"))
    assert all(s.startswith(named("GetUserByID", ":one")) for s in got[1:4])
    assert got[4].startswith(named("DeleteUser", ":execrows"))


def test_every_command_is_one_span(target_url: str, exporter: InMemorySpanExporter) -> None:
    async def session(conn: Any) -> None:
        statements(exporter)
        author = await tapg.create_author(
            conn, name="A", mood=Mood.OK, moods=[Mood.SAD], profile={"k": [1]}, tags=["t"]
        )
        one_span(exporter, "CreateAuthor", ":one")
        assert await tapg.get_author(conn, id=author.id) == author
        one_span(exporter, "GetAuthor", ":one")
        assert await tapg.list_authors(conn, after_id=author.id - 1, page_size=5) == [author]
        one_span(exporter, "ListAuthors", ":many")
        await tapg.touch_author(conn, id=author.id)
        one_span(exporter, "TouchAuthor", ":exec")
        assert await tapg.rename_authors(conn, new_name="B", old_name="A") >= 1
        one_span(exporter, "RenameAuthors", ":execrows")
        books = [query.AddBooksParams(author.id, f"b{n}", None) for n in range(3)]
        for in_transaction in (False, True):
            # their own transaction, then a savepoint of the caller's
            tx = conn.transaction()
            if in_transaction:
                await tx.start()
                statements(exporter)  # the test's own BEGIN
            assert await tapg.copy_authors(conn, [query.CopyAuthorsParams("C", Mood.OK, None)]) == 1
            one_span(exporter, "CopyAuthors", ":copyfrom")
            await tapg.add_books(conn, books)
            one_span(exporter, "AddBooks", ":batchexec")
            made = await tapg.add_book_returning(
                conn, [query.AddBookReturningParams(author.id, f"r{n}") for n in range(3)]
            )
            one_span(exporter, "AddBookReturning", ":batchone")
            titles = [query.FindBookIDsParams(t) for t in ("r0", "nope")]
            assert await tapg.find_book_ids(conn, titles) == [made[0].id, None]
            one_span(exporter, "FindBookIDs", ":batchone")
            found = await tapg.books_of_author(conn, [query.BooksOfAuthorParams(author.id)])
            assert [b.title for b in found[0]] == ["b0", "b1", "b2", "r0", "r1", "r2"]
            one_span(exporter, "BooksOfAuthor", ":batchmany")
            result = await tapg.delete_book(conn, id=made[0].id)
            assert result.rowcount == 1
            one_span(exporter, "DeleteBook", ":execresult")
            if in_transaction:
                await tx.rollback()
                statements(exporter)  # the test's own ROLLBACK
            else:
                await conn.execute("DELETE FROM books WHERE author_id = $1", author.id)
                statements(exporter)

    run(target_url, session)


def test_stream_is_one_span(target_url: str, exporter: InMemorySpanExporter) -> None:
    """An ``iter_*`` call is its DECLARE's span alone, however many fetches it takes
    (asyncpg's query logger sees them: ``batch_size`` rows each, then the CLOSE);
    control: asyncpg's own cursor, fetched the same way, is a span per fetch."""

    async def session(conn: Any) -> None:
        sent: list[str] = []
        async with conn.transaction():
            records = [query.CopyAuthorsParams(f"s{n}", Mood.OK, None) for n in range(5)]
            await tapg.copy_authors(conn, records)
            first = await conn.fetchval("SELECT min(id) FROM authors WHERE name = 's0'")
            statements(exporter)
            conn.add_query_logger(lambda logged: sent.append(logged.query))
            for _ in range(2):  # the closed cursor's name is taken again
                stream = tapg.iter_list_authors(conn, after_id=first - 1, page_size=5, batch_size=2)
                assert [a.name async for a in stream] == [f"s{n}" for n in range(5)]
                got = statements(exporter)
                assert len(got) == 1, got
                cursor = '"list_authors_ed620109_1"'
                assert got[0].startswith(f"DECLARE {cursor} NO SCROLL CURSOR FOR ")
                assert named("ListAuthors", ":many") in got[0]
                await asyncio.sleep(0)  # asyncpg calls its loggers with call_soon
                fetches = [s for s in sent if s.startswith("FETCH")]
                assert fetches == [f"FETCH FORWARD 2 FROM {cursor}"] * 3  # 2 + 2 + 1 rows
                assert sent[-1] == f"CLOSE {cursor}"
                sent.clear()
            assert await conn.fetchval("SELECT count(*) FROM pg_cursors WHERE name <> ''") == 0
            statements(exporter)

            old_shape = await conn.cursor(query.LIST_AUTHORS, first - 1, 5)
            while len(await old_shape.fetch(2)) == 2:
                pass
            assert len(statements(exporter)) == 3
            raise_to_roll_back()

    with pytest.raises(RolledBackError):
        run(target_url, session)


def test_control_the_shapes_before_give_more_spans(
    target_url: str, exporter: InMemorySpanExporter
) -> None:
    """Rows through asyncpg's cursor iterator give a span per row, and a batch in
    ``conn.transaction()`` its BEGIN and COMMIT: the span counts above can see both."""

    async def session(conn: Any) -> None:
        async with conn.transaction():
            records = [query.CopyAuthorsParams(f"c{n}", Mood.OK, None) for n in range(3)]
            await tapg.copy_authors(conn, records)
            statements(exporter)
            rows = [r async for r in conn.cursor(query.LIST_AUTHORS, 0, 3, prefetch=10)]
            assert len(rows) == 3
            assert len(statements(exporter)) == 4  # one per __anext__, the last one empty
            raise_to_roll_back()

    with pytest.raises(RolledBackError):
        run(target_url, session)

    async def batch(conn: Any) -> None:
        author = await conn.fetchval("INSERT INTO authors (name) VALUES ('x') RETURNING id")
        statements(exporter)
        async with conn.transaction():
            await conn.executemany(query.ADD_BOOKS, [(author, "t", None)])
        assert [s.split("\n")[0] for s in statements(exporter)] == [
            "BEGIN;",
            "-- name: AddBooks :batchexec",
            "COMMIT;",
        ]
        await conn.execute("DELETE FROM books WHERE author_id = $1", author)
        await conn.execute("DELETE FROM authors WHERE id = $1", author)

    run(target_url, batch)


class RolledBackError(Exception):
    """Leaves a test's transaction block, rolling it back."""


def raise_to_roll_back() -> None:
    raise RolledBackError
