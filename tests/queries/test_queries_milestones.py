"""Queries of queries/milestones.sql against a real PostgreSQL (rolled back per test)."""

from __future__ import annotations

import datetime

import pytest
from plue_queries import issues, milestones, models
from plue_queries.enums import IssueState
from psycopg import errors

from tests.factories import make_issue, make_repo, make_repo_with_issues
from tests.fixtures.fix_db import Conn


def make_milestone(
    conn: Conn, repo: models.Repository, title: str, due: datetime.date | None = None
) -> models.Milestone:
    milestone = milestones.create_milestone(
        conn, repository_id=repo.id, title=title, description=f"Ship {title}", due_date=due
    )
    return milestone


def list_all(
    conn: Conn, repo_id: int, state: IssueState, page_size: int
) -> list[milestones.ListMilestonesWithCountsRow]:
    """Every milestone of a repository in a state, fetched page by page via the keyset."""
    rows: list[milestones.ListMilestonesWithCountsRow] = []
    while True:
        last = rows[-1] if rows else None
        page = milestones.list_milestones_with_counts(
            conn,
            repository_id=repo_id,
            state=state,
            after_id=None if last is None else last.id,
            after_due_date=None if last is None else last.due_date,
            page_size=page_size,
        )
        if not page:
            return rows
        assert len(page) <= page_size
        rows += page


def test_create_get_and_get_by_title(conn: Conn) -> None:
    repo = make_repo(conn)
    milestone = make_milestone(conn, repo, "v1.0", datetime.date(2030, 6, 1))
    assert (milestone.title, milestone.description) == ("v1.0", "Ship v1.0")
    assert (milestone.state, milestone.closed_at) == (IssueState.OPEN, None)
    assert milestone.due_date == datetime.date(2030, 6, 1)
    assert milestones.get_milestone(conn, id=milestone.id) == milestone
    assert milestones.get_milestone_by_title(conn, repository_id=repo.id, title="v1.0") == milestone
    assert milestones.get_milestone_by_title(conn, repository_id=repo.id, title="v2.0") is None
    assert milestones.get_milestone(conn, id=-1) is None


def test_milestone_constraint_violations(conn: Conn) -> None:
    repo = make_repo(conn)
    make_milestone(conn, repo, "v1.0")
    with (
        pytest.raises(errors.UniqueViolation, match="milestones_repository_title_key"),
        conn.transaction(),
    ):
        make_milestone(conn, repo, "v1.0")
    make_milestone(conn, make_repo(conn), "v1.0")  # titles are per repository
    with pytest.raises(errors.CheckViolation, match="milestones_title_not_empty"):
        make_milestone(conn, repo, "  ")


def test_list_counts_open_and_closed_issues_per_milestone(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 6)
    alpha = make_milestone(conn, repo, "alpha", datetime.date(2030, 1, 1))
    beta = make_milestone(conn, repo, "beta", datetime.date(2030, 2, 1))
    empty = make_milestone(conn, repo, "empty")
    for issue, milestone in zip(made, [alpha, alpha, alpha, beta, beta, None], strict=True):
        issues.set_issue_milestone(
            conn, milestone_id=None if milestone is None else milestone.id, id=issue.id
        )
    issues.close_issue(conn, id=made[0].id)
    issues.close_issue(conn, id=made[3].id)
    issues.close_issue(conn, id=made[4].id)

    rows = list_all(conn, repo.id, IssueState.OPEN, page_size=10)
    assert [(r.title, r.open_issues, r.closed_issues) for r in rows] == [
        ("alpha", 2, 1),
        ("beta", 0, 2),
        ("empty", 0, 0),
    ]
    assert rows[0].id == alpha.id and rows[1].id == beta.id and rows[2].id == empty.id
    assert rows[0].description == "Ship alpha"


def test_list_pages_soonest_due_first_and_undated_last(conn: Conn) -> None:
    repo = make_repo(conn)
    make_milestone(conn, make_repo(conn), "elsewhere")  # never listed here
    dated = [
        ("later", datetime.date(2031, 3, 1)),
        ("soon", datetime.date(2030, 1, 1)),
        ("same-day-a", datetime.date(2030, 6, 1)),
        ("same-day-b", datetime.date(2030, 6, 1)),
    ]
    for title, due in dated:
        make_milestone(conn, repo, title, due)
    for title in ("someday-1", "someday-2", "someday-3"):
        make_milestone(conn, repo, title)
    expected = ["soon", "same-day-a", "same-day-b", "later", "someday-1", "someday-2", "someday-3"]
    for page_size in (1, 2, 3, 7):
        titles = [r.title for r in list_all(conn, repo.id, IssueState.OPEN, page_size)]
        assert titles == expected, page_size
    assert list_all(conn, repo.id, IssueState.CLOSED, page_size=5) == []


def test_update_milestone(conn: Conn) -> None:
    repo = make_repo(conn)
    milestone = make_milestone(conn, repo, "v1", datetime.date(2030, 1, 1))
    renamed = milestones.update_milestone(
        conn, title="v1.0", description=None, due_date=milestone.due_date, id=milestone.id
    )
    assert renamed is not None
    assert (renamed.title, renamed.description, renamed.due_date) == (
        "v1.0",
        "Ship v1",
        datetime.date(2030, 1, 1),
    )
    undated = milestones.update_milestone(
        conn, title=None, description="Scope cut", due_date=None, id=milestone.id
    )
    assert undated is not None
    assert (undated.title, undated.description, undated.due_date) == ("v1.0", "Scope cut", None)
    assert (
        milestones.update_milestone(conn, title="x", description=None, due_date=None, id=-1) is None
    )


def test_close_and_reopen_milestone(conn: Conn) -> None:
    repo = make_repo(conn)
    milestone = make_milestone(conn, repo, "v1")
    closed = milestones.close_milestone(conn, id=milestone.id)
    assert closed is not None
    assert closed.state is IssueState.CLOSED and closed.closed_at is not None
    earlier = datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.UTC)
    conn.execute("UPDATE milestones SET closed_at = %s WHERE id = %s", (earlier, milestone.id))
    again = milestones.close_milestone(conn, id=milestone.id)
    assert again is not None and again.closed_at == earlier
    assert [r.title for r in list_all(conn, repo.id, IssueState.CLOSED, 10)] == ["v1"]
    assert list_all(conn, repo.id, IssueState.OPEN, 10) == []

    reopened = milestones.reopen_milestone(conn, id=milestone.id)
    assert reopened is not None
    assert (reopened.state, reopened.closed_at) == (IssueState.OPEN, None)
    assert milestones.close_milestone(conn, id=-1) is None


def test_delete_milestone_keeps_its_issues(conn: Conn) -> None:
    repo = make_repo(conn)
    milestone = make_milestone(conn, repo, "v1")
    issue = make_issue(conn, repo, milestone_id=milestone.id)
    assert milestones.delete_milestone(conn, id=milestone.id) == 1
    assert milestones.delete_milestone(conn, id=milestone.id) == 0
    kept = issues.get_issue(conn, id=issue.id)
    assert kept is not None
    assert (kept.milestone_id, kept.repository_id) == (None, repo.id)
