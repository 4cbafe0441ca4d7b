"""A local pgbouncer in front of a server, for tests, benchmarks and trying things out.

It is the distribution's pgbouncer (Debian's package), run as the unprivileged server
user (pgbouncer refuses root) on a free loopback port, with a config of its own in a
temporary directory: every database of the server behind it, trust authentication
for the server's user, and the pool mode asked for. It is stopped, and its directory
removed, when the ``with`` block ends, whatever happens.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

import plue_db.servers.replicas as replicas
import plue_db.servers.service_user as service_user
from plue_db import dsn
from plue_db.servers.pidfile import PidFile


class PgbouncerError(RuntimeError):
    """pgbouncer is not installed or did not start; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Pgbouncer:
    """A running pgbouncer: where it listens and what it says."""

    port: int
    log: Path
    server_url: str

    def url(self, database_url: str | None = None) -> str:
        """``database_url`` (default: the server's) reached through this pgbouncer."""
        return dsn.with_params(database_url or self.server_url, host="127.0.0.1", port=self.port)

    def version(self) -> str:
        """``pgbouncer --version``'s first line (``PgBouncer 1.18.0``)."""
        return _executable_version()


@contextmanager
def running(
    server_url: str, *, pool_mode: str = "transaction", pool_size: int = 2
) -> Iterator[Pgbouncer]:
    """Start pgbouncer in front of ``server_url``; stop it when the block ends.

    ``pool_size`` server connections per database and user serve any number of clients.
    Raises PgbouncerError if pgbouncer is missing or does not come up within 5 s.
    """
    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(executable).exists():
        raise PgbouncerError(
            "pgbouncer is not installed; `make system-packages` installs Debian's (as root)"
        )
    server = conninfo_to_dict(server_url)
    workdir = Path(tempfile.mkdtemp(prefix="plue-pgbouncer-"))
    port = replicas.free_port()
    log = workdir / "pgbouncer.log"
    try:
        _write_config(workdir, server, port, pool_mode, pool_size)
        service_user.hand_over(workdir)
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [executable, str(workdir / "pgbouncer.ini")],
            **service_user.process_kwargs(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,  # where pidfile.PidFile looks for it
        )
        try:
            guard = PidFile(workdir / "pgbouncer.pid", "pgbouncer", workdir)
            _wait_listening(process, guard, port, log)
            yield Pgbouncer(port=port, log=log, server_url=server_url)
        finally:
            service_user.stop(process, timeout=5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write_config(
    workdir: Path, server: dict[str, Any], port: int, pool_mode: str, pool_size: int
) -> None:
    user = server.get("user") or "postgres"
    target = " ".join(
        f"{key}={server[key]}" for key in ("host", "port", "password") if server.get(key)
    )
    (workdir / "userlist.txt").write_text(f'"{user}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = {target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "userlist.txt"}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 500
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )


def _wait_listening(process: subprocess.Popen[bytes], guard: PidFile, port: int, log: Path) -> None:
    """Until ``process`` is the pgbouncer listening on ``port``.

    pgbouncer writes its pid file once it listens, and not at all when the port is
    taken: a pid file naming this process means the port is its own, where a bare
    connect could reach whatever else listens there.
    """
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log.read_text().splitlines() if log.exists() else []
            said = [line.split(maxsplit=4)[-1] for line in lines if _COMPLAINT.search(line)]
            raise PgbouncerError(
                f"pgbouncer exited with status {process.returncode} at start: "
                + "; ".join(said or lines[-1:] or ["no log written"])
            )
        if guard.server_pid() == process.pid and _accepts(port):
            return
        time.sleep(0.05)
    raise PgbouncerError(f"pgbouncer did not listen on 127.0.0.1:{port} within 5 s (log: {log})")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


_COMPLAINT = re.compile(r"\b(WARNING|ERROR|FATAL)\b")


def _executable_version() -> str:
    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [executable, "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()[0]
