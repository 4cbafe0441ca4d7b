"""``iter_*`` streams exist only where PostgreSQL can DECLARE a cursor (the kitchen_sink
golden: codegen/sqlc_gen_psycopg/cursors.py), and a stream over a locking query refuses
an autocommit connection with a message naming it, before sending anything; a stream
whose query fails raises PostgreSQL's error (the stream_errors golden)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from types import ModuleType

import asyncpg
import psycopg
import pytest
from kitchen import aio, queries

from bench.latency import asyncpg_params
from tests.asyncpg_flows import UndoError
from tests.codegen.test_golden_types import package
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

REFUSAL = r"^iter_lock_pets_of_owner: its query locks rows \(FOR UPDATE/SHARE\)"


@pytest.fixture(scope="module")
def kitchen_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, GOLDEN / "kitchen_sink" / "schema.sql") as url:
        with psycopg.connect(url) as conn:
            owner = queries.create_owner(conn, class_="a", from_=None)
            assert owner.id == 1  # the owner_id the tests below use
            for name in ("rex", "tom"):
                conn.execute("INSERT INTO pets (owner_id, name) VALUES (%s, %s)", (owner.id, name))
        yield url


def test_streams_only_where_postgresql_declares_a_cursor() -> None:
    for module in (queries, aio.queries):
        assert hasattr(module, "iter_lock_pets_of_owner")
        assert hasattr(module, "iter_list_kinds_by_ids")  # a plain SELECT
        assert not hasattr(module, "iter_shout_pet_names")  # UPDATE ... RETURNING
        assert not hasattr(module, "iter_move_pets")  # a data-modifying WITH


def test_postgresql_refuses_what_is_no_longer_streamed(kitchen_url: str) -> None:
    """The control: DECLARE over those statements is PostgreSQL's FeatureNotSupported or
    syntax error, which their iter_ twins always raised."""
    with psycopg.connect(kitchen_url) as conn:
        cases: list[tuple[str, tuple[int, ...], type[psycopg.Error]]] = [
            (queries.MOVE_PETS, (1, 1), psycopg.errors.FeatureNotSupported),
            (queries.SHOUT_PET_NAMES, (1,), psycopg.errors.SyntaxError),
        ]
        for sql, params, error in cases:
            with conn.transaction(force_rollback=True), pytest.raises(error):
                psycopg.RawCursor(conn).execute(
                    b"DECLARE c NO SCROLL CURSOR FOR " + sql.encode(), params
                )


def test_a_locking_stream_refuses_autocommit_naming_itself(kitchen_url: str) -> None:
    with psycopg.connect(kitchen_url, autocommit=True) as conn:
        stream = queries.iter_lock_pets_of_owner(conn, owner_id=1)
        with pytest.raises(psycopg.errors.FeatureNotSupported, match=REFUSAL):
            next(stream)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # sent nothing
        # The control: PostgreSQL's own refusal of the same cursor WITH HOLD.
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="WITH HOLD"):
            psycopg.RawCursor(conn).execute(
                b"DECLARE c CURSOR WITH HOLD FOR " + queries.LOCK_PETS_OF_OWNER.encode(), (1,)
            )


def test_a_locking_stream_locks_inside_a_transaction(kitchen_url: str) -> None:
    with psycopg.connect(kitchen_url) as conn, psycopg.connect(kitchen_url) as other:
        names = [row.name for row in queries.iter_lock_pets_of_owner(conn, owner_id=1)]
        assert names == ["rex", "tom"]
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("SELECT 1 FROM pets WHERE owner_id = 1 FOR UPDATE NOWAIT")
        conn.rollback()
        other.rollback()
        assert len(other.execute("SELECT id FROM pets FOR UPDATE NOWAIT").fetchall()) == 2


def test_the_async_twin_refuses_autocommit_too(kitchen_url: str) -> None:
    async def first() -> object:
        async with await psycopg.AsyncConnection.connect(kitchen_url, autocommit=True) as conn:
            return await anext(aio.queries.iter_lock_pets_of_owner(conn, owner_id=1))

    with pytest.raises(psycopg.errors.FeatureNotSupported, match=REFUSAL):
        asyncio.run(first())


def test_unstreamed_many_queries_still_run(kitchen_url: str) -> None:
    with psycopg.connect(kitchen_url) as conn, conn.transaction(force_rollback=True):
        shouted = queries.shout_pet_names(conn, owner_id=1)
        assert sorted(row.name for row in shouted) == ["REX", "TOM"]
        other = queries.create_owner(conn, class_="b", from_=None)
        moved = queries.move_pets(conn, to_owner=other.id, from_owner=1)
        assert moved == sorted(row.id for row in shouted)


@pytest.fixture(scope="module")
def numbers_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, GOLDEN / "stream_errors" / "schema.sql") as url:
        with psycopg.connect(url) as conn:
            conn.execute("INSERT INTO numbers SELECT generate_series(1, 3)")
        yield url


def stream_errors() -> list[ModuleType]:
    """The stream_errors golden's query modules and the runtime's streams, imported late
    (its expected/ directory joins sys.path through test_golden_types.package)."""
    name = package("stream_errors")
    modules = [f"{name}.{m}" for m in ("query", "aio.query", "asyncpg.query")]
    return [importlib.import_module(m) for m in (*modules, "sqlc_gen_psycopg_runtime.streams")]


def test_a_failing_fetch_raises_its_own_error(numbers_url: str) -> None:
    """In an implicit and an explicit transaction, sync and async: the caller gets
    DivisionByZero, and nothing more was sent (the connection is still INERROR)."""
    query, aio_query, _, _ = stream_errors()
    with psycopg.connect(numbers_url) as conn:
        assert [row for row in query.iter_list_div(conn, d=1)] == [1, 2, 3]
        with pytest.raises(psycopg.errors.DivisionByZero):
            list(query.iter_list_div(conn, d=0))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        conn.rollback()
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            list(query.iter_list_div(conn, d=0))

    async def in_async() -> None:
        async with await psycopg.AsyncConnection.connect(numbers_url) as conn:
            with pytest.raises(psycopg.errors.DivisionByZero):
                [row async for row in aio_query.iter_list_div(conn, d=0)]
            await conn.rollback()
            with pytest.raises(psycopg.errors.DivisionByZero):
                async with conn.transaction():
                    [row async for row in aio_query.iter_list_div(conn, d=0)]

    asyncio.run(in_async())


def test_a_failing_stream_on_autocommit_and_asyncpg_raises_its_own_error(numbers_url: str) -> None:
    """WITH HOLD computes the rows at DECLARE, and asyncpg's stream was right already."""
    query, _, apg_query, _ = stream_errors()
    with (
        psycopg.connect(numbers_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.DivisionByZero),
    ):
        list(query.iter_list_div(conn, d=0))

    async def on_asyncpg() -> None:
        conn = await asyncpg.connect(**asyncpg_params(numbers_url))
        try:
            async with conn.transaction():
                with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
                    [row async for row in apg_query.iter_list_div(conn, d=0)]
                raise UndoError
        except UndoError:
            pass
        finally:
            await conn.close()

    asyncio.run(on_asyncpg())


def test_the_old_close_hid_the_error(numbers_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: a close that sends CLOSE in the failed transaction (the old one
    checked nothing for a cursor that had not fetched yet) turns DivisionByZero into
    InFailedSqlTransaction."""
    query, _, _, streams = stream_errors()
    monkeypatch.setattr(streams._Stream, "may_exist", lambda self: True)
    with (
        psycopg.connect(numbers_url) as conn,
        pytest.raises(psycopg.errors.InFailedSqlTransaction) as raised,
    ):
        list(query.iter_list_div(conn, d=0))
    assert isinstance(raised.value.__context__, psycopg.errors.DivisionByZero)
