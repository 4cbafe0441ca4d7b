"""``python -m bench.scale``: does cost stay flat as the forge grows?

Two scratch forges are seeded side by side (bench.forge_seed): a small one (scale
0.01: 10,000 issues) and a large one (scale 1.0: 1,000,000 issues). Every hot list
query then reads, through its generated function, the same list of the *hot* parent
(the repository, issue, run, session or user owning a tenth of its children, so the
list itself grows 100x too): the first page, and a deep page whose keyset cursor
sits half-way down the list. Small and large alternate in interleaved rounds; the
table reports each side's median and the median of the per-round ratios
(large / small), which keyset pagination on an index should keep within 1.5x.

On the large forge it also measures the workflow queue's claim throughput with 16
workers (generated ``claim_workflow_run``, each claim checked exactly-once) and issue
creation throughput with 16 threads, in one hot repository vs spread over 100.

``--quick`` runs the same code at a tiny scale in seconds (the test suite's smoke run).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from plue_queries import agent, issues, landing, pull_requests, repositories, users, workflows
from plue_queries.enums import IssueState, LandingStatus, PrState

from bench import forge_seed, harness
from bench.harness import Case, Workload
from bench.scratch import scratch_database
from plue_db import servers

Conn = psycopg.Connection[Any]
Kwargs = Mapping[str, object]
HOT = forge_seed.HOT_ID
WORKERS = 16
HEARTBEAT = datetime.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Plan:
    small: float
    large: float
    rounds: int
    page_ops: int
    claims: int
    issues_per_thread: int
    page_size: int = 50


FULL = Plan(small=0.01, large=1.0, rounds=15, page_ops=40, claims=4_000, issues_per_thread=100)
QUICK = Plan(small=0.001, large=0.002, rounds=2, page_ops=3, claims=64, issues_per_thread=3)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A hot list: its generated function, the hot parent's filter, how to page on."""

    name: str
    table: str
    function: Callable[..., Sequence[Any]]
    filters: Kwargs
    next_page: Callable[[Any], Kwargs]
    """The cursor arguments that continue after this (last) row."""


def _before(row: Any) -> Kwargs:
    return {"before_created_at": row.created_at, "before_id": row.id}


def _after(row: Any) -> Kwargs:
    return {"after_created_at": row.created_at, "after_id": row.id}


LISTS = (
    ListQuery(
        "issues of a repository, open",
        "issues",
        issues.list_issues,
        {"repository_id": HOT, "state": IssueState.OPEN},
        _before,
    ),
    ListQuery("comments of an issue", "comments", issues.list_comments, {"issue_id": HOT}, _after),
    ListQuery(
        "log lines of a run",
        "workflow_logs",
        workflows.list_run_logs,
        {"run_id": HOT},
        lambda r: {"after_id": r.id},
    ),
    ListQuery(
        "recent runs of a repository",
        "workflow_runs",
        workflows.list_recent_workflow_runs,
        {"repository_id": HOT},
        _before,
    ),
    ListQuery(
        "messages of a session",
        "messages",
        agent.list_session_messages,
        {"session_id": HOT},
        lambda r: {"after_position": r.position},
    ),
    ListQuery(
        "repositories of an owner",
        "repositories",
        repositories.list_repositories_by_owner,
        {"owner_id": HOT, "include_private": True},
        _before,
    ),
    ListQuery(
        "landing queue, pending",
        "landing_queue",
        landing.list_landing_requests_by_status,
        {"repository_id": HOT, "status": LandingStatus.PENDING},
        _before,
    ),
    ListQuery(
        "pull requests, open",
        "pull_requests",
        pull_requests.list_pull_requests_by_state,
        {"base_repository_id": HOT, "state": PrState.OPEN},
        _before,
    ),
    ListQuery("users, newest first", "users", users.list_users, {"only_active": True}, _before),
)


@dataclass(frozen=True, slots=True)
class Forge:
    """One seeded scratch forge and a reader connection to it."""

    scale: float
    url: str
    conn: Conn


@dataclass(frozen=True, slots=True)
class PageRow:
    query: str
    page: str
    table_rows: tuple[int, int]
    list_rows: tuple[int, int]
    page_rows: tuple[int, int]
    small_us: float
    large_us: float
    ratio: float


@dataclass(frozen=True, slots=True)
class Throughput:
    label: str
    operations: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds


def _walk(conn: Conn, query: ListQuery, page_size: int) -> tuple[int, Kwargs]:
    """The list's length and a deep cursor: half-way down, yet a full page from the end."""
    chunk = 1_000
    cursors: list[Kwargs] = [{}]
    total = 0
    while True:
        page = query.function(conn, **query.filters, **cursors[-1], page_size=chunk)
        total += len(page)
        if len(page) < chunk:
            break
        cursors.append(query.next_page(page[-1]))
    skip = min(total // 2, max(0, total - page_size))
    start = cursors[skip // chunk]
    if skip % chunk == 0:
        return total, start
    page = query.function(conn, **query.filters, **start, page_size=chunk)
    return total, query.next_page(page[skip % chunk - 1])


def _timer(conn: Conn, query: ListQuery, kwargs: Kwargs) -> harness.Timer:
    def timer(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            query.function(conn, **kwargs)
        return (time.perf_counter() - started) / n

    return timer


def measure_pages(
    small: Forge, large: Forge, plan: Plan, log: Callable[[str], None]
) -> list[PageRow]:
    """First and deep page of every hot list, small vs large, in interleaved rounds."""
    rows: list[PageRow] = []
    for query in LISTS:
        lengths, deep, counts = [], [], []
        for forge in (small, large):
            length, cursor = _walk(forge.conn, query, plan.page_size)
            lengths.append(length)
            deep.append(cursor)
            counts.append(_count(forge.conn, query.table))
        for page, cursors in (("first", [{}, {}]), ("deep", deep)):
            calls = [
                (forge, {**query.filters, **cursor, "page_size": plan.page_size})
                for forge, cursor in zip((small, large), cursors, strict=True)
            ]
            returned = tuple(len(query.function(f.conn, **kwargs)) for f, kwargs in calls)
            cases = [Case(f"scale {f.scale}", _timer(f.conn, query, kw)) for f, kw in calls]
            result = harness.run(
                Workload(f"{query.name}, {page} page", plan.page_ops, cases), plan.rounds, log
            )
            rows.append(
                PageRow(
                    query.name,
                    page,
                    (counts[0], counts[1]),
                    (lengths[0], lengths[1]),
                    (returned[0], returned[1]),
                    result.cases[0].median_us,
                    result.cases[1].median_us,
                    result.cases[1].median_ratio,
                )
            )
    return rows


def _count(conn: Conn, table: str) -> int:
    query = psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _in_threads(url: str, work: Callable[[Conn, int], int]) -> tuple[int, float]:
    """Run ``work(conn, worker)`` in WORKERS threads started together; (ops, seconds)."""
    barrier = threading.Barrier(WORKERS + 1)
    done = [0] * WORKERS
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                barrier.wait()
                done[index] = work(conn, index)
        except BaseException as exc:  # reported below, in the calling thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(done), elapsed


# A claim is still possible: a queued run and an idle runner are both left.
QUEUED_LEFT = (
    "SELECT EXISTS (SELECT 1 FROM workflow_runs WHERE status = 'queued' AND runner_id IS NULL)"
    " AND EXISTS (SELECT 1 FROM runner_pool WHERE status = 'idle')"
)


def measure_claims(url: str, claims: int) -> Throughput:
    """16 dispatchers drain ``claims`` queued runs onto as many idle runners."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO workflow_runs (repository_id, definition_id, trigger_event)"
            " SELECT 1, 1, 'bench' FROM generate_series(1, %s)",
            (claims,),
        )
        conn.execute(
            "INSERT INTO runner_pool (name) SELECT 'bench-' || g FROM generate_series(1, %s) g",
            (claims,),
        )
    claimed: list[list[int]] = [[] for _ in range(WORKERS)]

    def drain(conn: Conn, index: int) -> int:
        """Claim until no queued run is left. A claim that finds nothing is not the end:
        SKIP LOCKED passes over the run or runner another dispatcher holds, and that
        dispatcher may find no runner free for it (one run in 64 was left once)."""
        while True:
            row = workflows.claim_workflow_run(conn, max_heartbeat_age=HEARTBEAT)
            if row is not None:
                claimed[index].append(row.run_id)
            elif not (conn.execute(QUEUED_LEFT).fetchone() or (False,))[0]:
                return len(claimed[index])

    total, seconds = _in_threads(url, drain)
    run_ids = [run for ids in claimed for run in ids]
    if total != claims or len(set(run_ids)) != claims:
        raise RuntimeError(f"claimed {total} runs ({len(set(run_ids))} distinct) of {claims}")
    return Throughput(f"claim a queued run ({WORKERS} workers)", total, seconds)


def measure_issue_creation(url: str, per_thread: int, repositories: int) -> Throughput:
    """16 threads create issues round-robin over the first ``repositories`` repositories."""

    def create(conn: Conn, index: int) -> int:
        for n in range(per_thread):
            repo = 1 + (index * per_thread + n) % repositories
            issues.create_issue(conn, repository_id=repo, title=f"bench {index}/{n}", body="")
        return per_thread

    total, seconds = _in_threads(url, create)
    where = "one hot repository" if repositories == 1 else f"{repositories} repositories"
    return Throughput(f"create an issue, {where} ({WORKERS} threads)", total, seconds)


def machine(conn: Conn) -> str:
    row = conn.execute("SELECT version(), current_setting('shared_buffers')").fetchone()
    assert row is not None
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; "
        f"{str(row[0]).split(',')[0]}, shared_buffers {row[1]}"
    )


def _pair(counts: tuple[int, int]) -> str:
    """One number when both sides returned as many rows, else "small → large"."""
    return f"{counts[0]}" if counts[0] == counts[1] else f"{counts[0]} → {counts[1]}"


def render(
    rows: Sequence[PageRow], throughputs: Sequence[Throughput], seeding: Sequence[str]
) -> str:
    lines = [
        "| list | page | table rows (small → large) | list rows | page rows | small µs "
        "| large µs | large / small |",
        "|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.query} | {r.page} | {r.table_rows[0]:,} → {r.table_rows[1]:,} "
            f"| {r.list_rows[0]:,} → {r.list_rows[1]:,} | {_pair(r.page_rows)} | {r.small_us:,.0f} "
            f"| {r.large_us:,.0f} | {r.ratio:.2f}x |"
        )
    lines += ["", "| throughput | operations | seconds | per second |", "|---|---:|---:|---:|"]
    for t in throughputs:
        lines.append(f"| {t.label} | {t.operations:,} | {t.seconds:.2f} | {t.per_second:,.0f} |")
    return "\n".join([*seeding, "", *lines])


def main(argv: Sequence[str] | None = None, log: Callable[[str], None] = print) -> str:
    """Seed both forges, measure, drop them; return (and print) the Markdown results."""
    parser = argparse.ArgumentParser(description="Page time and throughput as the forge grows.")
    parser.add_argument("--quick", action="store_true", help="tiny scales, a smoke run")
    parser.add_argument("--server-url", help="default: DATABASE_URL or the embedded server")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    server = args.server_url or servers.database_url()
    with contextlib.ExitStack() as stack:
        forges, seeding = [], []
        large_size = forge_seed.ForgeSize.at(plan.large)
        # Same accounts and repositories, 1/100 of the content: every hot list then
        # has more than two pages on both sides, so both pages are full pages.
        small_size = dataclasses.replace(
            forge_seed.ForgeSize.at(plan.small),
            users=large_size.users,
            repositories=large_size.repositories,
        )
        for scale, size in ((plan.small, small_size), (plan.large, large_size)):
            url = stack.enter_context(scratch_database(server))
            log(f"seeding scale {scale} ...")
            report = forge_seed.seed_forge(url, size)
            seeding.append(
                f"Seeded scale {scale}: {size.users:,} users, {size.repositories:,} repositories, "
                f"{size.issues:,} issues, {size.comments:,} comments, {size.log_lines:,} log "
                f"lines (+ runs, sessions, messages, landing requests, pull requests) "
                f"in {report.total_seconds:.0f} s."
            )
            conn = stack.enter_context(psycopg.connect(url, autocommit=True))
            forges.append(Forge(scale, url, conn))
        small, large = forges
        spread = min(100, large_size.repositories)
        seeding.insert(0, f"Machine: {machine(large.conn)}.")
        rows = measure_pages(small, large, plan, log)
        log("claims and issue creation ...")
        throughputs = [
            measure_claims(large.url, plan.claims),
            measure_issue_creation(large.url, plan.issues_per_thread, 1),
            measure_issue_creation(large.url, plan.issues_per_thread, spread),
        ]
    text = render(rows, throughputs, seeding)
    print(text)
    return text


if __name__ == "__main__":
    main()
