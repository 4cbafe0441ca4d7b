"""A real primary with streaming replicas (the wheel's PostgreSQL 16), for replica tests.

Import the fixtures into a test module (``from tests.replica_fixtures import cluster``).
The cluster is built once per module and always stopped afterwards; if it cannot be
built the tests error, they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from plue_db import replicas
from tests.conftest import SCHEMA

DBNAME = "plue"  # the database the fixture creates


@pytest.fixture(scope="module")
def cluster() -> Iterator[replicas.Cluster]:
    """A primary and two replicas; database ``plue`` holds schema.sql, replayed on both."""
    with replicas.running_cluster(2) as built:
        with psycopg.connect(built.primary.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE plue")
        with psycopg.connect(built.primary.url(DBNAME), autocommit=True) as conn:
            conn.execute(SCHEMA.read_bytes())
        for replica in built.replicas:
            replicas.wait_replayed(built.primary.url(), replica.url())
        yield built
