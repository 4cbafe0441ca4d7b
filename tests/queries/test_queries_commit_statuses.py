"""Commit status queries against a real PostgreSQL: one status per commit and
context, the combined state, and upserts racing each other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from plue_queries import commit_statuses
from plue_queries.enums import CommitState
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import commit_id, make_commit_status, make_repo
from tests.fixtures.fix_db import Conn

State = CommitState


def test_upsert_replaces_the_status_of_a_context(conn: Conn) -> None:
    repo = make_repo(conn)
    sha = commit_id()
    first = make_commit_status(conn, repo, commit_sha=sha, state=State.PENDING, description="")
    assert (first.state, first.context, first.commit_sha) == (State.PENDING, "ci/build", sha)
    second = make_commit_status(
        conn, repo, commit_sha=sha, state=State.FAILURE, target_url=None, description="2 failed"
    )
    assert second.id == first.id
    assert (second.state, second.target_url, second.description) == (
        State.FAILURE,
        None,
        "2 failed",
    )
    lint = make_commit_status(conn, repo, commit_sha=sha, context="ci/lint")
    listed = commit_statuses.list_commit_statuses(conn, repository_id=repo.id, commit_sha=sha)
    assert listed == [second, lint]


def test_statuses_are_per_repository(conn: Conn) -> None:
    sha = commit_id()
    mine = make_commit_status(conn, commit_sha=sha)
    theirs = make_commit_status(conn, commit_sha=sha, state=State.ERROR)
    assert mine.id != theirs.id
    listed = commit_statuses.list_commit_statuses(
        conn, repository_id=mine.repository_id, commit_sha=sha
    )
    assert listed == [mine]


@pytest.mark.parametrize(
    ("states", "combined"),
    [
        ((), State.PENDING),
        ((State.SUCCESS,), State.SUCCESS),
        ((State.SUCCESS, State.SUCCESS, State.SUCCESS), State.SUCCESS),
        ((State.SUCCESS, State.PENDING), State.PENDING),
        ((State.SUCCESS, State.PENDING, State.FAILURE), State.FAILURE),
        ((State.PENDING, State.ERROR), State.FAILURE),
        ((State.ERROR,), State.FAILURE),
    ],
)
def test_combined_state(conn: Conn, states: tuple[State, ...], combined: State) -> None:
    repo = make_repo(conn)
    sha = commit_id()
    for n, state in enumerate(states):
        make_commit_status(conn, repo, commit_sha=sha, context=f"check/{n}", state=state)
    make_commit_status(conn, repo, state=State.FAILURE)  # another commit: not counted
    row = commit_statuses.get_combined_commit_status(conn, repository_id=repo.id, commit_sha=sha)
    assert row.state is combined
    assert (row.total, row.successes, row.pending, row.failures) == (
        len(states),
        states.count(State.SUCCESS),
        states.count(State.PENDING),
        states.count(State.FAILURE) + states.count(State.ERROR),
    )


def test_delete_one_context(conn: Conn) -> None:
    status = make_commit_status(conn, state=State.FAILURE)
    key: dict[str, Any] = {"repository_id": status.repository_id, "commit_sha": status.commit_sha}
    assert commit_statuses.delete_commit_status(conn, **key, context="ci/build") == 1
    assert commit_statuses.delete_commit_status(conn, **key, context="ci/build") == 0
    assert commit_statuses.list_commit_statuses(conn, **key) == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("commit_sha", "HEAD", errors.CheckViolation),
        ("context", " ", errors.CheckViolation),
        ("state", "green", errors.InvalidTextRepresentation),
        ("repository_id", 987654321, errors.ForeignKeyViolation),
        ("workflow_run_id", 987654321, errors.ForeignKeyViolation),
    ],
)
def test_upsert_rejects_bad_input(
    conn: Conn, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_commit_status(conn, **{field: value})


REPORTERS = 16


def naive_upsert(conn: Conn, repo_id: int, sha: str, state: State) -> None:
    """Look, then insert or update: what UpsertCommitStatus must not be."""
    with conn.transaction():
        found = conn.execute(
            "SELECT id FROM commit_statuses"
            " WHERE repository_id = %s AND commit_sha = %s AND context = 'ci/build'",
            (repo_id, sha),
        ).fetchone()
        conn.execute("SELECT pg_sleep(0.02)")
        if found is None:
            conn.execute(
                "INSERT INTO commit_statuses (repository_id, commit_sha, context, state)"
                " VALUES (%s, %s, 'ci/build', %s)",
                (repo_id, sha, state),
            )
        else:
            conn.execute("UPDATE commit_statuses SET state = %s WHERE id = %s", (state, found[0]))


def real_upsert(conn: Conn, repo_id: int, sha: str, state: State) -> None:
    make_commit_status(
        conn,
        repository_id=repo_id,
        commit_sha=sha,
        state=state,
        target_url=None,
        creator_id=None,
    )


def race_reporters(
    database_url: str, report: Callable[[Conn, int, str, State], None]
) -> tuple[list[psycopg.Error], int]:
    """REPORTERS threads report the same commit and context at once; return the
    errors they hit and how many rows exist afterwards."""
    with psycopg.connect(database_url) as setup:
        repo = make_repo(setup)
    sha = commit_id()

    def report_once(conn: Conn, n: int) -> psycopg.Error | None:
        try:
            report(conn, repo.id, sha, State.SUCCESS if n % 2 else State.PENDING)
        except psycopg.Error as exc:  # the caller judges these: the naive upsert collides
            return exc
        return None

    outcomes = run_on_connections(database_url, REPORTERS, report_once)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM commit_statuses WHERE repository_id = %s AND commit_sha = %s",
            (repo.id, sha),
        ).fetchone()
    assert row is not None
    return [exc for exc in outcomes if exc is not None], row[0]


def test_concurrent_reports_leave_one_row_and_no_errors(database_url: str) -> None:
    failures, rows = race_reporters(database_url, real_upsert)
    assert failures == []
    assert rows == 1


def test_negative_control_look_then_insert_collides(database_url: str) -> None:
    failures, rows = race_reporters(database_url, naive_upsert)
    assert rows == 1
    assert failures, "the race was not observed: the test cannot see it"
    assert all(isinstance(f, errors.UniqueViolation) for f in failures)
