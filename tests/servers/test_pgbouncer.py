"""Generated functions through a real pgbouncer (Debian's) in transaction mode.

pgbouncer hands each transaction whatever server connection is free, and it reuses
them last-in first-out, so the interleavings below are deterministic: client A's
statements run on server connection S1; a client B that runs next gets S1 as well; while
B holds S1 in a transaction, A's next transaction opens S2. psycopg's automatic
prepared statements (named ``_pg3_0``, ``_pg3_1``... per client) then collide on S1 or
are missing on S2. The same sequences with preparation off (``transaction_pooler=True``)
must pass; with it on (psycopg's default) they must fail: the negative control.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from kitchen import aio, enums, queries
from kitchen.types import StreamEndedError
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from plue_db import pooler
from plue_db.pool import Timeouts, open_async_pool, open_pool
from plue_db.servers import pgbouncer
from tests.fixtures.fix_db import Conn, fresh_database
from tests.paths import GOLDEN

KITCHEN_SCHEMA = GOLDEN / "kitchen_sink" / "schema.sql"
PREPARED: dict[str, Any] = {"prepare_threshold": 5}  # psycopg's default, spelled out
UNPREPARED: dict[str, Any] = {"prepare_threshold": None}
THREADS = 4
ROUNDS = 15


@pytest.fixture(scope="module")
def kitchen_db(server_url: str) -> Iterator[str]:
    """The kitchen-sink schema (every command kind), in a database whose server-side
    defaults are the pool's timeouts (pgbouncer refuses the startup options a direct
    pool sets them with) and TimeZone Asia/Tokyo (so a pinned UTC is visible)."""
    with fresh_database(server_url, KITCHEN_SCHEMA) as url:
        name = sql.Identifier(str(conninfo_to_dict(url)["dbname"]))
        settings: dict[str, object] = {**Timeouts().by_setting(), "TimeZone": "Asia/Tokyo"}
        with psycopg.connect(server_url, autocommit=True) as admin:
            for setting, value in settings.items():
                admin.execute(
                    sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                        name, sql.Identifier(setting), sql.Literal(value)
                    )
                )
        yield url


@pytest.fixture
def bouncer(server_url: str) -> Iterator[pgbouncer.Pgbouncer]:
    """A fresh pgbouncer (no prepared statements left on its server connections by
    another test), two server connections per database."""
    with pgbouncer.running(server_url, pool_mode="transaction", pool_size=2) as running:
        yield running


def test_it_is_the_pgbouncer_the_docs_describe(bouncer: pgbouncer.Pgbouncer) -> None:
    assert bouncer.version().startswith("PgBouncer 1.")
    assert int(bouncer.version().split()[1].split(".")[1]) < 21  # no max_prepared_statements


def _owner(url: str) -> int:
    with psycopg.connect(url) as conn:
        return queries.create_owner(conn, class_="cat").id


@pytest.fixture
def through_bouncer(kitchen_db: str, bouncer: pgbouncer.Pgbouncer) -> tuple[str, int]:
    """The kitchen database's URL through a fresh pgbouncer, and an owner row to read."""
    url = bouncer.url(kitchen_db)
    return url, _owner(url)


def prepared_fails_with(error: type[Exception]) -> pytest.MarkDecorator:
    """Each case twice: with psycopg's prepared statements, failing with ``error``, and
    without them, working."""
    return pytest.mark.parametrize(
        ("settings", "failure"),
        [(PREPARED, error), (UNPREPARED, None)],
        ids=["prepared-fails", "unprepared-works"],
    )


def _calls(conn: Conn, owner: int, times: int) -> None:
    """``times`` transactions of one generated :one call, committed one by one."""
    for _ in range(times):
        owner_row = queries.get_owner(conn, id=owner)
        assert owner_row is not None and owner_row.class_ == "cat"
        conn.commit()


@prepared_fails_with(errors.DuplicatePreparedStatement)
def test_two_clients_on_one_server_connection(
    through_bouncer: tuple[str, int], settings: dict[str, Any], failure: type[Exception] | None
) -> None:
    """A prepares ``_pg3_0`` on S1; B, on S1 after it, prepares its own ``_pg3_0``."""
    url, owner = through_bouncer
    with psycopg.connect(url, **settings) as a, psycopg.connect(url, **settings) as b:
        _calls(a, owner, 6)
        if failure is None:
            _calls(b, owner, 6)
            _calls(a, owner, 2)
        else:
            with pytest.raises(failure, match='prepared statement "_pg3_0" already exists'):
                _calls(b, owner, 6)


@prepared_fails_with(errors.InvalidSqlStatementName)
def test_a_client_moved_to_another_server_connection(
    through_bouncer: tuple[str, int], settings: dict[str, Any], failure: type[Exception] | None
) -> None:
    """A prepares on S1; B holds S1 in a transaction; A's next call runs on S2."""
    url, owner = through_bouncer
    with psycopg.connect(url, **settings) as a, psycopg.connect(url) as b:
        _calls(a, owner, 6)
        b.execute("SELECT 1")  # B's transaction stays open, holding S1
        if failure is None:
            _calls(a, owner, 2)
        else:
            with pytest.raises(failure, match='prepared statement "_pg3_0" does not exist'):
                _calls(a, owner, 2)
        b.rollback()


def _every_command_kind(conn: Conn, worker: int, round_: int) -> None:
    """One transaction using each kind of generated function, checked value by value."""
    owner = queries.create_owner(conn, class_=f"w{worker}", from_=f"r{round_}")  # :one
    assert queries.get_owner(conn, id=owner.id) == owner
    added = queries.copy_pets(  # :copyfrom
        conn, [queries.CopyPetsParams(owner.id, f"c{i}", enums.Mood.HAPPY) for i in range(3)]
    )
    assert added == 3
    queries.add_pets(
        conn, [queries.AddPetsParams(owner.id, f"b{i}") for i in range(3)]
    )  # :batchexec
    pets = queries.pets_of_owners_batch(conn, [queries.PetsOfOwnersBatchParams(owner.id)])
    assert [p.name for p in pets[0]] == ["c0", "c1", "c2", "b0", "b1", "b2"]  # :batchmany
    ids = [p.id for p in pets[0]]
    got = queries.get_pets_batch(conn, [queries.GetPetsBatchParams(i) for i in ids[:2]])
    assert [p.name for p in got if p is not None] == ["c0", "c1"]  # :batchone
    queries.rename_pets(conn, [queries.RenamePetsParams("renamed", ids[0])])  # :batchexec
    assert queries.rename_pet(conn, new_name="again", id=ids[1]) == 1  # :execrows
    queries.delete_pet(conn, id=ids[2])  # :exec
    listed = queries.pets_with_owners(conn)  # :many
    mine = sorted(r.pets.name for r in listed if r.owners.id == owner.id and r.pets)
    assert mine == ["again", "b0", "b1", "b2", "renamed"]
    streamed = [  # iter_*: a server-side cursor in this transaction
        r.pets.name
        for r in queries.iter_pets_with_owners(conn, batch_size=2)
        if r.owners.id == owner.id and r.pets
    ]
    assert sorted(streamed) == mine
    result = queries.touch_pets(conn, feeling=enums.Mood.OK)  # :execresult
    assert result.rowcount >= 5 and result.status.startswith("UPDATE ")
    assert queries.count_kinds(conn) == 0


def _run_workers(
    pool: ConnectionPool[Any], body: Callable[[Conn, int, int], None]
) -> list[BaseException]:
    """THREADS threads, started together, each running ROUNDS transactions of ``body``."""
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        start.wait()
        try:
            for round_ in range(ROUNDS):
                with pool.connection() as conn:
                    body(conn, worker, round_)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_every_command_kind_through_transaction_mode(
    kitchen_db: str, bouncer: pgbouncer.Pgbouncer
) -> None:
    """Four threads, four client connections, two server connections: every kind works
    with ``transaction_pooler=True``, and every row the threads wrote is there."""
    with open_pool(bouncer.url(kitchen_db), max_size=THREADS, transaction_pooler=True) as pool:
        assert _run_workers(pool, _every_command_kind) == []
        with pool.connection() as conn:
            owners = conn.execute("SELECT count(*) FROM owners WHERE class LIKE 'w%'").fetchone()
            pets = conn.execute(
                "SELECT count(*) FROM pets JOIN owners o ON o.id = owner_id WHERE o.class LIKE 'w%'"
            ).fetchone()
    assert owners == (THREADS * ROUNDS,)
    assert pets == (THREADS * ROUNDS * 5,)


def test_every_command_kind_fails_with_preparation_on(
    kitchen_db: str, bouncer: pgbouncer.Pgbouncer
) -> None:
    """Negative control: the same workload on a pool that prepares (psycopg's default)."""
    with ConnectionPool(
        bouncer.url(kitchen_db), min_size=THREADS, max_size=THREADS, open=True
    ) as pool:
        failures = _run_workers(pool, _every_command_kind)
    assert failures, "preparation on must break through transaction pooling"
    assert all(
        isinstance(f, errors.DuplicatePreparedStatement | errors.InvalidSqlStatementName)
        for f in failures
    ), failures


def test_autocommit_stream_needs_a_transaction_through_the_pooler(
    kitchen_db: str, bouncer: pgbouncer.Pgbouncer
) -> None:
    """In autocommit an ``iter_*`` declares its cursor WITH HOLD in one transaction and
    fetches in later ones, which the pooler may run on another server connection: here,
    while B holds S1, the next fetch lands on S2, finds no cursor, and the stream says
    so. In a transaction (the test above) streams work."""
    url = bouncer.url(kitchen_db)
    owner = _owner(url)
    with psycopg.connect(url, autocommit=True, **UNPREPARED) as a:
        queries.add_pets(a, [queries.AddPetsParams(owner, f"s{i}") for i in range(5)])
        stream = queries.iter_pets_with_owners(a, batch_size=2)
        assert next(stream).owners.id > 0  # declared and first batch fetched on S1
        with psycopg.connect(url) as b:
            b.execute("SELECT 1")  # B holds S1
            with pytest.raises(StreamEndedError, match="inside the transaction that opened it"):
                list(stream)
            b.rollback()


def test_timezone_is_pinned_per_client(kitchen_db: str, bouncer: pgbouncer.Pgbouncer) -> None:
    """The pool sets TimeZone=UTC with SET; pgbouncer restores it on whichever server
    connection runs the client's next transaction, and restores the database's own
    (Asia/Tokyo) for a client that never set it, while both share the connections."""
    url = bouncer.url(kitchen_db)
    naive = datetime.datetime(2026, 11, 22, 12, 0)
    with (
        open_pool(url, max_size=1, transaction_pooler=True) as pool,
        psycopg.connect(url, **UNPREPARED) as plain,
    ):
        for _ in range(5):
            with pool.connection() as conn:
                pinned = conn.execute("SELECT %s::timestamptz", (naive,)).fetchone()
            other = plain.execute("SELECT %s::timestamptz", (naive,)).fetchone()
            plain.commit()
            assert pinned == (naive.replace(tzinfo=datetime.UTC),)
            assert other is not None
            assert other[0] == naive.replace(tzinfo=datetime.UTC) - datetime.timedelta(hours=9)


def test_pool_refuses_a_server_without_its_timeouts(
    server_url: str, bouncer: pgbouncer.Pgbouncer
) -> None:
    """Behind a pooler the pool cannot set its timeouts; a server that doesn't either
    (the default: none) is named at open, and the pool is closed."""
    with fresh_database(server_url) as plain:
        with pytest.raises(pooler.PoolerSettingsError) as caught:
            open_pool(bouncer.url(plain), transaction_pooler=True)
        message = str(caught.value)
        assert "statement_timeout is 0 ms on the server, the pool asks for 30000 ms" in message
        assert "lock_timeout is 0 ms on the server, the pool asks for 5000 ms" in message
        assert "ALTER ROLE" in message
        quiet = Timeouts(statement_ms=0, lock_ms=0, idle_in_transaction_ms=0)
        with (
            open_pool(bouncer.url(plain), transaction_pooler=True, timeouts=quiet) as pool,
            pool.connection() as conn,
        ):
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_async_twins_through_transaction_mode(
    kitchen_db: str, bouncer: pgbouncer.Pgbouncer
) -> None:
    async def scenario() -> list[int]:
        pool = await open_async_pool(
            bouncer.url(kitchen_db), max_size=THREADS, transaction_pooler=True
        )
        async with pool:

            async def task(n: int) -> int:
                total = 0
                for _ in range(8):
                    async with pool.connection() as conn:
                        owner = await aio.queries.create_owner(conn, class_=f"a{n}")
                        got = await aio.queries.get_owner(conn, id=owner.id)
                        assert got == owner
                        await aio.queries.add_pets(conn, [queries.AddPetsParams(owner.id, "x")] * 2)
                        streamed = aio.queries.iter_pets_with_owners(conn)
                        total += len([r async for r in streamed if r.owners.id == owner.id])
                return total

            return await asyncio.gather(*(task(n) for n in range(THREADS)))

    assert asyncio.run(scenario()) == [16] * THREADS
