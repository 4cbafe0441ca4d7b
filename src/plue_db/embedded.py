"""The embedded PostgreSQL 16 (pgserver wheel) used when no DATABASE_URL is set.

The data directory lives under the project (``.pgdata/``, ignored by git) so a second
run reuses the cluster instead of running initdb again.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

from plue_db.config import PROJECT_ROOT

DEFAULT_DATA_DIR = PROJECT_ROOT / ".pgdata"


def data_dir() -> Path:
    """Where the embedded cluster lives; PLUE_DB_PGDATA overrides the project default."""
    return Path(os.environ.get("PLUE_DB_PGDATA", str(DEFAULT_DATA_DIR))).resolve()


def _server(keep_running: bool) -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); that is harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver.postgres_server import get_server

    path = data_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    return get_server(path, cleanup_mode=None if keep_running else "stop")


def start(keep_running: bool = True) -> str:
    """Start (or attach to) the embedded server and return its connection URL.

    ``keep_running=True`` leaves the server up after this process exits, which is what
    ``plue-db up`` wants; tests pass False so the last user stops it.
    """
    return str(_server(keep_running).get_uri())


def is_running() -> bool:
    """Whether a postmaster is alive for our data directory."""
    pid_file = data_dir() / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split("\n", 1)[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop() -> bool:
    """Stop the embedded server (``plue-db down``, restart tests); False if it was not running.

    pgserver only stops a server when its last handle in a live process closes, and
    never one started with ``keep_running``; ``pg_ctl stop`` works whoever started it.
    """
    if not is_running():
        return False
    # pgserver runs the cluster as the unprivileged "pgserver" user when we are root.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(bin_dir() / "pg_ctl"), "-D", str(data_dir()), "-m", "fast", "-w", "stop"],
        check=True,
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return True


def bin_dir() -> Path:
    """The PostgreSQL 16 client binaries shipped in the wheel (pg_dump, pgbench, psql).

    Found without importing pgserver, whose import alone warns about XDG_RUNTIME_DIR.
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the pgserver package is not installed; run `make venv`")
    return Path(spec.origin).parent / "pginstall" / "bin"
