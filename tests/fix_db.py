"""Test databases: one with schema.sql for the whole run, empty ones per test, and the
connection alias every test annotates with.

The session database is created at session start and dropped at the end, so runs never
see each other's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from plue_db.servers.scratch import scratch_database
from tests.paths import SCHEMA

# Tests read rows by position and by attribute through generated code alike: rows are Any.
Conn = psycopg.Connection[Any]
AConn = psycopg.AsyncConnection[Any]


def fresh_database(server_url: str, schema: Path | None = None) -> AbstractContextManager[str]:
    """A uniquely named database for tests, with ``schema`` loaded; dropped on exit."""
    return scratch_database(server_url, prefix="plue_test", schema=schema)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database with schema.sql applied, shared by the whole run."""
    with fresh_database(server_url, SCHEMA) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[Conn]:
    """A connection to the session's database whose work is rolled back after the test."""
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (migrations, drift, locking tests)."""
    with fresh_database(server_url) as url:
        yield url
