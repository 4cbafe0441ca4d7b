"""Changes / VCS queries against a real PostgreSQL: change upserts across rewrites,
parents and children, file trackers, the jj operation log and snapshots."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import pytest
from plue_queries import changes, models
from plue_queries.enums import FileChangeKind
from psycopg import errors

from tests.factories import change_id, commit_id, make_change, make_repo, make_user
from tests.fixtures.fix_db import Conn


def operation_id() -> str:
    """A random jj operation id (hex)."""
    return secrets.token_hex(32)


def test_upsert_inserts_then_follows_a_rewrite(conn: Conn) -> None:
    repo = make_repo(conn)
    author = make_user(conn)
    first = make_change(conn, repo, author_id=author.id)
    assert (first.repository_id, first.author_id, first.is_empty) == (repo.id, author.id, False)
    assert first.authored_at == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    new_commit = commit_id()
    parent = change_id()
    rewritten = make_change(
        conn,
        repo,
        change_id=first.change_id,
        commit_id=new_commit,
        description="parser: accept trailing commas everywhere",
        parent_change_ids=[parent],
        has_conflict=True,
    )
    assert rewritten.id == first.id
    assert (rewritten.commit_id, rewritten.parent_change_ids, rewritten.has_conflict) == (
        new_commit,
        [parent],
        True,
    )
    assert rewritten.description == "parser: accept trailing commas everywhere"
    assert rewritten.author_id is None
    by_change = changes.get_change_by_change_id(
        conn, repository_id=repo.id, change_id=first.change_id
    )
    assert by_change == rewritten
    assert changes.get_change_by_commit_id(conn, repository_id=repo.id, commit_id=new_commit) == (
        rewritten
    )
    assert (
        changes.get_change_by_commit_id(conn, repository_id=repo.id, commit_id=first.commit_id)
        is None
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("change_id", "ABC", errors.CheckViolation),
        ("commit_id", "not-hex", errors.CheckViolation),
        ("repository_id", 987654321, errors.ForeignKeyViolation),
        ("author_id", 987654321, errors.ForeignKeyViolation),
    ],
)
def test_upsert_rejects_bad_input(
    conn: Conn, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_change(conn, **{field: value})


def test_list_pages_newest_first(conn: Conn) -> None:
    repo = make_repo(conn)
    made = [make_change(conn, repo) for _ in range(5)]
    make_change(conn)  # another repository
    seen: list[int] = []
    before_id: int | None = None
    before_created_at = None
    while page := changes.list_changes(
        conn,
        repository_id=repo.id,
        before_id=before_id,
        before_created_at=before_created_at,
        page_size=2,
    ):
        seen += [c.id for c in page]
        before_id, before_created_at = page[-1].id, page[-1].created_at
    assert seen == sorted((c.id for c in made), reverse=True)


def test_parents_in_jj_order_and_children(conn: Conn) -> None:
    repo = make_repo(conn)
    left, right = make_change(conn, repo), make_change(conn, repo)
    merge = make_change(conn, repo, parent_change_ids=[right.change_id, left.change_id])
    child = make_change(conn, repo, parent_change_ids=[left.change_id])
    parents = changes.list_change_parents(conn, repository_id=repo.id, change_id=merge.change_id)
    assert [p.id for p in parents] == [right.id, left.id]
    children = changes.list_change_children(conn, repository_id=repo.id, change_id=left.change_id)
    assert [c.id for c in children] == [merge.id, child.id]
    assert changes.list_change_parents(conn, repository_id=repo.id, change_id=left.change_id) == []


def test_delete_change(conn: Conn) -> None:
    change = make_change(conn)
    args: dict[str, Any] = {"repository_id": change.repository_id, "change_id": change.change_id}
    assert changes.delete_change(conn, **args) == 1
    assert changes.get_change_by_change_id(conn, **args) is None
    assert changes.delete_change(conn, **args) == 0


def test_file_trackers_upsert_list_summarize_delete(conn: Conn) -> None:
    change = make_change(conn)
    key: dict[str, Any] = {"repository_id": change.repository_id, "change_id": change.change_id}

    def track(
        path: str, kind: FileChangeKind, adds: int, dels: int, old: str | None = None
    ) -> models.FileTracker:
        made = changes.upsert_file_tracker(
            conn, **key, file_path=path, old_path=old, kind=kind, additions=adds, deletions=dels
        )
        return made

    track("src/z.rs", FileChangeKind.ADDED, 30, 0)
    track("src/a.rs", FileChangeKind.MODIFIED, 4, 2)
    renamed = track("docs/new.md", FileChangeKind.RENAMED, 1, 1, old="docs/old.md")
    assert renamed.old_path == "docs/old.md"
    again = track("src/a.rs", FileChangeKind.MODIFIED, 10, 5)
    listed = changes.list_file_trackers(conn, **key)
    assert [f.file_path for f in listed] == ["docs/new.md", "src/a.rs", "src/z.rs"]
    assert listed[1] == again
    summary = changes.summarize_file_trackers(conn, **key)
    assert (summary.files, summary.additions, summary.deletions) == (3, 41, 6)
    assert changes.delete_file_trackers(conn, **key) == 3
    empty = changes.summarize_file_trackers(conn, **key)
    assert (empty.files, empty.additions, empty.deletions) == (0, 0, 0)


def test_file_tracker_old_path_only_for_renames(conn: Conn) -> None:
    change = make_change(conn)
    with pytest.raises(errors.CheckViolation):
        changes.upsert_file_tracker(
            conn,
            repository_id=change.repository_id,
            change_id=change.change_id,
            file_path="a.txt",
            old_path="b.txt",
            kind=FileChangeKind.MODIFIED,
            additions=0,
            deletions=0,
        )


def test_file_tracker_bad_kind_is_rejected_by_the_enum(conn: Conn) -> None:
    change = make_change(conn)
    with pytest.raises(errors.InvalidTextRepresentation):
        changes.upsert_file_tracker(
            conn,
            repository_id=change.repository_id,
            change_id=change.change_id,
            file_path="a.txt",
            old_path=None,
            kind="copied",  # type: ignore[arg-type]
            additions=0,
            deletions=0,
        )


def test_operation_log_append_is_idempotent_and_pages_newest_first(
    conn: Conn,
) -> None:
    repo = make_repo(conn)
    user = make_user(conn)
    ops: list[models.JjOperation] = []
    parents: list[str] = []
    for n in range(5):
        op = changes.append_jj_operation(
            conn,
            repository_id=repo.id,
            operation_id=operation_id(),
            parent_operation_ids=parents,
            description=f"op {n}",
            user_id=user.id,
            metadata={"args": ["jj", "describe"], "n": n},
        )
        assert op is not None
        ops.append(op)
        parents = [op.operation_id]
    assert ops[3].parent_operation_ids == [ops[2].operation_id]
    assert ops[3].metadata == {"args": ["jj", "describe"], "n": 3}
    duplicate = changes.append_jj_operation(
        conn,
        repository_id=repo.id,
        operation_id=ops[0].operation_id,
        parent_operation_ids=[],
        description="again",
        user_id=None,
        metadata={},
    )
    assert duplicate is None
    fetched = changes.get_jj_operation(
        conn, repository_id=repo.id, operation_id=ops[0].operation_id
    )
    assert fetched == ops[0]
    seen: list[int] = []
    before_id: int | None = None
    before_created_at = None
    while page := changes.list_jj_operations(
        conn,
        repository_id=repo.id,
        before_id=before_id,
        before_created_at=before_created_at,
        page_size=3,
    ):
        seen += [o.id for o in page]
        before_id, before_created_at = page[-1].id, page[-1].created_at
    assert seen == [o.id for o in reversed(ops)]


def test_operation_id_must_be_hex(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.CheckViolation):
        changes.append_jj_operation(
            conn,
            repository_id=repo.id,
            operation_id="zz",
            parent_operation_ids=[],
            description="",
            user_id=None,
            metadata={},
        )


def test_snapshots_record_and_list_latest(conn: Conn) -> None:
    repo = make_repo(conn)
    agent = make_user(conn)
    change_a, change_b = change_id(), change_id()
    recorded = []
    for n in range(4):
        snap = changes.record_snapshot(
            conn,
            repository_id=repo.id,
            change_id=change_a if n % 2 == 0 else change_b,
            commit_id=commit_id(),
            operation_id=operation_id() if n else None,
            description=f"snapshot {n}",
            created_by=agent.id,
        )
        recorded.append(snap)
    assert recorded[0].operation_id is None and recorded[0].created_by == agent.id
    latest = changes.list_snapshots(
        conn, repository_id=repo.id, before_id=None, before_created_at=None, page_size=3
    )
    assert [s.id for s in latest] == [recorded[3].id, recorded[2].id, recorded[1].id]
    rest = changes.list_snapshots(
        conn,
        repository_id=repo.id,
        before_id=latest[-1].id,
        before_created_at=latest[-1].created_at,
        page_size=3,
    )
    assert [s.id for s in rest] == [recorded[0].id]
    of_a = changes.list_change_snapshots(
        conn, repository_id=repo.id, change_id=change_a, page_size=10
    )
    assert [s.id for s in of_a] == [recorded[2].id, recorded[0].id]
