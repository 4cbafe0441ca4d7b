"""A throw-away database for one benchmark run: created with schema.sql, always dropped.

The benchmark writes (inserts, COPY, created issues), so it never runs in a database
someone else uses. Named ``plue_bench_*`` so the smoke tests can check none is left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from plue_db import config
from plue_db.servers.scratch import scratch_database as _scratch


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Yield the URL of a fresh database holding schema.sql; drop it on the way out."""
    with _scratch(server_url, prefix="plue_bench", schema=config.SCHEMA_PATH) as url:
        yield url
