"""Values sqlc can't type (``any``) are generated as ``object`` and work when called.

tests/golden/types_untyped: ``WHERE sqlc.arg(flag) AND ...`` (PostgreSQL infers
boolean), ``WHERE $1 OR active`` and ``SELECT NULL AS nothing``. A parameter of
unknown type is sent as what its Python value dumps to (psycopg: a bool as boolean, a
str as unknown, which PostgreSQL casts from the context, None as NULL of unknown type;
asyncpg: what PostgreSQL inferred when it prepared the statement); a column comes back as
whatever PostgreSQL typed it (text for ``NULL``). Negative controls: an int where
PostgreSQL needs boolean is PostgreSQL's own error, and the same SQL with the old
refusal (``strict_types``) generates nothing.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

from bench.latency import asyncpg_params
from tests.codegen.codegen_support import EXPECTED, EXPECTED_ERROR, run_sqlc
from tests.codegen.test_golden_types import package
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = GOLDEN / "types_untyped"
query = importlib.import_module(f"{package('types_untyped')}.query")
aio_query = importlib.import_module(f"{package('types_untyped')}.aio.query")
apg_query = importlib.import_module(f"{package('types_untyped')}.asyncpg.query")
apg_runtime = importlib.import_module(f"{package('types_untyped')}._asyncpg")

SEED = "INSERT INTO users (name, active) VALUES ('on', true), ('off', false)"


@pytest.fixture(scope="module")
def url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, FIXTURE / "schema.sql") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SEED)
        yield url


# (flag value, ids flagged returns, ids matching returns): users 1 (active) and 2.
CASES = [(True, [1, 2], [1, 2]), (False, [], [1]), ("true", [1, 2], [1, 2]), (None, [], [1])]


@pytest.mark.parametrize(("flag", "flagged", "matching"), CASES)
def test_psycopg_sends_untyped_parameters(
    url: str, flag: object, flagged: list[int], matching: list[int]
) -> None:
    with psycopg.connect(url) as conn:
        assert [row.id for row in query.flagged(conn, flag=flag)] == flagged
        assert query.matching(conn, dollar_1=flag) == matching
        with conn.transaction():  # and inside a transaction, through a stream
            assert [row.id for row in query.iter_flagged(conn, flag=flag)] == flagged


@pytest.mark.parametrize(("flag", "flagged", "matching"), CASES)
def test_psycopg_async_sends_untyped_parameters(
    url: str, flag: object, flagged: list[int], matching: list[int]
) -> None:
    async def go() -> tuple[list[int], list[int]]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            rows = await aio_query.flagged(conn, flag=flag)
            return [row.id for row in rows], await aio_query.matching(conn, dollar_1=flag)

    assert asyncio.run(go()) == (flagged, matching)


@pytest.mark.parametrize(("flag", "flagged", "matching"), [c for c in CASES if c[0] != "true"])
def test_asyncpg_sends_untyped_parameters(
    url: str, flag: object, flagged: list[int], matching: list[int]
) -> None:
    """asyncpg encodes by the type PostgreSQL inferred (boolean here): a Python bool or
    None; the text 'true' is asyncpg's DataError (checked below), not a silent cast."""

    async def go() -> tuple[list[int], list[int]]:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            await apg_runtime.init_connection(conn)
            rows = await apg_query.flagged(conn, flag=flag)
            return [row.id for row in rows], await apg_query.matching(conn, dollar_1=flag)
        finally:
            await conn.close()

    assert asyncio.run(go()) == (flagged, matching)


def test_asyncpg_refuses_a_value_of_another_type(url: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            await apg_query.flagged(conn, flag="true")
        finally:
            await conn.close()

    with pytest.raises(asyncpg.DataError, match="a boolean is required"):
        asyncio.run(go())


def test_an_untyped_column_is_what_postgresql_sends(url: str) -> None:
    with psycopg.connect(url) as conn:
        row = query.nothing(conn, id=1)
    assert row is not None and row.nothing is None

    async def go() -> Any:
        conn = await asyncpg.connect(**asyncpg_params(url))
        try:
            return await apg_query.nothing(conn, id=1)
        finally:
            await conn.close()

    assert asyncio.run(go()) == row


def test_a_value_postgresql_cannot_use_is_its_error(url: str) -> None:
    """Control: ``object`` lets any value through to PostgreSQL, which decides: an int
    (psycopg sends smallint) is no boolean."""
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.DatatypeMismatch):
        query.flagged(conn, flag=1)


def test_strict_types_refuses_the_same_sql(tmp_path: Path) -> None:
    """Control: with strict_types (the old behaviour, now opt-in) nothing is generated."""
    work = tmp_path / "strict"
    shutil.copytree(FIXTURE, work, ignore=shutil.ignore_patterns(EXPECTED, EXPECTED_ERROR))
    config = work / "sqlc.yaml"
    config.write_text(config.read_text() + "          strict_types: true\n")
    done = run_sqlc(work)
    assert done.returncode == 1
    assert not (work / EXPECTED).exists()
    assert "query.sql:2: query Nothing: column nothing: sqlc can't infer its type (any)" in (
        done.stderr
    )
