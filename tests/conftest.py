"""Shared fixtures: one fresh database per test run, on a real PostgreSQL.

The server is DATABASE_URL when set, the embedded PostgreSQL 16 otherwise. The test
database is created from schema.sql at session start and dropped at the end, so runs
never see each other's data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg
import pytest

from plue_db import servers
from plue_db.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.sql"
GOLDEN = Path(__file__).parent / "golden"

# The golden fixtures' generated packages (kitchen, tuned) and the hand-written module
# an override points at, importable by the runtime tests (mypy: mypy_path in pyproject).
sys.path[:0] = [
    str(GOLDEN / "kitchen_sink" / "expected"),
    str(GOLDEN / "options" / "expected"),
    str(GOLDEN / "options"),
]


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server under test (maintenance database)."""
    return servers.database_url()


def fresh_database(server_url: str, schema: Path | None = None) -> AbstractContextManager[str]:
    """A uniquely named database for tests, with ``schema`` loaded; dropped on exit."""
    return scratch_database(server_url, prefix="plue_test", schema=schema)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database with schema.sql applied, shared by the whole run."""
    with fresh_database(server_url, SCHEMA) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (migrations, drift, locking tests)."""
    with fresh_database(server_url) as url:
        yield url
