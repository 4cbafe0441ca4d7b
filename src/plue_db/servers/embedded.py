"""The embedded PostgreSQL 16 (pgserver wheel) used when no DATABASE_URL is set.

The data directory lives under the project (``.pgdata/``, ignored by git) so a second
run reuses the cluster instead of running initdb again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plue_db import extras
from plue_db.config import PROJECT_ROOT
from plue_db.servers.pidfile import PidFile

DEFAULT_DATA_DIR = PROJECT_ROOT / ".pgdata"


def data_dir() -> Path:
    """Where the embedded cluster lives; PLUE_DB_PGDATA overrides the project default."""
    return Path(os.environ.get("PLUE_DB_PGDATA", str(DEFAULT_DATA_DIR))).resolve()


class EmbeddedError(Exception):
    """The embedded server cannot start or stop for a reason the user can fix; names the path."""


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
    ``plue-db up`` wants; tests pass False so the last user stops it. A stale
    postmaster.pid is removed first (clear_stale). Raises EmbeddedError, with the
    tool's own last words, when the data directory is unusable.
    """
    path = data_dir()
    clear_stale()
    with _tool_errors() as errors:
        try:
            return str(_server(keep_running).get_uri())
        except OSError as exc:
            raise EmbeddedError(
                f"cannot use {exc.filename or path} for the embedded server: {exc.strerror}; {_FIX}"
            ) from exc
        except subprocess.CalledProcessError as exc:
            tool = Path(str(exc.cmd[0])).name
            said = errors.last_line() or f"exit status {exc.returncode}"
            raise EmbeddedError(f"{tool} failed for {path}: {said}; {_FIX}") from exc


def clear_stale() -> str | None:
    """Remove a postmaster.pid that names no server of this data directory (pgserver
    would take any live pid for the server and hand out its URL); says so, if it did."""
    extras.require("embedded")
    path = data_dir()
    _check_layout(path)
    return PidFile.postgres(path).before_start(_what(path))


def _what(path: Path) -> str:
    return f"the embedded PostgreSQL in {path}"


_FIX = "point PLUE_DB_PGDATA at a writable directory that is new, empty or a plue-db cluster"


def _check_layout(path: Path) -> None:
    """A data directory must be a directory, and so must its nearest existing ancestor."""
    if path.exists() and not path.is_dir():
        raise EmbeddedError(f"{path} is a file, not a data directory; {_FIX}")
    ancestor = next(p for p in path.parents if p.exists())
    if not ancestor.is_dir():
        raise EmbeddedError(f"{path} is under {ancestor}, which is a file; {_FIX}")


class _ToolErrors(logging.Handler):
    """Keeps pgserver's failure logs (initdb/pg_ctl output) off the terminal, for one line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.outputs: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # pgserver logs a failed command with its captured stderr as the last argument.
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[-1], str):
            self.outputs.append(record.args[-1])

    def last_line(self) -> str:
        """The tool's error line (initdb follows it with hints), else its last line."""
        lines = [line.strip() for out in self.outputs for line in out.splitlines()]
        lines = [line for line in lines if line]
        errors = [line for line in lines if "error:" in line.lower()]
        return (errors or lines or [""])[-1]


@contextmanager
def _tool_errors() -> Iterator[_ToolErrors]:
    logger = logging.getLogger("pgserver")
    handler = _ToolErrors()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def stop() -> str:
    """Stop the embedded server (``plue-db down``, restart tests); says what it did.

    pgserver only stops a server when its last handle in a live process closes, and
    never one started with ``keep_running``; ``pg_ctl stop`` works whoever started it.
    A postmaster.pid naming a process that is not this server is removed, and nothing
    is signalled.
    """
    extras.require("embedded")
    path = data_dir()
    nothing_to_stop = PidFile.postgres(path).before_stop(_what(path))
    if nothing_to_stop is not None:
        return nothing_to_stop
    # pgserver runs the cluster as the unprivileged "pgserver" user when we are root.
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [str(bin_dir() / "pg_ctl"), "-D", str(path), "-m", "fast", "-w", "stop"],
            check=True,
            user=user,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        said = exc.stderr.strip().splitlines()[-1:] or [f"exit status {exc.returncode}"]
        raise EmbeddedError(f"pg_ctl stop failed for {path}: {said[0]}") from exc
    return f"stopped {_what(path)}"


def bin_dir() -> Path:
    """The PostgreSQL 16 client binaries shipped in the wheel (pg_dump, pgbench, psql).

    Found without importing pgserver, whose import alone warns about XDG_RUNTIME_DIR.
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the pgserver package is not installed; run `make venv`")
    return Path(spec.origin).parent / "pginstall" / "bin"
