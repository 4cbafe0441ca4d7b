"""Plue's write paths through the asyncpg target, one flow per domain module.

Each test creates, changes and deletes rows of its module with
``plue_queries.asyncpg`` on a real server (in a transaction rolled back afterwards),
checks the values that come back, and violates a constraint: the error is the named
class from ``plue_queries.errors`` (constraint and table as attributes) and still
asyncpg's own class, with asyncpg's attributes, psycopg's ``.diag`` and the original
as ``__cause__``. Control: a constraint the schema files don't declare stays
asyncpg's plain class.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable
from typing import Any

import asyncpg
import pytest
from plue_queries import asyncpg as apg
from plue_queries import errors, workflows
from plue_queries.enums import CommitState, IssueState, LogStream

from tests.asyncpg_flows import run_rolled_back as run
from tests.factories import change_id, commit_id, ssh_fingerprint, unique_name


async def violates(
    conn: Any, named: type[errors.ConstraintViolation], call: Awaitable[Any]
) -> errors.ConstraintViolation:
    """``call`` raises ``named`` (in a savepoint, so the flow goes on)."""
    with pytest.raises(named) as caught:
        async with conn.transaction():
            await call
    error: errors.ConstraintViolation = caught.value
    assert isinstance(error, asyncpg.IntegrityConstraintViolationError)
    assert isinstance(error.__cause__, asyncpg.IntegrityConstraintViolationError)
    assert type(error.__cause__).__module__.startswith("asyncpg")
    assert error.constraint_name == named.constraint == error.diag.constraint_name
    assert error.table_name == named.table == error.diag.table_name
    assert error.sqlstate == error.__cause__.sqlstate == error.diag.sqlstate
    return caught.value


async def user(conn: Any, **fields: Any) -> Any:
    return await apg.create_user(
        conn, username=unique_name("apg"), display_name="A", bio="", is_admin=False, **fields
    )


async def repository(conn: Any) -> Any:
    owner = await user(conn)
    return await apg.create_repository(
        conn,
        owner_id=owner.id,
        name=unique_name("repo"),
        description="",
        is_public=True,
        default_branch="main",
        topics=[],
    )


def test_users(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        made = await user(conn, email=None)
        error = await violates(
            conn,
            errors.UsersUsernameLowerKeyViolation,
            apg.create_user(
                conn, username=made.username.upper(), display_name="B", bio="", is_admin=False
            ),
        )
        assert isinstance(error, asyncpg.UniqueViolationError)
        assert made.username in str(error.detail)
        changed = await apg.update_user_profile(
            conn, display_name="Renamed", bio="bio", avatar_url=None, id=made.id
        )
        assert changed is not None
        assert (changed.display_name, changed.bio) == ("Renamed", "bio")
        assert await apg.delete_user(conn, id=made.id) == 1
        assert await apg.get_user_by_id(conn, id=made.id) is None

    run(database_url, flow)


def test_repositories(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        assert (repo.default_branch, repo.topics, repo.is_public) == ("main", [], True)
        await violates(
            conn,
            errors.RepositoriesOwnerNameLowerKeyViolation,
            apg.create_repository(
                conn,
                owner_id=repo.owner_id,
                name=repo.name.upper(),
                description="",
                is_public=False,
                default_branch="main",
                topics=[],
            ),
        )
        renamed = await apg.rename_repository(conn, name=repo.name + "-2", id=repo.id)
        assert renamed is not None
        assert renamed.name == repo.name + "-2"
        assert await apg.delete_repository(conn, id=repo.id) == 1

    run(database_url, flow)


def test_issues(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        fields = {"repository_id": repo.id, "body": "", "author_id": repo.owner_id}
        first = await apg.create_issue(conn, title="one", **fields)
        second = await apg.create_issue(conn, title="two", **fields)
        assert (first.issue_number, second.issue_number, first.state) == (1, 2, IssueState.OPEN)
        await violates(
            conn, errors.IssuesTitleNotEmptyViolation, apg.create_issue(conn, title="", **fields)
        )
        label = await apg.create_label(
            conn, repository_id=repo.id, name="bug", color="#ff0000", description=""
        )
        await violates(
            conn,
            errors.LabelsColorFormatViolation,
            apg.create_label(conn, repository_id=repo.id, name="x", color="red", description=""),
        )
        assert await apg.attach_label(conn, issue_id=first.id, label_id=label.id) == 1
        closed = await apg.close_issue(conn, id=first.id)
        assert closed is not None
        assert closed.state == IssueState.CLOSED
        assert closed.closed_at is not None
        assert await apg.delete_issue(conn, id=second.id) == 1

    run(database_url, flow)


def test_milestones(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        due = datetime.date(2030, 1, 31)
        made = await apg.create_milestone(
            conn, repository_id=repo.id, title="v1", description="", due_date=due
        )
        assert (made.title, made.due_date) == ("v1", due)
        await violates(
            conn,
            errors.MilestonesRepositoryTitleKeyViolation,
            apg.create_milestone(conn, repository_id=repo.id, title="v1", description=""),
        )
        changed = await apg.update_milestone(
            conn, title="v1.0", description="d", due_date=None, id=made.id
        )
        assert changed is not None
        assert (changed.title, changed.due_date) == ("v1.0", None)
        closed = await apg.close_milestone(conn, id=made.id)
        assert closed is not None
        assert closed.closed_at is not None
        assert await apg.delete_milestone(conn, id=made.id) == 1

    run(database_url, flow)


def test_agent(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        owner = await user(conn)
        fields = {"user_id": owner.id, "title": "t", "directory": "/src"}
        session = await apg.create_session(conn, model="m", **fields)
        assert (session.model, session.user_id) == ("m", owner.id)
        await violates(
            conn,
            errors.SessionsModelNotEmptyViolation,
            apg.create_session(conn, model="", **fields),
        )
        renamed = await apg.update_session_title(conn, title="renamed", id=session.id)
        assert renamed is not None
        assert renamed.title == "renamed"
        assert await apg.delete_session(conn, id=session.id) == 1

    run(database_url, flow)


def test_auth(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        owner = await user(conn)
        fingerprint = ssh_fingerprint()
        fields = {"user_id": owner.id, "public_key": "ssh-ed25519 AAAA", "key_type": "ssh-ed25519"}
        key = await apg.add_ssh_key(conn, name="laptop", fingerprint=fingerprint, **fields)
        assert key is not None
        assert (key.name, key.fingerprint) == ("laptop", fingerprint)
        await violates(
            conn,
            errors.IdxSshKeysFingerprintViolation,
            apg.add_ssh_key(conn, name="desktop", fingerprint=fingerprint, **fields),
        )
        assert await apg.delete_ssh_key(conn, id=key.id, user_id=owner.id) == 1

    run(database_url, flow)


def test_changes(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        fields: dict[str, Any] = {
            "repository_id": repo.id,
            "commit_id": commit_id(),
            "description": "first",
            "author_name": "A",
            "author_email": "a@example.com",
            "author_id": None,
            "parent_change_ids": [],
            "is_empty": False,
            "has_conflict": False,
            "authored_at": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        }
        change = change_id()
        made = await apg.upsert_change(conn, change_id=change, **fields)
        again = await apg.upsert_change(conn, change_id=change, **{**fields, "description": "2nd"})
        assert (made.id, again.description) == (again.id, "2nd")  # the upsert updated it
        await violates(
            conn,
            errors.ChangesChangeIDFormatViolation,
            apg.upsert_change(conn, change_id="x", **fields),
        )
        assert await apg.delete_change(conn, repository_id=repo.id, change_id=change) == 1

    run(database_url, flow)


def test_collaboration(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        assert await apg.star_repository(conn, user_id=repo.owner_id, repository_id=repo.id) == 1
        assert await apg.star_repository(conn, user_id=repo.owner_id, repository_id=repo.id) == 0
        await violates(
            conn,
            errors.StarsRepositoryIDFkeyViolation,
            apg.star_repository(conn, user_id=repo.owner_id, repository_id=-1),
        )

    run(database_url, flow)


def test_commit_statuses(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        sha = commit_id()
        fields: dict[str, Any] = {
            "repository_id": repo.id,
            "commit_sha": sha,
            "target_url": None,
            "description": "",
            "creator_id": None,
            "workflow_run_id": None,
        }
        made = await apg.upsert_commit_status(
            conn, context="ci", state=CommitState.PENDING, **fields
        )
        done = await apg.upsert_commit_status(
            conn, context="ci", state=CommitState.SUCCESS, **fields
        )
        assert (made.id, done.state) == (done.id, CommitState.SUCCESS)
        await violates(
            conn,
            errors.CommitStatusesContextNotEmptyViolation,
            apg.upsert_commit_status(conn, context="", state=CommitState.PENDING, **fields),
        )
        deleted = await apg.delete_commit_status(
            conn, repository_id=repo.id, commit_sha=sha, context="ci"
        )
        assert deleted == 1

    run(database_url, flow)


def test_landing(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        fields: dict[str, Any] = {
            "repository_id": repo.id,
            "change_id": change_id(),
            "description": "",
            "author_id": repo.owner_id,
            "target_bookmark": "main",
            "stack_change_ids": [],
        }
        made = await apg.submit_landing_request(conn, title="land it", **fields)
        assert made.title == "land it"
        await violates(
            conn,
            errors.LandingQueueOpenChangeKeyViolation,
            apg.submit_landing_request(conn, title="again", **fields),
        )
        changed = await apg.update_landing_request(
            conn, title="landed", description="d", stack_change_ids=["x"], id=made.id
        )
        assert changed is not None
        assert (changed.title, changed.stack_change_ids) == ("landed", ["x"])
        assert await apg.delete_landing_request(conn, id=made.id) == 1

    run(database_url, flow)


def test_llm_usage(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        owner = await user(conn)
        fields: dict[str, Any] = {"user_id": owner.id, "provider": "p", "model": "m"}
        made = await apg.record_llm_usage(
            conn, input_tokens=10, output_tokens=20, cost_micro_usd=30, **fields
        )
        assert (made.input_tokens, made.output_tokens, made.cost_micro_usd) == (10, 20, 30)
        await violates(
            conn,
            errors.LlmUsageInputTokensNonNegativeViolation,
            apg.record_llm_usage(
                conn, input_tokens=-1, output_tokens=0, cost_micro_usd=0, **fields
            ),
        )
        later = made.created_at + datetime.timedelta(seconds=1)
        assert await apg.delete_llm_usage_before(conn, before=later) >= 1

    run(database_url, flow)


def test_pull_requests(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        fields: dict[str, Any] = {
            "base_repository_id": repo.id,
            "body": "",
            "author_id": repo.owner_id,
            "head_branch": "feature",
            "base_branch": "main",
        }
        made = await apg.create_pull_request(conn, title="PR", **fields)
        assert (made.pr_number, made.title) == (1, "PR")
        await violates(
            conn,
            errors.PullRequestsTitleNotEmptyViolation,
            apg.create_pull_request(conn, title="", **fields),
        )
        changed = await apg.update_pull_request(
            conn, title="PR 2", body="b", base_branch="trunk", id=made.id
        )
        assert changed is not None
        assert (changed.title, changed.body, changed.base_branch) == ("PR 2", "b", "trunk")
        assert await apg.delete_pull_request(conn, id=made.id) == 1

    run(database_url, flow)


def test_rate_limits(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        key = unique_name("limit")
        window = datetime.timedelta(minutes=1)
        first = await apg.hit_rate_limit(conn, key=key, window_size=window)
        second = await apg.hit_rate_limit(conn, key=key, window_size=window)
        assert (first.count, second.count) == (1, 2)
        await violates(
            conn,
            errors.RateLimitsKeyNotEmptyViolation,
            apg.hit_rate_limit(conn, key="", window_size=window),
        )
        assert await apg.reset_rate_limit(conn, key=key) == 1

    run(database_url, flow)


def test_workflows(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        repo = await repository(conn)
        definition = await apg.upsert_workflow_definition(
            conn,
            repository_id=repo.id,
            name="ci",
            file_path=".plue/workflows/ci.yml",
            triggers=[{"event": "push"}],
            plan={"steps": []},
            is_active=True,
        )
        assert definition.triggers == [{"event": "push"}]  # jsonb through the codecs
        run_ = await apg.create_workflow_run(
            conn,
            trigger_event="push",
            ref="main",
            commit_id=commit_id(),
            inputs={"n": 1},
            triggered_by=None,
            definition_id=definition.id,
        )
        assert run_ is not None
        assert run_.inputs == {"n": 1}
        step = await apg.create_workflow_step(
            conn, run_id=run_.id, name="build", position=0, depends_on=[]
        )
        await violates(
            conn,
            errors.WorkflowStepsRunNameKeyViolation,
            apg.create_workflow_step(conn, run_id=run_.id, name="build", position=1, depends_on=[]),
        )
        logs = [
            workflows.CopyWorkflowLogsParams(run_.id, step.id, LogStream.STDOUT, f"line {n}")
            for n in range(3)
        ]
        assert await apg.copy_workflow_logs(conn, logs) == 3
        bad = [workflows.CopyWorkflowLogsParams(-1, None, LogStream.STDOUT, "x")]
        await violates(
            conn, errors.WorkflowLogsRunIDFkeyViolation, apg.copy_workflow_logs(conn, bad)
        )
        cancelled = await apg.cancel_workflow_run(conn, id=run_.id)
        assert cancelled is not None
        assert cancelled.status == "cancelled"

    run(database_url, flow)


def test_control_an_undeclared_constraint_stays_asyncpgs(database_url: str) -> None:
    async def flow(conn: Any) -> None:
        await conn.execute(
            "ALTER TABLE users ADD CONSTRAINT made_in_test CHECK (bio <> 'forbidden')"
        )
        with pytest.raises(asyncpg.CheckViolationError) as caught:
            await apg.create_user(
                conn, username=unique_name("apg"), display_name="A", bio="forbidden", is_admin=False
            )
        assert not isinstance(caught.value, errors.ConstraintViolation)
        assert caught.value.constraint_name == "made_in_test"

    run(database_url, flow)
