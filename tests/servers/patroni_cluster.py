"""A two-node Patroni cluster on one etcd, from Debian's packages, for the HA test.

etcd 3.4 and Patroni 3.0 (packages ``etcd-server``, ``patroni``) manage Debian's
PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin) in their own data directories and
ports under a temporary directory: the server at 5432 is never touched. Everything
runs as the unprivileged server user and is stopped, also on failure, when the block
ends.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from plue_db.servers import replicas, service_user
from plue_db.servers.pidfile import PidFile

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TTL_S = 10
NEEDED = {"etcd": Path("/usr/bin/etcd"), "patroni": Path("/usr/bin/patroni"), "postgres": PG_BIN}


class PatroniSetupError(RuntimeError):
    """A component is missing or the cluster did not form; says which."""


@dataclass
class PatroniNode:
    name: str
    data_dir: Path
    pg_port: int
    api_port: int
    process: subprocess.Popen[bytes]

    def role(self) -> str | None:
        """``primary`` or ``replica`` as Patroni's REST API says, None if it does not answer."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.api_port}/patroni", timeout=1
            ) as reply:
                role = str(json.load(reply).get("role"))
        except (OSError, urllib.error.URLError, ValueError):
            return None
        return "primary" if role == "master" else role  # Patroni 3.0 still says "master"

    def kill(self) -> None:
        """The machine dies: Patroni killed, its PostgreSQL stopped without a checkpoint."""
        self.process.kill()
        self.process.wait()
        _crash_postgres(self.data_dir)


@dataclass
class PatroniCluster:
    nodes: list[PatroniNode]

    def url(self, dbname: str = "postgres") -> str:
        """A multi-host DSN over every node that only accepts the writable one."""
        return psycopg.conninfo.make_conninfo(
            host=",".join("127.0.0.1" for _ in self.nodes),
            port=",".join(str(n.pg_port) for n in self.nodes),
            user="postgres",
            dbname=dbname,
            target_session_attrs="read-write",
            connect_timeout="2",
        )

    def leader(self) -> PatroniNode | None:
        return next((n for n in self.nodes if n.role() == "primary"), None)

    def wait_until(self, ready: str, timeout: float) -> float:
        """Seconds until ``ready`` ("leader" or "replicas") holds; PatroniSetupError after."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            roles = [n.role() for n in self.nodes if n.process.poll() is None]
            if ready == "leader" and "primary" in roles:
                return time.monotonic() - started
            if ready == "replicas" and sorted(map(str, roles)) == ["primary", "replica"]:
                return time.monotonic() - started
            time.sleep(0.2)
        raise PatroniSetupError(f"Patroni cluster: no {ready} within {timeout:g}s")


def missing() -> list[str]:
    """The components this machine lacks (``make system-packages`` installs them as root)."""
    return [name for name, path in NEEDED.items() if not path.exists()]


@contextmanager
def running(nodes: int = 2) -> Iterator[PatroniCluster]:
    """etcd plus ``nodes`` Patroni nodes, formed (a leader and streaming replicas)."""
    if missing():
        raise PatroniSetupError(
            f"not installed: {', '.join(missing())}; run `make system-packages` as root"
        )
    root = Path(tempfile.mkdtemp(prefix="plue-patroni-"))
    try:
        with ExitStack() as stack:
            etcd_port = _start_etcd(root, stack)
            cluster = PatroniCluster(
                [_start_node(root, f"node{i}", etcd_port, stack) for i in range(1, nodes + 1)]
            )
            try:
                cluster.wait_until("replicas", 60)
            except PatroniSetupError as exc:
                raise PatroniSetupError(f"{exc}; {_last_words(root)}") from None
            yield cluster
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _last_words(root: Path) -> str:
    """The last line of each component's log, to say why a cluster did not form."""
    said = []
    for log in sorted(root.glob("*/*.log")):
        lines = log.read_text(errors="replace").strip().splitlines()
        said.append(f"{log.parent.name}: {lines[-1] if lines else '(empty log)'}")
    return "; ".join(said)


def _spawn(argv: list[str], log: Path, stack: ExitStack) -> subprocess.Popen[bytes]:
    service_user.hand_over(log.parent)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            **service_user.process_kwargs(),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    stack.callback(_stop, process)
    return process


def _crash_postgres(data_dir: Path) -> None:
    """Stop the PostgreSQL in ``data_dir`` at once, if one runs there; a postmaster.pid
    naming any other process (its postgres died, the pid was reused) is left alone."""
    if PidFile.postgres(data_dir).server_pid() is not None:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
            **service_user.process_kwargs(),
            capture_output=True,
            check=False,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    service_user.stop(process, timeout=20)


def _start_etcd(root: Path, stack: ExitStack) -> int:
    client, peer = replicas.free_port(), replicas.free_port()
    home = root / "etcd"
    home.mkdir()
    _spawn(
        [
            str(NEEDED["etcd"]),
            "--name=plue",
            f"--data-dir={home / 'data'}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=plue=http://127.0.0.1:{peer}",
        ],
        home / "etcd.log",
        stack,
    )
    return client


def _start_node(root: Path, name: str, etcd_port: int, stack: ExitStack) -> PatroniNode:
    home = root / name
    home.mkdir()
    pg_port, api_port = replicas.free_port(), replicas.free_port()
    data_dir = home / "data"
    config = {
        "scope": "plue",
        "name": name,
        "restapi": {
            "listen": f"127.0.0.1:{api_port}",
            "connect_address": f"127.0.0.1:{api_port}",
        },
        "etcd3": {"hosts": f"127.0.0.1:{etcd_port}"},
        "bootstrap": {
            "dcs": {"ttl": TTL_S, "loop_wait": 1, "retry_timeout": 4},
            "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{pg_port}",
            "connect_address": f"127.0.0.1:{pg_port}",
            "data_dir": str(data_dir),
            "bin_dir": str(PG_BIN),
            "pgpass": str(home / "pgpass"),
            "authentication": {
                "superuser": {"username": "postgres", "password": "postgres"},
                "replication": {"username": "replicator", "password": "replicator"},
            },
            "pg_hba": [
                "local all all trust",
                "host all all 127.0.0.1/32 trust",
                "host replication replicator 127.0.0.1/32 trust",
            ],
            "parameters": {"unix_socket_directories": str(home), "max_connections": 50},
        },
    }
    # Runs after Patroni is stopped (ExitStack: last in, first out), in case it left one.
    stack.callback(_crash_postgres, data_dir)
    # JSON is YAML: Patroni reads it as its configuration file.
    (home / "patroni.yml").write_text(json.dumps(config, indent=2))
    process = _spawn(
        [str(NEEDED["patroni"]), str(home / "patroni.yml")], home / "patroni.log", stack
    )
    return PatroniNode(name, data_dir, pg_port, api_port, process)
