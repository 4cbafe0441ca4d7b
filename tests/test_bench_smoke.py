"""``python -m bench --quick`` end to end on the test server: the table, the chart, cleanup.

Only the shape is checked (a row per workload and case, finite positive ratios, a PNG,
the scratch database gone); timings on a shared machine are not assertions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg

from bench import bulk, latency, routing
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
ROW = re.compile(
    r"^\| (?P<workload>[^|]+) \| (?P<case>[^|]+) \| (?P<us>[\d,.]+) \| (?P<ratio>[\d.]+) \|"
)


def test_quick_run_prints_every_row_and_writes_a_chart(server_url: str, tmp_path: Path) -> None:
    chart = tmp_path / "bench.png"
    logged: list[str] = []

    text = main(["--quick", "--server-url", server_url, "--chart", str(chart)], log=logged.append)

    rows = [m.groupdict() for line in text.splitlines() if (m := ROW.match(line))]
    cases_by_workload: dict[str, list[str]] = {}
    for row in rows:
        cases_by_workload.setdefault(row["workload"], []).append(row["case"])
        assert float(row["us"].replace(",", "")) > 0
        assert float(row["ratio"]) > 0
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
    baselines = [r for r in rows if "baseline" in r["case"]]
    assert {float(r["ratio"]) for r in baselines} == {1.0}
    assert "generated async / raw async" in text
    assert "executemany / :copyfrom" in text
    assert "loop / :batchexec" in text
    assert "stream 500 log lines: generated WITH HOLD / raw" in text
    assert "router.reader(), no replicas / plain pool" in text
    # 100 ms of apply delay is a floor the server enforces: the reader waited for it,
    # on the replica (no fallback to the primary).
    wait_row = re.escape(f"| {routing.reader_after(100)} | ") + r"([\d.-]+) \| 0 \|$"
    waited = re.search(wait_row, text, re.MULTILINE)
    assert waited is not None and float(waited[1]) > 50, text
    assert "Machine:" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"plue_bench_{os.getpid()}_%",),
        ).fetchall()
    assert left == []
