"""Where plue-db connects and where its source files live.

Settings only: nothing here starts a server (plue_db.servers resolves and starts them).
DATABASE_URL and PLUE_DB_REPLICA_URLS are checked by plue_db.dsn before use, so a
malformed one fails with a message that names it and never echoes its password.
"""

from __future__ import annotations

import os
from pathlib import Path

from plue_db import dsn
from plue_db.dsn import redacted as redacted  # the name callers print DSNs with

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "schema.sql"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def database_url_setting() -> str | None:
    """DATABASE_URL if set (checked), else None: the embedded server is plue_db.servers'.

    Raises ``dsn.DsnError`` if DATABASE_URL is set but malformed.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    return dsn.validate(url, "DATABASE_URL") if url else None


REPLICA_URLS = "PLUE_DB_REPLICA_URLS"


def replica_urls() -> list[str]:
    """PLUE_DB_REPLICA_URLS: replica URLs separated by spaces (each a libpq URL, which
    may itself list several hosts); [] when unset.

    Raises ``dsn.DsnError`` naming the variable for anything that is not such a URL.
    """
    urls = os.environ.get(REPLICA_URLS, "").split()
    for url in urls:
        if not url.startswith(("postgresql://", "postgres://")):
            raise dsn.DsnError(
                f"{REPLICA_URLS} holds postgresql:// URLs separated by spaces; "
                f"{dsn.redacted(url)!r} is not one"
            )
        dsn.validate(url, REPLICA_URLS)
    return urls


def with_database(url: str, dbname: str) -> str:
    """The same server as ``url`` but another database (for test and scratch databases)."""
    return dsn.with_params(url, dbname=dbname)
