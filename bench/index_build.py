"""Does a plain CREATE INDEX block writes, and CREATE INDEX CONCURRENTLY not?

The claim behind squawk's require-concurrent-index-creation (plue_db.schema.migration_lint),
measured: writer threads call the generated ``issues.create_issue`` (each on its own
repository, so they never wait for each other's repository row) on a seeded scratch
database, while the main thread builds an index on issues, first plainly, then
CONCURRENTLY. For each build: its duration, the writes that completed while it ran,
and the longest write latency of a write overlapping it, against the longest before it.

    nice -n 10 .venv/bin/python -m bench.index_build [--server-url URL] [--rows N]

About 30 s with the defaults; issues are padded with ``--rows`` bulk rows so a build
takes seconds, not milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from dataclasses import dataclass
from typing import LiteralString

import psycopg
from plue_queries import issues

from bench import seed
from bench.scratch import scratch_database
from plue_db import servers

WRITERS = 4
BEFORE = 2.0  # seconds of writes before a build starts: the baseline
AFTER = 1.0
# Rows to pad issues with in one statement, on repositories the writers do not use.
PAD: LiteralString = """
INSERT INTO issues (repository_id, issue_number, title, body, author_id)
SELECT 10 + g %% 10, 1000000 + g, 'Padding issue ' || g, repeat(md5(g::text), 6), 1 + g %% 500
FROM generate_series(1, %s) g"""
BUILDS: tuple[tuple[str, LiteralString], ...] = (
    ("CREATE INDEX", "CREATE INDEX bench_issue_body ON issues (lower(body), title)"),
    (
        "CREATE INDEX CONCURRENTLY",
        "CREATE INDEX CONCURRENTLY bench_issue_body ON issues (lower(body), title)",
    ),
)


@dataclass(frozen=True, slots=True)
class Write:
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Build:
    statement: str
    seconds: float
    writes_during: int
    max_latency_during: float
    max_latency_before: float
    median_latency_before: float


def writer(url: str, repository_id: int, stop: threading.Event, out: list[Write]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            start = time.perf_counter()
            issues.create_issue(conn, repository_id=repository_id, title="Write", body="b")
            out.append(Write(start, time.perf_counter()))


def measure(
    url: str, statement: str, ddl: LiteralString, before: float = BEFORE, after: float = AFTER
) -> Build:
    stop = threading.Event()
    logs: list[list[Write]] = [[] for _ in range(WRITERS)]
    threads = [
        threading.Thread(target=writer, args=(url, 2 + i, stop, log)) for i, log in enumerate(logs)
    ]
    for thread in threads:
        thread.start()
    with psycopg.connect(url, autocommit=True) as conn:
        time.sleep(before)
        began = time.perf_counter()
        conn.execute(ddl)
        ended = time.perf_counter()
        time.sleep(after)
        stop.set()
        for thread in threads:
            thread.join()
        conn.execute("DROP INDEX bench_issue_body")
    writes = [w for log in logs for w in log]
    earlier = [w.end - w.start for w in writes if w.end < began]
    overlapping = [w.end - w.start for w in writes if w.start < ended and w.end > began]
    return Build(
        statement,
        ended - began,
        sum(1 for w in writes if began <= w.end <= ended),
        max(overlapping, default=0.0),
        max(earlier),
        statistics.median(earlier),
    )


def run(server_url: str, rows: int, before: float = BEFORE, after: float = AFTER) -> list[Build]:
    with scratch_database(server_url) as url:
        seed.seed(url, seed.QUICK, random.Random(19))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(PAD, (rows,))
            conn.execute("VACUUM ANALYZE issues")
        return [measure(url, statement, ddl, before, after) for statement, ddl in BUILDS]


def table(builds: list[Build], rows: int) -> str:
    lines = [
        f"| build ({WRITERS} writers, issues + {rows:,} rows) | build s | writes during "
        "| max write latency during | max / median before |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| `{b.statement}` | {b.seconds:.2f} | {b.writes_during} "
        f"| {b.max_latency_during * 1000:.0f} ms "
        f"| {b.max_latency_before * 1000:.0f} / {b.median_latency_before * 1000:.1f} ms |"
        for b in builds
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", help="default: the configured server")
    parser.add_argument("--rows", type=int, default=300_000, help="padding rows in issues")
    args = parser.parse_args()
    server = args.server_url or servers.database_url()
    version = psycopg.connect(server).info.server_version
    print(f"PostgreSQL {version // 10000}")
    print(table(run(server, args.rows), args.rows))


if __name__ == "__main__":
    main()
