"""docs/generated-api.md's catch-by-name example leaves the transaction usable: it
catches the violation around a savepoint (tests/docs/test_docs_code.py runs it as written).
The control runs the same block without the savepoint: the next call then raises
InFailedSqlTransaction, as the example did before."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests import factories
from tests.docs.test_docs_code import blocks
from tests.fixtures.fix_db import fresh_database
from tests.paths import ROOT, SCHEMA

SAVEPOINT = "    with conn.transaction():  # a savepoint: the violation undoes only this block\n"


def example() -> str:
    [block] = [b for b in blocks(ROOT / "docs" / "generated-api.md") if SAVEPOINT in b.source]
    return block.source


@pytest.fixture(scope="module")
def url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, SCHEMA) as url, psycopg.connect(url) as conn:
        factories.make_user(conn, username="Alice")
        conn.commit()
        yield url


def test_the_example_catches_inside_a_savepoint_and_goes_on(url: str) -> None:
    source = example()
    assert SAVEPOINT in source
    with psycopg.connect(url) as conn:
        exec(source, {"conn": conn})  # the repository's own docs
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_control_without_the_savepoint_the_next_call_fails(url: str) -> None:
    old = example().replace(SAVEPOINT, "    if True:  # the old example: no savepoint\n")
    assert "conn.transaction()" not in old
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InFailedSqlTransaction):
        exec(old, {"conn": conn})
