"""Queries of queries/issues.sql against a real PostgreSQL.

Each test runs in the rolled-back `conn` transaction; the numbering race test
commits on its own connections and cleans up after itself.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, cast

import psycopg
import pytest
from plue_queries import issues, milestones, models
from plue_queries.enums import IssueEventType, IssueState
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import make_issue, make_repo, make_repo_with_issues, make_user
from tests.fixtures.fix_db import Conn


def numbers(rows: list[models.Issue]) -> list[int]:
    return [row.issue_number for row in rows]


def page(conn: Conn, repo_id: int, **filters: Any) -> list[models.Issue]:
    """One page of open issues, with every filter off unless given."""
    args: dict[str, Any] = {
        "state": IssueState.OPEN,
        "label_id": None,
        "assignee_id": None,
        "milestone_id": None,
        "before_id": None,
        "before_created_at": None,
        "page_size": 100,
    }
    args.update(filters)
    return issues.list_issues(conn, repository_id=repo_id, **args)


# --- issues ----------------------------------------------------------------


def test_create_issue_numbers_each_repository_from_one(conn: Conn) -> None:
    author = make_user(conn)
    repo_a, repo_b = make_repo(conn), make_repo(conn)
    created = [make_issue(conn, repo_a, author=author) for _ in range(3)]
    created += [make_issue(conn, repo_b) for _ in range(2)]

    assert [(i.repository_id, i.issue_number) for i in created] == [
        (repo_a.id, 1),
        (repo_a.id, 2),
        (repo_a.id, 3),
        (repo_b.id, 1),
        (repo_b.id, 2),
    ]
    first = created[0]
    assert first.author_id == author.id
    assert first.state is IssueState.OPEN
    assert first.closed_at is None
    assert first.milestone_id is None


def test_create_issue_stores_every_field(conn: Conn) -> None:
    repo = make_repo(conn)
    author = make_user(conn)
    milestone = milestones.create_milestone(
        conn, repository_id=repo.id, title="v1.0", description="", due_date=None
    )
    issue = issues.create_issue(
        conn,
        repository_id=repo.id,
        title="Crash on empty bookmark",
        body="Steps:\n1. jj bookmark create ''",
        author_id=author.id,
        milestone_id=milestone.id,
        due_date=datetime.date(2030, 1, 31),
    )
    assert issues.get_issue(conn, id=issue.id) == issue
    assert (issue.title, issue.body) == (
        "Crash on empty bookmark",
        "Steps:\n1. jj bookmark create ''",
    )
    assert (issue.milestone_id, issue.due_date) == (milestone.id, datetime.date(2030, 1, 31))


def test_failed_create_issue_does_not_use_up_a_number(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.CheckViolation, match="issues_title_not_empty"), conn.transaction():
        make_issue(conn, repo, title="   ")
    assert make_issue(conn, repo).issue_number == 1


def test_create_issue_in_unknown_repository_is_a_foreign_key_violation(conn: Conn) -> None:
    with pytest.raises(errors.ForeignKeyViolation, match="repository -1 does not exist"):
        issues.create_issue(
            conn,
            repository_id=-1,
            title="t",
            body="",
            author_id=None,
            milestone_id=None,
            due_date=None,
        )


def test_issue_milestone_must_be_of_the_same_repository(conn: Conn) -> None:
    repo, other = make_repo(conn), make_repo(conn)
    foreign = milestones.create_milestone(
        conn, repository_id=other.id, title="Other's", description="", due_date=None
    )
    with (
        pytest.raises(errors.ForeignKeyViolation, match="issues_milestone_same_repository"),
        conn.transaction(),
    ):
        make_issue(conn, repo, milestone_id=foreign.id)
    issue = make_issue(conn, repo)
    with (
        pytest.raises(errors.ForeignKeyViolation, match="issues_milestone_same_repository"),
        conn.transaction(),
    ):
        issues.set_issue_milestone(conn, milestone_id=foreign.id, id=issue.id)


def test_get_issue_by_number_and_missing_issues(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 3)
    assert issues.get_issue_by_number(conn, repository_id=repo.id, issue_number=2) == made[1]
    assert issues.get_issue_by_number(conn, repository_id=repo.id, issue_number=4) is None
    assert issues.get_issue(conn, id=-1) is None


def test_list_issues_pages_newest_first_by_keyset(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 7)
    make_repo_with_issues(conn, 2)  # another repository's issues never show up

    seen: list[int] = []
    before: models.Issue | None = None
    pages = 0
    while True:
        rows = page(
            conn,
            repo.id,
            page_size=3,
            before_id=None if before is None else before.id,
            before_created_at=None if before is None else before.created_at,
        )
        if not rows:
            break
        pages += 1
        seen += numbers(rows)
        before = rows[-1]
    # Same created_at inside one transaction: the id breaks the tie.
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3
    assert {i.repository_id for i in made} == {repo.id}


def test_list_issues_filters_by_state_label_assignee_and_milestone(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 5)
    bug = issues.create_label(
        conn, repository_id=repo.id, name="bug", color="#d73a4a", description=""
    )
    dev = make_user(conn)
    milestone = milestones.create_milestone(
        conn, repository_id=repo.id, title="Beta", description="", due_date=None
    )
    issues.attach_label(conn, issue_id=made[0].id, label_id=bug.id)
    issues.attach_label(conn, issue_id=made[2].id, label_id=bug.id)
    issues.add_issue_assignee(conn, issue_id=made[2].id, user_id=dev.id, assigned_by=None)
    issues.add_issue_assignee(conn, issue_id=made[3].id, user_id=dev.id, assigned_by=None)
    issues.set_issue_milestone(conn, milestone_id=milestone.id, id=made[2].id)
    issues.set_issue_milestone(conn, milestone_id=milestone.id, id=made[4].id)
    issues.close_issue(conn, id=made[4].id)

    assert numbers(page(conn, repo.id)) == [4, 3, 2, 1]
    assert numbers(page(conn, repo.id, state=IssueState.CLOSED)) == [5]
    assert numbers(page(conn, repo.id, label_id=bug.id)) == [3, 1]
    assert numbers(page(conn, repo.id, assignee_id=dev.id)) == [4, 3]
    assert numbers(page(conn, repo.id, milestone_id=milestone.id)) == [3]
    assert numbers(page(conn, repo.id, state=IssueState.CLOSED, milestone_id=milestone.id)) == [5]
    assert numbers(
        page(conn, repo.id, label_id=bug.id, assignee_id=dev.id, milestone_id=milestone.id)
    ) == [3]


def test_list_issues_rejects_an_unknown_state(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.InvalidTextRepresentation, match="issue_state"):
        page(conn, repo.id, state="resolved")


def test_get_issue_with_labels_sorts_names_and_gives_empty_list(conn: Conn) -> None:
    repo, (labelled, bare) = make_repo_with_issues(conn, 2)
    for name in ("ui", "bug", "p1"):
        label = issues.create_label(
            conn, repository_id=repo.id, name=name, color="#ededed", description=""
        )
        issues.attach_label(conn, issue_id=labelled.id, label_id=label.id)

    row = issues.get_issue_with_labels(conn, id=labelled.id)
    assert row is not None
    assert row.label_names == ["bug", "p1", "ui"]
    assert (row.id, row.issue_number, row.title) == (labelled.id, 1, labelled.title)
    empty = issues.get_issue_with_labels(conn, id=bare.id)
    assert empty is not None and empty.label_names == []
    assert issues.get_issue_with_labels(conn, id=-1) is None


def test_count_issues_by_state(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 4)
    issues.close_issue(conn, id=made[1].id)
    counts = issues.count_issues_by_state(conn, repository_id=repo.id)
    assert (counts.open_count, counts.closed_count) == (3, 1)
    none = issues.count_issues_by_state(conn, repository_id=make_repo(conn).id)
    assert none is not None and (none.open_count, none.closed_count) == (0, 0)


def test_update_issue_changes_only_what_is_given(conn: Conn) -> None:
    issue = make_issue(conn, title="Old title", body="Old body")
    retitled = issues.update_issue(conn, title="New title", body=None, id=issue.id)
    assert retitled is not None
    assert (retitled.title, retitled.body) == ("New title", "Old body")
    rebodied = issues.update_issue(conn, title=None, body="New body", id=issue.id)
    assert rebodied is not None
    assert (rebodied.title, rebodied.body) == ("New title", "New body")
    assert issues.update_issue(conn, title="x", body=None, id=-1) is None
    with pytest.raises(errors.CheckViolation, match="issues_title_not_empty"):
        issues.update_issue(conn, title="", body=None, id=issue.id)


def test_close_and_reopen_issue(conn: Conn) -> None:
    issue = make_issue(conn)
    closed = issues.close_issue(conn, id=issue.id)
    assert closed is not None
    assert closed.state is IssueState.CLOSED
    assert closed.closed_at is not None

    earlier = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    conn.execute("UPDATE issues SET closed_at = %s WHERE id = %s", (earlier, issue.id))
    again = issues.close_issue(conn, id=issue.id)
    assert again is not None and again.closed_at == earlier

    reopened = issues.reopen_issue(conn, id=issue.id)
    assert reopened is not None
    assert (reopened.state, reopened.closed_at) == (IssueState.OPEN, None)
    assert issues.close_issue(conn, id=-1) is None


def test_set_and_clear_due_date_and_milestone(conn: Conn) -> None:
    repo = make_repo(conn)
    issue = make_issue(conn, repo)
    milestone = milestones.create_milestone(
        conn, repository_id=repo.id, title="GA", description="", due_date=None
    )
    dated = issues.set_issue_due_date(conn, due_date=datetime.date(2031, 2, 3), id=issue.id)
    assert dated is not None and dated.due_date == datetime.date(2031, 2, 3)
    undated = issues.set_issue_due_date(conn, due_date=None, id=issue.id)
    assert undated is not None and undated.due_date is None
    placed = issues.set_issue_milestone(conn, milestone_id=milestone.id, id=issue.id)
    assert placed is not None and placed.milestone_id == milestone.id
    removed = issues.set_issue_milestone(conn, milestone_id=None, id=issue.id)
    assert removed is not None and removed.milestone_id is None


def test_delete_issue_cascades_to_its_comments(conn: Conn) -> None:
    issue = make_issue(conn)
    comment = issues.create_comment(conn, issue_id=issue.id, author_id=None, body="me too")
    assert issues.delete_issue(conn, id=issue.id) == 1
    assert issues.delete_issue(conn, id=issue.id) == 0
    assert issues.get_issue(conn, id=issue.id) is None
    assert issues.get_comment(conn, id=comment.id) is None


# --- comments --------------------------------------------------------------


def test_comments_crud_and_keyset_pages_oldest_first(conn: Conn) -> None:
    issue = make_issue(conn)
    author = make_user(conn)
    made = []
    for n in range(5):
        comment = issues.create_comment(
            conn, issue_id=issue.id, author_id=author.id, body=f"comment {n}"
        )
        made.append(comment)
    assert made[0].edited_at is None
    assert issues.get_comment(conn, id=made[0].id) == made[0]

    first = issues.list_comments(
        conn, issue_id=issue.id, after_id=None, after_created_at=None, page_size=3
    )
    last = first[-1]
    rest = issues.list_comments(
        conn, issue_id=issue.id, after_id=last.id, after_created_at=last.created_at, page_size=3
    )
    assert [c.body for c in first + rest] == [f"comment {n}" for n in range(5)]

    edited = issues.edit_comment(conn, body="comment 0 (edited)", id=made[0].id)
    assert edited is not None
    assert edited.body == "comment 0 (edited)"
    assert edited.edited_at is not None
    assert issues.delete_comment(conn, id=made[1].id) == 1
    assert issues.delete_comment(conn, id=made[1].id) == 0
    remaining = issues.list_comments(
        conn, issue_id=issue.id, after_id=None, after_created_at=None, page_size=10
    )
    assert [c.id for c in remaining] == [made[0].id, made[2].id, made[3].id, made[4].id]


def test_comment_errors(conn: Conn) -> None:
    issue = make_issue(conn)
    with pytest.raises(errors.CheckViolation, match="comments_body_not_empty"), conn.transaction():
        issues.create_comment(conn, issue_id=issue.id, author_id=None, body="   ")
    with pytest.raises(errors.ForeignKeyViolation, match="comments_issue_id_fkey"):
        issues.create_comment(conn, issue_id=-1, author_id=None, body="hello")


# --- assignees -------------------------------------------------------------


def test_assignees_add_idempotently_list_and_remove(conn: Conn) -> None:
    issue = make_issue(conn)
    zoe, adam = make_user(conn, username="Zoe-a1"), make_user(conn, username="adam-a1")
    add = issues.add_issue_assignee
    assert add(conn, issue_id=issue.id, user_id=zoe.id, assigned_by=adam.id) == 1
    assert add(conn, issue_id=issue.id, user_id=zoe.id, assigned_by=None) == 0
    assert add(conn, issue_id=issue.id, user_id=adam.id, assigned_by=None) == 1
    assert issues.list_issue_assignees(conn, issue_id=issue.id) == [adam, zoe]
    assert issues.remove_issue_assignee(conn, issue_id=issue.id, user_id=adam.id) == 1
    assert issues.remove_issue_assignee(conn, issue_id=issue.id, user_id=adam.id) == 0
    assert issues.list_issue_assignees(conn, issue_id=issue.id) == [zoe]
    with pytest.raises(errors.ForeignKeyViolation, match="issue_assignees_user_id_fkey"):
        issues.add_issue_assignee(conn, issue_id=issue.id, user_id=-1, assigned_by=None)


# --- labels ----------------------------------------------------------------


def test_labels_crud_and_keyset_by_name(conn: Conn) -> None:
    repo = make_repo(conn)
    names = ["wontfix", "bug", "docs", "p0", "enhancement"]
    for name in names:
        issues.create_label(conn, repository_id=repo.id, name=name, color="#0075ca", description="")
    first = issues.list_labels(conn, repository_id=repo.id, after_name=None, page_size=2)
    second = issues.list_labels(conn, repository_id=repo.id, after_name=first[-1].name, page_size=2)
    third = issues.list_labels(conn, repository_id=repo.id, after_name=second[-1].name, page_size=2)
    assert [label.name for label in first + second + third] == sorted(names)

    bug = issues.get_label_by_name(conn, repository_id=repo.id, name="bug")
    assert bug is not None and bug.color == "#0075ca"
    assert issues.get_label(conn, id=bug.id) == bug
    updated = issues.update_label(conn, name="defect", color="#d73a4a", description=None, id=bug.id)
    assert updated is not None
    assert (updated.name, updated.color, updated.description) == ("defect", "#d73a4a", "")
    assert issues.get_label_by_name(conn, repository_id=repo.id, name="bug") is None
    assert issues.delete_label(conn, id=bug.id) == 1
    assert issues.get_label(conn, id=bug.id) is None


def test_label_constraint_violations(conn: Conn) -> None:
    repo = make_repo(conn)
    issues.create_label(conn, repository_id=repo.id, name="bug", color="#ededed", description="")
    with (
        pytest.raises(errors.UniqueViolation, match="labels_repository_name_key"),
        conn.transaction(),
    ):
        issues.create_label(
            conn, repository_id=repo.id, name="bug", color="#ededed", description=""
        )
    with pytest.raises(errors.CheckViolation, match="labels_color_format"):
        issues.create_label(conn, repository_id=repo.id, name="ui", color="red", description="")


def test_attach_detach_and_list_issue_labels(conn: Conn) -> None:
    repo = make_repo(conn)
    issue = make_issue(conn, repo)
    made = {}
    for name in ("ui", "bug"):
        label = issues.create_label(
            conn, repository_id=repo.id, name=name, color="#ededed", description=""
        )
        made[name] = label
    assert issues.attach_label(conn, issue_id=issue.id, label_id=made["ui"].id) == 1
    assert issues.attach_label(conn, issue_id=issue.id, label_id=made["ui"].id) == 0
    assert issues.attach_label(conn, issue_id=issue.id, label_id=made["bug"].id) == 1
    assert issues.list_issue_labels(conn, issue_id=issue.id) == [made["bug"], made["ui"]]
    assert issues.detach_label(conn, issue_id=issue.id, label_id=made["ui"].id) == 1
    assert issues.detach_label(conn, issue_id=issue.id, label_id=made["ui"].id) == 0
    issues.delete_label(conn, id=made["bug"].id)
    assert issues.list_issue_labels(conn, issue_id=issue.id) == []
    with pytest.raises(errors.ForeignKeyViolation, match="issue_labels_label_id_fkey"):
        issues.attach_label(conn, issue_id=issue.id, label_id=-1)


def test_a_label_of_another_repository_cannot_be_attached(conn: Conn) -> None:
    issue, stranger = make_issue(conn), make_issue(conn)
    foreign = issues.create_label(
        conn, repository_id=stranger.repository_id, name="bug", color="#ededed", description=""
    )
    with (
        pytest.raises(errors.ForeignKeyViolation, match="issue_labels_label_same_repository"),
        conn.transaction(),
    ):
        issues.attach_label(conn, issue_id=issue.id, label_id=foreign.id)
    with pytest.raises(errors.ForeignKeyViolation, match="issue_labels_issue_id_fkey"):
        issues.attach_label(conn, issue_id=-1, label_id=foreign.id)


def test_attach_labels_in_one_batch_all_or_nothing(conn: Conn) -> None:
    issue, stranger = make_issue(conn), make_issue(conn)
    mine = [
        issues.create_label(
            conn, repository_id=issue.repository_id, name=n, color="#ededed", description=""
        )
        for n in ("a", "b", "c")
    ]
    ids = [label.id for label in mine if label is not None]
    batch = issues.AttachLabelsParams
    issues.attach_labels(conn, [batch(issue.id, ids[0]), batch(issue.id, ids[1])])
    issues.attach_labels(conn, [batch(issue.id, ids[1]), batch(issue.id, ids[2])])  # b again
    assert [lb.id for lb in issues.list_issue_labels(conn, issue_id=issue.id)] == ids
    foreign = issues.create_label(
        conn, repository_id=stranger.repository_id, name="x", color="#ededed", description=""
    )
    detached = issues.detach_label(conn, issue_id=issue.id, label_id=ids[2])
    assert detached == 1
    with pytest.raises(errors.ForeignKeyViolation, match="issue_labels_label_same_repository"):
        issues.attach_labels(conn, [batch(issue.id, ids[2]), batch(issue.id, foreign.id)])
    assert [lb.id for lb in issues.list_issue_labels(conn, issue_id=issue.id)] == ids[:2]
    with pytest.raises(errors.ForeignKeyViolation, match="issue_labels_issue_id_fkey"):
        issues.attach_labels(conn, [batch(-1, ids[0])])
    issues.attach_labels(conn, [])


# --- dependencies and subtasks --------------------------------------------


def test_dependencies_both_directions(conn: Conn) -> None:
    _, (schema, api, ui) = make_repo_with_issues(conn, 3)
    add = issues.add_issue_dependency
    assert add(conn, blocker_issue_id=schema.id, blocked_issue_id=api.id, created_by=None) == 1
    assert add(conn, blocker_issue_id=schema.id, blocked_issue_id=api.id, created_by=None) == 0
    assert add(conn, blocker_issue_id=schema.id, blocked_issue_id=ui.id, created_by=None) == 1
    assert add(conn, blocker_issue_id=api.id, blocked_issue_id=ui.id, created_by=None) == 1

    assert issues.list_issues_blocked_by(conn, blocker_issue_id=schema.id) == [api, ui]
    assert issues.list_issue_blockers(conn, blocked_issue_id=ui.id) == [schema, api]
    assert issues.list_issue_blockers(conn, blocked_issue_id=schema.id) == []
    remove = issues.remove_issue_dependency
    assert remove(conn, blocker_issue_id=schema.id, blocked_issue_id=ui.id) == 1
    assert remove(conn, blocker_issue_id=schema.id, blocked_issue_id=ui.id) == 0
    assert issues.list_issue_blockers(conn, blocked_issue_id=ui.id) == [api]
    with pytest.raises(errors.CheckViolation, match="issue_dependencies_no_self_dependency"):
        add(conn, blocker_issue_id=ui.id, blocked_issue_id=ui.id, created_by=None)


def test_subtasks_append_in_order_and_have_one_parent(conn: Conn) -> None:
    _, (epic, a, b, c, other) = make_repo_with_issues(conn, 5)
    positions = []
    for child in (a, b, c):
        row = issues.add_subtask(conn, parent_issue_id=epic.id, child_issue_id=child.id)
        assert row is not None
        positions.append(row.position)
    assert positions == [0, 1, 2]
    again = issues.add_subtask(conn, parent_issue_id=epic.id, child_issue_id=b.id)
    assert again is not None and again.position == 1

    assert issues.list_subtasks(conn, parent_issue_id=epic.id) == [a, b, c]
    assert issues.get_parent_issue(conn, child_issue_id=b.id) == epic
    assert issues.get_parent_issue(conn, child_issue_id=epic.id) is None
    assert issues.remove_subtask(conn, parent_issue_id=epic.id, child_issue_id=b.id) == 1
    assert issues.remove_subtask(conn, parent_issue_id=epic.id, child_issue_id=b.id) == 0
    assert issues.list_subtasks(conn, parent_issue_id=epic.id) == [a, c]
    appended = issues.add_subtask(conn, parent_issue_id=epic.id, child_issue_id=b.id)
    assert appended is not None and appended.position == 3

    with pytest.raises(errors.UniqueViolation, match="subtasks_one_parent"), conn.transaction():
        issues.add_subtask(conn, parent_issue_id=other.id, child_issue_id=a.id)
    with pytest.raises(errors.CheckViolation, match="subtasks_not_own_parent"):
        issues.add_subtask(conn, parent_issue_id=other.id, child_issue_id=other.id)


# --- pinned issues ---------------------------------------------------------


def pinned_numbers(conn: Conn, repo_id: int) -> list[int]:
    return numbers(issues.list_pinned_issues(conn, repository_id=repo_id))


def test_pin_appends_and_is_idempotent(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 3)
    pinner = make_user(conn)
    pins = [issues.pin_issue(conn, pinned_by=pinner.id, issue_id=i.id) for i in reversed(made)]
    assert [(p.issue_id, p.position) for p in pins if p is not None] == [
        (made[2].id, 0),
        (made[1].id, 1),
        (made[0].id, 2),
    ]
    assert pins[0] is not None and pins[0].pinned_by == pinner.id
    again = issues.pin_issue(conn, pinned_by=None, issue_id=made[1].id)
    assert again == pins[1]
    assert pinned_numbers(conn, repo.id) == [3, 2, 1]
    assert issues.pin_issue(conn, pinned_by=None, issue_id=-1) is None

    assert issues.unpin_issue(conn, issue_id=made[1].id) == 1
    assert issues.unpin_issue(conn, issue_id=made[1].id) == 0
    assert pinned_numbers(conn, repo.id) == [3, 1]
    repinned = issues.pin_issue(conn, pinned_by=None, issue_id=made[1].id)
    assert repinned is not None and repinned.position == 3
    assert pinned_numbers(conn, repo.id) == [3, 1, 2]


def test_move_pinned_issue_renumbers_in_one_statement(conn: Conn) -> None:
    repo, made = make_repo_with_issues(conn, 4)
    other_repo, (elsewhere,) = make_repo_with_issues(conn, 1)
    for issue in [*made, elsewhere]:
        issues.pin_issue(conn, pinned_by=None, issue_id=issue.id)
    issues.unpin_issue(conn, issue_id=made[1].id)  # leaves a gap: positions 0, 2, 3
    issues.pin_issue(conn, pinned_by=None, issue_id=made[1].id)  # order #1 #3 #4 #2

    moved = issues.move_pinned_issue(conn, issue_id=made[3].id, position=0)
    assert [(r.issue_id, r.position) for r in moved] == [
        (made[3].id, 0),
        (made[0].id, 1),
        (made[2].id, 2),
        (made[1].id, 3),
    ]
    assert pinned_numbers(conn, repo.id) == [4, 1, 3, 2]
    issues.move_pinned_issue(conn, issue_id=made[3].id, position=99)  # clamped to the end
    assert pinned_numbers(conn, repo.id) == [1, 3, 2, 4]
    issues.move_pinned_issue(conn, issue_id=made[1].id, position=1)
    assert pinned_numbers(conn, repo.id) == [1, 2, 3, 4]
    assert pinned_numbers(conn, other_repo.id) == [1]
    issues.unpin_issue(conn, issue_id=made[0].id)
    assert issues.move_pinned_issue(conn, issue_id=made[0].id, position=0) == []
    assert pinned_numbers(conn, repo.id) == [2, 3, 4]


# --- mentions --------------------------------------------------------------


def test_mentions_feed_for_a_user_pages_newest_first(conn: Conn) -> None:
    issue = make_issue(conn)
    mentioned, mentioner = make_user(conn), make_user(conn)
    comment = issues.create_comment(conn, issue_id=issue.id, author_id=mentioner.id, body="@you")
    made = []
    for comment_id in (None, comment.id, comment.id):
        mention = issues.create_mention(
            conn,
            issue_id=issue.id,
            comment_id=comment_id,
            mentioned_user_id=mentioned.id,
            mentioned_by=mentioner.id,
        )
        made.append(mention)
    issues.create_mention(
        conn, issue_id=issue.id, comment_id=None, mentioned_user_id=mentioner.id, mentioned_by=None
    )
    first = issues.list_mentions_for_user(
        conn, mentioned_user_id=mentioned.id, before_id=None, before_created_at=None, page_size=2
    )
    rest = issues.list_mentions_for_user(
        conn,
        mentioned_user_id=mentioned.id,
        before_id=first[-1].id,
        before_created_at=first[-1].created_at,
        page_size=2,
    )
    assert first + rest == list(reversed(made))
    assert made[0].comment_id is None and made[1].comment_id == comment.id


# --- reactions -------------------------------------------------------------


def test_reactions_on_issues_and_comments(conn: Conn) -> None:
    issue = make_issue(conn)
    comment = issues.create_comment(conn, issue_id=issue.id, author_id=None, body="LGTM")
    ann, bob, cid = make_user(conn), make_user(conn), make_user(conn)

    def react(user: models.User, emoji: str, on_comment: bool = False) -> int:
        return issues.add_reaction(
            conn,
            user_id=user.id,
            issue_id=None if on_comment else issue.id,
            comment_id=comment.id if on_comment else None,
            emoji=emoji,
        )

    added = [react(ann, "+1"), react(bob, "+1"), react(cid, "+1"), react(ann, "heart")]
    assert added == [1, 1, 1, 1]
    assert react(ann, "+1") == 0
    assert [react(ann, "+1", on_comment=True), react(ann, "+1", on_comment=True)] == [1, 0]
    counts = issues.count_issue_reactions(conn, issue_id=issue.id)
    assert [(c.emoji, c.reaction_count) for c in counts] == [("+1", 3), ("heart", 1)]
    on_comment = issues.count_comment_reactions(conn, comment_id=comment.id)
    assert [(c.emoji, c.reaction_count) for c in on_comment] == [("+1", 1)]

    def unreact(user: models.User, on_comment: bool = False) -> int:
        return issues.remove_reaction(
            conn,
            user_id=user.id,
            emoji="+1",
            issue_id=None if on_comment else issue.id,
            comment_id=comment.id if on_comment else None,
        )

    assert [unreact(bob), unreact(bob), unreact(ann, on_comment=True)] == [1, 0, 1]
    counts = issues.count_issue_reactions(conn, issue_id=issue.id)
    assert [(c.emoji, c.reaction_count) for c in counts] == [("+1", 2), ("heart", 1)]
    assert issues.count_comment_reactions(conn, comment_id=comment.id) == []


def test_a_reaction_needs_exactly_one_target(conn: Conn) -> None:
    issue = make_issue(conn)
    comment = issues.create_comment(conn, issue_id=issue.id, author_id=None, body="+1")
    user = make_user(conn)
    for issue_id, comment_id in ((issue.id, comment.id), (None, None)):
        with pytest.raises(errors.CheckViolation, match="reactions_one_target"), conn.transaction():
            issues.add_reaction(
                conn, user_id=user.id, issue_id=issue_id, comment_id=comment_id, emoji="x"
            )
    with pytest.raises(errors.CheckViolation, match="reactions_emoji_length"):
        issues.add_reaction(conn, user_id=user.id, issue_id=issue.id, comment_id=None, emoji="")


# --- history ---------------------------------------------------------------


def test_issue_events_in_order_with_payload(conn: Conn) -> None:
    issue = make_issue(conn)
    actor = make_user(conn)
    kinds = [IssueEventType.CREATED, IssueEventType.LABELED, IssueEventType.RENAMED]
    payloads: list[dict[str, Any]] = [{}, {"label_id": 3}, {"from": "Old", "to": "New"}]
    for kind, payload in zip(kinds, payloads, strict=True):
        issues.create_issue_event(
            conn, issue_id=issue.id, actor_id=actor.id, event_type=kind, payload=payload
        )
    first = issues.list_issue_events(
        conn, issue_id=issue.id, after_id=None, after_created_at=None, page_size=2
    )
    rest = issues.list_issue_events(
        conn,
        issue_id=issue.id,
        after_id=first[-1].id,
        after_created_at=first[-1].created_at,
        page_size=2,
    )
    events = first + rest
    assert [e.event_type for e in events] == kinds
    assert [e.payload for e in events] == payloads
    assert {e.actor_id for e in events} == {actor.id}


def test_issue_event_type_must_be_known(conn: Conn) -> None:
    issue = make_issue(conn)
    with pytest.raises(errors.InvalidTextRepresentation, match="issue_event_type"):
        issues.create_issue_event(
            conn,
            issue_id=issue.id,
            actor_id=None,
            event_type=cast(IssueEventType, "exploded"),
            payload={},
        )


# --- numbering under concurrency ------------------------------------------

THREADS = 16
PER_THREAD = 25


def naive_create_issue(conn: Conn, repository_id: int, title: str) -> None:
    """The racy DAO this project replaces: read max(number), then insert max + 1."""
    row = conn.execute(
        "SELECT coalesce(max(issue_number), 0) + 1 FROM issues WHERE repository_id = %s",
        (repository_id,),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO issues (repository_id, issue_number, title) VALUES (%s, %s, %s)",
        (repository_id, row[0], title),
    )


def generated_create_issue(conn: Conn, repository_id: int, title: str) -> None:
    issues.create_issue(
        conn,
        repository_id=repository_id,
        title=title,
        body="",
        author_id=None,
        milestone_id=None,
        due_date=None,
    )


def hammer(
    database_url: str, create: Callable[[Conn, int, str], None]
) -> tuple[dict[int, list[int]], int]:
    """THREADS threads, each on its own connection, create PER_THREAD issues in each
    of two new repositories, committing each; returns the numbers per repository and
    how many creations failed on a unique violation."""
    with psycopg.connect(database_url) as setup:
        owner = make_user(setup)
        repo_ids = [make_repo(setup, owner).id for _ in range(2)]
        setup.commit()

    def work(conn: Conn, slot: int) -> int:
        collisions = 0
        for n in range(PER_THREAD):
            for repo_id in repo_ids:
                try:
                    create(conn, repo_id, f"thread {slot} issue {n}")
                    conn.commit()
                except errors.UniqueViolation:
                    conn.rollback()
                    collisions += 1
        return collisions

    try:
        collisions = run_on_connections(database_url, THREADS, work, autocommit=False)
        with psycopg.connect(database_url) as check:
            rows = check.execute(
                "SELECT repository_id, issue_number FROM issues"
                " WHERE repository_id = ANY(%s) ORDER BY issue_number",
                (repo_ids,),
            ).fetchall()
        return {rid: [n for r, n in rows if r == rid] for rid in repo_ids}, sum(collisions)
    finally:
        with psycopg.connect(database_url, autocommit=True) as cleanup:
            cleanup.execute("DELETE FROM users WHERE id = %s", (owner.id,))


def test_concurrent_create_issue_numbers_exactly_one_to_n(database_url: str) -> None:
    per_repo, collisions = hammer(database_url, generated_create_issue)
    expected = list(range(1, THREADS * PER_THREAD + 1))
    assert collisions == 0
    assert list(per_repo.values()) == [expected, expected]


def test_naive_max_plus_one_numbering_fails_the_same_check(database_url: str) -> None:
    """Negative control: the same load breaks a SELECT max()+1 implementation, so the
    test above can see the race it guards against."""
    per_repo, collisions = hammer(database_url, naive_create_issue)
    expected = list(range(1, THREADS * PER_THREAD + 1))
    assert collisions > 0
    assert list(per_repo.values()) != [expected, expected]
