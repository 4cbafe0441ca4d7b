"""Shared fixtures: one fresh database per test run, on a real PostgreSQL.

The server is DATABASE_URL when set, the embedded PostgreSQL 16 otherwise. The test
database is created from schema.sql at session start and dropped at the end, so runs
never see each other's data.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from plue_db import config

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
    return config.database_url()


def create_database(server_url: str, schema_sql: str | None) -> tuple[str, str]:
    """Create a uniquely named database, optionally load a schema; return (name, url)."""
    name = f"plue_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    url = config.with_database(server_url, name)
    if schema_sql is not None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(schema_sql.encode())
    return name, url


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)
            )
        )


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database with schema.sql applied, shared by the whole run."""
    name, url = create_database(server_url, SCHEMA.read_text())
    yield url
    drop_database(server_url, name)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (migrations, drift, locking tests)."""
    name, url = create_database(server_url, None)
    yield url
    drop_database(server_url, name)
