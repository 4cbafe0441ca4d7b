"""Fill the scratch database with a small but realistic forge, through COPY.

Lookups and lists are only honest against tables with many rows and real indexes:
a 50-row page from a repository that has thousands of issues, a user picked at
random among thousands. Ids come out of fresh identity columns, so they are 1..N.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

import psycopg
from plue_queries import workflows

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True, slots=True)
class Size:
    users: int
    repositories: int
    issues: int
    comments: int
    labels: int
    """Labels of the hot repository: with its issues, the pairs that small writes attach."""


FULL = Size(users=10_000, repositories=1_000, issues=100_000, comments=50_000, labels=1_000)
QUICK = Size(users=500, repositories=20, issues=4_000, comments=2_000, labels=50)


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the workloads need to know about the data."""

    size: Size
    hot_repository_id: int
    """A repository with many open issues, whose newest 50 form the list page."""
    run_id: int
    step_id: int
    hot_issue_ids: tuple[int, ...]
    label_ids: tuple[int, ...]
    """The hot repository's labels, none attached yet."""


def seed(url: str, size: Size, rng: random.Random) -> Seeded:
    """Load users, repositories, issues (a tenth in one hot repository), comments and the
    hot repository's labels."""
    with psycopg.connect(url) as conn:
        # The rows are consistent by construction; skipping the per-row foreign-key
        # triggers (as pg_restore --disable-triggers does) makes COPY ~10x faster.
        conn.execute("SET LOCAL session_replication_role = replica")
        _copy_users(conn, size, rng)
        _copy_repositories(conn, size)
        _copy_issues(conn, size, rng)
        _copy_comments(conn, size, rng)
        _copy_labels(conn, size)
        conn.commit()
        run_id, step_id = _workflow_run(conn)
        conn.commit()
        hot_issues = conn.execute("SELECT id FROM issues WHERE repository_id = 1 ORDER BY id")
        hot_issue_ids = tuple(r[0] for r in hot_issues)
        label_ids = tuple(r[0] for r in conn.execute("SELECT id FROM labels ORDER BY id"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return Seeded(size, 1, run_id, step_id, hot_issue_ids, label_ids)


def _ago(rng: random.Random, days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=rng.randrange(days * 86_400))


def _copy_users(
    conn: psycopg.Connection[tuple[object, ...]], size: Size, rng: random.Random
) -> None:
    with conn.cursor().copy(
        "COPY users (username, email, display_name, bio, wallet_address, created_at) FROM STDIN"
    ) as copy:
        for i in range(1, size.users + 1):
            wallet = f"0x{rng.getrandbits(160):040x}" if i % 3 == 0 else None
            copy.write_row(
                (
                    f"user{i}",
                    f"user{i}@example.org",
                    f"User Number {i}",
                    "Writes code, reviews changes, files issues." * (i % 4),
                    wallet,
                    _ago(rng, 1500),
                )
            )


def _copy_repositories(conn: psycopg.Connection[tuple[object, ...]], size: Size) -> None:
    with conn.cursor().copy(
        "COPY repositories (owner_id, name, description, topics) FROM STDIN"
    ) as copy:
        for i in range(1, size.repositories + 1):
            owner = (i - 1) % size.users + 1
            copy.write_row((owner, f"repo-{i}", f"Repository number {i}", ["jj", "forge"]))


def _copy_issues(
    conn: psycopg.Connection[tuple[object, ...]], size: Size, rng: random.Random
) -> None:
    """A tenth of the issues in repository 1 (the hot one), the rest spread evenly."""
    numbers = [0] * (size.repositories + 1)
    with conn.cursor().copy(
        "COPY issues (repository_id, issue_number, title, body, state, author_id,"
        " closed_at, created_at) FROM STDIN"
    ) as copy:
        for i in range(size.issues):
            repo = 1 if i % 10 == 0 else rng.randrange(1, size.repositories + 1)
            numbers[repo] += 1
            created = _ago(rng, 1000)
            closed = i % 5 == 4
            copy.write_row(
                (
                    repo,
                    numbers[repo],
                    f"Issue {numbers[repo]}: something is off in module {i % 97}",
                    "Steps to reproduce:\n1. run it\n2. look at the output\n" * (1 + i % 3),
                    "closed" if closed else "open",
                    rng.randrange(1, size.users + 1),
                    created + datetime.timedelta(days=1) if closed else None,
                    created,
                )
            )
    conn.execute(
        "UPDATE repositories r SET next_issue_number = n.next"
        " FROM (SELECT repository_id, max(issue_number) + 1 AS next FROM issues"
        " GROUP BY repository_id) n WHERE r.id = n.repository_id"
    )


def _copy_comments(
    conn: psycopg.Connection[tuple[object, ...]], size: Size, rng: random.Random
) -> None:
    with conn.cursor().copy(
        "COPY comments (issue_id, author_id, body, created_at) FROM STDIN"
    ) as copy:
        for _ in range(size.comments):
            copy.write_row(
                (
                    rng.randrange(1, size.issues + 1),
                    rng.randrange(1, size.users + 1),
                    "I can reproduce this on main; the log is attached below.",
                    _ago(rng, 900),
                )
            )


def _copy_labels(conn: psycopg.Connection[tuple[object, ...]], size: Size) -> None:
    """All in the hot repository: a label attaches only to issues of its own repository."""
    with conn.cursor().copy("COPY labels (repository_id, name) FROM STDIN") as copy:
        for i in range(1, size.labels + 1):
            copy.write_row((1, f"label-{i}"))


def _workflow_run(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[int, int]:
    """One run with one step, the target of the log-ingestion workloads."""
    definition = workflows.upsert_workflow_definition(
        conn,
        repository_id=1,
        name="ci",
        file_path=".plue/workflows/ci.yaml",
        triggers=[{"event": "push"}],
        plan={"steps": [{"name": "test", "run": "make test"}]},
        is_active=True,
    )
    run = workflows.create_workflow_run(
        conn,
        trigger_event="push",
        ref="main",
        commit_id=None,
        inputs={},
        triggered_by=1,
        definition_id=definition.id,
    )
    assert run is not None
    step = workflows.create_workflow_step(
        conn, run_id=run.id, name="test", position=0, depends_on=[]
    )
    return run.id, step.id
