"""Where plue-db connects and where its source files live.

The server is DATABASE_URL if set, the embedded PostgreSQL 16 otherwise. DATABASE_URL
is checked by plue_db.dsn before use, so a malformed one fails with a message that
names it and never echoes its password.
"""

from __future__ import annotations

import os
from pathlib import Path

from plue_db import dsn
from plue_db.dsn import redacted as redacted  # the name callers print DSNs with

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "schema.sql"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def database_url() -> str:
    """The server to use. Starts the embedded server on first use when DATABASE_URL is unset.

    Raises ``dsn.DsnError`` if DATABASE_URL is set but malformed.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return dsn.validate(url, "DATABASE_URL")
    from plue_db import embedded

    return embedded.start(keep_running=True)


def with_database(url: str, dbname: str) -> str:
    """The same server as ``url`` but another database (for test and scratch databases)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)

