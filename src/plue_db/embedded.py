"""The embedded PostgreSQL 16 (pgserver wheel) used when no DATABASE_URL is set.

The data directory lives under the project (``.pgdata/``, ignored by git) so a second
run reuses the cluster instead of running initdb again.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / ".pgdata"


def data_dir() -> Path:
    """Where the embedded cluster lives; PLUE_DB_PGDATA overrides the project default."""
    return Path(os.environ.get("PLUE_DB_PGDATA", str(DEFAULT_DATA_DIR))).resolve()


def _server(keep_running: bool) -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); that is harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pgserver

    path = data_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(path, cleanup_mode=None if keep_running else "stop")


def start(keep_running: bool = True) -> str:
    """Start (or attach to) the embedded server and return its connection URL.

    ``keep_running=True`` leaves the server up after this process exits, which is what
    ``plue-db up`` wants; tests pass False so the last user stops it.
    """
    return str(_server(keep_running).get_uri())


def stop() -> None:
    """Stop the embedded server if it is running (used by ``plue-db down`` and tests)."""
    _server(keep_running=True).cleanup()


def bin_dir() -> Path:
    """The PostgreSQL 16 client binaries shipped in the wheel (pg_dump, pgbench, psql)."""
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"
