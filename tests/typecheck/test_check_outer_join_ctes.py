"""The PREPARE check on a column read through a CTE on an outer join's nullable side.

PostgreSQL names the CTE's table as the column's origin (Hatchet's ClaimIdempotencyKeys:
``LEFT JOIN claims c``, claims an INSERT ... RETURNING). The generated ``| None`` is
right: with no matching row the value is NULL. The check used to see only the CTE's name
on the nullable side and called the NOT NULL table column wrongly optional; the control
runs the comparison with that old set of names.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlc_gen_psycopg.analysis import typecheck
from sqlc_gen_psycopg.analysis.scratch import scratch_database

from tests.fixtures.fix_db import Conn

SQL = (
    "WITH claims AS (INSERT INTO claim (key) SELECT k FROM unnest($1::text[]) k RETURNING *),"
    " named AS (SELECT * FROM claims)"
    " SELECT i.k, n.key AS claimed FROM unnest($1::text[]) i (k) LEFT JOIN named n ON n.key = i.k"
)


@pytest.fixture
def conn(server_url: str) -> Iterator[Conn]:
    with (
        scratch_database(server_url, prefix="plue_test") as url,
        psycopg.connect(url, autocommit=True) as connection,
    ):
        connection.execute("CREATE TABLE claim (key text NOT NULL)")
        yield connection


def function() -> typecheck.GeneratedFunction:
    params = (typecheck.Value("keys", "list[str]", False, "text", True),)
    columns = (
        typecheck.Value("k", "str | None", True, "text", False),
        typecheck.Value("claimed", "str | None", True, "text", False),
    )
    return typecheck.GeneratedFunction("claims", "claim_keys", SQL, None, params, columns)


def test_a_cte_on_the_nullable_side_makes_its_tables_nullable(conn: Conn) -> None:
    assert typecheck.outer_joined_tables(SQL) == {"named", "claims", "claim"}
    assert typecheck.check_functions(conn, [function()]) == []


def test_control_the_cte_name_alone_reports_the_column(conn: Conn) -> None:
    server = typecheck.describe_on_server(conn, SQL)
    catalog = typecheck.read_catalog(conn)
    claimed = server.columns[1]
    assert catalog.tables.get(claimed.table_oid) == "claim"  # PostgreSQL's origin
    old = frozenset({"named"})  # what the old outer_joined_tables returned
    assert typecheck.compare_column(function(), function().columns[1], claimed, catalog, old) == [
        "claims.claim_keys: column claimed: claim.claimed is NOT NULL and no outer join can"
        " null it, generated str | None"
    ]
