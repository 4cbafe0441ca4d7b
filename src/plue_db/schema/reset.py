"""``plue-db reset``: drop and recreate the local database, then migrate it afresh.

The way out of a database that is ahead of the branch (a migration applied on another
branch, whose file is missing here), as sqlx's ``database reset`` and Prisma's
``migrate reset``. It destroys every row, so it runs unasked only on the embedded
server; a DATABASE_URL database is dropped only with ``--force``.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from plue_db import config, dsn


class ResetRefusedError(Exception):
    """reset would drop a database that is not the embedded server's without --force."""


def recreate(url: str) -> str:
    """Drop the database ``url`` names (closing its sessions) and create it empty, owned
    by the same login; returns its name. Connects to another database of the same
    server to do it, since a session cannot drop its own database."""
    name = str(psycopg.conninfo.conninfo_to_dict(url).get("dbname") or _login(url))
    maintenance = "template1" if name == "postgres" else "postgres"
    with psycopg.connect(config.with_database(url, maintenance), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _login(url: str) -> str:
    """libpq's default database name: the user name."""
    with psycopg.connect(url) as conn:
        return conn.info.dbname


def target(force: bool) -> tuple[str, str]:
    """The URL to reset and how to name it; refuses a DATABASE_URL without ``force``."""
    setting = config.database_url_setting()
    if setting is None:
        from plue_db import servers
        from plue_db.servers import embedded

        return servers.database_url(), f"the embedded server ({embedded.data_dir()})"
    if not force:
        raise ResetRefusedError(
            f"DATABASE_URL points at {dsn.redacted(setting)}, not the embedded server; "
            "reset drops every row, so pass --force to drop and recreate that database, "
            "or unset DATABASE_URL to reset the embedded one"
        )
    return setting, dsn.redacted(setting)
