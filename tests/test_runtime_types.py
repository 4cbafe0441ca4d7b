"""Every generated read function, run on seeded data, returns what its annotation says.

A world with a row in every table is seeded through the generated functions themselves.
Then every :one and :many function of plue_queries (and each iter_* stream, and each
async twin) runs with arguments taken from that world, each call in a savepoint that is
rolled back, and every returned value is walked against ``typing.get_type_hints`` of the
function (plue_db.runtime_types). A sweep over empty results proves little, so the test
also asserts that every function produced a non-None value.

Over 400 lines on purpose: the seeded world (a row in every table, through the generated
functions) is most of it, and the sweep needs all of it in one place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import importlib
import inspect
import json
import re
import secrets
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, LiteralString

import psycopg
import pytest
from plue_queries import (
    _types,
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
from plue_queries.enums import (
    ConflictKind,
    DiffSide,
    FileChangeKind,
    IssueEventType,
    LandingStatus,
    LogStream,
    MessageRole,
    MessageStatus,
    PartKind,
    ReviewState,
    WatchMode,
    WorkflowRunStatus,
    WorkflowStepStatus,
)

from plue_db.runtime_types import Checker
from tests import factories
from tests.fix_db import Conn, fresh_database
from tests.paths import ROOT, SCHEMA

MANIFEST = ROOT / "generated/plue_queries/manifest.json"
READS = frozenset({":one", ":many", ":batchone", ":batchmany"})
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


# ---- arguments for each function, from the world ---------------------------------

# A parameter with no table column behind it, by name: what to pass.
ID_OF = {
    "user_id": "users",
    "assignee_id": "users",
    "reviewer_id": "users",
    "viewer_id": "users",
    "renamed_by": "users",
    "issue_id": "issues",
    "comment_id": "comments",
    "label_id": "labels",
    "milestone_id": "milestones",
    "runner_id": "runner_pool",
    "head_repository_id": "repositories",
}
BY_NAME: dict[str, Callable[[World], Any]] = {
    "page_size": lambda w: 1000,
    "max_count": lambda w: 10,
    "tokens": lambda w: 5,
    "position": lambda w: 0,
    "ttl": lambda w: datetime.timedelta(hours=1),
    "refresh_window": lambda w: datetime.timedelta(minutes=30),
    "window_size": lambda w: datetime.timedelta(minutes=1),
    "max_heartbeat_age": lambda w: datetime.timedelta(0),
    "include_private": lambda w: True,
    "only_active": lambda w: True,
    "active_only": lambda w: True,
    "wallet_address": lambda w: w.wallet,
    "username": lambda w: w.rows["users"].username,
    "owner_username": lambda w: w.rows["users"].username,
    "email": lambda w: w.rows["users"].email,
    "change_id": lambda w: w.rows["changes"].change_id,
    "name": lambda w: w.rows["repositories"].name,
    "branch_name": lambda w: "main",
    "from_name": lambda w: "main",
    "to_name": lambda w: "trunk",
    "topic": lambda w: "jj",
    "landed_commit_id": lambda w: factories.commit_id(),
    "merged_commit_id": lambda w: factories.commit_id(),
}
# Columns with unique values: an INSERT into their table gets a fresh one, not the world's.
INSERT_TARGET = re.compile(r"\bINSERT INTO (\w+)")
FRESH: dict[str, Callable[[], Any]] = {
    "username": lambda: factories.unique_name("user"),
    "email": lambda: f"{factories.unique_name('mail')}@example.com",
    "wallet_address": factories.wallet_address,
    "name": lambda: factories.unique_name("name"),
    "title": lambda: factories.unique_name("title"),
    "pattern": lambda: factories.unique_name("release/"),
    "fingerprint": factories.ssh_fingerprint,
    "token_hash": lambda: factories.sha256_hex(factories.unique_name("token")),
    "session_key_hash": lambda: factories.sha256_hex(factories.unique_name("session")),
    "nonce": lambda: secrets.token_hex(8),
    "change_id": factories.change_id,
    "operation_id": factories.commit_id,
}
LATER = datetime.timedelta(days=2)
# Function -> parameter -> value where the world's row or the name says the wrong thing.
OVERRIDES: dict[str, dict[str, Callable[[World], Any]]] = {
    "create_user": {"wallet_address": lambda w: factories.wallet_address()},
    "create_workflow_step": {"position": lambda w: 1},
    "list_change_children": {"change_id": lambda w: w.parent_change.change_id},
    "get_email_address_by_email": {"email": lambda w: w.rows["email_addresses"].email},
    "refresh_auth_session": {
        "ttl": lambda w: datetime.timedelta(days=3),
        "refresh_window": lambda w: datetime.timedelta(days=2),
    },
    "llm_usage_by_day": {"until": lambda w: NOW + LATER},
    "llm_usage_by_model": {"until": lambda w: NOW + LATER},
    "transition_landing_request": {"to_status": lambda w: LandingStatus.IN_REVIEW},
    "set_review_comment_resolved": {"is_resolved": lambda w: True},
    "claim_workflow_run": {"max_heartbeat_age": lambda w: datetime.timedelta(hours=1)},
    "finish_workflow_run": {"conclusion": lambda w: WorkflowRunStatus.SUCCEEDED},
    "finish_workflow_step": {"conclusion": lambda w: WorkflowStepStatus.SUCCEEDED},
}
# Function -> the state its query acts on, set inside the call's rolled-back savepoint.
STATE: dict[str, tuple[LiteralString, Callable[[World], dict[str, Any]]]] = {
    **dict.fromkeys(
        ("claim_next_landable", "list_next_landable"),
        (
            "UPDATE landing_queue SET status = 'queued' WHERE id = %(id)s",
            lambda w: {"id": w.rows["landing_queue"].id},
        ),
    ),
    "mark_landing_landed": (
        "UPDATE landing_queue SET status = 'landing' WHERE id = %(id)s",
        lambda w: {"id": w.rows["landing_queue"].id},
    ),
    "unresolve_landing_line_comment": (
        "UPDATE landing_line_comments SET is_resolved = true, resolved_by = %(user)s,"
        " resolved_at = now() WHERE id = %(id)s",
        lambda w: {"id": w.rows["landing_line_comments"].id, "user": w.rows["users"].id},
    ),
    "dismiss_review": (
        "UPDATE reviews SET state = 'approved' WHERE id = %(id)s",
        lambda w: {"id": w.rows["reviews"].id},
    ),
    "reopen_pull_request": (
        "UPDATE pull_requests SET state = 'closed', closed_at = now() WHERE id = %(id)s",
        lambda w: {"id": w.rows["pull_requests"].id},
    ),
    **dict.fromkeys(
        ("finish_workflow_run", "finish_workflow_step"),
        (
            "WITH run AS (UPDATE workflow_runs SET status = 'running', started_at = now()"
            " WHERE id = %(run)s) UPDATE workflow_steps SET status = 'running',"
            " started_at = now() WHERE id = %(step)s",
            lambda w: {"run": w.rows["workflow_runs"].id, "step": w.rows["workflow_steps"].id},
        ),
    ),
    "release_runner": (
        "UPDATE runner_pool SET status = 'busy', claimed_run_id = %(run)s WHERE id = %(id)s",
        lambda w: {"id": w.rows["runner_pool"].id, "run": w.rows["workflow_runs"].id},
    ),
    "start_workflow_run": (
        "UPDATE workflow_runs SET runner_id = %(runner)s WHERE id = %(id)s",
        lambda w: {"id": w.rows["workflow_runs"].id, "runner": w.rows["runner_pool"].id},
    ),
}


def kwargs_for(
    entry: dict[str, Any], module: types.ModuleType, world: World, checker: Checker
) -> dict[str, Any]:
    """Values for one function's parameters: overrides, then the world's row of the table
    the parameter meets, then its name, then None where allowed, else a plain value."""
    hints = checker.hints(getattr(module, entry["params_class"] or entry["name"]))
    target = INSERT_TARGET.search(entry["sql"])
    inserted = target[1] if target else None
    kwargs: dict[str, Any] = {}
    for param in entry["params"]:
        name, source = param["name"], param["source"]
        override = OVERRIDES.get(entry["name"], {}).get(name)
        if override is not None:
            kwargs[name] = override(world)
        elif source and source.split(".")[0] == inserted and name in FRESH:
            kwargs[name] = FRESH[name]()
        elif source and (value := from_row(world, source)) is not _MISSING:
            kwargs[name] = value
        elif name in ID_OF:
            kwargs[name] = world.rows[ID_OF[name]].id
        elif name in BY_NAME:
            kwargs[name] = BY_NAME[name](world)
        elif param["nullable"]:
            kwargs[name] = None
        else:
            kwargs[name] = plain_value(hints[name], name)
    return kwargs


_MISSING = object()


def from_row(world: World, source: str) -> Any:
    table, column = source.split(".")
    row = world.rows.get(table)
    return getattr(row, column, _MISSING) if row is not None else _MISSING


def plain_value(hint: Any, name: str) -> Any:
    """A valid value of a parameter's type that nothing in the world supplies."""
    if typing.get_origin(hint) is list:
        return []
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    plain = {
        int: 1,
        str: factories.unique_name(name),
        bool: True,
        datetime.datetime: NOW,
        datetime.date: NOW.date(),
        datetime.timedelta: datetime.timedelta(hours=1),
    }
    if hint in plain:
        return plain[hint]
    return {}  # JsonInput


# ---- the sweep -------------------------------------------------------------------


@dataclasses.dataclass
class Sweep:
    mismatches: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    produced: set[str] = dataclasses.field(default_factory=set)
    called: set[str] = dataclasses.field(default_factory=set)


def call(
    function: Callable[..., Any],
    conn: Any,
    entry: dict[str, Any],
    module: types.ModuleType,
    kwargs: dict[str, Any],
) -> Any:
    """Call with keywords, or (:batchone/:batchmany) with one row of its Params class,
    whose class lives in the sync module."""
    if entry["params_class"]:
        return function(conn, [getattr(module, entry["params_class"])(**kwargs)])
    return function(conn, **kwargs)


def state_for(name: str, world: World) -> tuple[LiteralString, dict[str, Any]] | None:
    """The statement (and its parameters) that sets up what function name acts on."""
    if name not in STATE:
        return None
    sql, params = STATE[name]
    return sql, params(world)


def read_entries() -> list[dict[str, Any]]:
    document = json.loads(MANIFEST.read_text())
    return [f for f in document["functions"] if f["command"] in READS]


def produced_something(value: object) -> bool:
    """Some non-None value: a list counts when it holds one (rows, or a batch's results)."""
    if isinstance(value, list):
        return any(produced_something(v) for v in value)
    return value is not None


def function_names(entry: dict[str, Any]) -> list[str]:
    """The function, and its iter_ stream if it has one."""
    return [entry["name"]] + ([entry["stream"]] if entry["stream"] else [])


def sweep_sync(conn: Conn, world: World, checker: Checker) -> Sweep:
    found = Sweep()
    for entry in read_entries():
        module = importlib.import_module(f"plue_queries.{entry['module']}")
        for name in function_names(entry):
            function = getattr(module, name)
            kwargs = kwargs_for(entry, module, world, checker)
            where = f"{entry['module']}.{name}"
            found.called.add(where)
            try:
                with conn.transaction(force_rollback=True):
                    if state := state_for(entry["name"], world):
                        conn.execute(*state)
                    result = call(function, conn, entry, module, kwargs)
                    value = list(result) if inspect.isgenerator(result) else result
            except psycopg.Error as exc:
                found.errors.append(f"{where}({kwargs}): {type(exc).__name__}: {exc}")
                continue
            found.mismatches.extend(checker.returned(function, value, where))
            if produced_something(value):
                found.produced.add(where)
    return found


async def sweep_async(url: str, world: World, checker: Checker) -> Sweep:
    """The async twins and their streams, as sweep_sync runs the sync functions."""
    found = Sweep()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for entry in read_entries():
            module = importlib.import_module(f"plue_queries.aio.{entry['module']}")
            sync = importlib.import_module(f"plue_queries.{entry['module']}")
            kwargs = kwargs_for(entry, sync, world, checker)
            for name in function_names(entry):
                function = getattr(module, name)
                where = f"aio.{entry['module']}.{name}"
                found.called.add(where)
                try:
                    async with conn.transaction(force_rollback=True):
                        if state := state_for(entry["name"], world):
                            await conn.execute(*state)
                        result = call(function, conn, entry, sync, kwargs)
                        if inspect.isasyncgen(result):
                            value: Any = [row async for row in result]
                        else:
                            value = await result
                except psycopg.Error as exc:
                    found.errors.append(f"{where}({kwargs}): {type(exc).__name__}: {exc}")
                    continue
                found.mismatches.extend(checker.returned(function, value, where))
                if produced_something(value):
                    found.produced.add(where)
    return found


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(vars(_types))


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[tuple[str, World]]:
    """A database of its own (the sweep commits its world), dropped afterwards."""
    with fresh_database(server_url, SCHEMA) as url:
        with psycopg.connect(url) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            world = seed(conn)
        yield url, world


@pytest.fixture(scope="module")
def sync_sweep(seeded: tuple[str, World], checker: Checker) -> Sweep:
    url, world = seeded
    with psycopg.connect(url) as conn:
        return sweep_sync(conn, world, checker)


def test_every_read_function_returns_instances_of_its_annotation(sync_sweep: Sweep) -> None:
    assert sync_sweep.mismatches == []
    assert sync_sweep.errors == []
    entries = read_entries()
    assert len(entries) > 200
    assert len(sync_sweep.called) == len(entries) + sum(bool(e["stream"]) for e in entries)


def test_every_read_function_returned_a_value(sync_sweep: Sweep) -> None:
    """Not vacuous: each function (and stream) produced a non-None, non-empty result."""
    assert sync_sweep.called - sync_sweep.produced == set()


def test_async_twins_return_instances_of_their_annotations(
    seeded: tuple[str, World], checker: Checker
) -> None:
    url, world = seeded
    found = asyncio.run(sweep_async(url, world, checker))
    assert found.mismatches == []
    assert found.errors == []
    assert found.called - found.produced == set()
    entries = read_entries()
    assert len(found.called) == len(entries) + sum(bool(e["stream"]) for e in entries)


# ---- negative controls: each rule of the checker sees a lie ------------------------


def test_control_wrong_values_in_real_rows_are_reported(
    seeded: tuple[str, World], checker: Checker
) -> None:
    """Real rows from the seeded world, each with one field made to lie."""
    _, world = seeded
    user, repo, run = world.rows["users"], world.rows["repositories"], world.rows["workflow_runs"]
    milestone, issue = world.rows["milestones"], world.rows["issues"]
    assert checker.returned(users.get_user_by_id, user, "u") == []
    lies = [
        (users.get_user_by_id, dataclasses.replace(user, created_at=NOW.date())),
        (users.get_user_by_id, dataclasses.replace(user, id=True)),
        (users.get_user_by_id, dataclasses.replace(user, username=None)),
        (issues.get_issue, dataclasses.replace(issue, state="open")),
        (repositories.get_repository_by_id, dataclasses.replace(repo, topics=["jj", 7])),
        (workflows.get_workflow_run, dataclasses.replace(run, inputs={"a": {1}})),
        (milestones.get_milestone, dataclasses.replace(milestone, due_date=NOW)),
        (users.get_user_by_id, repo),
    ]
    problems = [checker.returned(function, value, "v") for function, value in lies]
    assert [len(p) for p in problems] == [1] * len(lies), problems
    assert [p[0].split(": ", 1)[0] for p in problems] == [
        "v.created_at",
        "v.id",
        "v.username",
        "v.state",
        "v.topics[1]",
        "v.inputs['a']",
        "v.due_date",
        "v",
    ]
    assert "is not a datetime.datetime" in problems[0][0]
    assert problems[3][0].endswith("(builtins.str) is not a plue_queries.enums.IssueState")


def test_control_streams_and_lists_are_checked_element_by_element(checker: Checker) -> None:
    assert checker.returned(users.iter_list_users, [], "s") == []
    [problem] = checker.returned(users.iter_list_users, [None], "s")
    assert problem == "s[0]: None (builtins.NoneType) is not a plue_queries.models.User"
    [problem] = checker.returned(users.list_users, (), "l")
    assert problem == "l: () (builtins.tuple) is not a list"
    [problem] = checker.mismatches(decimal.Decimal("1.5"), float, "f")
    assert problem == "f: Decimal('1.5') (decimal.Decimal) is not a builtins.float"
