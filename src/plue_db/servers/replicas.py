"""A PostgreSQL 16 primary with streaming replicas, from the pgserver wheel's binaries.

Tests (routing, failover), benchmarks and ``plue-db up --replicas N`` need real hot
standbys, not a simulation. initdb and postgres refuse to run as root, so when we are
root every binary runs as the unprivileged ``pgserver`` user, as pgserver itself does.
Each node listens on 127.0.0.1 at a free port (and on a socket in its data directory),
so libpq multi-host URLs (``host=a,b port=p,q``) can name them all.

Lag is injected with ``recovery_min_apply_delay`` (real lag: WAL arrives, replay
waits); a walreceiver can be paused with SIGSTOP to let a replica fall behind for good.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

import plue_db.servers.embedded as embedded
import plue_db.servers.service_user as service_user
from plue_db import dsn
from plue_db.servers.pidfile import PidFile

SUPERUSER = "postgres"


class ReplicaError(Exception):
    """A node could not be created, started, stopped or promoted; names the node and why."""


def _prepare_for_system_user(path: Path) -> None:
    """Let the server user use the binaries and own ``path`` (only needed as root)."""
    path.chmod(0o700)  # postgres refuses a data directory others can read
    if service_user.name() is None:
        return
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); that is harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver.utils import ensure_prefix_permissions

    ensure_prefix_permissions(embedded.bin_dir())
    service_user.hand_over(path)


def _run(what: str, argv: Sequence[str]) -> str:
    """Run a wheel binary as the system user; ReplicaError with its last words on failure."""
    tool = str(embedded.bin_dir() / argv[0])
    try:
        done: subprocess.CompletedProcess[str] = subprocess.run(  # noqa: S603 - fixed argv
            [tool, *argv[1:]],
            check=True,
            capture_output=True,
            text=True,
            **service_user.process_kwargs(),
        )
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        said = lines[-1] if lines else f"exit status {exc.returncode}"
        raise ReplicaError(f"{what}: {argv[0]} failed: {said}") from exc
    return done.stdout


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Node:
    """One PostgreSQL server: a data directory and the port it listens on."""

    name: str
    data_dir: Path
    port: int

    @classmethod
    def existing(cls, name: str, data_dir: Path) -> Node:
        """A node created earlier: its port is the last one postgresql.conf sets."""
        ports = [
            line.split("=", 1)[1].strip().strip("'")
            for line in (data_dir / "postgresql.conf").read_text().splitlines()
            if line.startswith("port =")
        ]
        if not ports or not ports[-1].isdigit():
            raise ReplicaError(f"{data_dir}/postgresql.conf sets no port; remove {data_dir}")
        return cls(name, data_dir, int(ports[-1]))

    def url(self, dbname: str = "postgres") -> str:
        """A postgresql:// URL (the form PLUE_DB_REPLICA_URLS takes)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def configure(self, settings: dict[str, str]) -> None:
        """Append settings to postgresql.conf (later lines win); applied at next start."""
        lines = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(lines)

    @property
    def pid_file(self) -> PidFile:
        return PidFile.postgres(self.data_dir)

    def start(self) -> None:
        """Start the server; a stale postmaster.pid (naming no server of this data
        directory) is removed first, else postgres would refuse to start."""
        self.pid_file.clear_stale()
        log = self.data_dir / "server.log"
        try:
            _run(
                f"start {self.name}",
                ["pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-t", "60", "start"],
            )
        except ReplicaError as exc:
            lines = log.read_text().strip().splitlines() if log.exists() else []
            raise ReplicaError(f"{exc} ({lines[-1] if lines else 'no server log'})") from exc

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash (no checkpoint, no goodbye)."""
        if self.running():
            _run(
                f"stop {self.name}", ["pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop"]
            )

    def running(self) -> bool:
        """Whether this data directory's server runs (not just any process with its pid)."""
        return self.pid_file.server_pid() is not None

    def unreachable(self, timeout_s: int = 5) -> str | None:
        """Why this node's URL does not reach this data directory's server; None if it does."""
        where = f"127.0.0.1:{self.port}"
        try:
            with psycopg.connect(self.url(), autocommit=True, connect_timeout=timeout_s) as conn:
                row = conn.execute("SHOW data_directory").fetchone()
        except psycopg.OperationalError as exc:
            said = " ".join(str(exc).split()) or type(exc).__name__
            return f"does not answer at {where} ({said})"
        serves = Path(row[0]) if row else None
        if serves is None or serves.resolve() != self.data_dir.resolve():
            return f"is not the server answering at {where} (that one serves {serves})"
        return None

    def promote(self) -> None:
        """End recovery: this replica becomes a primary that accepts writes."""
        _run(f"promote {self.name}", ["pg_ctl", "-D", str(self.data_dir), "-w", "promote"])

    def set(self, name: str, value: str) -> None:
        """ALTER SYSTEM SET ``name`` and reload: a live change (apply delay, sync names)."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
            conn.execute("SELECT pg_reload_conf()")

    def set_apply_delay(self, milliseconds: int) -> None:
        """Inject replay lag on a replica (``recovery_min_apply_delay``), 0 to remove it."""
        self.set("recovery_min_apply_delay", f"{milliseconds}ms")

    def walreceiver_pid(self) -> int:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            row = conn.execute("SELECT pid FROM pg_stat_wal_receiver").fetchone()
        if row is None or row[0] is None:
            raise ReplicaError(f"{self.name} has no walreceiver (is it a replica?)")
        return int(row[0])

    def pause_walreceiver(self) -> int:
        """SIGSTOP the walreceiver: WAL stops arriving, so this replica falls behind."""
        pid = self.walreceiver_pid()
        os.kill(pid, signal.SIGSTOP)
        return pid

    @staticmethod
    def resume_walreceiver(pid: int) -> None:
        os.kill(pid, signal.SIGCONT)


def init_primary(data_dir: Path, *, name: str = "primary", port: int | None = None) -> Node:
    """initdb a new primary in ``data_dir`` (which must not exist) and start it."""
    data_dir.mkdir(parents=True)
    _prepare_for_system_user(data_dir)
    _run(
        f"initdb {name}",
        [
            "initdb",
            "-D",
            str(data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=utf8",
            "--no-instructions",
        ],
    )
    node = Node(name, data_dir, port or free_port())
    node.configure(_listen(node))
    node.start()
    return node


def clone_replica(
    primary_url: str, data_dir: Path, *, name: str, port: int | None = None, delay_ms: int = 0
) -> Node:
    """A streaming replica of the server at ``primary_url`` (any libpq URL), started.

    ``pg_basebackup -R -X stream -C -S <name>`` copies the primary and creates a
    replication slot named like the replica; ``application_name`` is the replica's name
    so ``synchronous_standby_names`` can match it.
    """
    data_dir.mkdir(parents=True)
    _prepare_for_system_user(data_dir)
    source = dsn.with_params(primary_url, application_name=name)
    _run(
        f"pg_basebackup {name}",
        [
            "pg_basebackup",
            "-D",
            str(data_dir),
            "-R",
            "-X",
            "stream",
            "-C",
            "-S",
            name,
            "-c",
            "fast",  # the default spread checkpoint makes a busy primary's copy take minutes
            "-d",
            source,
        ],
    )
    node = Node(name, data_dir, port or free_port())
    # A primary's synchronous settings must not follow it into a copy (a promoted
    # replica would wait for a standby that is not there).
    node.configure(
        {**_listen(node), "synchronous_standby_names": "", "synchronous_commit": "on"}
        | ({"recovery_min_apply_delay": f"{delay_ms}ms"} if delay_ms else {})
    )
    node.start()
    return node


def _listen(node: Node) -> dict[str, str]:
    return {
        "listen_addresses": "127.0.0.1",
        "port": str(node.port),
        "unix_socket_directories": str(node.data_dir),
    }


def wait_replayed(primary: str, replica: str, timeout: float = 10.0) -> None:
    """Block until the replica has replayed everything the primary has written so far."""
    with psycopg.connect(primary, autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target and target[0]]
            ).fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise ReplicaError(f"replica did not replay {target} within {timeout:g}s")
            time.sleep(0.005)


@dataclass
class Cluster:
    """A primary and its replicas under one directory; ``stop()`` stops every node."""

    root: Path
    primary: Node
    replicas: list[Node] = field(default_factory=list)

    @property
    def nodes(self) -> list[Node]:
        return [self.primary, *self.replicas]

    def add_replica(self, name: str | None = None, *, delay_ms: int = 0) -> Node:
        name = name or f"replica{len(self.replicas) + 1}"
        node = clone_replica(self.primary.url(), self.root / name, name=name, delay_ms=delay_ms)
        self.replicas.append(node)
        return node

    def set_synchronous(self, names: Sequence[str], level: str = "remote_apply") -> None:
        """Make commits on the primary wait for ``names`` (``FIRST n``) at ``level``.

        Set only after the replicas exist (a base backup copies it). A synchronous
        standby that is down makes every commit wait.
        """
        quoted = ", ".join(f'"{n}"' for n in names)
        self.primary.set(
            "synchronous_standby_names", f"FIRST {len(names)} ({quoted})" if names else ""
        )
        self.primary.set("synchronous_commit", level)

    def multi_host_url(self, dbname: str = "postgres", **params: str) -> str:
        """A libpq multi-host URL over every node (add ``target_session_attrs=read-write``)."""
        return psycopg.conninfo.make_conninfo(
            host=",".join("127.0.0.1" for _ in self.nodes),
            port=",".join(str(n.port) for n in self.nodes),
            user=SUPERUSER,
            dbname=dbname,
            **params,
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop every node still running, replicas first; raises the first failure after
        trying them all."""
        failures: list[ReplicaError] = []
        for node in [*self.replicas, self.primary]:
            try:
                node.stop(mode)
            except ReplicaError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


@contextmanager
def running_cluster(replicas: int = 1, *, root: Path | None = None) -> Iterator[Cluster]:
    """A primary with ``replicas`` streaming replicas in a temporary directory; every
    node is stopped and the directory removed on exit, also on failure."""
    base = Path(tempfile.mkdtemp(prefix="plue-replicas-", dir=root))
    cluster: Cluster | None = None
    try:
        cluster = Cluster(base, init_primary(base / "primary"))
        for _ in range(replicas):
            cluster.add_replica()
        yield cluster
    finally:
        try:
            if cluster is not None:
                cluster.stop()
            else:
                _stop_any(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _stop_any(base: Path) -> None:
    """Stop whatever server a half-built cluster left running under ``base``."""
    for pid_file in base.glob("*/postmaster.pid"):
        node = Node(pid_file.parent.name, pid_file.parent, 0)
        node.stop("immediate")
