"""Where plue-db connects: DATABASE_URL if set, the embedded PostgreSQL 16 otherwise."""

from __future__ import annotations

import os

from plue_db import embedded


def database_url() -> str:
    """The server to use. Starts the embedded server on first use when DATABASE_URL is unset."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or embedded.start(keep_running=True)


def with_database(url: str, dbname: str) -> str:
    """The same server as ``url`` but another database (for test and scratch databases)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)
