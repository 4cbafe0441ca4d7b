"""Streaming replicas of the embedded server, for `plue-db up --replicas N` and `down`.

They live beside the embedded data directory (``<PLUE_DB_PGDATA>-replicas/replicaK``),
are kept across runs like the primary, and listen on 127.0.0.1 at the port chosen when
each was created. servers.replica_urls() finds the running ones, so a service started
without PLUE_DB_REPLICA_URLS routes reads to them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg

import plue_db.servers.embedded as embedded
import plue_db.servers.replicas as replicas
from plue_db.servers.pidfile import PidFile


def root() -> Path:
    return embedded.data_dir().with_name(embedded.data_dir().name + "-replicas")


def directories() -> list[Path]:
    """The replicas' data directories, replica1 first."""
    if not root().is_dir():
        return []
    return sorted((d for d in root().iterdir() if (d / "PG_VERSION").exists()), key=_number)


def _what(data_dir: Path) -> str:
    return f"{data_dir.name} of the embedded PostgreSQL ({data_dir})"


def _number(path: Path) -> int:
    digits = path.name.removeprefix("replica")
    return int(digits) if digits.isdigit() else 0


def clear_stale(count: int) -> list[str]:
    """Remove the stale postmaster.pid of replicas 1..count (pidfile); says which."""
    said = (
        PidFile.postgres(d).before_start(_what(d))
        for d in directories()
        if 1 <= _number(d) <= count
    )
    return [line for line in said if line is not None]


def start(count: int, primary_url: str, say: Callable[[str], None]) -> list[str]:
    """Run replicas 1..count of the embedded primary (creating the missing ones), calling
    ``say`` with a line as each is up (a clone takes seconds); returns their URLs, each
    checked to reach its replica (ReplicaError if one does not)."""
    existing = {d.name: replicas.Node.existing(d.name, d) for d in directories()}
    root().mkdir(parents=True, exist_ok=True)
    urls = []
    for k in range(1, count + 1):
        name = f"replica{k}"
        node = existing.get(name)
        started = time.monotonic()
        if node is None:
            _drop_stale_slot(primary_url, name)
            node = replicas.clone_replica(primary_url, root() / name, name=name)
            done = "cloned from the primary and started"
        elif not node.running():
            node.start()
            done = "started"
        else:
            done = "already running"
        why = node.unreachable()
        if why is not None:
            raise replicas.ReplicaError(
                f"{_what(node.data_dir)} {why}; run `plue-db down`, then `plue-db up "
                f"--replicas {count}` (or remove {node.data_dir} to clone it again)"
            )
        urls.append(node.url())
        say(f"{name} of {count}: {done} ({time.monotonic() - started:.1f} s)")
    return urls


def _drop_stale_slot(primary_url: str, name: str) -> None:
    """A slot left by a replica whose directory was deleted would block its re-creation."""
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            [name],
        )


def running_urls() -> list[str]:
    return [
        node.url()
        for node in (replicas.Node.existing(d.name, d) for d in directories())
        if node.running()
    ]


def stop(data_dir: Path) -> str:
    """Stop one replica (``plue-db down``); says what it did. A stale postmaster.pid is
    removed and its process left alone."""
    nothing_to_stop = PidFile.postgres(data_dir).before_stop(_what(data_dir))
    if nothing_to_stop is not None:
        return nothing_to_stop
    replicas.Node.existing(data_dir.name, data_dir).stop("fast")
    return f"stopped {_what(data_dir)}"
