"""A real primary with streaming replicas (the wheel's PostgreSQL 16), for replica tests.

A pytest plugin (tests/conftest.py loads it): ``cluster`` is the primary and replicas,
``bouncers`` puts Debian's pgbouncer in transaction mode in front of the primary and a
replica.
The cluster is built once per module and always stopped afterwards; if it cannot be
built the tests error, they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from plue_db.pool import Timeouts
from plue_db.servers import pgbouncer, replicas
from tests.paths import SCHEMA

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


# The cluster's servers apply no timeouts (0); behind a pooler the pool must ask for
# exactly what the server applies (plue_db.pooler.check_server_settings).
SERVER_TIMEOUTS = Timeouts(statement_ms=0, lock_ms=0, idle_in_transaction_ms=0)
SERVER_ZONE = "Asia/Tokyo"  # the database's TimeZone while behind pgbouncer (not UTC)


@pytest.fixture
def bouncers(cluster: replicas.Cluster) -> Iterator[tuple[str, str]]:
    """(primary, first replica) URLs of database ``plue`` through pgbouncer in transaction
    mode, one server connection each; the database's TimeZone is SERVER_ZONE meanwhile
    (set on the primary, replayed on the replicas), so a pool that pins UTC shows it."""
    primary_url, replica_url = cluster.primary.url(DBNAME), cluster.replicas[0].url(DBNAME)
    zone = sql.SQL("ALTER DATABASE {} SET TimeZone = {}").format(
        sql.Identifier(DBNAME), sql.Literal(SERVER_ZONE)
    )
    with psycopg.connect(cluster.primary.url(), autocommit=True) as admin:
        admin.execute(zone)
    try:
        for replica in cluster.replicas:
            replicas.wait_replayed(cluster.primary.url(), replica.url())
        with (
            pgbouncer.running(primary_url, pool_size=1) as to_primary,
            pgbouncer.running(replica_url, pool_size=1) as to_replica,
        ):
            yield to_primary.url(primary_url), to_replica.url(replica_url)
    finally:
        with psycopg.connect(cluster.primary.url(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} RESET TimeZone").format(sql.Identifier(DBNAME))
            )
        for replica in cluster.replicas:
            replicas.wait_replayed(cluster.primary.url(), replica.url())
