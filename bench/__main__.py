"""``python -m bench``: every benchmark of plue-db in one run, in a scratch database.

Prints a Markdown table (the one in bench/README.md) and writes a PNG chart; ``main``
also returns what it measured, for tests/scale/test_bench_smoke.py.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench import asyncpg_target, bulk, harness, latency, report, routing, seed, statements
from bench.harness import WorkloadResult
from bench.scratch import scratch_database
from plue_db import dsn, servers

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to measure: the default run, or ``--quick`` for a smoke run."""

    size: seed.Size
    rounds: int
    bulk_rounds: int
    lookup_ops: int
    list_ops: int
    write_ops: int
    threaded_ops: int
    bulk_rows: int
    single_sample: int
    small_writes: int
    round_budget: float
    """Seconds one round of a latency workload may take before it runs fewer ops."""
    routing_ops: int
    read_your_writes_ops: int


FULL = Plan(seed.FULL, 24, 3, 300, 150, 150, 800, 100_000, 300, 1_000, 1.0, 300, 10)
QUICK = Plan(seed.QUICK, 2, 1, 10, 5, 5, 16, 500, 20, 50, 0.5, 10, 2)


@dataclass(frozen=True, slots=True)
class BenchRun:
    """A run's measurements and the Markdown printed from them."""

    results: list[WorkloadResult]
    pairs: list[tuple[str, float]]
    """The named in-round ratios (label, ratio)."""
    waits: list[routing.Wait]
    text: str
    chart: Path


def main(argv: Sequence[str] | None = None, log: Callable[[str], None] = print) -> BenchRun:
    """Run everything; print the Markdown results and return them with the measurements."""
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    server = args.server_url or servers.database_url()
    started = time.perf_counter()
    results: list[WorkloadResult] = []
    pairs: list[tuple[str, float]] = []
    if not args.only_routing:
        with scratch_database(server) as url:
            log(f"seeding {plan.size} ...")
            seeded = seed.seed(url, plan.size, random.Random(20250601))
            results, pairs = _measure(url, seeded, plan, log)
    routed, waits = _routing(plan, log)
    results += routed
    pairs += routing.overhead_pairs(routed[0])
    text = "\n\n".join(
        [
            report.table(results),
            report.comparisons(pairs),
            routing.waits_table(waits),
            routing.settings_note(),
            _machine(server, plan, started),
        ]
    )
    log(text)
    chart = (
        Path(args.chart) if args.chart else RESULTS / ("quick.png" if args.quick else "bench.png")
    )
    report.chart(results, chart)
    log(f"chart written to {chart}")
    return BenchRun(results, pairs, waits, text, chart)


def _measure(
    url: str, seeded: seed.Seeded, plan: Plan, log: Callable[[str], None]
) -> tuple[list[WorkloadResult], list[tuple[str, float]]]:
    rng = random.Random(1)
    lookup = statements.point_lookup(seeded, rng, 2000)
    page = statements.list_page(seeded, 10)
    comment = statements.insert_returning(seeded, rng, 2000)
    new_issue = statements.create_issue(seeded, rng, 2000)
    results: list[WorkloadResult] = []
    # Commits skip the WAL flush here (~4 ms on this disk), which would bury the
    # client's cost; the bulk section below runs at the default settings.
    with latency.connect(_no_sync_commit(url)) as c:
        for workload in (
            latency.single(c, lookup, plan.lookup_ops),
            latency.single(c, page, plan.list_ops),
            latency.single(c, comment, plan.write_ops),
            latency.single(c, new_issue, plan.write_ops),
            latency.concurrent(c, lookup, plan.threaded_ops),
            latency.concurrent(c, new_issue, plan.threaded_ops),
        ):
            results.append(harness.run(workload, plan.rounds, log, plan.round_budget))
    with psycopg.connect(url, autocommit=True) as conn:
        for workload in (
            bulk.log_ingestion(conn, seeded, plan.bulk_rows, plan.single_sample),
            bulk.small_writes(conn, seeded, plan.small_writes),
            bulk.streaming(conn, seeded, plan.bulk_rows),
        ):
            results.append(harness.run(workload, plan.bulk_rounds, log))
    pairs = _pairs(results)
    on_asyncpg, asyncpg_pairs = asyncpg_target.measure(
        _no_sync_commit(url), seeded, plan.rounds, plan.lookup_ops, log
    )
    return results + on_asyncpg, pairs + asyncpg_pairs


def _routing(
    plan: Plan, log: Callable[[str], None]
) -> tuple[list[WorkloadResult], list[routing.Wait]]:
    """The routing workloads, on a primary and replicas of their own (bench/routing.py);
    returns the overhead and read-your-writes results and the waits."""
    log("starting a primary and three lagging replicas (wheel PostgreSQL 16) ...")
    with routing.routes() as routes:
        overhead = harness.run(routing.overhead(routes, plan.routing_ops), plan.rounds, log)
        ryw = harness.run(
            routing.read_your_writes(routes, plan.read_your_writes_ops), plan.rounds, log
        )
        return [overhead, ryw], routing.waits(ryw, routes.fallbacks)


def _pairs(results: list[WorkloadResult]) -> list[tuple[str, float]]:
    """The ratios the targets are stated in, each taken within a round."""
    out = []
    for w in results[:4]:
        out += [
            (f"{w.name}: generated / raw", w.paired_ratio(latency.GENERATED, latency.BASELINE)),
            (f"{w.name}: A/A", w.paired_ratio(latency.AA, latency.BASELINE)),
            (f"{w.name}: generated / pgbench", w.paired_ratio(latency.GENERATED, latency.PGBENCH)),
            (
                f"{w.name}: SQLAlchemy / generated",
                w.paired_ratio(latency.SQLALCHEMY, latency.GENERATED),
            ),
            (
                f"{w.name}: generated async / raw async",
                w.paired_ratio(latency.GENERATED_ASYNC, latency.RAW_ASYNC),
            ),
            (f"{w.name}: asyncpg / raw async", w.paired_ratio(latency.ASYNCPG, latency.RAW_ASYNC)),
        ]
    for w in results[4:6]:
        out.append(
            (f"{w.name}: generated / raw", w.paired_ratio(latency.GENERATED, latency.BASELINE))
        )
    return out + _bulk_pairs(results[6], results[7]) + _stream_pairs(results[8])


def _bulk_pairs(copy: WorkloadResult, batch: WorkloadResult) -> list[tuple[str, float]]:
    """How much faster COPY and the pipeline are, and where a log row's time goes."""

    def pair(w: WorkloadResult, label: str, numerator: str, denominator: str) -> None:
        out.append((f"{w.name}: {label}", w.paired_ratio(numerator, denominator)))

    out: list[tuple[str, float]] = []
    pair(copy, "executemany / :copyfrom", bulk.EXECUTEMANY, bulk.COPYFROM)
    pair(copy, "single inserts / :copyfrom", copy.cases[2].label, bulk.COPYFROM)
    pair(copy, "executemany / :copyfrom, step_id NULL", bulk.EXECUTEMANY_NULL, bulk.COPYFROM_NULL)
    pair(copy, ":copyfrom (text) / binary COPY", bulk.COPYFROM, bulk.BINARY_COPY)
    for table in (bulk.NO_FK, bulk.BARE):
        into = bulk.stripped(table)
        pair(copy, f"executemany / text COPY, {into}", f"executemany {into}", f"text COPY {into}")
        pair(copy, f":copyfrom / text COPY {into}", bulk.COPYFROM, f"text COPY {into}")
        pair(copy, f"text / binary COPY {into}", f"text COPY {into}", f"binary COPY {into}")
    pair(batch, "loop / :batchexec", bulk.LOOP, bulk.BATCHEXEC)
    pair(batch, "autocommit loop / :batchexec", bulk.LOOP_AUTOCOMMIT, bulk.BATCHEXEC)
    return out


def _stream_pairs(stream: WorkloadResult) -> list[tuple[str, float]]:
    """What a generated stream costs over a raw server-side cursor, in and out of a
    transaction (WITH HOLD)."""
    return [
        (f"{stream.name}: {label} / raw", stream.paired_ratio(case, bulk.RAW_STREAM))
        for label, case in (
            ("generated in a transaction", bulk.STREAM_IN_TX),
            ("generated WITH HOLD", bulk.STREAM_HOLD),
        )
    ]


def _no_sync_commit(url: str) -> str:
    options = conninfo_to_dict(url).get("options") or ""
    return dsn.with_params(url, options=f"{options} -c synchronous_commit=off".strip())


def _machine(server: str, plan: Plan, started: float) -> str:
    with psycopg.connect(server) as conn:
        version = conn.execute("SELECT version()").fetchone()
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"Machine: {os.cpu_count()} cores, {cpu}; server: "
        f"{version[0] if version else '?'}; Python {sys.version.split()[0]}; "
        f"{plan.rounds} rounds (bulk {plan.bulk_rounds}); run took "
        f"{time.perf_counter() - started:.0f} s."
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny data and 2 rounds: a smoke run")
    p.add_argument("--rounds", type=int, default=0, help="interleaved rounds (default 24)")
    p.add_argument(
        "--server-url",
        help="server to create the scratch database on (default: DATABASE_URL or embedded PG16)",
    )
    p.add_argument("--chart", help="PNG path (default bench/results/bench.png)")
    p.add_argument(
        "--only-routing",
        action="store_true",
        help="only the routing workloads (their own primary and replicas, bench/routing.py)",
    )
    return p


if __name__ == "__main__":
    main()
