"""Bulk and batched writes at PostgreSQL's default settings (every commit waits for WAL).

Log ingestion: 100,000 lines through the generated ``:copyfrom`` vs ``executemany`` vs
single autocommitted INSERTs (timed on a sample and extrapolated per row), and, to see
where a row's time goes, the same with ``step_id`` NULL (one foreign-key check fewer),
through binary COPY, and into stripped copies of the table (no foreign keys; no keys,
indexes or identity at all). Small writes: 1,000 label attachments through the
generated ``:batchexec`` vs loops of the generated ``:execrows``. Streaming: the log
read back through the generated ``iter_*`` vs a raw psycopg server-side cursor.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import psycopg
from plue_queries import enums, issues, models, workflows
from psycopg import sql
from psycopg.abc import Query
from psycopg.rows import tuple_row

from bench import placeholders
from bench.harness import Case, Timer, Workload
from bench.seed import Seeded

INSERT_LOG = placeholders.format_style(workflows.COPY_WORKFLOW_LOGS)
NO_FK = "bench_logs_no_fk"
"""workflow_logs with its identity, primary key and indexes, without foreign keys."""
BARE = "bench_logs_bare"
"""workflow_logs' data columns only: no identity, key, index or foreign key."""
LOG_COLUMNS = sql.SQL("(run_id, step_id, stream, content)")
BINARY_TYPES = ["int8", "int8", "text", "text"]
"""An enum's binary form is its label's bytes, so ``text`` dumps ``log_stream`` too."""

COPYFROM = "generated :copyfrom (copy_workflow_logs)"
EXECUTEMANY = "executemany, one transaction (baseline)"
SINGLE = "single autocommit INSERTs"
EXECUTEMANY_NULL = "executemany, one transaction, step_id NULL"
COPYFROM_NULL = "generated :copyfrom, step_id NULL"
BINARY_COPY = "raw binary COPY (set_types)"
LOOP = "loop of attach_label, one transaction (baseline)"
BATCHEXEC = "generated :batchexec (attach_labels)"
LOOP_AUTOCOMMIT = "loop of attach_label, autocommit each"


def stripped(table: str) -> str:
    """Case label for a write into one of the stripped copies of workflow_logs."""
    return f"into {'no-FK' if table == NO_FK else 'bare'} copy"


def _per_row(run: Callable[[int], None]) -> Timer:
    def timer(n: int) -> float:
        start = time.perf_counter()
        run(n)
        return (time.perf_counter() - start) / n

    return timer


def _create_stripped_copies(conn: psycopg.Connection[Any]) -> None:
    """``CREATE TABLE ... LIKE`` never copies foreign keys; the bare one drops the rest."""
    no_fk, bare = sql.Identifier(NO_FK), sql.Identifier(BARE)
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (LIKE workflow_logs INCLUDING DEFAULTS INCLUDING IDENTITY"
            " INCLUDING INDEXES)"
        ).format(no_fk)
    )
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE workflow_logs INCLUDING DEFAULTS)").format(bare))
    conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN id").format(bare))


def log_ingestion(
    conn: psycopg.Connection[Any], seeded: Seeded, rows: int, single_sample: int
) -> Workload:
    """Seconds per log line written; executemany is the baseline. ``conn`` autocommits."""
    _create_stripped_copies(conn)
    lines = [f"step 3/7: compiling module {i % 211} ... ok" for i in range(rows)]
    run_id = seeded.run_id

    def copyfrom(step_id: int | None) -> Timer:
        def run(n: int) -> None:
            params = (
                workflows.CopyWorkflowLogsParams(run_id, step_id, enums.LogStream.STDOUT, c)
                for c in lines[:n]
            )
            assert workflows.copy_workflow_logs(conn, params) == n

        return _per_row(run)

    def raw_copy(table: str, binary: bool) -> Timer:
        fmt = sql.SQL(" (FORMAT BINARY)" if binary else "")
        statement = sql.SQL("COPY {} {} FROM STDIN{}").format(
            sql.Identifier(table), LOG_COLUMNS, fmt
        )

        def run(n: int) -> None:
            with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
                if binary:
                    copy.set_types(BINARY_TYPES)
                for c in lines[:n]:
                    copy.write_row((run_id, seeded.step_id, enums.LogStream.STDOUT, c))

        return _per_row(run)

    def executemany(insert: Query, step_id: int | None) -> Timer:
        def run(n: int) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(insert, [(run_id, step_id, "stdout", c) for c in lines[:n]])

        return _per_row(run)

    def single(n: int) -> float:
        sample = lines[: min(n, single_sample)]
        start = time.perf_counter()
        for c in sample:
            conn.execute(INSERT_LOG, (run_id, seeded.step_id, "stdout", c))
        return (time.perf_counter() - start) / len(sample)

    def insert_into(table: str) -> sql.Composed:
        return sql.SQL("INSERT INTO {} {} VALUES (%s, %s, %s, %s)").format(
            sql.Identifier(table), LOG_COLUMNS
        )

    step = seeded.step_id
    return Workload(
        f"bulk: {rows:,} log lines",
        rows,
        [
            Case(EXECUTEMANY, executemany(INSERT_LOG, step)),
            Case(COPYFROM, copyfrom(step)),
            Case(f"{SINGLE} ({single_sample} sampled, per row)", single),
            Case(EXECUTEMANY_NULL, executemany(INSERT_LOG, None)),
            Case(COPYFROM_NULL, copyfrom(None)),
            Case(BINARY_COPY, raw_copy("workflow_logs", binary=True)),
            *[
                c
                for table in (NO_FK, BARE)
                for c in (
                    Case(f"executemany {stripped(table)}", executemany(insert_into(table), step)),
                    Case(f"text COPY {stripped(table)}", raw_copy(table, binary=False)),
                    Case(f"binary COPY {stripped(table)}", raw_copy(table, binary=True)),
                )
            ],
        ],
    )


def _attached(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM issue_labels").fetchone()
    assert row is not None
    return int(row[0])


def small_writes(conn: psycopg.Connection[Any], seeded: Seeded, writes: int) -> Workload:
    """Seconds per label attached (``conn`` autocommits); every pair is new, so no row is
    skipped by ON CONFLICT. A loop of the generated :execrows in one transaction is the
    baseline."""
    issue_ids, label_ids = seeded.hot_issue_ids, seeded.label_ids
    keys = itertools.count()

    def fresh(n: int) -> list[issues.AttachLabelsParams]:
        return [
            issues.AttachLabelsParams(
                issue_ids[k // len(label_ids) % len(issue_ids)], label_ids[k % len(label_ids)]
            )
            for k in itertools.islice(keys, n)
        ]

    def loop_autocommit(n: int) -> None:
        for p in fresh(n):
            assert issues.attach_label(conn, issue_id=p.issue_id, label_id=p.label_id) == 1

    def loop(n: int) -> None:
        with conn.transaction():
            loop_autocommit(n)

    def batchexec(n: int) -> float:
        """Timed alone; then checked, since INSERT ... SELECT could silently insert nothing."""
        params, before = fresh(n), _attached(conn)
        start = time.perf_counter()
        issues.attach_labels(conn, params)
        elapsed = time.perf_counter() - start
        assert _attached(conn) == before + n, "attach_labels skipped rows"
        return elapsed / n

    return Workload(
        f"{writes:,} small writes (attach labels)",
        writes,
        [
            Case(LOOP, _per_row(loop)),
            Case(BATCHEXEC, batchexec),
            Case(LOOP_AUTOCOMMIT, _per_row(loop_autocommit)),
        ],
    )


RAW_STREAM = "raw psycopg server cursor in a transaction (baseline)"
STREAM_IN_TX = "generated iter_list_run_logs in the caller's transaction"
STREAM_HOLD = "generated iter_list_run_logs, autocommit (WITH HOLD)"


def streaming(conn: psycopg.Connection[Any], seeded: Seeded, rows: int) -> Workload:
    """Seconds per log line read through a server-side cursor, 1,000 rows per fetch, each
    decoded into the same model. ``conn`` autocommits, so the generated stream outside a
    transaction declares its cursor WITH HOLD (the server computes the result first)."""
    run_id = seeded.run_id

    def raw(n: int) -> None:
        with (
            conn.transaction(),
            psycopg.RawServerCursor(conn, "bench_stream", row_factory=tuple_row) as cur,
        ):
            cur.itersize = 1000
            cur.execute(workflows.LIST_RUN_LOGS, (run_id, None, n))
            got = [
                models.WorkflowLog(r[0], r[1], r[2], enums.LOG_STREAM_BY_VALUE[r[3]], r[4], r[5])
                for r in cur
            ]
        assert len(got) == n

    def generated(n: int) -> None:
        assert len(list(workflows.iter_list_run_logs(conn, run_id=run_id, page_size=n))) == n

    def in_transaction(n: int) -> None:
        with conn.transaction():
            generated(n)

    return Workload(
        f"stream {rows:,} log lines",
        rows,
        [
            Case(RAW_STREAM, _per_row(raw)),
            Case(STREAM_IN_TX, _per_row(in_transaction)),
            Case(STREAM_HOLD, _per_row(generated)),
        ],
    )
