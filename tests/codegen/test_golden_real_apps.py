"""The fixtures of issue 18's bugs (SQL of real sqlc projects) run on a real server: each
generated package decodes into the right class, sends what it accepts, and raises what
PostgreSQL raised. Every test keeps the old output's shape as its negative control."""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import asyncpg
import psycopg
import pytest
from psycopg.types.composite import CompositeInfo, register_composite

from bench.latency import asyncpg_params
from tests.codegen.codegen_support import copy_fixture, run_sqlc
from tests.codegen.test_golden_types import package
from tests.fixtures.fix_db import Conn, fresh_database
from tests.paths import GOLDEN


def golden(fixture: str, module: str) -> ModuleType:
    return importlib.import_module(f"{package(fixture)}.{module}")


@asynccontextmanager
async def on_asyncpg_of(url: str, runtime: ModuleType | None) -> AsyncIterator[Any]:
    """An asyncpg connection, set up by a golden package's ``_asyncpg.init_connection``
    (none for ``runtime=None``), closed at the end."""
    conn = await asyncpg.connect(**asyncpg_params(url))
    try:
        if runtime is not None:
            await runtime.init_connection(conn)
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def clashes_conn(server_url: str) -> Iterator[Conn]:
    schema = GOLDEN / "naming_schema_clashes" / "schema.sql"
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        conn.execute("INSERT INTO users VALUES (1, 'ann', 30)")
        conn.execute("INSERT INTO baz.users VALUES (1, 'bob')")
        yield conn


def class_names(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]


def test_same_named_tables_and_types_of_two_schemas_get_a_class_each() -> None:
    path = GOLDEN / "naming_schema_clashes" / "expected" / "naming_schema_clashes"
    names = class_names((path / "models.py").read_text())
    assert len(set(names)) == len(names)
    assert {"User", "BazUser", "PointType", "FooPointType"} <= set(names)
    # control: the old models.py defined each clashing class twice
    old = "class User2:\n    id: int\nclass User2:\n    id: int\n"
    assert len(set(class_names(old))) != len(class_names(old))


def test_an_embed_of_each_schema_decodes_into_its_own_model(clashes_conn: Conn) -> None:
    models = golden("naming_schema_clashes", "models")
    query = golden("naming_schema_clashes", "query")
    expected = [(models.User(1, "ann", 30), models.BazUser(1, "bob"))]
    pairs = query.list_user_pairs(clashes_conn)
    assert [(p.users, p.users_2) for p in pairs] == expected
    assert query.get_baz_user(clashes_conn, id=1) == models.BazUser(1, "bob")
    # control: the old decoder (baz.users' two columns for both slices) read the same
    # row into other values, without an error
    (raw,) = clashes_conn.execute(query.LIST_USER_PAIRS).fetchall()
    old = [(models.BazUser(*raw[0:2]), models.BazUser(*raw[2:4]))]
    assert old != expected


def test_composites_of_two_schemas_round_trip(clashes_conn: Conn) -> None:
    models = golden("naming_schema_clashes", "models")
    query = golden("naming_schema_clashes", "query")
    # control: the old registration fetched "point_type" for both classes, so
    # foo.point_type stayed unregistered and came back as text
    info = CompositeInfo.fetch(clashes_conn, "point_type")
    assert info is not None
    register_composite(info, clashes_conn, models.PointType)
    row = clashes_conn.execute("SELECT '(far,3)'::foo.point_type").fetchone()
    assert row == ("(far,3)",)
    models.register_composites(clashes_conn)
    here, there = models.PointType(1, 2), models.FooPointType("far", 3)
    place = query.add_place(clashes_conn, id=7, here=here, there=there)
    assert place == models.Place(7, here, there)


def test_casts_to_quoted_type_names_resolve_to_their_classes(server_url: str) -> None:
    enums = golden("naming_quoted_types", "enums")
    models = golden("naming_quoted_types", "models")
    query = golden("naming_quoted_types", "query")
    hints = get_type_hints(query.add_tenant_member, vars(query))
    assert hints["dollar_3"] is enums.TenantMemberRole
    assert hints["seats"] == int | None
    assert hints["spot"] == models.PointXY | None
    assert hints["level"] == enums.AuditLevel | None
    schema = GOLDEN / "naming_quoted_types" / "schema.sql"
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        models.register_composites(conn)
        member = query.add_tenant_member(
            conn,
            tenant_id=1,
            user_id=2,
            dollar_3=enums.TenantMemberRole.OWNER,
            seats=3,
            spot=models.PointXY(1, 2),
            level=enums.AuditLevel.HIGH,
        )
        assert member == models.TenantMember(
            1, 2, enums.TenantMemberRole.OWNER, 3, models.PointXY(1, 2), enums.AuditLevel.HIGH
        )
        count = query.count_by_role(conn, role=enums.TenantMemberRole.OWNER)
        assert (count.n, count.role) == (1, enums.TenantMemberRole.OWNER)
        # control: the old annotation (str) let any string through, which PostgreSQL
        # refuses only at run time
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            query.count_by_role(conn, role="Owner")


@pytest.fixture
def shops_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, GOLDEN / "composite_targets" / "schema.sql") as url:
        yield url


def test_composites_work_on_every_target(shops_url: str) -> None:
    models = golden("composite_targets", "models")
    query = golden("composite_targets", "query")
    aio_query = golden("composite_targets", "aio.query")
    apg = golden("composite_targets", "_asyncpg")
    apg_query = golden("composite_targets", "asyncpg.query")
    price, spot = models.MoneyAmount("EUR", 250), models.GeoLatLng(48.5, 2.25)
    with psycopg.connect(shops_url) as conn:
        models.register_composites(conn)
        assert query.add_shop(conn, price=price, spot=spot) == models.Shop(1, price, spot)
        assert query.list_prices(conn) == [price]

    async def on_psycopg_async() -> Any:
        async with await psycopg.AsyncConnection.connect(shops_url) as conn:
            await models.register_composites_async(conn)
            await aio_query.add_shop(conn, price=price, spot=None)
            return await aio_query.list_prices(conn)

    assert asyncio.run(on_psycopg_async()) == [price, price]

    async def on_asyncpg() -> Any:
        async with on_asyncpg_of(shops_url, apg) as conn:
            added = await apg_query.add_shop(conn, price=price, spot=spot)
            assert added == models.Shop(3, price, spot)
            return await apg_query.list_prices(conn)

    assert asyncio.run(on_asyncpg()) == [price, price, price]


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited")
def test_the_sync_registration_fails_on_an_async_connection(shops_url: str) -> None:
    """The control: the only registration there was, on an AsyncConnection, fails as
    the issue reports (and asyncpg without init_connection returns a Record)."""
    models = golden("composite_targets", "models")

    async def register() -> None:
        async with await psycopg.AsyncConnection.connect(shops_url) as conn:
            models.register_composites(conn)

    with pytest.raises(AttributeError, match="'coroutine' object has no attribute") as raised:
        asyncio.run(register())
    del raised
    gc.collect()  # the never-awaited fetch warns here, where the mark filters it

    async def plain_asyncpg() -> object:
        async with on_asyncpg_of(shops_url, None) as conn:
            return await conn.fetchval("SELECT ('EUR', 1)::money_amount")

    assert not isinstance(asyncio.run(plain_asyncpg()), models.MoneyAmount)


PAYLOADS = [{"kind": "push", "refs": ["main"]}, [1, "two"], "text", 3.5, None]


def test_json_arrays_are_sent_on_every_target(server_url: str) -> None:
    """A jsonb[] of dicts, lists, scalars and JSON null, and a json[], sync, async and
    on asyncpg; each comes back as it went in."""
    query = golden("json_arrays", "query")
    aio_query = golden("json_arrays", "aio.query")
    apg = golden("json_arrays", "_asyncpg")
    apg_query = golden("json_arrays", "asyncpg.query")
    schema = GOLDEN / "json_arrays" / "schema.sql"
    with fresh_database(server_url, schema) as url:
        with psycopg.connect(url) as conn:
            ids = query.add_events(conn, args=PAYLOADS)
            query.set_tags(conn, tags=[{"a": 1}, ["b"]], id=ids[0])
            first = query.get_event(conn, id=ids[0])
            assert [query.get_event(conn, id=i).payload for i in ids] == PAYLOADS
            assert first.tags == [{"a": 1}, ["b"]]

        async def on_psycopg_async() -> Any:
            async with await psycopg.AsyncConnection.connect(url) as conn:
                return await aio_query.add_events(conn, args=PAYLOADS)

        async def on_asyncpg() -> Any:
            async with on_asyncpg_of(url, apg) as conn:
                ids = await apg_query.add_events(conn, args=PAYLOADS)
                await apg_query.set_tags(conn, tags=[{"c": 2}], id=ids[0])
                return await apg_query.get_event(conn, id=ids[0])

        assert len(asyncio.run(on_psycopg_async())) == len(PAYLOADS)
        event = asyncio.run(on_asyncpg())
        assert (event.payload, event.tags) == (PAYLOADS[0], [{"c": 2}])
        # controls: the old calls passed the list as it is, which psycopg can't adapt
        # and asyncpg takes the JSON array [1, "two"] in for a sub-array
        with psycopg.connect(url) as conn, pytest.raises(psycopg.ProgrammingError, match="dict"):
            psycopg.RawCursor(conn).execute(query.ADD_EVENTS, (PAYLOADS,))

        async def old_asyncpg() -> None:
            async with on_asyncpg_of(url, apg) as conn:
                await conn.fetch(query.ADD_EVENTS, PAYLOADS)

        with pytest.raises(asyncpg.DataError, match="non-homogeneous array"):
            asyncio.run(old_asyncpg())


GOLDEN_PKG = GOLDEN / "naming_module_clashes" / "expected" / "naming_module_clashes"


def test_a_query_named_after_its_file_leaves_the_module_in_place(server_url: str) -> None:
    name = package("naming_module_clashes")
    pkg = importlib.import_module(name)
    health = golden("naming_module_clashes", "health")
    aio_health = golden("naming_module_clashes", "aio.health")
    apg_health = golden("naming_module_clashes", "asyncpg.health")
    apg = golden("naming_module_clashes", "_asyncpg")
    assert pkg.health is health
    assert golden("naming_module_clashes", "aio").health is aio_health
    assert pkg.models_.count_checks is pkg.count_checks
    schema = GOLDEN / "naming_module_clashes" / "schema.sql"
    with fresh_database(server_url, schema) as url:
        with psycopg.connect(url) as conn:
            health.add_check(conn, id=1, ok=True)
            conn.commit()
            rows = health.health(conn)
        assert [(r.id, r.ok) for r in rows] == [(1, True)]

        async def on_psycopg_async() -> Any:
            async with await psycopg.AsyncConnection.connect(url) as conn:
                return await aio_health.health(conn)

        async def on_asyncpg() -> Any:
            async with on_asyncpg_of(url, apg) as conn:
                return await apg_health.health(conn)

        assert asyncio.run(on_psycopg_async()) == rows
        assert asyncio.run(on_asyncpg()) == rows
    # control: the old __init__ bound the function over the module, and the twin's own
    # import of its sync module (`from pkg import health as q`) then got the function
    assert f"from {name} import health as q" in (GOLDEN_PKG / "aio" / "health.py").read_text()
    script = (
        f"import {name}\nfrom {name}.health import health\n{name}.health = health\n"
        f"from {name} import health as q\nprint(type(q).__name__)\n"
    )
    expected = str(GOLDEN / "naming_module_clashes" / "expected")
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": expected},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "function"


def test_class_names_do_not_depend_on_query_order(tmp_path: Path) -> None:
    """The naming_schema_clashes queries in reverse order give the same models.py, the
    same classes and the same function signatures."""
    work = copy_fixture(GOLDEN / "naming_schema_clashes", tmp_path)
    queries = (work / "query.sql").read_text().strip().split("\n\n")
    (work / "query.sql").write_text("\n\n".join(reversed(queries)) + "\n")
    done = run_sqlc(work)
    assert done.returncode == 0, done.stderr
    out = work / "expected" / "naming_schema_clashes"
    golden_pkg = GOLDEN / "naming_schema_clashes" / "expected" / "naming_schema_clashes"
    assert (out / "models.py").read_text() == (golden_pkg / "models.py").read_text()
    assert signatures(out / "query.py") == signatures(golden_pkg / "query.py")
    assert signatures(out / "query.py") != {}  # the control: it sees the functions


def signatures(path: Path) -> dict[str, str]:
    """Each function's def line (parameters and return annotation), keyed by name."""
    tree = ast.parse(path.read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    return {fn.name: ast.unparse(fn).partition("\n")[0] for fn in functions}  # the def line
