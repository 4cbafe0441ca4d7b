"""Where plue-db connects and where its source files live.

The server is DATABASE_URL if set, the embedded PostgreSQL 16 otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "schema.sql"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def database_url() -> str:
    """The server to use. Starts the embedded server on first use when DATABASE_URL is unset."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    from plue_db import embedded

    return embedded.start(keep_running=True)


def with_database(url: str, dbname: str) -> str:
    """The same server as ``url`` but another database (for test and scratch databases)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


def redacted(url: str) -> str:
    """``url`` without its password, safe to print in messages."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    if "password" in params:
        params["password"] = "***"  # noqa: S105 - a mask, not a credential
    return make_conninfo("", **params)
