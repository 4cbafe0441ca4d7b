"""Pull request queries against a real PostgreSQL: numbering, guarded state changes,
keyset pages, reviews, inline comments and conflicts.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from plue_queries import models, pull_requests
from plue_queries.enums import ConflictKind, DiffSide, MergeStyle, PrState, ReviewState
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import change_id, commit_id, make_pull_request, make_repo, make_user
from tests.fixtures.fix_db import Conn


def make_review(conn: Conn, pr: models.PullRequest, reviewer: models.User) -> models.Review:
    review = pull_requests.create_review(
        conn, pull_request_id=pr.id, reviewer_id=reviewer.id, body="", commit_id=commit_id()
    )
    return review


def test_create_numbers_per_repository_and_reads_back(conn: Conn) -> None:
    repo, other = make_repo(conn), make_repo(conn)
    first, second = make_pull_request(conn, repo), make_pull_request(conn, repo)
    elsewhere = make_pull_request(conn, other)
    assert (first.pr_number, second.pr_number, elsewhere.pr_number) == (1, 2, 1)
    assert first.state is PrState.OPEN
    assert (first.additions, first.deletions, first.changed_files) == (0, 0, 0)
    assert first.merged_at is None and first.closed_at is None
    assert pull_requests.get_pull_request(conn, id=first.id) == first
    by_number = pull_requests.get_pull_request_by_number(
        conn, base_repository_id=repo.id, pr_number=2
    )
    assert by_number == second
    assert (
        pull_requests.get_pull_request_by_number(conn, base_repository_id=repo.id, pr_number=3)
        is None
    )


def test_open_pull_request_for_branches(conn: Conn) -> None:
    repo = make_repo(conn)
    pr = make_pull_request(conn, repo, head_branch="topic")
    found = pull_requests.get_open_pull_request_for_branches(
        conn,
        base_repository_id=repo.id,
        head_repository_id=repo.id,
        head_branch="topic",
        base_branch="main",
    )
    assert found == pr
    pull_requests.close_pull_request(conn, id=pr.id)
    assert (
        pull_requests.get_open_pull_request_for_branches(
            conn,
            base_repository_id=repo.id,
            head_repository_id=repo.id,
            head_branch="topic",
            base_branch="main",
        )
        is None
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("title", " ", errors.CheckViolation),
        ("head_branch", "", errors.CheckViolation),
        ("head_repository_id", 987654321, errors.ForeignKeyViolation),
        ("base_repository_id", 987654321, errors.ForeignKeyViolation),
    ],
)
def test_create_rejects_bad_input(
    conn: Conn, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_pull_request(conn, **{field: value})


def test_merge_records_how_and_only_once(conn: Conn) -> None:
    pr = make_pull_request(conn)
    merger = make_user(conn)
    sha = commit_id()
    merged = pull_requests.merge_pull_request(
        conn, merge_style=MergeStyle.SQUASH, merged_commit_id=sha, merged_by=merger.id, id=pr.id
    )
    assert merged is not None
    assert merged.state is PrState.MERGED
    assert (merged.merge_style, merged.merged_commit_id, merged.merged_by) == (
        MergeStyle.SQUASH,
        sha,
        merger.id,
    )
    assert merged.merged_at is not None and merged.closed_at is not None
    assert (
        pull_requests.merge_pull_request(
            conn,
            merge_style=MergeStyle.MERGE,
            merged_commit_id=commit_id(),
            merged_by=None,
            id=pr.id,
        )
        is None
    )
    assert pull_requests.close_pull_request(conn, id=pr.id) is None
    assert pull_requests.reopen_pull_request(conn, id=pr.id) is None
    assert pull_requests.get_pull_request(conn, id=pr.id) == merged


def test_merge_refuses_closed_and_conflicted(conn: Conn) -> None:
    closed = make_pull_request(conn)
    assert pull_requests.close_pull_request(conn, id=closed.id) is not None
    conflicted = make_pull_request(conn)
    pull_requests.update_pull_request_stats(
        conn,
        additions=1,
        deletions=1,
        changed_files=1,
        has_conflicts=True,
        merge_base=None,
        id=conflicted.id,
    )
    for pr in (closed, conflicted):
        assert (
            pull_requests.merge_pull_request(
                conn,
                merge_style=MergeStyle.REBASE,
                merged_commit_id=commit_id(),
                merged_by=None,
                id=pr.id,
            )
            is None
        )
        current = pull_requests.get_pull_request(conn, id=pr.id)
        assert current is not None and current.merged_at is None


def test_merge_rejects_a_malformed_commit_id(conn: Conn) -> None:
    pr = make_pull_request(conn)
    with pytest.raises(errors.CheckViolation):
        pull_requests.merge_pull_request(
            conn, merge_style=MergeStyle.MERGE, merged_commit_id="HEAD", merged_by=None, id=pr.id
        )


def test_close_and_reopen(conn: Conn) -> None:
    pr = make_pull_request(conn)
    assert pull_requests.reopen_pull_request(conn, id=pr.id) is None
    closed = pull_requests.close_pull_request(conn, id=pr.id)
    assert closed is not None
    assert (closed.state, closed.closed_at is not None) == (PrState.CLOSED, True)
    assert pull_requests.close_pull_request(conn, id=pr.id) is None
    reopened = pull_requests.reopen_pull_request(conn, id=pr.id)
    assert reopened is not None
    assert (reopened.state, reopened.closed_at) == (PrState.OPEN, None)


def test_update_and_stats(conn: Conn) -> None:
    pr = make_pull_request(conn)
    updated = pull_requests.update_pull_request(
        conn, title="Better", body="Why", base_branch="release", id=pr.id
    )
    assert updated is not None
    assert (updated.title, updated.body, updated.base_branch) == ("Better", "Why", "release")
    base = commit_id()
    stats = pull_requests.update_pull_request_stats(
        conn,
        additions=120,
        deletions=7,
        changed_files=4,
        has_conflicts=False,
        merge_base=base,
        id=pr.id,
    )
    assert stats is not None
    assert (stats.additions, stats.deletions, stats.changed_files, stats.merge_base) == (
        120,
        7,
        4,
        base,
    )
    with pytest.raises(errors.CheckViolation):
        pull_requests.update_pull_request_stats(
            conn,
            additions=-1,
            deletions=0,
            changed_files=0,
            has_conflicts=False,
            merge_base=None,
            id=pr.id,
        )


def test_update_refuses_a_closed_pull_request(conn: Conn) -> None:
    pr = make_pull_request(conn)
    closed = pull_requests.close_pull_request(conn, id=pr.id)
    assert (
        pull_requests.update_pull_request(conn, title="x", body="", base_branch="main", id=pr.id)
        is None
    )
    assert pull_requests.get_pull_request(conn, id=pr.id) == closed


def test_list_by_state_pages_and_counts(conn: Conn) -> None:
    repo = make_repo(conn)
    open_prs = [make_pull_request(conn, repo) for _ in range(5)]
    closed = make_pull_request(conn, repo)
    pull_requests.close_pull_request(conn, id=closed.id)
    make_pull_request(conn)  # another repository
    seen: list[int] = []
    before_id: int | None = None
    before_created_at = None
    while page := pull_requests.list_pull_requests_by_state(
        conn,
        base_repository_id=repo.id,
        state=PrState.OPEN,
        before_id=before_id,
        before_created_at=before_created_at,
        page_size=2,
    ):
        assert len(page) <= 2
        seen += [pr.id for pr in page]
        before_id, before_created_at = page[-1].id, page[-1].created_at
    assert seen == sorted((pr.id for pr in open_prs), reverse=True)
    counts = pull_requests.count_pull_requests_by_state(conn, base_repository_id=repo.id)
    assert [(c.state, c.total) for c in counts] == [(PrState.OPEN, 5), (PrState.CLOSED, 1)]


def test_delete_cascades_to_reviews(conn: Conn) -> None:
    pr = make_pull_request(conn)
    review = make_review(conn, pr, make_user(conn))
    assert pull_requests.delete_pull_request(conn, id=pr.id) == 1
    assert pull_requests.get_review(conn, id=review.id) is None
    assert pull_requests.delete_pull_request(conn, id=pr.id) == 0


def test_reviews_submit_dismiss_and_verdict_counts(conn: Conn) -> None:
    pr = make_pull_request(conn)
    alice, bob = make_user(conn), make_user(conn)
    a1 = make_review(conn, pr, alice)
    assert a1.state is ReviewState.PENDING and a1.submitted_at is None
    submitted = pull_requests.submit_review(
        conn, state=ReviewState.CHANGES_REQUESTED, body="Needs tests", id=a1.id
    )
    assert submitted is not None
    assert (submitted.state, submitted.body) == (ReviewState.CHANGES_REQUESTED, "Needs tests")
    assert submitted.submitted_at is not None
    assert pull_requests.submit_review(conn, state=ReviewState.APPROVED, body="", id=a1.id) is None
    b1 = make_review(conn, pr, bob)
    pull_requests.submit_review(conn, state=ReviewState.APPROVED, body="LGTM", id=b1.id)
    b2 = make_review(conn, pr, bob)
    pull_requests.submit_review(conn, state=ReviewState.APPROVED, body="Still", id=b2.id)
    verdicts = pull_requests.count_review_verdicts(conn, pull_request_id=pr.id)
    assert (verdicts.approvals, verdicts.changes_requested) == (1, 1)

    dismissed = pull_requests.dismiss_review(conn, id=a1.id)
    assert dismissed is not None and dismissed.state is ReviewState.DISMISSED
    assert pull_requests.dismiss_review(conn, id=a1.id) is None
    pending = make_review(conn, pr, alice)
    assert pull_requests.dismiss_review(conn, id=pending.id) is None
    verdicts = pull_requests.count_review_verdicts(conn, pull_request_id=pr.id)
    assert (verdicts.approvals, verdicts.changes_requested) == (1, 0)
    listed = pull_requests.list_reviews(conn, pull_request_id=pr.id)
    assert [r.id for r in listed] == [a1.id, b1.id, b2.id, pending.id]
    assert pull_requests.delete_review(conn, id=pending.id) == 1
    assert pull_requests.get_review(conn, id=pending.id) is None


def test_review_comments_take_the_pull_request_from_the_review(
    conn: Conn,
) -> None:
    pr = make_pull_request(conn)
    author = make_user(conn)
    review = make_review(conn, pr, author)

    def comment(
        path: str, line: int, reply_to: int | None = None, rev: models.Review = review
    ) -> models.ReviewComment:
        made = pull_requests.create_review_comment(
            conn,
            author_id=author.id,
            file_path=path,
            line=line,
            side=DiffSide.RIGHT,
            body=f"on {path}:{line}",
            in_reply_to_id=reply_to,
            review_id=rev.id,
        )
        assert made is not None
        return made

    c1 = comment("src/z.py", 3)
    assert (c1.pull_request_id, c1.review_id, c1.commit_id) == (pr.id, review.id, review.commit_id)
    c2 = comment("src/a.py", 40)
    reply = comment("src/z.py", 3, reply_to=c1.id)
    later = make_review(conn, pr, make_user(conn))
    c3 = comment("src/a.py", 2, rev=later)
    by_pr = pull_requests.list_review_comments_by_pull_request(conn, pull_request_id=pr.id)
    assert [c.id for c in by_pr] == [c3.id, c2.id, c1.id, reply.id]
    by_review = pull_requests.list_review_comments_by_review(conn, review_id=review.id)
    assert [c.id for c in by_review] == [c1.id, c2.id, reply.id]
    assert pull_requests.get_review_comment(conn, id=reply.id) == reply
    assert (
        pull_requests.create_review_comment(
            conn,
            author_id=None,
            file_path="a",
            line=1,
            side=DiffSide.LEFT,
            body="x",
            in_reply_to_id=None,
            review_id=-1,
        )
        is None
    )

    edited = pull_requests.update_review_comment(conn, body="Typo here", id=c2.id)
    assert edited is not None and edited.body == "Typo here"
    resolved = pull_requests.set_review_comment_resolved(conn, is_resolved=True, id=c1.id)
    assert resolved is not None and resolved.is_resolved is True
    assert pull_requests.set_review_comment_resolved(conn, is_resolved=True, id=c1.id) is None
    reopened = pull_requests.set_review_comment_resolved(conn, is_resolved=False, id=c1.id)
    assert reopened is not None and reopened.is_resolved is False

    assert pull_requests.delete_review_comment(conn, id=c1.id) == 1
    assert pull_requests.get_review_comment(conn, id=reply.id) is None, "replies go too"


def test_review_comment_rejects_a_non_positive_line(conn: Conn) -> None:
    pr = make_pull_request(conn)
    review = make_review(conn, pr, make_user(conn))
    with pytest.raises(errors.CheckViolation):
        pull_requests.create_review_comment(
            conn,
            author_id=None,
            file_path="a.py",
            line=0,
            side=DiffSide.RIGHT,
            body="x",
            in_reply_to_id=None,
            review_id=review.id,
        )


def test_conflicts_record_refresh_resolve_and_list(conn: Conn) -> None:
    repo = make_repo(conn)
    pr = make_pull_request(conn, repo)
    change = change_id()
    resolver = make_user(conn)

    def record(path: str, kind: ConflictKind, details: dict[str, Any]) -> models.Conflict:
        made = pull_requests.record_conflict(
            conn,
            repository_id=repo.id,
            pull_request_id=pr.id,
            change_id=change,
            file_path=path,
            kind=kind,
            details=details,
        )
        return made

    b = record("src/b.rs", ConflictKind.CONTENT, {"hunks": 2})
    a = record("src/a.rs", ConflictKind.MODIFY_DELETE, {})
    assert [
        c.id for c in pull_requests.list_pull_request_conflicts(conn, pull_request_id=pr.id)
    ] == [
        a.id,
        b.id,
    ]
    assert pull_requests.count_unresolved_pull_request_conflicts(conn, pull_request_id=pr.id) == 2

    resolved = pull_requests.resolve_conflict(conn, resolved_by=resolver.id, id=b.id)
    assert resolved is not None
    assert (resolved.resolved_by, resolved.resolved_at is not None) == (resolver.id, True)
    assert pull_requests.resolve_conflict(conn, resolved_by=resolver.id, id=b.id) is None
    assert pull_requests.count_unresolved_pull_request_conflicts(conn, pull_request_id=pr.id) == 1
    unresolved = pull_requests.list_unresolved_conflicts(
        conn, repository_id=repo.id, before_id=None, before_created_at=None, page_size=10
    )
    assert [c.id for c in unresolved] == [a.id]

    again = record("src/b.rs", ConflictKind.ADD_ADD, {"hunks": 5})
    assert again.id == b.id
    assert (again.kind, again.details, again.resolved_at, again.resolved_by) == (
        ConflictKind.ADD_ADD,
        {"hunks": 5},
        None,
        None,
    )
    assert pull_requests.count_unresolved_pull_request_conflicts(conn, pull_request_id=pr.id) == 2


def test_conflict_rejects_a_malformed_change_id(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.CheckViolation):
        pull_requests.record_conflict(
            conn,
            repository_id=repo.id,
            pull_request_id=None,
            change_id="abc",
            file_path="a",
            kind=ConflictKind.OTHER,
            details={},
        )


THREADS = 16
PER_THREAD = 10


def test_concurrent_creates_number_each_repository_one_to_n(database_url: str) -> None:
    with psycopg.connect(database_url) as setup:
        repos = [make_repo(setup), make_repo(setup)]

    def worker(conn: Conn, index: int) -> None:
        for i in range(PER_THREAD):
            make_pull_request(conn, repos[(index + i) % 2])

    run_on_connections(database_url, THREADS, worker)
    with psycopg.connect(database_url) as conn:
        for repo in repos:
            rows = conn.execute(
                "SELECT pr_number FROM pull_requests WHERE base_repository_id = %s"
                " ORDER BY pr_number",
                (repo.id,),
            ).fetchall()
            assert [r[0] for r in rows] == list(range(1, THREADS * PER_THREAD // 2 + 1))
