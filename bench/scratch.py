"""A throw-away database for one benchmark run: created with schema.sql, always dropped.

The benchmark writes (inserts, COPY, created issues), so it never runs in a database
someone else uses.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from plue_db import config


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Yield the URL of a fresh database holding schema.sql; drop it on the way out."""
    name = f"plue_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = config.with_database(server_url, name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(config.SCHEMA_PATH.read_bytes())
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
