"""Which CHECKs prove an array column holds no NULL element (element_checks.py), and that
PostgreSQL keeps each proof: every CHECK the generator accepts refuses ``'{NULL,y,z}'`` on
a real server, and every look-alike it rejects lets such an array in (negative controls:
the shapes a reader might take for proof and PostgreSQL does not enforce as one).
"""

from __future__ import annotations

from typing import Any

import pglast
import psycopg
import pytest
from meaning_pkg import models
from sqlc_gen_psycopg.element_checks import ElementChecks, written_columns

from tests.fixtures.fix_db import Conn

PROOFS = [
    "array_position(tags, NULL) IS NULL",
    "array_position(tags, NULL::text) IS NULL",
    "pg_catalog.array_position(tags, NULL) IS NULL",
    "cardinality(tags) < 10 AND array_position(tags, NULL) IS NULL",
]
LOOK_ALIKES = [
    "NOT (NULL = ANY(tags))",  # NULL for every array: a CHECK passes on NULL
    "array_position(tags, NULL) IS NULL OR cardinality(tags) > 1",  # a disjunct
    "array_position(tags, 'x') IS NULL",  # another element
    "array_positions(tags, NULL) IS NOT NULL",  # true for every non-null array
]


def key(relation: Any) -> str:
    return str(relation.relname)


def proven(schema: str) -> frozenset[str]:
    checks = ElementChecks(key)
    for raw in pglast.parse_sql(schema):
        checks.read(raw.stmt)
    return checks.proven()


@pytest.mark.parametrize("check", PROOFS + LOOK_ALIKES)
def test_a_check_is_proof_exactly_when_postgresql_refuses_a_null_element(
    conn: Conn, check: str
) -> None:
    schema = f"CREATE TEMP TABLE t (tags text[] NOT NULL CHECK ({check}))"
    conn.execute(schema)
    refused = False
    try:
        with conn.transaction():
            conn.execute("INSERT INTO t VALUES ('{NULL,y,z}')")
    except psycopg.errors.CheckViolation:
        refused = True
    assert refused == (check in PROOFS)
    assert proven(schema) == ({"t.tags"} if check in PROOFS else set())


def test_a_check_added_not_valid_proves_nothing_until_validated() -> None:
    base = "CREATE TABLE t (tags text[]);\n"
    added = "ALTER TABLE t ADD CONSTRAINT c CHECK (array_position(tags, NULL) IS NULL) NOT VALID;\n"
    assert proven(base + added) == set()
    assert proven(base + added + "ALTER TABLE t VALIDATE CONSTRAINT c;") == {"t.tags"}


def test_a_dropped_check_proves_nothing() -> None:
    named = (
        "CREATE TABLE t (tags text[] CONSTRAINT c CHECK (array_position(tags, NULL) IS NULL),"
        " more text[] CHECK (array_position(more, NULL) IS NULL));\n"
    )
    assert proven(named) == {"t.tags", "t.more"}
    assert proven(named + "ALTER TABLE t DROP CONSTRAINT c;") == {"t.more"}
    # An unnamed CHECK's name is PostgreSQL's choice: dropping an unknown name forgets it.
    assert proven(named + "ALTER TABLE t DROP CONSTRAINT t_more_check;") == {"t.tags"}


def test_parameters_are_traced_to_the_column_they_are_written_to() -> None:
    """sqlc links ``$1::text[]`` to no column; the statement still says where it goes."""
    sql = (
        "WITH u AS (UPDATE t SET tags = $1::text[] WHERE id = $2 RETURNING id)"
        " INSERT INTO s (a, b) SELECT $3, $4::text[]"
        " ON CONFLICT (a) DO UPDATE SET b = $5"
    )
    assert written_columns(sql, key) == {1: "t.tags", 3: "s.a", 4: "s.b", 5: "s.b"}
    assert written_columns("SELECT * FROM t WHERE tags @> $1", key) == {}


def test_the_fixture_types_only_proven_arrays_without_none() -> None:
    """tests/golden/value_meaning: a CHECKed column is ``list[T]``; the same type without
    one, or with one added NOT VALID, keeps ``| None`` (the negative controls)."""
    stamp = models.Stamp.__annotations__
    assert (stamp["tags"], stamp["moods"]) == ("list[str]", "list[enums.Mood]")
    assert (stamp["loose"], stamp["ats"]) == (
        "list[str | None]",
        "list[datetime.datetime | None] | None",
    )
    assert models.Mark.__annotations__["labels"] == "list[str | None]"
