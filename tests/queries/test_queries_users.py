"""queries/users.sql against a real PostgreSQL: accounts, profiles, email addresses."""

from __future__ import annotations

import datetime

import pytest
from plue_queries import models, users
from psycopg import errors

from tests.factories import make_repo, make_user, unique_name, wallet_address
from tests.fixtures.fix_db import Conn


def db_now(conn: Conn) -> datetime.datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime.datetime = row[0]
    return value


def test_create_user_stores_fields_and_defaults(conn: Conn) -> None:
    user = make_user(conn, username="Ada_Lovelace-1", display_name="Ada", bio="Analyst")
    assert user.username == "Ada_Lovelace-1"
    assert user.display_name == "Ada"
    assert user.bio == "Analyst"
    assert user.email is not None and user.email.endswith("@example.com")
    assert (user.is_active, user.is_admin, user.prohibit_login) == (True, False, False)
    assert user.last_login_at is None
    assert user.created_at == user.updated_at == db_now(conn)


def test_username_is_unique_case_insensitively(conn: Conn) -> None:
    name = unique_name("Grace")
    make_user(conn, username=name)
    with pytest.raises(errors.UniqueViolation) as info, conn.transaction():
        make_user(conn, username=name.upper())
    assert info.value.diag.constraint_name == "users_username_lower_key"


@pytest.mark.parametrize("bad", ["", "-leading-dash", "has space", "x" * 40, "émile"])
def test_malformed_username_is_rejected(conn: Conn, bad: str) -> None:
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        make_user(conn, username=bad)
    assert info.value.diag.constraint_name == "users_username_format"


def test_wallet_is_stored_lower_case_and_found_in_any_case(conn: Conn) -> None:
    wallet = wallet_address()
    checksummed = "0x" + wallet[2:].upper()
    user = make_user(conn, wallet_address=checksummed)
    assert user.wallet_address == wallet
    assert users.get_user_by_wallet(conn, wallet_address=checksummed) == user
    assert users.get_user_by_wallet(conn, wallet_address=wallet) == user
    assert users.get_user_by_wallet(conn, wallet_address=wallet_address()) is None


def test_same_wallet_cannot_belong_to_two_users(conn: Conn) -> None:
    wallet = wallet_address()
    make_user(conn, wallet_address=wallet)
    with pytest.raises(errors.UniqueViolation) as info, conn.transaction():
        make_user(conn, wallet_address=wallet.upper().replace("0X", "0x"))
    assert info.value.diag.constraint_name == "users_wallet_address_key"


def test_malformed_wallet_is_rejected(conn: Conn) -> None:
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        make_user(conn, wallet_address="0x1234")
    assert info.value.diag.constraint_name == "users_wallet_address_canonical"


def test_lookups_by_id_username_and_email(conn: Conn) -> None:
    user = make_user(conn, username=unique_name("Linus"))
    assert users.get_user_by_id(conn, id=user.id) == user
    assert users.get_user_by_username(conn, username=user.username.lower()) == user
    assert users.get_user_by_username(conn, username=user.username.upper()) == user
    assert user.email is not None
    assert users.get_user_by_email(conn, email=user.email.upper()) == user
    assert users.get_user_by_id(conn, id=-1) is None
    assert users.get_user_by_username(conn, username="nobody-" + unique_name("x")) is None


def test_list_users_pages_by_keyset_without_gaps_or_repeats(conn: Conn) -> None:
    made = [make_user(conn) for _ in range(5)]
    inactive = users.set_user_account_flags(
        conn, id=made[2].id, is_active=False, is_admin=False, prohibit_login=False
    )
    assert inactive is not None

    expected = [
        row[0] for row in conn.execute("SELECT id FROM users ORDER BY created_at DESC, id DESC")
    ]
    seen: list[models.User] = []
    cursor: models.User | None = None
    while True:
        page = users.list_users(
            conn,
            only_active=False,
            before_id=None if cursor is None else cursor.id,
            before_created_at=None if cursor is None else cursor.created_at,
            page_size=2,
        )
        assert len(page) <= 2
        if not page:
            break
        seen.extend(page)
        cursor = page[-1]
    assert [u.id for u in seen] == expected
    # Made in one transaction: same created_at, so newest id first.
    mine = [u.id for u in seen if u.id in {m.id for m in made}]
    assert mine == sorted((m.id for m in made), reverse=True)

    active = users.list_users(
        conn, only_active=True, before_id=None, before_created_at=None, page_size=10_000
    )
    assert made[2].id not in {u.id for u in active}
    assert made[3].id in {u.id for u in active}


def test_update_profile_replaces_fields_and_trigger_owns_updated_at(conn: Conn) -> None:
    user = make_user(conn, avatar_url="https://example.com/a.png")
    updated = users.update_user_profile(
        conn, id=user.id, display_name="New Name", bio="Now with a bio", avatar_url=None
    )
    assert updated is not None
    assert (updated.display_name, updated.bio, updated.avatar_url) == (
        "New Name",
        "Now with a bio",
        None,
    )
    assert updated.username == user.username
    # A caller trying to set updated_at is overridden by set_updated_at().
    conn.execute("UPDATE users SET updated_at = '2000-01-01T00:00:00Z' WHERE id = %s", (user.id,))
    again = users.get_user_by_id(conn, id=user.id)
    assert again is not None
    assert again.updated_at == db_now(conn)
    assert users.update_user_profile(conn, id=-1, display_name="x", bio="", avatar_url=None) is None


def test_set_wallet_links_and_unlinks(conn: Conn) -> None:
    user = make_user(conn)
    wallet = wallet_address()
    linked = users.set_user_wallet(
        conn, id=user.id, wallet_address=wallet.upper().replace("0X", "0x")
    )
    assert linked is not None and linked.wallet_address == wallet
    unlinked = users.set_user_wallet(conn, id=user.id, wallet_address=None)
    assert unlinked is not None and unlinked.wallet_address is None


def test_record_login_only_for_users_allowed_to_sign_in(conn: Conn) -> None:
    user = make_user(conn)
    stamped = users.record_user_login(conn, id=user.id)
    assert stamped is not None
    assert stamped.last_login_at == db_now(conn)

    blocked = make_user(conn)
    users.set_user_account_flags(
        conn, id=blocked.id, is_active=True, is_admin=False, prohibit_login=True
    )
    assert users.record_user_login(conn, id=blocked.id) is None
    inactive = make_user(conn)
    users.set_user_account_flags(
        conn, id=inactive.id, is_active=False, is_admin=False, prohibit_login=False
    )
    assert users.record_user_login(conn, id=inactive.id) is None
    reread = users.get_user_by_id(conn, id=blocked.id)
    assert reread is not None and reread.last_login_at is None


def test_user_with_repository_names_sorted_and_private_on_request(conn: Conn) -> None:
    owner = make_user(conn)
    for name, public in [("zeta", True), ("alpha", True), ("secret", False)]:
        make_repo(conn, owner, name=name, is_public=public)
    public_view = users.get_user_with_repository_names(conn, id=owner.id, include_private=False)
    assert public_view is not None
    assert public_view.username == owner.username
    assert public_view.repository_names == ["alpha", "zeta"]
    own_view = users.get_user_with_repository_names(conn, id=owner.id, include_private=True)
    assert own_view is not None and own_view.repository_names == ["alpha", "secret", "zeta"]

    loner = make_user(conn)
    empty = users.get_user_with_repository_names(conn, id=loner.id, include_private=True)
    assert empty is not None and empty.repository_names == []
    assert users.get_user_with_repository_names(conn, id=-1, include_private=True) is None


def test_delete_user_cascades_to_owned_rows(conn: Conn) -> None:
    user = make_user(conn)
    repo = make_repo(conn, user)
    users.add_email_address(
        conn, user_id=user.id, email=f"{user.username}@mail.test", is_verified=True
    )
    assert users.delete_user(conn, id=user.id) == 1
    assert users.get_user_by_id(conn, id=user.id) is None
    assert users.list_email_addresses(conn, user_id=user.id) == []
    row = conn.execute("SELECT count(*) FROM repositories WHERE id = %s", (repo.id,)).fetchone()
    assert row == (0,)
    assert users.delete_user(conn, id=user.id) == 0


def test_email_addresses_add_list_and_case_insensitive_uniqueness(conn: Conn) -> None:
    user = make_user(conn)
    first = users.add_email_address(
        conn, user_id=user.id, email="Work@Example.org", is_verified=False
    )
    second = users.add_email_address(
        conn, user_id=user.id, email="home@example.org", is_verified=True
    )
    assert first is not None and second is not None
    assert (first.email, first.is_primary, first.is_verified) == ("Work@Example.org", False, False)
    assert users.list_email_addresses(conn, user_id=user.id) == [first, second]
    assert users.get_email_address_by_email(conn, email="work@example.ORG") == first

    other = make_user(conn)
    with pytest.raises(errors.UniqueViolation) as info, conn.transaction():
        users.add_email_address(conn, user_id=other.id, email="WORK@example.org", is_verified=True)
    assert info.value.diag.constraint_name == "email_addresses_email_lower_key"
    with pytest.raises(errors.ForeignKeyViolation), conn.transaction():
        users.add_email_address(conn, user_id=-1, email="ghost@example.org", is_verified=True)
    with pytest.raises(errors.CheckViolation), conn.transaction():
        users.add_email_address(conn, user_id=user.id, email="not-an-email", is_verified=True)


def test_set_primary_switches_atomically_and_mirrors_users_email(conn: Conn) -> None:
    user = make_user(conn)
    a = users.add_email_address(
        conn, user_id=user.id, email=f"a-{user.username}@x.test", is_verified=True
    )
    b = users.add_email_address(
        conn, user_id=user.id, email=f"b-{user.username}@x.test", is_verified=False
    )
    assert a is not None and b is not None

    primary = users.set_primary_email_address(conn, user_id=user.id, email_id=a.id)
    assert primary is not None and primary.is_primary and primary.id == a.id
    # An unverified address cannot become primary; nothing changes.
    assert users.set_primary_email_address(conn, user_id=user.id, email_id=b.id) is None

    verified_b = users.verify_email_address(conn, id=b.id, user_id=user.id)
    assert verified_b is not None and verified_b.is_verified
    switched = users.set_primary_email_address(conn, user_id=user.id, email_id=b.id)
    assert switched is not None and switched.id == b.id
    listed = users.list_email_addresses(conn, user_id=user.id)
    assert [(e.id, e.is_primary) for e in listed] == [(b.id, True), (a.id, False)]
    reread = users.get_user_by_id(conn, id=user.id)
    assert reread is not None and reread.email == b.email

    # Setting the current primary again is a no-op that still answers.
    same = users.set_primary_email_address(conn, user_id=user.id, email_id=b.id)
    assert same is not None and same.is_primary
    # Someone else's address is refused.
    stranger = make_user(conn)
    assert users.set_primary_email_address(conn, user_id=stranger.id, email_id=a.id) is None


def test_at_most_one_primary_address_per_user(conn: Conn) -> None:
    user = make_user(conn)
    a = users.add_email_address(
        conn, user_id=user.id, email=f"p1-{user.username}@x.test", is_verified=True
    )
    users.set_primary_email_address(conn, user_id=user.id, email_id=a.id)
    with pytest.raises(errors.UniqueViolation) as info, conn.transaction():
        conn.execute(
            "INSERT INTO email_addresses (user_id, email, is_primary) VALUES (%s, %s, true)",
            (user.id, f"p2-{user.username}@x.test"),
        )
    assert info.value.diag.constraint_name == "email_addresses_one_primary_per_user"


def test_delete_email_address_keeps_primary(conn: Conn) -> None:
    user = make_user(conn)
    a = users.add_email_address(
        conn, user_id=user.id, email=f"d1-{user.username}@x.test", is_verified=True
    )
    b = users.add_email_address(
        conn, user_id=user.id, email=f"d2-{user.username}@x.test", is_verified=True
    )
    assert a is not None and b is not None
    users.set_primary_email_address(conn, user_id=user.id, email_id=a.id)
    assert users.delete_email_address(conn, id=a.id, user_id=user.id) == 0
    assert users.delete_email_address(conn, id=b.id, user_id=make_user(conn).id) == 0
    assert users.delete_email_address(conn, id=b.id, user_id=user.id) == 1
    assert [e.id for e in users.list_email_addresses(conn, user_id=user.id)] == [a.id]
