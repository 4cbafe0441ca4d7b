"""The landing queue queries against a real PostgreSQL: submission, the guarded
status lifecycle, conflicts, landing, claims in queue order, reviews and line
comments.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from plue_queries import landing, models
from plue_queries.enums import DiffSide, LandingStatus, ReviewState
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import change_id, commit_id, make_landing_request, make_repo, make_user
from tests.fixtures.fix_db import Conn

Status = LandingStatus


def move(conn: Conn, request_id: int, *path: Status) -> models.LandingQueue:
    """Walk a request through legal transitions, failing loudly if one is refused."""
    row = None
    for status in path:
        row = landing.transition_landing_request(conn, to_status=status, id=request_id)
        assert row is not None, f"transition to {status} refused"
    assert row is not None
    return row


def test_submit_returns_a_pending_request_with_its_stack(conn: Conn) -> None:
    repo = make_repo(conn)
    below = [change_id(), change_id()]
    top = change_id()
    request = make_landing_request(
        conn, repo, change_id=top, stack_change_ids=below, target_bookmark="release"
    )
    assert request.repository_id == repo.id
    assert request.change_id == top
    assert request.stack_change_ids == below
    assert request.target_bookmark == "release"
    assert request.status is Status.PENDING
    assert request.has_conflicts is False
    assert request.conflict_info is None
    assert request.landed_at is None
    assert landing.get_landing_request(conn, id=request.id) == request
    open_one = landing.get_open_landing_request_for_change(
        conn, repository_id=repo.id, change_id=top
    )
    assert open_one == request


def test_a_change_has_one_open_request(conn: Conn) -> None:
    first = make_landing_request(conn)
    with pytest.raises(errors.UniqueViolation):
        landing.submit_landing_request(
            conn,
            repository_id=first.repository_id,
            change_id=first.change_id,
            title="Again",
            description="",
            author_id=None,
            target_bookmark="main",
            stack_change_ids=[],
        )


def test_an_abandoned_change_can_be_submitted_again(conn: Conn) -> None:
    first = make_landing_request(conn)
    move(conn, first.id, Status.ABANDONED)
    again = landing.submit_landing_request(
        conn,
        repository_id=first.repository_id,
        change_id=first.change_id,
        title="Second attempt",
        description="",
        author_id=None,
        target_bookmark="main",
        stack_change_ids=[],
    )
    assert again is not None and again.id != first.id
    open_one = landing.get_open_landing_request_for_change(
        conn, repository_id=first.repository_id, change_id=first.change_id
    )
    assert open_one is not None and open_one.id == again.id


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("change_id", "not-a-change-id", errors.CheckViolation),
        ("title", "   ", errors.CheckViolation),
        ("repository_id", 987654321, errors.ForeignKeyViolation),
    ],
)
def test_submit_rejects_bad_input(
    conn: Conn, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_landing_request(conn, **{field: value})


def test_the_happy_path_lands_with_commit_lander_and_time(
    conn: Conn,
) -> None:
    request = make_landing_request(conn)
    lander = make_user(conn)
    queued = move(conn, request.id, Status.IN_REVIEW, Status.APPROVED, Status.QUEUED)
    assert queued.status is Status.QUEUED
    assert (
        landing.mark_landing_landed(
            conn, landed_commit_id=commit_id(), landed_by=lander.id, id=request.id
        )
        is None
    ), "only a request in status landing can land"
    move(conn, request.id, Status.LANDING)
    sha = commit_id()
    landed = landing.mark_landing_landed(
        conn, landed_commit_id=sha, landed_by=lander.id, id=request.id
    )
    assert landed is not None
    assert landed.status is Status.LANDED
    assert landed.landed_commit_id == sha
    assert landed.landed_by == lander.id
    assert landed.landed_at is not None
    assert landed.updated_at >= request.updated_at
    assert (
        landing.get_open_landing_request_for_change(
            conn, repository_id=request.repository_id, change_id=request.change_id
        )
        is None
    )


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), Status.APPROVED),
        ((), Status.LANDING),
        ((), Status.LANDED),
        ((), Status.CONFLICTED),
        ((Status.IN_REVIEW,), Status.QUEUED),
        ((Status.IN_REVIEW, Status.APPROVED, Status.QUEUED), Status.APPROVED),
        ((Status.IN_REVIEW, Status.APPROVED, Status.QUEUED, Status.LANDING), Status.ABANDONED),
        ((Status.ABANDONED,), Status.ABANDONED),
        ((Status.ABANDONED,), Status.QUEUED),
    ],
)
def test_illegal_transitions_change_nothing(
    conn: Conn, path: tuple[Status, ...], illegal: Status
) -> None:
    request = make_landing_request(conn)
    before = move(conn, request.id, *path) if path else request
    assert landing.transition_landing_request(conn, to_status=illegal, id=request.id) is None
    assert landing.get_landing_request(conn, id=request.id) == before


def test_failed_landing_can_be_retried_and_abandoned_reopened(
    conn: Conn,
) -> None:
    request = make_landing_request(conn)
    path = (Status.IN_REVIEW, Status.APPROVED, Status.QUEUED, Status.LANDING, Status.FAILED)
    assert move(conn, request.id, *path).status is Status.FAILED
    assert move(conn, request.id, Status.QUEUED).status is Status.QUEUED
    assert move(conn, request.id, Status.ABANDONED).status is Status.ABANDONED
    assert move(conn, request.id, Status.PENDING).status is Status.PENDING


def test_transition_of_an_unknown_request_returns_none(conn: Conn) -> None:
    assert landing.transition_landing_request(conn, to_status=Status.IN_REVIEW, id=-1) is None


def test_bad_status_value_is_rejected_by_the_enum(conn: Conn) -> None:
    request = make_landing_request(conn)
    with pytest.raises(errors.InvalidTextRepresentation):
        landing.transition_landing_request(
            conn,
            to_status="shipped",  # type: ignore[arg-type]
            id=request.id,
        )


def test_conflicts_on_a_queued_request_mark_it_conflicted_and_clearing_requeues(
    conn: Conn,
) -> None:
    request = make_landing_request(conn)
    move(conn, request.id, Status.IN_REVIEW, Status.APPROVED, Status.QUEUED)
    info: dict[str, Any] = {"files": [{"path": "src/lib.rs", "sides": 2}], "base": commit_id()}
    conflicted = landing.record_landing_conflicts(conn, conflict_info=info, id=request.id)
    assert conflicted is not None
    assert conflicted.status is Status.CONFLICTED
    assert conflicted.has_conflicts is True
    assert conflicted.conflict_info == info
    cleared = landing.clear_landing_conflicts(conn, id=request.id)
    assert cleared is not None
    assert cleared.status is Status.QUEUED
    assert cleared.has_conflicts is False
    assert cleared.conflict_info is None


def test_conflicts_during_review_keep_the_status(conn: Conn) -> None:
    request = make_landing_request(conn)
    move(conn, request.id, Status.IN_REVIEW)
    flagged = landing.record_landing_conflicts(conn, conflict_info=["a.txt"], id=request.id)
    assert flagged is not None
    assert (flagged.status, flagged.has_conflicts) == (Status.IN_REVIEW, True)
    cleared = landing.clear_landing_conflicts(conn, id=request.id)
    assert cleared is not None
    assert (cleared.status, cleared.has_conflicts) == (Status.IN_REVIEW, False)


def test_conflicts_cannot_be_recorded_on_a_closed_request(conn: Conn) -> None:
    request = make_landing_request(conn)
    closed = move(conn, request.id, Status.ABANDONED)
    assert landing.record_landing_conflicts(conn, conflict_info={}, id=request.id) is None
    assert landing.clear_landing_conflicts(conn, id=request.id) is None
    assert landing.get_landing_request(conn, id=request.id) == closed


def test_update_edits_open_requests_only(conn: Conn) -> None:
    request = make_landing_request(conn)
    stack = [change_id()]
    updated = landing.update_landing_request(
        conn, title="Better title", description="Details", stack_change_ids=stack, id=request.id
    )
    assert updated is not None
    assert (updated.title, updated.description, updated.stack_change_ids) == (
        "Better title",
        "Details",
        stack,
    )
    move(conn, request.id, Status.ABANDONED)
    assert (
        landing.update_landing_request(
            conn, title="Too late", description="", stack_change_ids=[], id=request.id
        )
        is None
    )


def test_list_by_status_pages_newest_first_without_gaps(conn: Conn) -> None:
    repo = make_repo(conn)
    made = [make_landing_request(conn, repo) for _ in range(5)]
    other = make_landing_request(conn, repo)
    move(conn, other.id, Status.IN_REVIEW)
    make_landing_request(conn)  # another repository
    seen: list[int] = []
    before_id: int | None = None
    before_created_at = None
    while True:
        page = landing.list_landing_requests_by_status(
            conn,
            repository_id=repo.id,
            status=Status.PENDING,
            before_id=before_id,
            before_created_at=before_created_at,
            page_size=2,
        )
        if not page:
            break
        assert len(page) <= 2
        seen += [r.id for r in page]
        before_id, before_created_at = page[-1].id, page[-1].created_at
    assert seen == sorted((r.id for r in made), reverse=True)
    counts = landing.count_landing_requests_by_status(conn, repository_id=repo.id)
    assert [(c.status, c.total) for c in counts] == [(Status.PENDING, 5), (Status.IN_REVIEW, 1)]


def test_next_landable_is_queue_order_without_conflicts(conn: Conn) -> None:
    repo = make_repo(conn)
    requests = [make_landing_request(conn, repo) for _ in range(4)]
    for r in requests:
        move(conn, r.id, Status.IN_REVIEW, Status.APPROVED, Status.QUEUED)
    landing.record_landing_conflicts(conn, conflict_info={}, id=requests[1].id)
    make_landing_request(conn, repo)  # pending: not landable
    landable = landing.list_next_landable(conn, repository_id=repo.id, max_count=10)
    assert [r.id for r in landable] == [requests[0].id, requests[2].id, requests[3].id]
    claimed = landing.claim_next_landable(conn, repository_id=repo.id, max_count=2)
    assert [(r.id, r.status) for r in claimed] == [
        (requests[0].id, Status.LANDING),
        (requests[2].id, Status.LANDING),
    ]
    assert [
        r.id for r in landing.list_next_landable(conn, repository_id=repo.id, max_count=10)
    ] == [requests[3].id]


def test_delete_removes_the_request_and_its_reviews(conn: Conn) -> None:
    request = make_landing_request(conn)
    reviewer = make_user(conn)
    landing.upsert_landing_review(
        conn, landing_id=request.id, reviewer_id=reviewer.id, state=ReviewState.APPROVED, body=""
    )
    assert landing.delete_landing_request(conn, id=request.id) == 1
    assert landing.get_landing_request(conn, id=request.id) is None
    assert landing.list_landing_reviews(conn, landing_id=request.id) == []
    assert landing.delete_landing_request(conn, id=request.id) == 0


def test_one_review_per_reviewer_and_approval_counts(conn: Conn) -> None:
    request = make_landing_request(conn)
    alice, bob, carol = make_user(conn), make_user(conn), make_user(conn)
    first = landing.upsert_landing_review(
        conn,
        landing_id=request.id,
        reviewer_id=alice.id,
        state=ReviewState.CHANGES_REQUESTED,
        body="Please add a test",
    )
    again = landing.upsert_landing_review(
        conn,
        landing_id=request.id,
        reviewer_id=alice.id,
        state=ReviewState.APPROVED,
        body="Thanks",
    )
    assert (again.id, again.state, again.body) == (first.id, ReviewState.APPROVED, "Thanks")
    landing.upsert_landing_review(
        conn, landing_id=request.id, reviewer_id=bob.id, state=ReviewState.APPROVED, body=""
    )
    landing.upsert_landing_review(
        conn,
        landing_id=request.id,
        reviewer_id=carol.id,
        state=ReviewState.CHANGES_REQUESTED,
        body="No",
    )
    reviews = landing.list_landing_reviews(conn, landing_id=request.id)
    assert [r.reviewer_id for r in reviews] == [alice.id, bob.id, carol.id]
    counts = landing.count_landing_approvals(conn, landing_id=request.id)
    assert (counts.approvals, counts.changes_requested) == (2, 1)
    assert landing.delete_landing_review(conn, landing_id=request.id, reviewer_id=carol.id) == 1
    counts = landing.count_landing_approvals(conn, landing_id=request.id)
    assert (counts.approvals, counts.changes_requested) == (2, 0)


def test_review_of_unknown_request_is_a_foreign_key_violation(
    conn: Conn,
) -> None:
    reviewer = make_user(conn)
    with pytest.raises(errors.ForeignKeyViolation):
        landing.upsert_landing_review(
            conn, landing_id=-5, reviewer_id=reviewer.id, state=ReviewState.APPROVED, body=""
        )


def test_line_comments_crud_ordering_and_resolution(conn: Conn) -> None:
    request = make_landing_request(conn)
    author, resolver = make_user(conn), make_user(conn)

    def comment(path: str, line: int, side: DiffSide = DiffSide.RIGHT) -> models.LandingLineComment:
        made = landing.create_landing_line_comment(
            conn,
            landing_id=request.id,
            author_id=author.id,
            file_path=path,
            line=line,
            side=side,
            body=f"{path}:{line}",
        )
        return made

    c1 = comment("src/b.rs", 10)
    c2 = comment("src/a.rs", 7, DiffSide.LEFT)
    c3 = comment("src/b.rs", 2)
    c4 = comment("src/a.rs", 7)
    listed = landing.list_landing_line_comments(conn, landing_id=request.id)
    assert [c.id for c in listed] == [c2.id, c4.id, c3.id, c1.id]
    assert listed[0].side is DiffSide.LEFT
    assert landing.get_landing_line_comment(conn, id=c1.id) == c1

    edited = landing.update_landing_line_comment(conn, body="Rename this", id=c1.id)
    assert edited is not None and edited.body == "Rename this"

    assert landing.count_unresolved_landing_line_comments(conn, landing_id=request.id) == 4
    resolved = landing.resolve_landing_line_comment(conn, resolved_by=resolver.id, id=c1.id)
    assert resolved is not None
    assert (resolved.is_resolved, resolved.resolved_by) == (True, resolver.id)
    assert resolved.resolved_at is not None
    assert landing.resolve_landing_line_comment(conn, resolved_by=resolver.id, id=c1.id) is None
    assert landing.count_unresolved_landing_line_comments(conn, landing_id=request.id) == 3
    reopened = landing.unresolve_landing_line_comment(conn, id=c1.id)
    assert reopened is not None
    assert (reopened.is_resolved, reopened.resolved_by, reopened.resolved_at) == (
        False,
        None,
        None,
    )
    assert landing.unresolve_landing_line_comment(conn, id=c1.id) is None

    assert landing.delete_landing_line_comment(conn, id=c3.id) == 1
    assert landing.get_landing_line_comment(conn, id=c3.id) is None
    assert landing.count_unresolved_landing_line_comments(conn, landing_id=request.id) == 3


@pytest.mark.parametrize(
    ("line", "body", "error"),
    [(0, "fine", errors.CheckViolation), (3, "  ", errors.CheckViolation)],
)
def test_line_comment_rejects_bad_values(
    conn: Conn, line: int, body: str, error: type[Exception]
) -> None:
    request = make_landing_request(conn)
    with pytest.raises(error):
        landing.create_landing_line_comment(
            conn,
            landing_id=request.id,
            author_id=None,
            file_path="a.py",
            line=line,
            side=DiffSide.RIGHT,
            body=body,
        )


def test_line_comment_bad_side_is_rejected_by_the_enum(conn: Conn) -> None:
    request = make_landing_request(conn)
    with pytest.raises(errors.InvalidTextRepresentation):
        landing.create_landing_line_comment(
            conn,
            landing_id=request.id,
            author_id=None,
            file_path="a.py",
            line=1,
            side="middle",  # type: ignore[arg-type]
            body="x",
        )


CLAIMERS = 16
QUEUED = 120


def naive_claim(conn: Conn, repository_id: int, max_count: int) -> list[int]:
    """SELECT-then-UPDATE without locks: what ClaimNextLandable must not be."""
    rows = conn.execute(
        "SELECT id FROM landing_queue WHERE repository_id = %s AND status = 'queued'"
        " ORDER BY created_at, id LIMIT %s",
        (repository_id, max_count),
    ).fetchall()
    ids = [r[0] for r in rows]
    conn.execute("SELECT pg_sleep(0.01)")
    for request_id in ids:
        conn.execute("UPDATE landing_queue SET status = 'landing' WHERE id = %s", (request_id,))
    return ids


def claim_concurrently(database_url: str, claim: Any) -> tuple[list[int], list[int]]:
    """Queue QUEUED requests in a fresh repository, let CLAIMERS threads claim them
    two at a time until the queue is empty; return (queued ids, claimed ids)."""
    with psycopg.connect(database_url) as setup:  # commits on leaving the block
        repo = make_repo(setup)
        queued = []
        for _ in range(QUEUED):
            r = make_landing_request(setup, repo)
            move(setup, r.id, Status.IN_REVIEW, Status.APPROVED, Status.QUEUED)
            queued.append(r.id)

    def drain(conn: Conn, _: int) -> list[int]:
        mine: list[int] = []
        while got := claim(conn, repo.id):
            mine.extend(got)
        return mine

    claimed = run_on_connections(database_url, CLAIMERS, drain)
    return queued, [request_id for mine in claimed for request_id in mine]


def test_concurrent_claims_hand_out_each_request_exactly_once(database_url: str) -> None:
    queued, claimed = claim_concurrently(
        database_url,
        lambda conn, repo_id: [
            r.id for r in landing.claim_next_landable(conn, repository_id=repo_id, max_count=2)
        ],
    )
    assert len(claimed) == QUEUED
    assert sorted(claimed) == sorted(queued)


def test_negative_control_naive_claims_hand_out_duplicates(database_url: str) -> None:
    queued, claimed = claim_concurrently(
        database_url, lambda conn, repo_id: naive_claim(conn, repo_id, 2)
    )
    assert set(claimed) == set(queued)
    assert len(claimed) > QUEUED, "the race was not observed: the test cannot see it"
