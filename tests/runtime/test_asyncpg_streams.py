"""The asyncpg target's ``iter_*`` streams on a real server: a DECLAREd cursor in the
caller's transaction, named so that any number of streams of one function can be open
at once (a stream left early keeps its cursor until the transaction ends), and never
disturbing a later transaction of the connection.

Negative controls: DECLARE under a name already open fails (what the naming avoids),
and a FETCH of a cursor whose transaction has ended aborts the transaction it is sent
in (what the stream's check avoids).
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
from apg_target.types import StreamEndedError

from bench.latency import asyncpg_params
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

ROWS = 5


@pytest.fixture(scope="module")
def target_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, Path(GOLDEN / "asyncpg_target" / "schema.sql")) as url:

        async def seed() -> None:
            conn = await asyncpg.connect(**asyncpg_params(url))
            try:
                await tapg.init_connection(conn)
                rows = [query.CopyAuthorsParams(f"a{n}", Mood.OK, None) for n in range(ROWS)]
                await tapg.copy_authors(conn, rows)
            finally:
                await conn.close()

        asyncio.run(seed())
        yield url


def run(url: str, session: Callable[[Any], Awaitable[None]]) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            await tapg.init_connection(conn)
            await session(conn)
        finally:
            await conn.close()

    asyncio.run(go())


def authors(conn: Any, batch_size: int = 2) -> Any:
    return tapg.iter_list_authors(conn, after_id=0, page_size=ROWS, batch_size=batch_size)


async def open_cursors(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT name FROM pg_cursors WHERE name <> '' ORDER BY name")
    return [r[0] for r in rows]


def test_streams_of_one_function_open_at_once_and_after_one_left_early(target_url: str) -> None:
    async def session(conn: Any) -> None:
        async with conn.transaction():
            first, second = authors(conn), authors(conn)
            pairs = [((await anext(first)).name, (await anext(second)).name)]
            assert await open_cursors(conn) == [
                "list_authors_ed620109_1",
                "list_authors_ed620109_2",
            ]
            pairs += [(a.name, (await anext(second)).name) async for a in first]
            assert pairs == [(f"a{n}", f"a{n}") for n in range(ROWS)]
            assert await open_cursors(conn) == []
            left = authors(conn)
            assert (await anext(left)).name == "a0"
            del left  # left early: its cursor stays open until the transaction ends
            await asyncio.sleep(0)
            assert await open_cursors(conn) == ["list_authors_ed620109_1"]
            assert [a.name async for a in authors(conn)] == [f"a{n}" for n in range(ROWS)]
            assert await open_cursors(conn) == ["list_authors_ed620109_1"]
        assert await open_cursors(conn) == []

    run(target_url, session)


def test_control_declaring_an_open_name_fails(target_url: str) -> None:
    async def session(conn: Any) -> None:
        async with conn.transaction():
            left = authors(conn)
            await anext(left)
            declare = f'DECLARE "list_authors_ed620109_1" CURSOR FOR {query.LIST_AUTHORS}'
            with pytest.raises(asyncpg.DuplicateCursorError):
                await conn.execute(declare, 0, ROWS)

    run(target_url, session)


def test_a_stream_read_after_its_transaction_sends_nothing(target_url: str) -> None:
    """Read in a later transaction, or outside one, the stream raises StreamEndedError
    and the transaction goes on; the rows it already had are served first."""

    async def session(conn: Any) -> None:
        await conn.execute("CREATE TEMP TABLE later_work (n int)")
        for later_transaction in (True, False):
            tx = conn.transaction()
            await tx.start()
            stream = authors(conn)
            assert [(await anext(stream)).name for _ in range(2)] == ["a0", "a1"]
            await tx.commit()
            if later_transaction:
                async with conn.transaction():
                    await conn.execute("INSERT INTO later_work VALUES (1)")
                    with pytest.raises(StreamEndedError, match="iter_list_authors"):
                        await anext(stream)
                    await conn.execute("INSERT INTO later_work VALUES (2)")
            else:
                with pytest.raises(StreamEndedError, match="iter_list_authors"):
                    await anext(stream)
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
        assert await conn.fetchval("SELECT array_agg(n ORDER BY n) FROM later_work") == [1, 2]

    run(target_url, session)


def test_control_a_fetch_of_an_ended_cursor_aborts_the_later_transaction(
    target_url: str,
) -> None:
    async def session(conn: Any) -> None:
        async with conn.transaction():
            stream = authors(conn)
            await anext(stream)
        with pytest.raises(asyncpg.InvalidCursorNameError):
            async with conn.transaction():
                await conn.execute("SELECT 1")
                await conn.fetch('FETCH FORWARD 2 FROM "list_authors_ed620109_1"')

    run(target_url, session)
