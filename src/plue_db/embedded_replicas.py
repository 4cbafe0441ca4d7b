"""Streaming replicas of the embedded server, for `plue-db up --replicas N` and `down`.

They live beside the embedded data directory (``<PLUE_DB_PGDATA>-replicas/replicaK``),
are kept across runs like the primary, and listen on 127.0.0.1 at the port chosen when
each was created. servers.replica_urls() finds the running ones, so a service started
without PLUE_DB_REPLICA_URLS routes reads to them.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from plue_db import embedded, replicas


def root() -> Path:
    return embedded.data_dir().with_name(embedded.data_dir().name + "-replicas")


def _nodes() -> list[replicas.Node]:
    if not root().is_dir():
        return []
    dirs = sorted((d for d in root().iterdir() if (d / "PG_VERSION").exists()), key=_number)
    return [replicas.Node.existing(d.name, d) for d in dirs]


def _number(path: Path) -> int:
    digits = path.name.removeprefix("replica")
    return int(digits) if digits.isdigit() else 0


def start(count: int, primary_url: str) -> list[str]:
    """Run replicas 1..count of the embedded primary (creating the missing ones);
    returns their URLs."""
    existing = {node.name: node for node in _nodes()}
    root().mkdir(parents=True, exist_ok=True)
    urls = []
    for k in range(1, count + 1):
        name = f"replica{k}"
        node = existing.get(name)
        if node is None:
            _drop_stale_slot(primary_url, name)
            node = replicas.clone_replica(primary_url, root() / name, name=name)
        elif not node.running():
            node.start()
        urls.append(node.url())
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
    return [node.url() for node in _nodes() if node.running()]


def stop() -> list[str]:
    """Stop every running replica; says what it did for each."""
    done = []
    for node in _nodes():
        if node.running():
            node.stop("fast")
            done.append(f"stopped {node.name} of the embedded PostgreSQL ({node.data_dir})")
    return done
