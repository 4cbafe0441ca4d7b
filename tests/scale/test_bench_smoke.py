"""``python -m bench --quick`` end to end on the test server: the table, the chart, cleanup.

Checked on what main() returns: a result per workload and case, positive times and
ratios, every named comparison, the reader's wait behind 100 ms of lag, a PNG, the
scratch database gone. Timings on a shared machine are not otherwise assertions.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from bench import asyncpg_target, bulk, latency, routing
from bench.__main__ import main

SINGLE = [
    latency.BASELINE,
    latency.AA,
    latency.GENERATED,
    latency.GENERATED_ASYNC,
    latency.RAW_ASYNC,
    latency.ASYNCPG,
    latency.SQLALCHEMY,
    latency.PGBENCH,
]
THREADED = [
    latency.BASELINE,
    latency.AA,
    latency.GENERATED,
    latency.SQLALCHEMY,
    latency.PGBENCH,
]
ON_ASYNCPG = [
    asyncpg_target.RAW,
    asyncpg_target.AA,
    asyncpg_target.GENERATED,
    asyncpg_target.PSYCOPG,
]


def test_quick_run_measures_every_case_and_writes_a_chart(server_url: str, tmp_path: Path) -> None:
    chart = tmp_path / "bench.png"
    logged: list[str] = []

    run = main(["--quick", "--server-url", server_url, "--chart", str(chart)], log=logged.append)

    cases_by_workload = {w.name: [c.label for c in w.cases] for w in run.results}
    assert cases_by_workload == {
        "point lookup (get_user_by_id)": SINGLE,
        "50-row list (list_issues)": SINGLE,
        "insert RETURNING (create_comment)": SINGLE,
        "create-issue (create_issue)": SINGLE,
        "point lookup (get_user_by_id), 8 threads": THREADED,
        "create-issue (create_issue), 8 threads": THREADED,
        "bulk: 500 log lines": [
            bulk.EXECUTEMANY,
            bulk.COPYFROM,
            f"{bulk.SINGLE} (20 sampled, per row)",
            bulk.EXECUTEMANY_NULL,
            bulk.COPYFROM_NULL,
            bulk.BINARY_COPY,
            "executemany into no-FK copy",
            "text COPY into no-FK copy",
            "binary COPY into no-FK copy",
            "executemany into bare copy",
            "text COPY into bare copy",
            "binary COPY into bare copy",
        ],
        "50 small writes (attach labels)": [bulk.LOOP, bulk.BATCHEXEC, bulk.LOOP_AUTOCOMMIT],
        "stream 500 log lines": [bulk.RAW_STREAM, bulk.STREAM_IN_TX, bulk.STREAM_HOLD],
        "asyncpg: point lookup (get_user_by_id)": ON_ASYNCPG,
        "asyncpg: 50-row list (list_issues)": ON_ASYNCPG,
        "asyncpg: insert RETURNING (create_comment)": ON_ASYNCPG,
        "asyncpg: point lookup (get_user_by_id), 8 tasks": ON_ASYNCPG,
        "asyncpg: update_user_profile (success path)": [
            asyncpg_target.BEFORE,
            asyncpg_target.BEFORE_AA,
            asyncpg_target.HANDLED,
        ],
        "routing overhead: point lookup per checkout": [
            routing.PLAIN,
            routing.PLAIN_AA,
            routing.ROUTER_CONNECTION,
            routing.ROUTER_READER,
            routing.PLAIN_REPLICA,
            routing.REPLICA_READER,
        ],
        "read-your-writes: commit, then read it back": [
            routing.STALE,
            routing.STALE_AA,
            *(routing.reader_after(lag) for lag in routing.LAGS_MS),
        ],
    }
    cases = [c for w in run.results for c in w.cases]
    assert all(c.median_us > 0 and c.median_ratio > 0 for c in cases)
    assert {c.median_ratio for c in cases if "baseline" in c.label} == {1.0}
    compared = [label for label, _ in run.pairs]
    for comparison in (
        "generated async / raw async",
        "executemany / :copyfrom",
        "loop / :batchexec",
        "stream 500 log lines: generated WITH HOLD / raw",
        "router.reader(), no replicas / plain pool",
        "asyncpg: 50-row list (list_issues): generated asyncpg / raw asyncpg",
        "asyncpg: point lookup (get_user_by_id), 8 tasks: generated asyncpg / raw asyncpg",
        "asyncpg: insert RETURNING (create_comment): generated asyncpg / generated psycopg async",
        "asyncpg: update_user_profile (success path): generated, with handler / before",
        "asyncpg: update_user_profile (success path): A/A",
    ):
        assert any(comparison in label for label in compared), comparison
    assert all(ratio > 0 for _, ratio in run.pairs)
    # 100 ms of apply delay is a floor the server enforces: the reader waited for it,
    # on the replica (no fallback to the primary).
    [waited] = [w for w in run.waits if w.label == routing.reader_after(100)]
    assert waited.wait_ms > 50 and waited.fell_back == 0, run.waits
    assert "Machine:" in run.text and run.text in logged
    assert run.chart == chart and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"plue_bench_{os.getpid()}_%",),
        ).fetchall()
    assert left == []
