"""Routing workloads: what plue_db.routing costs per call, and how long read-your-writes
waits under injected replay lag.

A primary and three streaming replicas of the wheel's PostgreSQL 16 are started here
(plue_db.servers.replicas, in a temporary directory, always stopped afterwards), whatever server
the rest of the benchmark runs on. The replicas apply WAL 0, 10 and 100 ms late
(``recovery_min_apply_delay``): real lag, not a simulation.

- *Overhead*: one generated point lookup per checkout, one after another. The baseline
  is ``pool.connection()`` of a plain :func:`plue_db.pool.open_pool` on the primary;
  ``router.connection()`` and ``router.reader()`` of a router with no replicas run on
  the primary too. ``router.reader()`` with a replica is compared with a plain pool on
  that replica (same server, so the ratio is the router's own cost: the rotation, the
  read-only marking, a lag query at most once a second).
- *Read-your-writes*: each op commits a user on the primary, takes
  ``router.position()`` and reads the user back through ``reader(after=...)``. The
  baseline does the same with a plain ``reader()`` (no wait, may read stale), so the
  difference is the wait itself.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psycopg
from plue_queries import users
from psycopg import sql

from bench.harness import Case, Timer, Workload, WorkloadResult
from plue_db import config
from plue_db.pool import SyncPool, open_pool
from plue_db.routing import Router, RoutingSettings, open_router
from plue_db.servers import replicas

DBNAME = "plue_bench_routing"
LAGS_MS = (0, 10, 100)
POOL_MIN, POOL_MAX = 1, 2  # sizes of every pool here

PLAIN = "plain pool.connection() (baseline)"
PLAIN_AA = "plain pool.connection() (A/A control)"
ROUTER_CONNECTION = "router.connection(), no replicas"
ROUTER_READER = "router.reader(), no replicas"
PLAIN_REPLICA = "plain pool.connection() on the replica"
REPLICA_READER = "router.reader(), one replica"
STALE = "reader() without after (baseline)"
STALE_AA = "reader() without after (A/A control)"


def reader_after(lag_ms: int) -> str:
    return f"reader(after=position()), {lag_ms} ms lag"


@dataclass(slots=True)
class Routes:
    """The pools and routers every case runs on, and where reads landed."""

    cluster: replicas.Cluster
    plain: SyncPool
    plain_replica: SyncPool
    bare: Router  # no replicas
    lagged: dict[int, Router]  # one replica each, by its apply delay
    user_ids: list[int]
    fallbacks: dict[str, int] = field(default_factory=dict)
    written: Iterator[int] = field(default_factory=itertools.count)  # usernames


@contextmanager
def routes(users_to_seed: int = 200) -> Iterator[Routes]:
    """A primary with the schema and ``users_to_seed`` users, one replica per lag in
    LAGS_MS, and the pools and routers on them; all closed and stopped on exit."""
    with replicas.running_cluster(0) as cluster, ExitStack() as stack:
        with psycopg.connect(cluster.primary.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
        url = cluster.primary.url(DBNAME)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(config.SCHEMA_PATH.read_bytes())
            user_ids = [
                users.create_user(
                    conn, username=f"bench-{k}", display_name="", bio="", is_admin=False
                ).id
                for k in range(users_to_seed)
            ]
        nodes = {lag: cluster.add_replica(f"lag{lag}ms", delay_ms=lag) for lag in LAGS_MS}
        for node in nodes.values():
            replicas.wait_replayed(cluster.primary.url(), node.url(), timeout=30)
        plain = stack.enter_context(open_pool(url, min_size=POOL_MIN, max_size=POOL_MAX))
        plain_replica = stack.enter_context(
            open_pool(nodes[0].url(DBNAME), min_size=POOL_MIN, max_size=POOL_MAX)
        )
        bare = stack.enter_context(open_router(url, [], min_size=POOL_MIN, max_size=POOL_MAX))
        lagged = {
            lag: stack.enter_context(
                open_router(url, [node.url(DBNAME)], min_size=POOL_MIN, max_size=POOL_MAX)
            )
            for lag, node in nodes.items()
        }
        yield Routes(cluster, plain, plain_replica, bare, lagged, user_ids)


def _lookups(checkout: Callable[[], AbstractContextManager[Any]], ids: list[int]) -> Timer:
    """Timer of ``n`` checkouts, each running one generated point lookup."""
    source = itertools.cycle(ids)

    def timer(n: int) -> float:
        batch = list(itertools.islice(source, n))
        start = time.perf_counter()
        for user_id in batch:
            with checkout() as conn:
                users.get_user_by_id(conn, id=user_id)
        return (time.perf_counter() - start) / n

    return timer


def overhead(r: Routes, ops: int) -> Workload:
    """Per-call cost of routing against plain pools (see the module docstring)."""
    replica_router = r.lagged[0]
    return Workload(
        "routing overhead: point lookup per checkout",
        ops,
        [
            Case(PLAIN, _lookups(r.plain.connection, r.user_ids)),
            Case(PLAIN_AA, _lookups(r.plain.connection, r.user_ids)),
            Case(ROUTER_CONNECTION, _lookups(r.bare.connection, r.user_ids)),
            Case(ROUTER_READER, _lookups(r.bare.reader, r.user_ids)),
            Case(PLAIN_REPLICA, _lookups(r.plain_replica.connection, r.user_ids)),
            Case(REPLICA_READER, _lookups(replica_router.reader, r.user_ids)),
        ],
    )


def _write_then_read(r: Routes, router: Router, label: str, *, wait: bool) -> Timer:
    """Timer of ``n`` ops: commit a user on the primary, read it back through ``router``
    (with ``after=`` when ``wait``); a read that fell back to the primary is counted."""

    def timer(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            with router.connection() as conn:
                user = users.create_user(
                    conn,
                    username=f"ryw-{next(r.written)}",
                    display_name="",
                    bio="",
                    is_admin=False,
                )
            mark = router.position() if wait else None
            with router.reader(after=mark) as conn:
                users.get_user_by_id(conn, id=user.id)
                if conn.info.port == r.cluster.primary.port:
                    r.fallbacks[label] = r.fallbacks.get(label, 0) + 1
        return (time.perf_counter() - start) / n

    return timer


def read_your_writes(r: Routes, ops: int) -> Workload:
    """The read-your-writes wait under 0, 10 and 100 ms of replay lag."""
    fresh = r.lagged[0]
    cases = [
        Case(STALE, _write_then_read(r, fresh, STALE, wait=False)),
        Case(STALE_AA, _write_then_read(r, fresh, STALE_AA, wait=False)),
    ]
    cases += [
        Case(reader_after(lag), _write_then_read(r, r.lagged[lag], reader_after(lag), wait=True))
        for lag in LAGS_MS
    ]
    return Workload("read-your-writes: commit, then read it back", ops, cases)


def settings_note() -> str:
    """The routing settings the workloads ran with (the defaults)."""
    s = RoutingSettings()
    return (
        f"Routing settings: defaults (max_lag_s={s.max_lag_s:g}, wait_s={s.wait_s:g}, "
        f"lag_check_s={s.lag_check_s:g}); pools min_size={POOL_MIN}, max_size={POOL_MAX}."
    )


def overhead_pairs(w: WorkloadResult) -> list[tuple[str, float]]:
    """The ratios the ≤ 5% target is stated in, each taken within a round."""
    return [
        (f"{w.name}: {case} / plain pool", w.paired_ratio(case, PLAIN))
        for case in (PLAIN_AA, ROUTER_CONNECTION, ROUTER_READER)
    ] + [
        (
            f"{w.name}: {REPLICA_READER} / plain pool on it",
            w.paired_ratio(REPLICA_READER, PLAIN_REPLICA),
        )
    ]


class Wait(NamedTuple):
    """One read-your-writes case: how long the reader waited and how often it fell back."""

    label: str
    wait_ms: float
    """The median over rounds of (case - baseline)."""
    fell_back: int
    """Reads that went to the primary instead."""


def waits(w: WorkloadResult, fallbacks: dict[str, int]) -> list[Wait]:
    """The read-your-writes wait per lag, and how many reads fell back to the primary."""
    base = w.case(STALE).seconds
    return [
        Wait(
            label,
            statistics.median(
                1e3 * (c - b) for c, b in zip(w.case(label).seconds, base, strict=True)
            ),
            fallbacks.get(label, 0),
        )
        for label in [STALE_AA, *(reader_after(lag) for lag in LAGS_MS)]
    ]


def waits_table(rows: list[Wait]) -> str:
    """The waits as the Markdown table bench/README.md shows."""
    lines = [
        "| read-your-writes | wait, ms (median in-round difference) | fell back to the primary |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r.label} | {r.wait_ms:.1f} | {r.fell_back} |" for r in rows]
    return "\n".join(lines)
