"""``plue-db demo``: the scenario, step by step, and the command that runs it.

Each step is a function in this package that prints what it did and returns what the
next steps need; ``run`` is the script that calls them in order. Every unit of work is
one transaction (``run_in_transaction``), and names carry a per-run suffix, so the demo
runs again on the same database and its tables cover that run only.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from plue_queries import llm_usage, models

from plue_db import config, servers
from plue_db.demo.forge import create_repository, file_issues, land_a_change
from plue_db.demo.readback import print_tables
from plue_db.demo.runs import RunSummary, record_usage, run_workflows
from plue_db.demo.sign_in import Credentials, sign_in
from plue_db.demo.steps import Demo, DemoError, Say
from plue_db.schema import migrate


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What one demo run created, and the credentials sign-in handed to its user."""

    suffix: str
    started_at: datetime
    user: models.User
    reviewer: models.User
    nonce: models.SiweNonce
    second_consume: models.SiweNonce | None
    session: models.AuthSession
    credentials: Credentials
    repository: models.Repository
    issues: list[models.Issue]
    landing: models.LandingQueue
    runs: list[RunSummary]
    usage: list[llm_usage.LlmUsageByModelRow]


def run(conn: psycopg.Connection[Any], say: Say = print) -> DemoResult:
    """Walk through Plue on ``conn`` (a non-autocommit connection), printing as it goes."""
    demo = Demo(conn, say, suffix=secrets.token_hex(3))
    say(f"demo run {demo.suffix}")
    signed_in = sign_in(demo)
    alice = signed_in.user
    bob, repo = create_repository(demo, owner=alice)
    filed = file_issues(demo, repo, people={"alice": alice.id, "bob": bob.id})
    landed = land_a_change(demo, repo, author=alice, reviewer=bob)
    runs = run_workflows(demo, repo, user=alice)
    record_usage(demo, alice, runs)
    started_at = signed_in.nonce.created_at
    usage = print_tables(demo, repo, since=started_at)
    return DemoResult(
        suffix=demo.suffix,
        started_at=started_at,
        user=alice,
        reviewer=bob,
        nonce=signed_in.nonce,
        second_consume=signed_in.second_consume,
        session=signed_in.session,
        credentials=signed_in.credentials,
        repository=repo,
        issues=filed,
        landing=landed,
        runs=runs,
        usage=usage,
    )


def main() -> int:
    """``plue-db demo``: migrate the configured database if needed, then run the demo."""
    url = servers.database_url()
    print(f"database: {config.redacted(url)}")
    applied = migrate.migrate(url)
    print(f"migrations applied now: {', '.join(m.name for m in applied) or 'none (up to date)'}")
    try:
        with psycopg.connect(url) as conn:
            done = run(conn)
    except DemoError as exc:
        print(f"plue-db demo: {exc}", file=sys.stderr)
        return 1
    print(
        f"\ndemo: run {done.suffix} wrote 2 users, a repository, {len(done.issues)} issues"
        f" and {len(done.runs)} workflow runs to {config.redacted(url)}"
    )
    return 0
