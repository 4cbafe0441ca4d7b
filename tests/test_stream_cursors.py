"""``iter_*`` streams exist only where PostgreSQL can DECLARE a cursor (the kitchen_sink
golden: codegen/sqlc_gen_psycopg/cursors.py), and a stream over a locking query refuses
an autocommit connection with a message naming it, before sending anything."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from kitchen import aio, queries

from tests.fix_db import fresh_database
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
