"""Which servers plue-db talks to: the one place a server is resolved or started.

The primary is DATABASE_URL when set, else the embedded PostgreSQL 16, started here on
first use. Replicas are PLUE_DB_REPLICA_URLS when set, else the replicas `plue-db up
--replicas N` started beside the embedded server, else none. Settings are read by
plue_db.config, which starts nothing.
"""

from __future__ import annotations

import plue_db.servers.embedded as embedded
from plue_db import config


def database_url() -> str:
    """The primary's URL; starts the embedded server if DATABASE_URL is unset.

    Raises ``dsn.DsnError`` if DATABASE_URL is set but malformed.
    """
    return config.database_url_setting() or embedded.start(keep_running=True)


def replica_urls() -> list[str]:
    """The replicas' URLs: PLUE_DB_REPLICA_URLS, else the embedded server's running
    replicas when no DATABASE_URL is set (none otherwise)."""
    configured = config.replica_urls()
    if configured or config.database_url_setting():
        return configured
    import plue_db.servers.embedded_replicas as embedded_replicas

    return embedded_replicas.running_urls()
