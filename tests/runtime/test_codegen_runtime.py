"""The generated code runs: the kitchen-sink fixture's package against a real PostgreSQL.

Every type family round-trips, :copyfrom and :batch* write exactly what they say,
streaming yields every row, and the nullability corrections hold at run time.
"""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal

import psycopg
import pytest
import tuned
import tuned_types
from kitchen import aio, enums, models, queries

from tests.fixtures.fix_db import Conn, fresh_database
from tests.fixtures.fix_golden import kind_values
from tests.paths import GOLDEN

OPTIONS = GOLDEN / "options"
UTC = datetime.UTC


def test_every_type_round_trips(kitchen_conn: Conn) -> None:
    values = kind_values()
    written = queries.insert_kind(kitchen_conn, **values)
    assert written is not None
    read = queries.get_kind(kitchen_conn, id=written.id)
    assert read == written
    for name, value in values.items():
        assert getattr(read, name) == value, name
    assert isinstance(read.feeling, enums.Mood)
    assert all(isinstance(f, enums.Mood) for f in read.feelings)
    assert read.spot is None


def test_enum_with_non_identifier_value(kitchen_conn: Conn) -> None:
    member = enums.Mood("très bien")
    row = queries.insert_kind(kitchen_conn, **kind_values(feeling=member, feelings=[member]))
    assert row is not None
    assert row.feeling is member
    assert row.feelings == [member]


def test_aggregates_are_null_on_no_rows(kitchen_conn: Conn) -> None:
    stats = queries.kind_stats(kitchen_conn, feeling=enums.Mood.SAD)
    assert stats is not None
    assert stats.n == 0
    assert (stats.max_label, stats.total_big, stats.ids, stats.first_ts) == (None,) * 4


def test_aggregate_types_follow_postgresql(kitchen_conn: Conn) -> None:
    common = {"precise": 1.5, "feeling": enums.Mood.OK}
    a = queries.insert_kind(kitchen_conn, **kind_values(big=2, regular=3, **common))
    b = queries.insert_kind(kitchen_conn, **kind_values(big=5, regular=4, **common))
    assert a is not None and b is not None
    stats = queries.kind_stats(kitchen_conn, feeling=enums.Mood.OK)
    assert stats is not None
    assert stats.total_big == Decimal(7) and isinstance(stats.total_big, Decimal)
    assert stats.total_regular == 7 and isinstance(stats.total_regular, int)
    assert stats.ids == [a.id, b.id]
    assert stats.n == 2
    assert stats.mean_precise == 1.5


def test_nullability_corrections_hold(kitchen_conn: Conn) -> None:
    owner = queries.create_owner(kitchen_conn, class_="wizard", from_=None)
    assert owner is not None and owner.class_ == "wizard" and owner.from_ is None
    kind = queries.insert_kind(kitchen_conn, **kind_values(note="n"))
    assert kind is not None
    # pets.owner_id joins kinds.id in NullabilityCases; make the ids meet.
    with psycopg.RawCursor(kitchen_conn) as cur:
        cur.execute("INSERT INTO owners (class) SELECT 'x' FROM generate_series(1, $1)", (kind.id,))
    pets = queries.copy_pets(
        kitchen_conn, [queries.CopyPetsParams(owner_id=kind.id, name="rex", feeling=enums.Mood.OK)]
    )
    assert pets == 1
    pet_id = queries.union_with_null(kitchen_conn)[0]
    assert pet_id is not None
    row = queries.nullability_cases(kitchen_conn, id=pet_id)
    assert row is not None
    assert row.no_else is None and row.with_else == "small"
    assert row.json_path is None and row.json_text is None
    assert row.doubled == pet_id * 2
    assert row.note_or_empty == "n" and row.forced == "n"
    assert row.any_owner is True and row.total == 1
    assert row.maybe == "rex"
    assert queries.union_with_null(kitchen_conn)[-1] is None


def test_embed_on_nullable_side_is_none(kitchen_conn: Conn) -> None:
    lonely = queries.create_owner(kitchen_conn, class_="lonely", from_="nowhere")
    assert lonely is not None
    rows = [r for r in queries.pets_with_owners(kitchen_conn) if r.owners.id == lonely.id]
    assert len(rows) == 1
    assert rows[0].owners == lonely
    assert rows[0].pets is None


def test_odd_text_stays_literal(kitchen_conn: Conn) -> None:
    assert queries.odd_text(kitchen_conn, suffix="!") == '100% \\n "quoted" \'single\' $1 """!'


def test_copyfrom_batch_and_streaming(kitchen_conn: Conn) -> None:
    owner = queries.create_owner(kitchen_conn, class_="breeder", from_=None)
    assert owner is not None
    rows = [queries.CopyPetsParams(owner.id, f"pet {i}", enums.Mood.SAD) for i in range(2500)]
    assert queries.copy_pets(kitchen_conn, rows) == 2500
    queries.add_pets(
        kitchen_conn, [queries.AddPetsParams(owner.id, f"batch {i}") for i in range(10)]
    )
    mine = queries.pets_of_owners_batch(kitchen_conn, [queries.PetsOfOwnersBatchParams(owner.id)])
    assert len(mine) == 1 and len(mine[0]) == 2510
    assert [p.name for p in mine[0][-10:]] == [f"batch {i}" for i in range(10)]
    first, last = mine[0][0], mine[0][-1]
    got = queries.get_pets_batch(
        kitchen_conn, [queries.GetPetsBatchParams(first.id), queries.GetPetsBatchParams(-1),
                queries.GetPetsBatchParams(last.id)]
    )  # fmt: skip
    assert got == [first, None, last]
    streamed = [r for r in queries.iter_pets_with_owners(kitchen_conn, batch_size=100)
                if r.owners.id == owner.id]  # fmt: skip
    assert len(streamed) == 2510
    assert queries.rename_pet(kitchen_conn, new_name="renamed", id=first.id) == 1
    assert queries.rename_pet(kitchen_conn, new_name="renamed", id=-1) == 0
    result = queries.touch_pets(kitchen_conn, feeling=enums.Mood.HAPPY)
    assert result.rowcount >= 2510 and result.status.startswith("UPDATE")
    queries.delete_pet(kitchen_conn, id=first.id)
    assert queries.get_pets_batch(kitchen_conn, [queries.GetPetsBatchParams(first.id)]) == [None]


def test_copyfrom_is_all_or_nothing(kitchen_conn: Conn) -> None:
    before = len(queries.union_with_null(kitchen_conn))
    rows = [queries.CopyPetsParams(owner_id=-42, name="orphan", feeling=enums.Mood.OK)]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        queries.copy_pets(kitchen_conn, rows)
    assert len(queries.union_with_null(kitchen_conn)) == before


def test_json_params_and_nulls(kitchen_conn: Conn) -> None:
    kind = queries.insert_kind(kitchen_conn, **kind_values())
    assert kind is not None
    row = queries.set_doc(
        kitchen_conn, docb=[1, "two", {"3": None}], id=kind.id, doc="just a string"
    )
    assert row is not None
    assert (row.docb, row.doc) == ([1, "two", {"3": None}], "just a string")
    # narg passes SQL NULL (not JSON null), which the NOT NULL column refuses.
    with pytest.raises(psycopg.errors.NotNullViolation):
        queries.set_doc(kitchen_conn, docb=None, id=kind.id, doc=None)


def test_async_twins(kitchen_url: str) -> None:
    async def scenario() -> None:
        async with await psycopg.AsyncConnection.connect(kitchen_url) as conn:
            owner = await aio.queries.create_owner(conn, class_="async", from_=None)
            assert owner is not None
            await aio.queries.add_pets(
                conn, [queries.AddPetsParams(owner.id, f"a{i}") for i in range(5)]
            )
            rows = [r async for r in aio.queries.iter_pets_with_owners(conn, batch_size=2)
                    if r.owners.id == owner.id]  # fmt: skip
            assert [r.pets.name for r in rows if r.pets] == [f"a{i}" for i in range(5)]
            assert await aio.queries.count_kinds(conn) == queries.count_kinds(sync_conn)
            await conn.rollback()

    with psycopg.connect(kitchen_url) as sync_conn:
        asyncio.run(scenario())


def test_reused_cursors_are_per_thread_and_per_connection(kitchen_url: str) -> None:
    """Threads sharing one connection each get their own row back, every time; a thread
    moving between connections reads from the one it passes."""
    import threading

    with psycopg.connect(kitchen_url, autocommit=True) as shared:
        owners = [queries.create_owner(shared, class_=f"t{i}", from_=None) for i in range(8)]
        ids = [o.id for o in owners if o is not None]
        barrier = threading.Barrier(len(ids))
        wrong: list[tuple[int, int | None]] = []

        def worker(owner_id: int) -> None:
            barrier.wait(timeout=10)
            for _ in range(200):
                got = queries.get_owner(shared, id=owner_id)
                if got is None or got.id != owner_id:
                    wrong.append((owner_id, None if got is None else got.id))

        threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert wrong == []
        with psycopg.connect(kitchen_url) as other:
            mine = queries.create_owner(other, class_="uncommitted", from_=None)
            assert mine is not None
            assert queries.get_owner(other, id=mine.id) == mine
            assert queries.get_owner(shared, id=mine.id) is None  # not visible there
            other.rollback()
        for owner_id in ids:
            queries.delete_owner(shared, id=owner_id)


def test_options_overrides_rename_and_no_async(server_url: str) -> None:
    assert not (OPTIONS / "expected" / "tuned" / "aio").exists()
    with fresh_database(server_url, OPTIONS / "schema.sql") as url, psycopg.connect(url) as conn:
        profile: tuned_types.Profile = {"name": "Ada", "languages": ["zig", "python"]}
        money = tuned_types.Money(Decimal("10.50"))
        person = tuned.queries.create_person(conn, profile=profile, balance=money)
        assert isinstance(person, tuned.models.Person)
        assert person.profile == profile and person.balance == money
        assert person.settings is None
        assert tuned.queries.list_people(conn) == [person]


def test_batchexec_is_atomic(kitchen_conn: Conn) -> None:
    owner = queries.create_owner(kitchen_conn, class_="batch", from_=None)
    assert owner is not None
    queries.add_pets(kitchen_conn, [queries.AddPetsParams(owner.id, f"p{i}") for i in range(3)])
    pets = queries.pets_of_owners_batch(kitchen_conn, [queries.PetsOfOwnersBatchParams(owner.id)])[
        0
    ]
    renames = [queries.RenamePetsParams(new_name=f"r{p.id}", id=p.id) for p in pets]
    queries.rename_pets(kitchen_conn, renames)
    after = queries.pets_of_owners_batch(kitchen_conn, [queries.PetsOfOwnersBatchParams(owner.id)])[
        0
    ]
    assert [p.name for p in after] == [f"r{p.id}" for p in pets]
    with pytest.raises(psycopg.errors.NotNullViolation):
        queries.rename_pets(
            kitchen_conn,
            [
                queries.RenamePetsParams("first", pets[0].id),
                queries.RenamePetsParams(None, pets[1].id),  # type: ignore[arg-type]
            ],
        )
    final = queries.pets_of_owners_batch(kitchen_conn, [queries.PetsOfOwnersBatchParams(owner.id)])[
        0
    ]
    assert [p.name for p in final] == [f"r{p.id}" for p in pets]  # the first rename undone too


def test_enum_value_unknown_to_the_code_fails_clearly(kitchen_url: str) -> None:
    with psycopg.connect(kitchen_url, autocommit=True) as conn:
        conn.execute("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'grumpy'")
        owner = queries.create_owner(conn, class_="moody", from_=None)
        assert owner is not None
        conn.execute(
            "INSERT INTO pets (owner_id, name, feeling) VALUES (%s, 'x', 'grumpy')", (owner.id,)
        )
        try:
            with pytest.raises(
                ValueError, match="'grumpy' is not a value of the PostgreSQL enum mood"
            ):
                queries.pets_of_owners_batch(conn, [queries.PetsOfOwnersBatchParams(owner.id)])
        finally:
            conn.execute("DELETE FROM pets WHERE owner_id = %s", (owner.id,))


def test_composite_type_round_trips(kitchen_conn: Conn) -> None:
    kind = queries.insert_kind(kitchen_conn, **kind_values())
    assert kind is not None
    spot = models.Point2(x=1.5, y=-2.0)
    assert queries.set_spot(kitchen_conn, spot=spot, id=kind.id) == queries.SetSpotRow(spot)
    read = queries.get_kind(kitchen_conn, id=kind.id)
    assert read is not None and read.spot == spot and isinstance(read.spot, models.Point2)
    # One nullable column: NULL comes in a row, so None means only "no such kind".
    assert queries.set_spot(kitchen_conn, spot=None, id=kind.id) == queries.SetSpotRow(None)
    assert queries.set_spot(kitchen_conn, spot=spot, id=-1) is None
