"""The seeded world: a database of its own with a row in every table, all related, made
through the generated functions, for the sweeps that call every generated read function
(tests/test_runtime_types.py over psycopg, tests/test_asyncpg_target.py over asyncpg),
and the checker that walks their values against the annotations.

The fixtures are module-scoped: each sweep module seeds, and drops, its own world.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from plue_queries import (
    agent,
    auth,
    changes,
    collaboration,
    issues,
    landing,
    llm_usage,
    milestones,
    models,
    pull_requests,
    rate_limits,
    repositories,
    users,
    workflows,
)
from plue_queries import types as plue_types
from plue_queries.enums import (
    ConflictKind,
    DiffSide,
    FileChangeKind,
    IssueEventType,
    LogStream,
    MessageRole,
    MessageStatus,
    PartKind,
    ReviewState,
    WatchMode,
)
from psycopg import sql

from plue_db.typecheck.runtime_types import Checker
from tests import factories
from tests.fix_db import Conn, fresh_database
from tests.paths import SCHEMA

NOW = datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class World:
    """One seeded row per table (by table name), the user's wallet, and the parent of
    the seeded change."""

    rows: dict[str, Any]
    wallet: str
    parent_change: models.Change


def seed(conn: Conn) -> World:
    """A row in every table, all related: one user's repository with its issues, changes,
    landing requests, pull requests, workflows and agent sessions."""
    # Table-like data, deliberately: one generated call per table, alike in shape.
    wallet = factories.wallet_address()
    user = factories.make_user(conn, wallet_address=wallet)
    other = factories.make_user(conn)
    repo = factories.make_repo(conn, owner=user, topics=["jj"])
    milestone = milestones.create_milestone(
        conn, repository_id=repo.id, title="1.0", description="", due_date=NOW.date()
    )
    issue = factories.make_issue(conn, repo, user, milestone_id=milestone.id)
    other_issue = factories.make_issue(conn, repo, other)
    comment = issues.create_comment(conn, issue_id=issue.id, author_id=user.id, body="@x look")
    label = issues.create_label(
        conn, repository_id=repo.id, name="bug", color="#ff0000", description=""
    )
    issues.attach_label(conn, issue_id=issue.id, label_id=label.id)
    issues.add_issue_assignee(conn, issue_id=issue.id, user_id=user.id, assigned_by=user.id)
    issues.add_issue_dependency(
        conn, blocker_issue_id=other_issue.id, blocked_issue_id=issue.id, created_by=user.id
    )
    issues.add_reaction(conn, user_id=user.id, issue_id=issue.id, comment_id=None, emoji="+1")
    issues.add_reaction(conn, user_id=user.id, issue_id=None, comment_id=comment.id, emoji="+1")
    parent_change = factories.make_change(conn, repo, author_id=user.id)
    change = factories.make_change(
        conn, repo, author_id=user.id, parent_change_ids=[parent_change.change_id]
    )
    pr = factories.make_pull_request(conn, repo)
    review = pull_requests.create_review(
        conn, pull_request_id=pr.id, reviewer_id=other.id, body="", commit_id=change.commit_id
    )
    landing_request = factories.make_landing_request(conn, repo, change_id=change.change_id)
    definition = factories.make_workflow_definition(conn, repo)
    run = factories.make_workflow_run(conn, definition, commit_id=change.commit_id)
    step = workflows.create_workflow_step(
        conn, run_id=run.id, name="build", position=0, depends_on=[]
    )
    session = factories.make_agent_session(conn, user_id=user.id, repository_id=repo.id)
    message = agent.append_message(
        conn, session_id=session.id, role=MessageRole.USER, status=MessageStatus.COMPLETED
    )
    assert message is not None
    operation = changes.append_jj_operation(
        conn,
        repository_id=repo.id,
        operation_id=factories.commit_id(),
        parent_operation_ids=[],
        description="snapshot",
        user_id=user.id,
        metadata={},
    )
    assert operation is not None
    collaboration.star_repository(conn, user_id=other.id, repository_id=repo.id)
    collaboration.star_repository(conn, user_id=user.id, repository_id=repo.id)
    repositories.upsert_branch(
        conn, repository_id=repo.id, name="master", commit_id=change.commit_id, pusher_id=user.id
    )
    renamed = repositories.rename_branch(
        conn, from_name="master", to_name="main", renamed_by=user.id, repository_id=repo.id
    )
    rows: dict[str, Any] = {
        "issue_dependencies": types.SimpleNamespace(
            blocker_issue_id=other_issue.id, blocked_issue_id=issue.id
        ),
        "users": user,
        "repositories": repo,
        "milestones": milestone,
        "issues": issue,
        "comments": comment,
        "labels": label,
        "changes": change,
        "pull_requests": pr,
        "reviews": review,
        "landing_queue": landing_request,
        "workflow_definitions": definition,
        "workflow_runs": run,
        "workflow_steps": step,
        "sessions": session,
        "messages": message,
        "jj_operations": operation,
        "email_addresses": users.add_email_address(
            conn, user_id=user.id, email=f"{user.username}@work.example", is_verified=True
        ),
        "ssh_keys": auth.add_ssh_key(
            conn,
            user_id=user.id,
            name="laptop",
            fingerprint=factories.ssh_fingerprint(),
            public_key="ssh-ed25519 AAAA",
            key_type="ssh-ed25519",
        ),
        "access_tokens": auth.create_access_token(
            conn,
            user_id=user.id,
            name="ci",
            token_hash=factories.sha256_hex("token"),
            token_last_eight="abcdefgh",
            scopes=["repo"],
            expires_at=NOW + datetime.timedelta(days=30),
        ),
        "auth_sessions": auth.create_auth_session(
            conn,
            user_id=user.id,
            session_key_hash=factories.sha256_hex("session"),
            user_agent="test",
            expires_at=NOW + datetime.timedelta(days=1),
        ),
        "siwe_nonces": auth.create_siwe_nonce(
            conn, nonce="n0nce12345", wallet_address=wallet, ttl=datetime.timedelta(minutes=5)
        ),
        "branches": repositories.upsert_branch(
            conn, repository_id=repo.id, name="main", commit_id=change.commit_id, pusher_id=user.id
        ),
        "bookmarks": repositories.upsert_bookmark(
            conn,
            repository_id=repo.id,
            name="main",
            change_id=change.change_id,
            commit_id=change.commit_id,
        ),
        "protected_branches": repositories.create_protected_branch(
            conn,
            repository_id=repo.id,
            pattern="main",
            priority=1,
            required_approvals=1,
            enable_push=True,
            push_allowlist_user_ids=[user.id],
            enable_force_push=False,
            force_push_allowlist_user_ids=[],
        ),
        "renamed_branches": renamed,
        "subtasks": issues.add_subtask(
            conn, parent_issue_id=issue.id, child_issue_id=other_issue.id
        ),
        "pinned_issues": issues.pin_issue(conn, pinned_by=user.id, issue_id=issue.id),
        "mentions": issues.create_mention(
            conn,
            issue_id=issue.id,
            comment_id=comment.id,
            mentioned_user_id=other.id,
            mentioned_by=user.id,
        ),
        "issue_events": issues.create_issue_event(
            conn,
            issue_id=issue.id,
            actor_id=user.id,
            event_type=IssueEventType.LABELED,
            payload={"label": "bug"},
        ),
        "landing_reviews": landing.upsert_landing_review(
            conn,
            landing_id=landing_request.id,
            reviewer_id=other.id,
            state=ReviewState.APPROVED,
            body="",
        ),
        "landing_line_comments": landing.create_landing_line_comment(
            conn,
            landing_id=landing_request.id,
            author_id=other.id,
            file_path="src/main.zig",
            line=3,
            side=DiffSide.RIGHT,
            body="nit",
        ),
        "review_comments": pull_requests.create_review_comment(
            conn,
            author_id=other.id,
            file_path="src/main.zig",
            line=3,
            side=DiffSide.RIGHT,
            body="nit",
            in_reply_to_id=None,
            review_id=review.id,
        ),
        "conflicts": pull_requests.record_conflict(
            conn,
            repository_id=repo.id,
            pull_request_id=pr.id,
            change_id=change.change_id,
            file_path="src/main.zig",
            kind=ConflictKind.CONTENT,
            details={"ours": "a", "theirs": "b"},
        ),
        "file_trackers": changes.upsert_file_tracker(
            conn,
            repository_id=repo.id,
            change_id=change.change_id,
            file_path="src/main.zig",
            old_path=None,
            kind=FileChangeKind.MODIFIED,
            additions=3,
            deletions=1,
        ),
        "snapshot_history": changes.record_snapshot(
            conn,
            repository_id=repo.id,
            change_id=change.change_id,
            commit_id=change.commit_id,
            operation_id=operation.operation_id,
            description="snapshot",
            created_by=user.id,
        ),
        "watches": collaboration.watch_repository(
            conn, user_id=other.id, repository_id=repo.id, mode=WatchMode.WATCHING
        ),
        "parts": agent.append_part(
            conn, message_id=message.id, kind=PartKind.TEXT, content={"text": "hi"}
        ),
        "runner_pool": factories.make_runner(conn),
        "workflow_logs": workflows.append_workflow_log(
            conn,
            run_id=run.id,
            step_id=step.id,
            stream=LogStream.STDOUT,
            content="building",
        ),
        "llm_usage": llm_usage.record_llm_usage(
            conn,
            user_id=user.id,
            session_id=session.id,
            workflow_run_id=run.id,
            provider="anthropic",
            model="claude-sonnet-4",
            input_tokens=10,
            output_tokens=20,
            cost_micro_usd=30,
        ),
        "commit_statuses": factories.make_commit_status(
            conn, repo, commit_sha=change.commit_id, workflow_run_id=run.id
        ),
    }
    rate_limits.hit_rate_limit(conn, key="login:1", window_size=datetime.timedelta(minutes=1))
    assert all(row is not None for row in rows.values()), [k for k, v in rows.items() if not v]
    return World(rows, wallet, parent_change)


TABLES = """
SELECT relname FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname
"""


def unseeded(conn: Conn) -> list[str]:
    """What to do about each table of the schema that seed() left empty, by name: a new
    table gets its row here, or the sweeps' functions on it return nothing."""
    names = [name for (name,) in conn.execute(TABLES)]
    has_row = sql.SQL("SELECT EXISTS (SELECT FROM {})")
    empty = [
        name
        for name in names
        if conn.execute(has_row.format(sql.Identifier(name))).fetchone() != (True,)
    ]
    return [
        f"table {name} has no seed row: add one to seed() in tests/fix_world.py" for name in empty
    ]


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(vars(plue_types))


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[tuple[str, World]]:
    """A database of its own (the sweep commits its world), dropped afterwards."""
    with fresh_database(server_url, SCHEMA) as url:
        with psycopg.connect(url) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            world = seed(conn)
        yield url, world
