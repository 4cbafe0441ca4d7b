"""queries/auth.sql against a real PostgreSQL: sessions, SIWE nonces, tokens, SSH keys.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

import datetime
import secrets
import threading
from typing import Any

import psycopg
import pytest
from plue_queries import auth, models, users
from psycopg import errors, sql
from psycopg.rows import TupleRow

from tests.concurrency import run_on_connections
from tests.factories import make_user, sha256_hex, ssh_fingerprint, wallet_address
from tests.fixtures.fix_db import Conn

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def db_now(conn: Conn) -> datetime.datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime.datetime = row[0]
    return value


def backdate(conn: Conn, table: str, row_id: int, age: datetime.timedelta) -> None:
    """Move a row's created_at and expires_at into the past, as if it had aged."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET created_at = created_at - %(age)s, expires_at = expires_at - %(age)s"
            " WHERE id = %(id)s"
        ).format(sql.Identifier(table)),
        {"age": age, "id": row_id},
    )


def block_login(conn: Conn, user: models.User) -> None:
    users.set_user_account_flags(
        conn, id=user.id, is_active=True, is_admin=False, prohibit_login=True
    )


def new_session(
    conn: Conn, user: models.User, lifetime: datetime.timedelta
) -> tuple[str, models.AuthSession]:
    key_hash = sha256_hex(secrets.token_urlsafe(32))
    session = auth.create_auth_session(
        conn,
        user_id=user.id,
        session_key_hash=key_hash,
        user_agent="pytest",
        expires_at=db_now(conn) + lifetime,
    )
    assert session is not None
    return key_hash, session


# --- auth sessions -----------------------------------------------------------


def test_session_is_valid_until_it_expires(conn: Conn) -> None:
    user = make_user(conn)
    key_hash, session = new_session(conn, user, DAY)
    assert session.session_key_hash == key_hash
    assert session.expires_at == db_now(conn) + DAY
    assert auth.get_valid_auth_session(conn, session_key_hash=key_hash) == session
    assert auth.get_valid_auth_session(conn, session_key_hash=sha256_hex("other")) is None

    backdate(conn, "auth_sessions", session.id, DAY + HOUR)
    assert auth.get_valid_auth_session(conn, session_key_hash=key_hash) is None


def test_session_of_blocked_user_is_not_valid(conn: Conn) -> None:
    user = make_user(conn)
    key_hash, _ = new_session(conn, user, DAY)
    block_login(conn, user)
    assert auth.get_valid_auth_session(conn, session_key_hash=key_hash) is None


@pytest.mark.parametrize("bad", ["ABCDEF" + "0" * 58, "0" * 63, "not-a-hash"])
def test_session_key_must_be_a_sha256_hex_digest(conn: Conn, bad: str) -> None:
    user = make_user(conn)
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        auth.create_auth_session(
            conn,
            user_id=user.id,
            session_key_hash=bad,
            user_agent="",
            expires_at=db_now(conn) + DAY,
        )
    assert info.value.diag.constraint_name == "auth_sessions_session_key_hash_sha256"


def test_session_for_an_already_past_expiry_is_a_check_violation(conn: Conn) -> None:
    user = make_user(conn)
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        new_session(conn, user, datetime.timedelta(0))
    assert info.value.diag.constraint_name == "auth_sessions_expiry_after_creation"


def test_refresh_extends_only_sessions_near_expiry(conn: Conn) -> None:
    user = make_user(conn)
    week = datetime.timedelta(days=7)
    near_hash, _ = new_session(conn, user, datetime.timedelta(minutes=10))
    refreshed = auth.refresh_auth_session(
        conn, session_key_hash=near_hash, ttl=week, refresh_window=HOUR
    )
    assert refreshed is not None
    assert refreshed.expires_at == db_now(conn) + week

    far_hash, far = new_session(conn, user, datetime.timedelta(days=6))
    assert (
        auth.refresh_auth_session(conn, session_key_hash=far_hash, ttl=week, refresh_window=HOUR)
        is None
    )
    assert auth.get_valid_auth_session(conn, session_key_hash=far_hash) == far

    expired_hash, expired = new_session(conn, user, HOUR)
    backdate(conn, "auth_sessions", expired.id, 2 * HOUR)
    assert (
        auth.refresh_auth_session(
            conn, session_key_hash=expired_hash, ttl=week, refresh_window=HOUR
        )
        is None
    )
    assert auth.get_valid_auth_session(conn, session_key_hash=expired_hash) is None


MONTH = datetime.timedelta(days=30)

# RefreshAuthSession before issue 9: no bounds on ttl or refresh_window, no user rule.
OLD_REFRESH = """UPDATE auth_sessions SET expires_at = now() + $1::interval
WHERE session_key_hash = $2 AND expires_at > now() AND expires_at < now() + $3::interval
RETURNING id"""


def old_refresh(
    conn: Conn,
    *,
    session_key_hash: str,
    ttl: datetime.timedelta,
    refresh_window: datetime.timedelta,
) -> object | None:
    """The unsafe variant, called like the generated function."""
    cur = psycopg.RawCursor[TupleRow](conn)
    return cur.execute(OLD_REFRESH, (ttl, session_key_hash, refresh_window)).fetchone()


BAD_REFRESHES = [
    pytest.param(MONTH, datetime.timedelta(0), "refresh_window must be positive", id="zero-window"),
    pytest.param(MONTH, -HOUR, "refresh_window must be positive", id="negative-window"),
    pytest.param(
        -MONTH, HOUR, r"ttl \(-30 days\) must be longer than refresh_window", id="negative-ttl"
    ),
    pytest.param(
        HOUR, HOUR, r"ttl \(01:00:00\) must be longer than refresh_window", id="ttl=window"
    ),
    pytest.param(366 * DAY, HOUR, "ttl must be at most 365 days, got 366 days", id="huge-ttl"),
]


def assert_refresh_refused(
    conn: Conn,
    refresh: Any,
    ttl: datetime.timedelta,
    refresh_window: datetime.timedelta,
    message: str,
) -> None:
    """A bad ttl/refresh_window raises InvalidParameterValue naming the argument and
    writes nothing, for a session due for refresh and for an unknown one alike; ten
    calls in a row, so server-side prepared (generic) plans are covered too."""
    user = make_user(conn)
    key_hash, session = new_session(conn, user, datetime.timedelta(minutes=10))
    # An old session, so a negative ttl clears auth_sessions_expiry_after_creation.
    backdate(conn, "auth_sessions", session.id, 40 * DAY)
    conn.execute(
        "UPDATE auth_sessions SET expires_at = now() + interval '10 minutes' WHERE id = %s",
        (session.id,),
    )
    before = auth.get_valid_auth_session(conn, session_key_hash=key_hash)
    assert before is not None
    for hashed in [key_hash] * 10 + [sha256_hex("no such session")]:
        with pytest.raises(errors.InvalidParameterValue, match=message), conn.transaction():
            refresh(conn, session_key_hash=hashed, ttl=ttl, refresh_window=refresh_window)
    assert auth.get_valid_auth_session(conn, session_key_hash=key_hash) == before


@pytest.mark.parametrize(("ttl", "refresh_window", "message"), BAD_REFRESHES)
def test_refresh_refuses_bad_bounds_and_writes_nothing(
    conn: Conn, ttl: datetime.timedelta, refresh_window: datetime.timedelta, message: str
) -> None:
    assert_refresh_refused(conn, auth.refresh_auth_session, ttl, refresh_window, message)


@pytest.mark.parametrize(("ttl", "refresh_window", "message"), BAD_REFRESHES)
def test_negative_control_old_refresh_accepts_bad_bounds(
    conn: Conn, ttl: datetime.timedelta, refresh_window: datetime.timedelta, message: str
) -> None:
    """The query before issue 9 fails the same check for every bad pair: it raises
    nothing (it either writes the absurd expiry or silently matches no row)."""
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        assert_refresh_refused(conn, old_refresh, ttl, refresh_window, message)


def test_refresh_bounds_are_inclusive_at_365_days(conn: Conn) -> None:
    user = make_user(conn)
    key_hash, _ = new_session(conn, user, datetime.timedelta(minutes=10))
    year = 365 * DAY
    refreshed = auth.refresh_auth_session(
        conn, session_key_hash=key_hash, ttl=year, refresh_window=HOUR
    )
    assert refreshed is not None and refreshed.expires_at == db_now(conn) + year


def test_list_delete_and_expire_sessions(conn: Conn) -> None:
    user = make_user(conn)
    first_hash, first = new_session(conn, user, DAY)
    second_hash, second = new_session(conn, user, DAY)
    _, old = new_session(conn, user, HOUR)
    backdate(conn, "auth_sessions", old.id, 2 * HOUR)
    assert auth.list_user_auth_sessions(conn, user_id=user.id) == [second, first]

    expired_row = conn.execute(
        "SELECT count(*) FROM auth_sessions WHERE expires_at <= now()"
    ).fetchone()
    assert expired_row is not None and expired_row[0] >= 1
    assert auth.delete_expired_auth_sessions(conn) == expired_row[0]
    remaining = conn.execute(
        "SELECT id FROM auth_sessions WHERE user_id = %s ORDER BY id", (user.id,)
    ).fetchall()
    assert remaining == [(first.id,), (second.id,)]

    assert auth.delete_auth_session(conn, session_key_hash=first_hash) == 1
    assert auth.delete_auth_session(conn, session_key_hash=first_hash) == 0
    assert auth.get_valid_auth_session(conn, session_key_hash=second_hash) == second
    assert auth.delete_user_auth_sessions(conn, user_id=user.id) == 1
    assert auth.list_user_auth_sessions(conn, user_id=user.id) == []


# --- SIWE nonces -------------------------------------------------------------


def new_nonce(conn: Conn, wallet: str, ttl: datetime.timedelta = HOUR) -> models.SiweNonce:
    nonce = auth.create_siwe_nonce(
        conn, nonce=secrets.token_hex(16), wallet_address=wallet, ttl=ttl
    )
    assert nonce is not None
    return nonce


def test_nonce_is_consumed_once_for_its_wallet(conn: Conn) -> None:
    wallet = wallet_address()
    checksummed = "0x" + wallet[2:].upper()
    nonce = new_nonce(conn, checksummed)
    assert nonce.wallet_address == wallet
    assert nonce.used_at is None
    assert nonce.expires_at == db_now(conn) + HOUR

    assert auth.consume_siwe_nonce(conn, nonce=nonce.nonce, wallet_address=wallet_address()) is None
    used = auth.consume_siwe_nonce(conn, nonce=nonce.nonce, wallet_address=checksummed)
    assert used is not None
    assert used.id == nonce.id and used.used_at == db_now(conn)
    assert auth.consume_siwe_nonce(conn, nonce=nonce.nonce, wallet_address=wallet) is None


def test_expired_nonce_cannot_be_consumed_and_is_cleaned_up(conn: Conn) -> None:
    wallet = wallet_address()
    stale = new_nonce(conn, wallet)
    fresh = new_nonce(conn, wallet)
    backdate(conn, "siwe_nonces", stale.id, 2 * HOUR)
    assert auth.consume_siwe_nonce(conn, nonce=stale.nonce, wallet_address=wallet) is None

    expired_row = conn.execute(
        "SELECT count(*) FROM siwe_nonces WHERE expires_at <= now()"
    ).fetchone()
    assert expired_row is not None
    assert auth.delete_expired_siwe_nonces(conn) == expired_row[0] >= 1
    assert auth.consume_siwe_nonce(conn, nonce=fresh.nonce, wallet_address=wallet) is not None


def test_nonce_format_and_uniqueness(conn: Conn) -> None:
    wallet = wallet_address()
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        auth.create_siwe_nonce(conn, nonce="short", wallet_address=wallet, ttl=HOUR)
    assert info.value.diag.constraint_name == "siwe_nonces_nonce_format"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        auth.create_siwe_nonce(conn, nonce="abcdefgh12", wallet_address="0xnothex", ttl=HOUR)
    assert info.value.diag.constraint_name == "siwe_nonces_wallet_address_canonical"
    taken = new_nonce(conn, wallet)
    with pytest.raises(errors.UniqueViolation), conn.transaction():
        auth.create_siwe_nonce(conn, nonce=taken.nonce, wallet_address=wallet, ttl=HOUR)


def committed_nonce(database_url: str) -> tuple[str, str]:
    wallet = wallet_address()
    with psycopg.connect(database_url, autocommit=True) as setup:
        nonce = new_nonce(setup, wallet)
    return nonce.nonce, wallet


@pytest.mark.parametrize("workers", [32, 64])
def test_concurrent_consumers_of_one_nonce_exactly_one_wins(
    database_url: str, workers: int
) -> None:
    """Issue 3 asks for 32 consumers, issue 5 for 64; half of them also try another
    wallet's address, which must never succeed."""
    nonce, wallet = committed_nonce(database_url)
    other = wallet_address()

    def consume(own: Conn, n: int) -> bool:
        if n % 2:
            assert auth.consume_siwe_nonce(own, nonce=nonce, wallet_address=other) is None
        return auth.consume_siwe_nonce(own, nonce=nonce, wallet_address=wallet) is not None

    assert sum(run_on_connections(database_url, workers, consume)) == 1
    with psycopg.connect(database_url) as check:
        row = check.execute(
            "SELECT used_at IS NOT NULL FROM siwe_nonces WHERE nonce = %s", (nonce,)
        ).fetchone()
    assert row == (True,)


def test_negative_control_select_then_update_lets_many_consume(database_url: str) -> None:
    """The naive check-then-act the single UPDATE replaces: every worker reads the
    nonce as unused, then all mark it used. The same race harness sees the double
    spend, so the exactly-one result above is the query's doing, not luck."""
    nonce, wallet = committed_nonce(database_url)
    workers = 32
    all_read = threading.Barrier(workers)

    def naive_consume(own: Conn, _: int) -> bool:
        row = own.execute(
            "SELECT used_at IS NULL AND expires_at > now() FROM siwe_nonces"
            " WHERE nonce = %s AND wallet_address = %s",
            (nonce, wallet),
        ).fetchone()
        all_read.wait(timeout=30)  # widen the window deterministically
        if row is None or not row[0]:
            return False
        own.execute("UPDATE siwe_nonces SET used_at = now() WHERE nonce = %s", (nonce,))
        return True

    assert sum(run_on_connections(database_url, workers, naive_consume)) == workers


# --- access tokens -----------------------------------------------------------


def new_token(
    conn: Conn,
    user: models.User,
    name: str = "ci",
    expires_at: datetime.datetime | None = None,
) -> tuple[str, models.AccessToken]:
    token = "plue_" + secrets.token_hex(20)
    created = auth.create_access_token(
        conn,
        user_id=user.id,
        name=name,
        token_hash=sha256_hex(token),
        token_last_eight=token[-8:],
        scopes=["repo:read", "repo:write"],
        expires_at=expires_at,
    )
    assert created is not None
    return token, created


def test_token_is_stored_as_hash_and_validates_with_touch(conn: Conn) -> None:
    user = make_user(conn)
    token, created = new_token(conn, user)
    assert created.token_hash == sha256_hex(token)
    assert created.token_last_eight == token[-8:]
    assert created.scopes == ["repo:read", "repo:write"]
    assert created.last_used_at is None and created.revoked_at is None
    stored = conn.execute(
        "SELECT count(*) FROM access_tokens WHERE token_hash = %s OR token_last_eight = %s",
        (token, token),
    ).fetchone()
    assert stored == (0,)

    validated = auth.validate_access_token(conn, token_hash=sha256_hex(token))
    assert validated is not None
    assert validated.id == created.id and validated.last_used_at == db_now(conn)
    assert auth.validate_access_token(conn, token_hash=sha256_hex(token + "x")) is None
    assert auth.get_access_token(conn, id=created.id, user_id=user.id) == validated
    assert auth.get_access_token(conn, id=created.id, user_id=make_user(conn).id) is None


def test_expired_revoked_or_blocked_tokens_do_not_validate(conn: Conn) -> None:
    user = make_user(conn)
    expired_token, expired = new_token(conn, user, "old", expires_at=db_now(conn) + HOUR)
    backdate(conn, "access_tokens", expired.id, 2 * HOUR)
    assert auth.validate_access_token(conn, token_hash=sha256_hex(expired_token)) is None

    token, created = new_token(conn, user, "revoke-me", expires_at=db_now(conn) + DAY)
    assert auth.validate_access_token(conn, token_hash=sha256_hex(token)) is not None
    stranger = make_user(conn)
    assert auth.revoke_access_token(conn, id=created.id, user_id=stranger.id) is None
    revoked = auth.revoke_access_token(conn, id=created.id, user_id=user.id)
    assert revoked is not None and revoked.revoked_at == db_now(conn)
    assert auth.revoke_access_token(conn, id=created.id, user_id=user.id) is None
    assert auth.validate_access_token(conn, token_hash=sha256_hex(token)) is None

    live_token, _ = new_token(conn, user, "live")
    block_login(conn, user)
    assert auth.validate_access_token(conn, token_hash=sha256_hex(live_token)) is None


def test_token_constraints(conn: Conn) -> None:
    user = make_user(conn)
    new_token(conn, user, "deploy")
    with pytest.raises(errors.UniqueViolation) as dup, conn.transaction():
        new_token(conn, user, "deploy")
    assert dup.value.diag.constraint_name == "access_tokens_user_name_key"

    def create(token_hash: str, last_eight: str, name: str) -> None:
        auth.create_access_token(
            conn,
            user_id=user.id,
            name=name,
            token_hash=token_hash,
            token_last_eight=last_eight,
            scopes=[],
            expires_at=None,
        )

    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        create("plaintext-token", "12345678", "x")
    assert info.value.diag.constraint_name == "access_tokens_token_hash_sha256"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        create(sha256_hex("t"), "1234", "x")
    assert info.value.diag.constraint_name == "access_tokens_token_last_eight_length"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        create(sha256_hex("t"), "12345678", "  ")
    assert info.value.diag.constraint_name == "access_tokens_name_not_empty"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        new_token(conn, user, "born-expired", expires_at=db_now(conn))
    assert info.value.diag.constraint_name == "access_tokens_expiry_after_creation"


def test_list_tokens_newest_first_including_revoked(conn: Conn) -> None:
    user = make_user(conn)
    _, a = new_token(conn, user, "a")
    _, b = new_token(conn, user, "b")
    revoked = auth.revoke_access_token(conn, id=a.id, user_id=user.id)
    assert revoked is not None
    assert auth.list_access_tokens(conn, user_id=user.id) == [b, revoked]
    assert auth.list_access_tokens(conn, user_id=make_user(conn).id) == []


# --- SSH keys ----------------------------------------------------------------


def new_ssh_key(conn: Conn, user: models.User, name: str = "laptop") -> models.SshKey:
    key = auth.add_ssh_key(
        conn,
        user_id=user.id,
        name=name,
        fingerprint=ssh_fingerprint(),
        public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + secrets.token_hex(16),
        key_type="ssh-ed25519",
    )
    assert key is not None
    return key


def test_ssh_keys_add_lookup_list_delete(conn: Conn) -> None:
    user = make_user(conn)
    laptop = new_ssh_key(conn, user, "laptop")
    desktop = new_ssh_key(conn, user, "desktop")
    assert auth.get_ssh_key_by_fingerprint(conn, fingerprint=laptop.fingerprint) == laptop
    assert auth.get_ssh_key_by_fingerprint(conn, fingerprint=ssh_fingerprint()) is None
    assert auth.list_ssh_keys(conn, user_id=user.id) == [laptop, desktop]

    assert auth.delete_ssh_key(conn, id=laptop.id, user_id=make_user(conn).id) == 0
    assert auth.delete_ssh_key(conn, id=laptop.id, user_id=user.id) == 1
    assert auth.list_ssh_keys(conn, user_id=user.id) == [desktop]


def test_ssh_authentication_stamps_use_and_respects_blocks(conn: Conn) -> None:
    user = make_user(conn)
    key = new_ssh_key(conn, user)
    assert key.last_used_at is None
    used = auth.authenticate_ssh_key(conn, fingerprint=key.fingerprint)
    assert used is not None and used.last_used_at == db_now(conn)
    block_login(conn, user)
    assert auth.authenticate_ssh_key(conn, fingerprint=key.fingerprint) is None


def test_ssh_key_constraints(conn: Conn) -> None:
    user = make_user(conn)
    key = new_ssh_key(conn, user)
    other = make_user(conn)
    with pytest.raises(errors.UniqueViolation) as dup, conn.transaction():
        auth.add_ssh_key(
            conn,
            user_id=other.id,
            name="copy",
            fingerprint=key.fingerprint,
            public_key=key.public_key,
            key_type=key.key_type,
        )
    assert dup.value.diag.constraint_name == "idx_ssh_keys_fingerprint"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        auth.add_ssh_key(
            conn,
            user_id=user.id,
            name="dsa",
            fingerprint=ssh_fingerprint(),
            public_key="ssh-dss AAAA",
            key_type="ssh-dss",
        )
    assert info.value.diag.constraint_name == "ssh_keys_key_type_known"
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        auth.add_ssh_key(
            conn,
            user_id=user.id,
            name="md5",
            fingerprint="MD5:aa:bb",
            public_key="ssh-ed25519 AAAA",
            key_type="ssh-ed25519",
        )
    assert info.value.diag.constraint_name == "ssh_keys_fingerprint_format"
