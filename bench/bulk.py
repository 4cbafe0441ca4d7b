"""Bulk and batched writes at PostgreSQL's default settings (every commit waits for WAL).

Log ingestion: 100,000 lines through the generated ``:copyfrom`` vs ``executemany`` vs
single autocommitted INSERTs (timed on a sample and extrapolated per row). Small
writes: 1,000 reactions through pipeline mode vs a loop of the generated function.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import psycopg
from plue_queries import enums, issues, workflows

from bench import placeholders
from bench.harness import Case, Timer, Workload
from bench.seed import Seeded

INSERT_LOG = placeholders.format_style(workflows.COPY_WORKFLOW_LOGS)
ADD_REACTION = issues.ADD_REACTION


def _per_row(run: Callable[[int], None]) -> Timer:
    def timer(n: int) -> float:
        start = time.perf_counter()
        run(n)
        return (time.perf_counter() - start) / n

    return timer


def log_ingestion(
    conn: psycopg.Connection[Any], seeded: Seeded, rows: int, single_sample: int
) -> Workload:
    """Seconds per log line written; executemany is the baseline. ``conn`` autocommits."""
    lines = [f"step 3/7: compiling module {i % 211} ... ok" for i in range(rows)]
    run_id, step_id = seeded.run_id, seeded.step_id

    def copyfrom(n: int) -> None:
        params = (
            workflows.CopyWorkflowLogsParams(run_id, step_id, enums.LogStream.STDOUT, c)
            for c in lines[:n]
        )
        assert workflows.copy_workflow_logs(conn, params) == n

    def executemany(n: int) -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(INSERT_LOG, [(run_id, step_id, "stdout", c) for c in lines[:n]])

    def single(n: int) -> None:
        for c in lines[:n]:
            conn.execute(INSERT_LOG, (run_id, step_id, "stdout", c))

    def single_timer(n: int) -> float:
        return _per_row(single)(min(n, single_sample))

    return Workload(
        f"bulk: {rows:,} log lines",
        rows,
        [
            Case("executemany, one transaction (baseline)", _per_row(executemany)),
            Case("generated :copyfrom (copy_workflow_logs)", _per_row(copyfrom)),
            Case(f"single autocommit INSERTs ({single_sample} sampled, per row)", single_timer),
        ],
    )


def small_writes(conn: psycopg.Connection[Any], seeded: Seeded, writes: int) -> Workload:
    """Seconds per reaction added (``conn`` autocommits).

    A loop of the generated :execrows in one transaction is the baseline. No query is
    declared :batchexec, so the pipeline case runs what the :batchexec template runs
    (RawCursor.executemany in a transaction).
    """
    users, total_issues = seeded.size.users, seeded.size.issues
    keys = itertools.count()

    def fresh(n: int) -> list[tuple[Any, ...]]:
        """Never-used (user, issue) pairs, so no INSERT is skipped by ON CONFLICT."""
        out = []
        for k in itertools.islice(keys, n):
            out.append((k // total_issues % users + 1, k % total_issues + 1, None, "+1"))
        return out

    def loop_autocommit(n: int) -> None:
        for u, i, c, e in fresh(n):
            issues.add_reaction(conn, user_id=u, issue_id=i, comment_id=c, emoji=e)

    def loop(n: int) -> None:
        with conn.transaction():
            loop_autocommit(n)

    def pipeline(n: int) -> None:
        params = fresh(n)
        with conn.transaction(), psycopg.RawCursor(conn) as cur:
            cur.executemany(ADD_REACTION, params)

    return Workload(
        f"{writes:,} small writes (add_reaction)",
        writes,
        [
            Case("loop of generated calls, one transaction (baseline)", _per_row(loop)),
            Case("pipeline: executemany as :batchexec would (none declared)", _per_row(pipeline)),
            Case("loop of generated calls, autocommit each", _per_row(loop_autocommit)),
        ],
    )
