"""queries/collaboration.sql against a real PostgreSQL: stars and watches."""

from __future__ import annotations

from typing import cast

import pytest
from plue_queries import collaboration, repositories
from plue_queries.enums import WatchMode
from psycopg import errors

from tests.factories import make_repo, make_user
from tests.fixtures.fix_db import Conn


def test_star_is_idempotent_and_counted(conn: Conn) -> None:
    repo = make_repo(conn)
    fan = make_user(conn)
    assert collaboration.star_repository(conn, user_id=fan.id, repository_id=repo.id) == 1
    assert collaboration.star_repository(conn, user_id=fan.id, repository_id=repo.id) == 0
    assert collaboration.count_stars(conn, repository_id=repo.id) == 1
    assert collaboration.is_repository_starred(conn, user_id=fan.id, repository_id=repo.id)
    other = make_user(conn)
    assert not collaboration.is_repository_starred(conn, user_id=other.id, repository_id=repo.id)

    assert collaboration.unstar_repository(conn, user_id=fan.id, repository_id=repo.id) == 1
    assert collaboration.unstar_repository(conn, user_id=fan.id, repository_id=repo.id) == 0
    assert collaboration.count_stars(conn, repository_id=repo.id) == 0


def test_star_of_unknown_repository_is_a_foreign_key_violation(conn: Conn) -> None:
    fan = make_user(conn)
    with pytest.raises(errors.ForeignKeyViolation) as info, conn.transaction():
        collaboration.star_repository(conn, user_id=fan.id, repository_id=-1)
    assert info.value.diag.constraint_name == "stars_repository_id_fkey"


def test_stargazers_page_most_recent_first(conn: Conn) -> None:
    repo = make_repo(conn)
    fans = [make_user(conn) for _ in range(5)]
    for fan in fans:
        collaboration.star_repository(conn, user_id=fan.id, repository_id=repo.id)
    collaboration.star_repository(conn, user_id=fans[0].id, repository_id=make_repo(conn).id)

    pages: list[list[int]] = []
    before_user_id = None
    before_starred_at = None
    while True:
        page = collaboration.list_stargazers(
            conn,
            repository_id=repo.id,
            before_user_id=before_user_id,
            before_starred_at=before_starred_at,
            page_size=2,
        )
        if not page:
            break
        pages.append([row.user_id for row in page])
        before_user_id, before_starred_at = page[-1].user_id, page[-1].starred_at
    ids = sorted((f.id for f in fans), reverse=True)  # same starred_at: user id breaks ties
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]

    first = collaboration.list_stargazers(
        conn, repository_id=repo.id, before_user_id=None, before_starred_at=None, page_size=1
    )[0]
    newest = next(f for f in fans if f.id == ids[0])
    assert (first.username, first.display_name) == (newest.username, newest.display_name)


def test_starred_repositories_hide_others_private_repos(conn: Conn) -> None:
    fan = make_user(conn)
    owner = make_user(conn)
    public = make_repo(conn, owner)
    private = make_repo(conn, owner, is_public=False)
    for repo in (public, private):
        collaboration.star_repository(conn, user_id=fan.id, repository_id=repo.id)

    def starred(viewer_id: int | None) -> list[int]:
        rows = collaboration.list_starred_repositories(
            conn,
            user_id=fan.id,
            viewer_id=viewer_id,
            before_repository_id=None,
            before_starred_at=None,
            page_size=10,
        )
        return [row.repository_id for row in rows]

    assert starred(None) == [public.id]
    assert starred(fan.id) == [public.id]
    assert starred(owner.id) == [private.id, public.id]

    rows = collaboration.list_starred_repositories(
        conn,
        user_id=fan.id,
        viewer_id=owner.id,
        before_repository_id=private.id,
        before_starred_at=collaboration.list_starred_repositories(
            conn,
            user_id=fan.id,
            viewer_id=owner.id,
            before_repository_id=None,
            before_starred_at=None,
            page_size=1,
        )[0].starred_at,
        page_size=10,
    )
    assert [(row.repository_id, row.name) for row in rows] == [(public.id, public.name)]


def test_watch_upserts_mode_and_counts_exclude_ignoring(conn: Conn) -> None:
    repo = make_repo(conn)
    alice, bob, carol = make_user(conn), make_user(conn), make_user(conn)
    watch = collaboration.watch_repository(
        conn, user_id=alice.id, repository_id=repo.id, mode=WatchMode.WATCHING
    )
    assert watch is not None and watch.mode is WatchMode.WATCHING
    changed = collaboration.watch_repository(
        conn, user_id=alice.id, repository_id=repo.id, mode=WatchMode.PARTICIPATING
    )
    assert changed is not None and changed.mode is WatchMode.PARTICIPATING
    assert collaboration.get_watch(conn, user_id=alice.id, repository_id=repo.id) == changed

    collaboration.watch_repository(
        conn, user_id=bob.id, repository_id=repo.id, mode=WatchMode.WATCHING
    )
    collaboration.watch_repository(
        conn, user_id=carol.id, repository_id=repo.id, mode=WatchMode.IGNORING
    )
    assert collaboration.count_watchers(conn, repository_id=repo.id) == 2
    counts = collaboration.get_repository_social_counts(conn, repository_id=repo.id)
    assert counts is not None and (counts.star_count, counts.watcher_count) == (0, 2)

    assert collaboration.unwatch_repository(conn, user_id=bob.id, repository_id=repo.id) == 1
    assert collaboration.unwatch_repository(conn, user_id=bob.id, repository_id=repo.id) == 0
    assert collaboration.get_watch(conn, user_id=bob.id, repository_id=repo.id) is None
    assert collaboration.count_watchers(conn, repository_id=repo.id) == 1


def test_unknown_watch_mode_is_invalid_text_representation(conn: Conn) -> None:
    repo = make_repo(conn)
    user = make_user(conn)
    with pytest.raises(errors.InvalidTextRepresentation, match="watch_mode"), conn.transaction():
        collaboration.watch_repository(
            conn, user_id=user.id, repository_id=repo.id, mode=cast(WatchMode, "everything")
        )


def test_list_watchers_by_mode_pages_and_skips_inactive_users(conn: Conn) -> None:
    repo = make_repo(conn)
    watchers = [make_user(conn) for _ in range(3)]
    for user in watchers:
        collaboration.watch_repository(
            conn, user_id=user.id, repository_id=repo.id, mode=WatchMode.WATCHING
        )
    participant = make_user(conn)
    collaboration.watch_repository(
        conn, user_id=participant.id, repository_id=repo.id, mode=WatchMode.PARTICIPATING
    )
    conn.execute("UPDATE users SET is_active = false WHERE id = %s", (watchers[0].id,))

    first = collaboration.list_watchers(
        conn,
        repository_id=repo.id,
        mode=WatchMode.WATCHING,
        before_user_id=None,
        before_watched_at=None,
        page_size=1,
    )
    rest = collaboration.list_watchers(
        conn,
        repository_id=repo.id,
        mode=WatchMode.WATCHING,
        before_user_id=first[0].user_id,
        before_watched_at=first[0].watched_at,
        page_size=10,
    )
    assert [r.user_id for r in first + rest] == [watchers[2].id, watchers[1].id]
    assert {r.mode for r in first + rest} == {WatchMode.WATCHING}
    assert first[0].email == watchers[2].email


def test_deleting_a_repository_removes_its_stars_and_watches(conn: Conn) -> None:
    repo = make_repo(conn)
    fan = make_user(conn)
    collaboration.star_repository(conn, user_id=fan.id, repository_id=repo.id)
    collaboration.watch_repository(
        conn, user_id=fan.id, repository_id=repo.id, mode=WatchMode.WATCHING
    )
    assert repositories.delete_repository(conn, id=repo.id) == 1
    assert collaboration.count_stars(conn, repository_id=repo.id) == 0
    assert collaboration.get_watch(conn, user_id=fan.id, repository_id=repo.id) is None
