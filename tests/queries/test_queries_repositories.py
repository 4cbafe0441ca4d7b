"""queries/repositories.sql against a real PostgreSQL: repositories, branches,
bookmarks, branch protection and renames; plus get_next_issue_number's contract.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

import pytest
from plue_queries import models, repositories
from psycopg import errors

from tests.factories import change_id, commit_id, make_repo, make_user, unique_name
from tests.fixtures.fix_db import Conn


def test_create_repository_stores_fields_and_defaults(conn: Conn) -> None:
    owner = make_user(conn)
    repo = make_repo(conn, owner, name="Plue.core-1", topics=["vcs", "jj"], is_public=False)
    assert (repo.owner_id, repo.name, repo.is_public) == (owner.id, "Plue.core-1", False)
    assert repo.topics == ["vcs", "jj"]
    assert repo.default_branch == "main"
    assert repo.next_issue_number == 1
    assert repo.is_archived is False
    assert repositories.get_repository_by_id(conn, id=repo.id) == repo
    assert repositories.get_repository_by_id(conn, id=-1) is None


def test_name_unique_per_owner_case_insensitively(conn: Conn) -> None:
    owner = make_user(conn)
    make_repo(conn, owner, name="Forge")
    with pytest.raises(errors.UniqueViolation) as dup, conn.transaction():
        make_repo(conn, owner, name="forge")
    assert dup.value.diag.constraint_name == "repositories_owner_name_lower_key"
    # Another owner may use the same name.
    assert make_repo(conn, make_user(conn), name="forge").name == "forge"


@pytest.mark.parametrize("bad", ["", "..", "has space", "a/b", "x" * 101])
def test_malformed_repository_name_is_rejected(conn: Conn, bad: str) -> None:
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        make_repo(conn, name=bad)
    assert info.value.diag.constraint_name == "repositories_name_format"


def test_repository_of_unknown_owner_is_a_foreign_key_violation(conn: Conn) -> None:
    with pytest.raises(errors.ForeignKeyViolation), conn.transaction():
        repositories.create_repository(
            conn,
            owner_id=-1,
            name="orphan",
            description="",
            is_public=True,
            default_branch="main",
            topics=[],
        )


def test_get_by_owner_and_name_is_case_insensitive(conn: Conn) -> None:
    owner = make_user(conn, username=unique_name("Octo"))
    repo = make_repo(conn, owner, name="Hello-World")
    found = repositories.get_repository_by_owner_and_name(
        conn, owner_username=owner.username.upper(), name="hello-world"
    )
    assert found == repo
    assert (
        repositories.get_repository_by_owner_and_name(
            conn, owner_username=owner.username, name="missing"
        )
        is None
    )


def page_through_owner(conn: Conn, owner_id: int, include_private: bool) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: models.Repository | None = None
    while True:
        page = repositories.list_repositories_by_owner(
            conn,
            owner_id=owner_id,
            include_private=include_private,
            before_id=None if cursor is None else cursor.id,
            before_created_at=None if cursor is None else cursor.created_at,
            page_size=2,
        )
        if not page:
            return pages
        pages.append([r.id for r in page])
        cursor = page[-1]


def test_list_by_owner_pages_newest_first_and_hides_private(conn: Conn) -> None:
    owner = make_user(conn)
    made = [make_repo(conn, owner, is_public=(i != 1)) for i in range(5)]
    make_repo(conn)  # someone else's
    ids = [r.id for r in made]
    assert page_through_owner(conn, owner.id, include_private=True) == [
        [ids[4], ids[3]],
        [ids[2], ids[1]],
        [ids[0]],
    ]
    assert page_through_owner(conn, owner.id, include_private=False) == [
        [ids[4], ids[3]],
        [ids[2], ids[0]],
    ]


def test_public_catalogue_and_topic_listing(conn: Conn) -> None:
    topic = unique_name("topic")
    tagged = make_repo(conn, topics=[topic])
    hidden = make_repo(conn, topics=[topic], is_public=False)
    other = make_repo(conn)

    seen: list[int] = []
    cursor: models.Repository | None = None
    while True:
        page = repositories.list_public_repositories(
            conn,
            before_id=None if cursor is None else cursor.id,
            before_created_at=None if cursor is None else cursor.created_at,
            page_size=3,
        )
        if not page:
            break
        assert all(r.is_public for r in page)
        seen.extend(r.id for r in page)
        cursor = page[-1]
    expected = conn.execute(
        "SELECT id FROM repositories WHERE is_public ORDER BY created_at DESC, id DESC"
    ).fetchall()
    assert seen == [row[0] for row in expected]
    assert {tagged.id, other.id} <= set(seen) and hidden.id not in seen

    by_topic = repositories.list_public_repositories_by_topic(
        conn, topic=topic.upper(), before_id=None, before_created_at=None, page_size=10
    )
    assert [r.id for r in by_topic] == [tagged.id]


def test_update_rename_topics_and_delete(conn: Conn) -> None:
    repo = make_repo(conn)
    updated = repositories.update_repository(
        conn,
        id=repo.id,
        description="Now described",
        is_public=False,
        is_archived=True,
        default_branch="trunk",
    )
    assert updated is not None
    assert (updated.description, updated.is_public, updated.is_archived) == (
        "Now described",
        False,
        True,
    )
    assert updated.default_branch == "trunk" and updated.name == repo.name

    renamed = repositories.rename_repository(conn, id=repo.id, name="renamed")
    assert renamed is not None and renamed.name == "renamed"

    topics = repositories.set_repository_topics(
        conn, id=repo.id, topics=["Rust", " rust ", "", "CLI", "   "]
    )
    assert topics is not None and topics.topics == ["cli", "rust"]
    cleared = repositories.set_repository_topics(conn, id=repo.id, topics=[])
    assert cleared is not None and cleared.topics == []

    repositories.upsert_branch(
        conn, repository_id=repo.id, name="main", commit_id=commit_id(), pusher_id=None
    )
    assert repositories.delete_repository(conn, id=repo.id) == 1
    assert repositories.get_repository_by_id(conn, id=repo.id) is None
    assert repositories.get_branch(conn, repository_id=repo.id, name="main") is None
    assert repositories.delete_repository(conn, id=repo.id) == 0


def test_next_issue_number_counts_per_repository(conn: Conn) -> None:
    a, b = make_repo(conn), make_repo(conn)
    numbers = [
        conn.execute("SELECT get_next_issue_number(%s)", (repo.id,)).fetchone()
        for repo in (a, a, b, a)
    ]
    assert numbers == [(1,), (2,), (1,), (3,)]
    with pytest.raises(errors.ForeignKeyViolation, match=r"repository -1 does not exist"):
        conn.execute("SELECT get_next_issue_number(-1)")


# --- branches ----------------------------------------------------------------


def test_branch_upsert_moves_and_lists_by_name(conn: Conn) -> None:
    repo = make_repo(conn)
    pusher = make_user(conn)
    first, second = commit_id(), commit_id()
    created = repositories.upsert_branch(
        conn, repository_id=repo.id, name="main", commit_id=first, pusher_id=pusher.id
    )
    assert created is not None and created.commit_id == first
    moved = repositories.upsert_branch(
        conn, repository_id=repo.id, name="main", commit_id=second, pusher_id=None
    )
    assert (moved.id, moved.commit_id, moved.pusher_id) == (created.id, second, None)

    for name in ["feature/b", "feature/a", "dev"]:
        repositories.upsert_branch(
            conn, repository_id=repo.id, name=name, commit_id=first, pusher_id=None
        )
    page1 = repositories.list_branches(conn, repository_id=repo.id, after_name=None, page_size=2)
    page2 = repositories.list_branches(
        conn, repository_id=repo.id, after_name=page1[-1].name, page_size=2
    )
    assert [b.name for b in page1 + page2] == ["dev", "feature/a", "feature/b", "main"]

    assert repositories.delete_branch(conn, repository_id=repo.id, name="dev") == 1
    assert repositories.delete_branch(conn, repository_id=repo.id, name="dev") == 0


def test_branch_commit_id_must_be_a_full_hash(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        repositories.upsert_branch(
            conn, repository_id=repo.id, name="main", commit_id="abc123", pusher_id=None
        )
    assert info.value.diag.constraint_name == "branches_commit_id_format"


def test_rename_branch_moves_default_and_records_history(conn: Conn) -> None:
    repo = make_repo(conn, default_branch="master")
    actor = make_user(conn)
    for name in ["master", "taken"]:
        repositories.upsert_branch(
            conn, repository_id=repo.id, name=name, commit_id=commit_id(), pusher_id=None
        )
    record = repositories.rename_branch(
        conn, repository_id=repo.id, from_name="master", to_name="main", renamed_by=actor.id
    )
    assert record is not None
    assert (record.from_name, record.to_name, record.renamed_by) == ("master", "main", actor.id)
    assert repositories.get_branch(conn, repository_id=repo.id, name="master") is None
    assert repositories.get_branch(conn, repository_id=repo.id, name="main") is not None
    reread = repositories.get_repository_by_id(conn, id=repo.id)
    assert reread is not None and reread.default_branch == "main"

    # Renaming a non-default branch leaves the default alone.
    repositories.rename_branch(
        conn, repository_id=repo.id, from_name="taken", to_name="spare", renamed_by=None
    )
    reread = repositories.get_repository_by_id(conn, id=repo.id)
    assert reread is not None and reread.default_branch == "main"

    assert (
        repositories.rename_branch(
            conn, repository_id=repo.id, from_name="ghost", to_name="x", renamed_by=None
        )
        is None
    )
    with pytest.raises(errors.UniqueViolation), conn.transaction():
        repositories.rename_branch(
            conn, repository_id=repo.id, from_name="spare", to_name="main", renamed_by=None
        )
    history = repositories.list_renamed_branches(conn, repository_id=repo.id)
    assert [(r.from_name, r.to_name) for r in history] == [("taken", "spare"), ("master", "main")]


def test_resolve_branch_name_follows_chains_and_renames_back(conn: Conn) -> None:
    repo = make_repo(conn)
    repositories.upsert_branch(
        conn, repository_id=repo.id, name="a", commit_id=commit_id(), pusher_id=None
    )

    def rename(src: str, dst: str) -> None:
        done = repositories.rename_branch(
            conn, repository_id=repo.id, from_name=src, to_name=dst, renamed_by=None
        )
        assert done is not None

    def resolve(name: str) -> str | None:
        return repositories.resolve_branch_name(conn, repository_id=repo.id, name=name)

    assert resolve("a") == "a"
    rename("a", "b")
    rename("b", "c")
    assert resolve("a") == "c" and resolve("b") == "c" and resolve("c") == "c"
    rename("c", "a")  # back to the original name: no endless loop
    assert resolve("a") == "a" and resolve("b") == "a"
    assert resolve("never-existed") == "never-existed"


# --- bookmarks ---------------------------------------------------------------


def test_bookmarks_upsert_list_and_find_by_change(conn: Conn) -> None:
    repo = make_repo(conn)
    change, other_change = change_id(), change_id()
    main = repositories.upsert_bookmark(
        conn, repository_id=repo.id, name="main", change_id=change, commit_id=None
    )
    assert main is not None and (main.change_id, main.commit_id) == (change, None)
    sha = commit_id()
    moved = repositories.upsert_bookmark(
        conn, repository_id=repo.id, name="main", change_id=other_change, commit_id=sha
    )
    assert moved is not None and (moved.id, moved.change_id, moved.commit_id) == (
        main.id,
        other_change,
        sha,
    )
    repositories.upsert_bookmark(
        conn, repository_id=repo.id, name="feature", change_id=other_change, commit_id=None
    )
    repositories.upsert_bookmark(
        conn, repository_id=repo.id, name="old", change_id=change, commit_id=None
    )
    assert repositories.get_bookmark(conn, repository_id=repo.id, name="main") == moved

    first = repositories.list_bookmarks(conn, repository_id=repo.id, after_name=None, page_size=2)
    rest = repositories.list_bookmarks(
        conn, repository_id=repo.id, after_name=first[-1].name, page_size=2
    )
    assert [b.name for b in first] == ["feature", "main"] and [b.name for b in rest] == ["old"]
    on_change = repositories.list_bookmarks_for_change(
        conn, repository_id=repo.id, change_id=other_change
    )
    assert [b.name for b in on_change] == ["feature", "main"]

    assert repositories.delete_bookmark(conn, repository_id=repo.id, name="old") == 1
    assert repositories.get_bookmark(conn, repository_id=repo.id, name="old") is None


def test_bookmark_change_id_must_be_a_full_jj_change_id(conn: Conn) -> None:
    repo = make_repo(conn)
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        repositories.upsert_bookmark(
            conn, repository_id=repo.id, name="main", change_id="abc", commit_id=None
        )
    assert info.value.diag.constraint_name == "bookmarks_change_id_format"


# --- protected branches ------------------------------------------------------


def protect(conn: Conn, repo: models.Repository, pattern: str, priority: int) -> int:
    rule = repositories.create_protected_branch(
        conn,
        repository_id=repo.id,
        pattern=pattern,
        priority=priority,
        required_approvals=1,
        enable_push=True,
        push_allowlist_user_ids=[],
        enable_force_push=False,
        force_push_allowlist_user_ids=[],
    )
    return rule.id


def test_protected_branches_list_by_priority_and_match(conn: Conn) -> None:
    repo = make_repo(conn)
    everything = protect(conn, repo, "*", 0)
    release = protect(conn, repo, "release/*", 5)
    main = protect(conn, repo, "main", 10)
    feat = protect(conn, repo, "feat_*", 3)
    listed = repositories.list_protected_branches(conn, repository_id=repo.id)
    assert [r.id for r in listed] == [main, release, feat, everything]

    def match(name: str) -> int | None:
        rule = repositories.match_protected_branch(conn, repository_id=repo.id, branch_name=name)
        return None if rule is None else rule.id

    assert match("main") == main
    assert match("release/1.0") == release
    assert match("feat_login") == feat
    # _ and % in a pattern are literal characters, not LIKE wildcards.
    assert match("featXlogin") == everything
    assert match("anything") == everything
    assert repositories.delete_protected_branch(conn, id=everything) == 1
    assert match("anything") is None


def test_protected_branch_update_and_constraints(conn: Conn) -> None:
    repo = make_repo(conn)
    rule_id = protect(conn, repo, "main", 1)
    admin = make_user(conn)
    updated = repositories.update_protected_branch(
        conn,
        id=rule_id,
        pattern="main",
        priority=7,
        required_approvals=2,
        enable_push=True,
        push_allowlist_user_ids=[admin.id],
        enable_force_push=True,
        force_push_allowlist_user_ids=[admin.id],
    )
    assert updated is not None
    assert (updated.priority, updated.required_approvals) == (7, 2)
    assert updated.push_allowlist_user_ids == [admin.id]
    assert repositories.get_protected_branch(conn, id=rule_id) == updated

    with pytest.raises(errors.UniqueViolation), conn.transaction():
        protect(conn, repo, "main", 2)
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        protect(conn, repo, "dev", -1)
    assert info.value.diag.constraint_name == "protected_branches_priority_non_negative"
