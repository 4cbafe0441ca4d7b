"""One-line test data through the generated query functions.

Each factory fills every required field with realistic, unique values and lets a
test override any of them by keyword, so a test states only what it cares about.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import secrets
from typing import Any

from plue_queries import (
    agent,
    changes,
    commit_statuses,
    issues,
    landing,
    models,
    pull_requests,
    repositories,
    users,
    workflows,
)
from plue_queries.enums import CommitState

# Defined once in plue_db.values (the demo makes them too); re-exported for the tests.
from plue_db.values import change_id as change_id
from plue_db.values import commit_id as commit_id
from plue_db.values import sha256_hex as sha256_hex
from plue_db.values import wallet_address as wallet_address
from tests.fixtures.fix_db import Conn

_serial = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A name no other factory call in this run (or an earlier run) has produced."""
    return f"{prefix}{next(_serial)}-{secrets.token_hex(3)}"


def ssh_fingerprint() -> str:
    """A random OpenSSH SHA256 fingerprint (SHA256: + 43 unpadded base64 chars)."""
    digest = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"SHA256:{digest}"


def make_user(conn: Conn, **overrides: Any) -> models.User:
    """A user with a unique username and email; override any create_user field."""
    username = unique_name("user")
    fields: dict[str, Any] = {
        "username": username,
        "email": f"{username}@example.com",
        "display_name": username.title(),
        "bio": "",
        "avatar_url": None,
        "wallet_address": None,
        "is_admin": False,
    }
    fields.update(overrides)
    user = users.create_user(conn, **fields)
    return user


def make_repo(conn: Conn, owner: models.User | None = None, **overrides: Any) -> models.Repository:
    """A public repository (owned by a new user unless owner is given)."""
    fields: dict[str, Any] = {
        "owner_id": (owner or make_user(conn)).id,
        "name": unique_name("repo"),
        "description": "A repository made by a test",
        "is_public": True,
        "default_branch": "main",
        "topics": [],
    }
    fields.update(overrides)
    repo = repositories.create_repository(conn, **fields)
    return repo


def make_workflow_definition(
    conn: Conn, repo: models.Repository | None = None, **overrides: Any
) -> models.WorkflowDefinition:
    """An active two-step CI workflow (in a new repository unless repo is given)."""
    name = unique_name("ci")
    fields: dict[str, Any] = {
        "repository_id": (repo or make_repo(conn)).id,
        "name": name,
        "file_path": f".plue/workflows/{name}.yml",
        "triggers": [{"event": "push", "bookmarks": ["main"]}],
        "plan": {
            "steps": [
                {"name": "build", "run": "zig build", "needs": []},
                {"name": "test", "run": "zig build test", "needs": ["build"]},
            ]
        },
        "is_active": True,
    }
    fields.update(overrides)
    definition = workflows.upsert_workflow_definition(conn, **fields)
    return definition


def make_workflow_run(
    conn: Conn,
    definition: models.WorkflowDefinition | None = None,
    **overrides: Any,
) -> models.WorkflowRun:
    """A queued push run of a workflow (a new one unless definition is given)."""
    fields: dict[str, Any] = {
        "definition_id": (definition or make_workflow_definition(conn)).id,
        "trigger_event": "push",
        "ref": "main",
        "commit_id": commit_id(),
        "inputs": {},
        "triggered_by": None,
    }
    fields.update(overrides)
    run = workflows.create_workflow_run(conn, **fields)
    assert run is not None
    return run


def make_runner(conn: Conn, **overrides: Any) -> models.RunnerPool:
    """A freshly registered idle runner with a unique name."""
    fields: dict[str, Any] = {"name": unique_name("runner"), "labels": ["linux", "x64"]}
    fields.update(overrides)
    runner = workflows.upsert_runner(conn, **fields)
    return runner


def make_agent_session(conn: Conn, **overrides: Any) -> models.Session:
    """An active agent session of a new user in a new repository."""
    fields: dict[str, Any] = {
        "parent_session_id": None,
        "title": "Fix the flaky test",
        "directory": "/home/agent/work",
        "model": "claude-sonnet-4",
    }
    fields.update(overrides)
    if "user_id" not in fields:
        fields["user_id"] = make_user(conn).id
    if "repository_id" not in fields:
        fields["repository_id"] = make_repo(conn).id
    session = agent.create_session(conn, **fields)
    return session


def make_issue(
    conn: Conn,
    repo: models.Repository | None = None,
    author: models.User | None = None,
    **overrides: Any,
) -> models.Issue:
    """An open issue with the repository's next number (in a new repository unless
    repo is given; authorless unless author is given)."""
    fields: dict[str, Any] = {
        "repository_id": (repo or make_repo(conn)).id,
        "title": unique_name("Bookmark push fails "),
        "body": "Running `jj git push` rejects the bookmark.",
        "author_id": None if author is None else author.id,
        "milestone_id": None,
        "due_date": None,
    }
    fields.update(overrides)
    issue = issues.create_issue(conn, **fields)
    return issue


def make_repo_with_issues(
    conn: Conn, count: int, **repo_overrides: Any
) -> tuple[models.Repository, list[models.Issue]]:
    """A new repository holding issues #1..#count, all by one author."""
    repo = make_repo(conn, **repo_overrides)
    author = make_user(conn)
    return repo, [make_issue(conn, repo, author) for _ in range(count)]


def make_landing_request(
    conn: Conn, repo: models.Repository | None = None, **overrides: Any
) -> models.LandingQueue:
    """A pending landing request for a fresh change (in a new repository unless given)."""
    repo = repo or make_repo(conn)
    fields: dict[str, Any] = {
        "repository_id": repo.id,
        "change_id": change_id(),
        "title": "Teach the parser about trailing commas",
        "description": "",
        "author_id": repo.owner_id,
        "target_bookmark": "main",
        "stack_change_ids": [],
    }
    fields.update(overrides)
    request = landing.submit_landing_request(conn, **fields)
    return request


def make_pull_request(
    conn: Conn, repo: models.Repository | None = None, **overrides: Any
) -> models.PullRequest:
    """An open pull request from a feature branch into main (in a new repository unless given)."""
    repo = repo or make_repo(conn)
    fields: dict[str, Any] = {
        "base_repository_id": repo.id,
        "title": "Add a --json flag to the log command",
        "body": "",
        "author_id": repo.owner_id,
        "head_repository_id": repo.id,
        "head_branch": "feature/json-log",
        "base_branch": "main",
    }
    fields.update(overrides)
    pr = pull_requests.create_pull_request(conn, **fields)
    return pr


def make_change(
    conn: Conn, repo: models.Repository | None = None, **overrides: Any
) -> models.Change:
    """A recorded jj change with a fresh change and commit id (in a new repository unless given)."""
    repo = repo or make_repo(conn)
    fields: dict[str, Any] = {
        "repository_id": repo.id,
        "change_id": change_id(),
        "commit_id": commit_id(),
        "description": "parser: accept trailing commas",
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.com",
        "author_id": None,
        "parent_change_ids": [],
        "is_empty": False,
        "has_conflict": False,
        "authored_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    }
    fields.update(overrides)
    change = changes.upsert_change(conn, **fields)
    return change


def make_commit_status(
    conn: Conn, repo: models.Repository | None = None, **overrides: Any
) -> models.CommitStatus:
    """A successful ci/build status on a fresh commit (in a new repository unless given)."""
    repo = repo or make_repo(conn)
    fields: dict[str, Any] = {
        "repository_id": repo.id,
        "commit_sha": commit_id(),
        "context": "ci/build",
        "state": CommitState.SUCCESS,
        "target_url": "https://ci.example.com/runs/1",
        "description": "Build passed",
        "creator_id": repo.owner_id,
        "workflow_run_id": None,
    }
    fields.update(overrides)
    status = commit_statuses.upsert_commit_status(conn, **fields)
    return status
