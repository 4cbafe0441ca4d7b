"""One sign-in rule on every credential path (issue 9, defect 5), against a real PostgreSQL.

Every query that issues, refreshes or validates a credential must refuse a user who is
inactive, prohibited from login or deleted, and an expired or revoked credential, and
write nothing when it refuses. Each path meets each state below; the queries as they
were before the fix run through the same checks as unsafe variants and must fail them.

Over 400 lines on purpose: one matrix, every credential path against every state, with
the unsafe variants beside it; split, no file would show the whole rule.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
import pytest
from plue_queries import auth, models, users
from psycopg import errors, sql
from psycopg.rows import TupleRow

from tests.factories import make_user, sha256_hex, ssh_fingerprint, wallet_address
from tests.fixtures.fix_db import Conn

HOUR = datetime.timedelta(hours=1)
MONTH = datetime.timedelta(days=30)
NEAR_EXPIRY = datetime.timedelta(minutes=10)
"""Every credential is issued this close to expiry, so a refresh would extend it."""


@dataclass(frozen=True, slots=True)
class Credential:
    """What a path handed out: its row, and what a client presents to use it."""

    table: str
    id: int
    secret: str
    wallet: str = ""


Issue = Callable[[Conn, models.User], "Credential | None"]
Use = Callable[[Conn, Credential], object]


def db_now(conn: Conn) -> datetime.datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime.datetime = row[0]
    return value


def _credential(table: str, row: Any, secret: str, wallet: str = "") -> Credential | None:
    return None if row is None else Credential(table, row.id, secret, wallet)


# --- the paths: issue a credential, and use it --------------------------------------


def issue_session(conn: Conn, user: models.User) -> Credential | None:
    key_hash = sha256_hex(secrets.token_urlsafe(32))
    row = auth.create_auth_session(
        conn,
        user_id=user.id,
        session_key_hash=key_hash,
        user_agent="pytest",
        expires_at=db_now(conn) + NEAR_EXPIRY,
    )
    return _credential("auth_sessions", row, key_hash)


def issue_token(conn: Conn, user: models.User) -> Credential | None:
    token_hash = sha256_hex(secrets.token_hex(20))
    row = auth.create_access_token(
        conn,
        user_id=user.id,
        name=secrets.token_hex(4),
        token_hash=token_hash,
        token_last_eight=token_hash[-8:],
        scopes=["repo:read"],
        expires_at=db_now(conn) + NEAR_EXPIRY,
    )
    return _credential("access_tokens", row, token_hash)


def issue_ssh_key(conn: Conn, user: models.User) -> Credential | None:
    fingerprint = ssh_fingerprint()
    row = auth.add_ssh_key(
        conn,
        user_id=user.id,
        name=secrets.token_hex(4),
        fingerprint=fingerprint,
        public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5" + secrets.token_hex(16),
        key_type="ssh-ed25519",
    )
    return _credential("ssh_keys", row, fingerprint)


def issue_nonce(conn: Conn, user: models.User) -> Credential | None:
    assert user.wallet_address is not None
    presented = "0x" + user.wallet_address[2:].upper()  # EIP-55 style mixed case
    row = auth.create_siwe_nonce(
        conn, nonce=secrets.token_hex(16), wallet_address=presented, ttl=NEAR_EXPIRY
    )
    return _credential("siwe_nonces", row, "" if row is None else row.nonce, presented)


def validate_session(conn: Conn, cred: Credential) -> object:
    return auth.get_valid_auth_session(conn, session_key_hash=cred.secret)


def refresh_session(conn: Conn, cred: Credential) -> object:
    return auth.refresh_auth_session(
        conn, session_key_hash=cred.secret, ttl=MONTH, refresh_window=HOUR
    )


def validate_token(conn: Conn, cred: Credential) -> object:
    return auth.validate_access_token(conn, token_hash=cred.secret)


def authenticate_ssh(conn: Conn, cred: Credential) -> object:
    return auth.authenticate_ssh_key(conn, fingerprint=cred.secret)


def consume_nonce(conn: Conn, cred: Credential) -> object:
    return auth.consume_siwe_nonce(conn, nonce=cred.secret, wallet_address=cred.wallet)


def sign_out(conn: Conn, cred: Credential) -> None:
    assert auth.delete_auth_session(conn, session_key_hash=cred.secret) == 1


def revoke_token(conn: Conn, cred: Credential) -> None:
    owner = conn.execute("SELECT user_id FROM access_tokens WHERE id = %s", (cred.id,)).fetchone()
    assert owner is not None
    assert auth.revoke_access_token(conn, id=cred.id, user_id=owner[0]) is not None


def remove_ssh_key(conn: Conn, cred: Credential) -> None:
    owner = conn.execute("SELECT user_id FROM ssh_keys WHERE id = %s", (cred.id,)).fetchone()
    assert owner is not None
    assert auth.delete_ssh_key(conn, id=cred.id, user_id=owner[0]) == 1


def use_up_nonce(conn: Conn, cred: Credential) -> None:
    assert consume_nonce(conn, cred) is not None


def expire(conn: Conn, cred: Credential) -> None:
    """Age the credential past its expiry, as if time had passed."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET created_at = created_at - interval '1 day',"
            " expires_at = now() - interval '1 second' WHERE id = %s"
        ).format(sql.Identifier(cred.table)),
        (cred.id,),
    )


@dataclass(frozen=True, slots=True)
class Path:
    """A query that validates or refreshes a credential, and how its credential is
    issued, revoked (None: no such notion) and expired (None: never expires)."""

    issue: Issue
    use: Use
    revoke: Use
    expire: Use | None


USES = {
    "get_valid_auth_session": Path(issue_session, validate_session, sign_out, expire),
    "refresh_auth_session": Path(issue_session, refresh_session, sign_out, expire),
    "validate_access_token": Path(issue_token, validate_token, revoke_token, expire),
    "authenticate_ssh_key": Path(issue_ssh_key, authenticate_ssh, remove_ssh_key, None),
    "consume_siwe_nonce": Path(issue_nonce, consume_nonce, use_up_nonce, expire),
}
ISSUERS = {
    "create_auth_session": issue_session,
    "create_access_token": issue_token,
    "add_ssh_key": issue_ssh_key,
    "create_siwe_nonce": issue_nonce,
}


# --- the user states that must refuse ----------------------------------------------


def _flags(is_active: bool, prohibit_login: bool) -> Callable[[Conn, models.User], None]:
    def block(conn: Conn, user: models.User) -> None:
        users.set_user_account_flags(
            conn, id=user.id, is_active=is_active, is_admin=False, prohibit_login=prohibit_login
        )

    return block


def delete(conn: Conn, user: models.User) -> None:
    assert users.delete_user(conn, id=user.id) == 1


BLOCKS = {
    "inactive": _flags(is_active=False, prohibit_login=False),
    "prohibit_login": _flags(is_active=True, prohibit_login=True),
    "inactive_and_prohibited": _flags(is_active=False, prohibit_login=True),
    "deleted": delete,
}
FLAG_BLOCKS = [name for name in BLOCKS if name != "deleted"]


# --- the checks --------------------------------------------------------------------


def snapshot(conn: Conn, cred: Credential) -> object:
    """The credential's whole row (None once gone), to prove a refusal wrote nothing."""
    row = conn.execute(
        sql.SQL("SELECT to_jsonb(t) FROM {} t WHERE id = %s").format(sql.Identifier(cred.table)),
        (cred.id,),
    ).fetchone()
    return None if row is None else row[0]


def new_user(conn: Conn) -> models.User:
    return make_user(conn, wallet_address=wallet_address())


def assert_refused(conn: Conn, path: Path, spoil: Use) -> None:
    """A credential that works for a user who may sign in (the positive control, on a
    twin credential) is refused, with nothing written, once `spoil` has run."""
    user = new_user(conn)
    control, cred = path.issue(conn, user), path.issue(conn, user)
    assert control is not None and cred is not None
    assert path.use(conn, control) is not None
    spoil(conn, cred)
    before = snapshot(conn, cred)
    assert path.use(conn, cred) is None
    assert snapshot(conn, cred) == before


def user_state(block: str) -> Callable[[Conn, Credential], None]:
    """Spoil a credential by putting its owner in a blocked state."""

    def spoil(conn: Conn, cred: Credential) -> None:
        owner = conn.execute(
            sql.SQL(
                "SELECT u.id FROM users u JOIN {} c ON c.user_id = u.id WHERE c.id = %s"
            ).format(sql.Identifier(cred.table))
            if cred.table != "siwe_nonces"
            else sql.SQL("SELECT id FROM users WHERE wallet_address = lower(%s)"),
            (cred.id if cred.table != "siwe_nonces" else cred.wallet,),
        ).fetchone()
        assert owner is not None
        user = users.get_user_by_id(conn, id=owner[0])
        assert user is not None
        BLOCKS[block](conn, user)

    return spoil


def assert_issue_refused(conn: Conn, issue: Issue, block: str) -> None:
    """Issuing for a blocked or deleted user gives None and writes no row anywhere;
    the same call for a user who may sign in gives a credential (positive control)."""
    assert issue(conn, new_user(conn)) is not None
    user = new_user(conn)
    BLOCKS[block](conn, user)
    tables = sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t))
        for t in ("auth_sessions", "access_tokens", "ssh_keys", "siwe_nonces")
    )
    count = sql.SQL("SELECT {}").format(tables)
    before = conn.execute(count).fetchone()
    assert issue(conn, user) is None
    assert conn.execute(count).fetchone() == before


# --- tests -------------------------------------------------------------------------

USE_BLOCK_CASES = [
    (use, block)
    for use in USES
    for block in BLOCKS
    # A deleted account's wallet belongs to nobody: test_deleted_wallet_is_a_new_wallet.
    if (use, block) != ("consume_siwe_nonce", "deleted")
]


@pytest.mark.parametrize(("use", "block"), USE_BLOCK_CASES)
def test_blocked_or_deleted_user_cannot_use_a_credential(conn: Conn, use: str, block: str) -> None:
    assert_refused(conn, USES[use], user_state(block))


@pytest.mark.parametrize("use", [u for u in USES if USES[u].expire is not None])
def test_expired_credential_is_refused(conn: Conn, use: str) -> None:
    expire_it = USES[use].expire
    assert expire_it is not None
    assert_refused(conn, USES[use], expire_it)


@pytest.mark.parametrize("use", list(USES))
def test_revoked_credential_is_refused(conn: Conn, use: str) -> None:
    """Revoked: a signed-out session, a revoked token, a removed key, a used nonce."""
    assert_refused(conn, USES[use], USES[use].revoke)


@pytest.mark.parametrize(
    ("issue", "block"),
    [(i, b) for i in ISSUERS for b in BLOCKS if (i, b) != ("create_siwe_nonce", "deleted")],
)
def test_no_credential_is_issued_to_a_blocked_or_deleted_user(
    conn: Conn, issue: str, block: str
) -> None:
    assert_issue_refused(conn, ISSUERS[issue], block)


def test_deleted_wallet_is_a_new_wallet(conn: Conn) -> None:
    """Deleting an account deletes its sessions, tokens and keys (ON DELETE CASCADE)
    and frees its wallet: a nonce for it is issued and consumed as for a sign-up."""
    user = new_user(conn)
    held = [issue(conn, user) for issue in (issue_session, issue_token, issue_ssh_key)]
    delete(conn, user)
    assert [snapshot(conn, cred) for cred in held if cred is not None] == [None, None, None]
    nonce = issue_nonce(conn, user)
    assert nonce is not None and consume_nonce(conn, nonce) is not None


@pytest.mark.parametrize(
    ("issue", "constraint"),
    [
        ("auth_sessions", "auth_sessions_expiry_after_creation"),
        ("access_tokens", "access_tokens_expiry_after_creation"),
        ("siwe_nonces", "siwe_nonces_expiry_after_creation"),
    ],
)
def test_an_already_expired_credential_is_not_issued(
    conn: Conn, issue: str, constraint: str
) -> None:
    user = new_user(conn)
    past = db_now(conn) - HOUR
    calls: dict[str, Callable[[], object]] = {
        "auth_sessions": lambda: auth.create_auth_session(
            conn, user_id=user.id, session_key_hash=sha256_hex("s"), user_agent="", expires_at=past
        ),
        "access_tokens": lambda: auth.create_access_token(
            conn,
            user_id=user.id,
            name="t",
            token_hash=sha256_hex("t"),
            token_last_eight="12345678",
            scopes=[],
            expires_at=past,
        ),
        "siwe_nonces": lambda: auth.create_siwe_nonce(
            conn, nonce="abcdefgh12", wallet_address=wallet_address(), ttl=-HOUR
        ),
    }
    with pytest.raises(errors.CheckViolation) as info, conn.transaction():
        calls[issue]()
    assert info.value.diag.constraint_name == constraint


# --- negative controls: the queries before issue 9 fail the same checks -------------

OLD_SQL: dict[str, LiteralString] = {
    "create_auth_session": """INSERT INTO auth_sessions
        (user_id, session_key_hash, user_agent, expires_at)
        VALUES ($1, $2, 'pytest', now() + interval '10 minutes') RETURNING id""",
    "create_access_token": """INSERT INTO access_tokens
        (user_id, name, token_hash, token_last_eight, scopes, expires_at)
        VALUES ($1, md5($2::text), $2, right($2::text, 8), '{}', now() + interval '10 minutes')
        RETURNING id""",
    "add_ssh_key": """INSERT INTO ssh_keys (user_id, name, fingerprint, public_key, key_type)
        VALUES ($1, md5($2::text), $2, 'ssh-ed25519 AAAA', 'ssh-ed25519') RETURNING id""",
    "create_siwe_nonce": """INSERT INTO siwe_nonces (nonce, wallet_address, expires_at)
        VALUES ($2, lower($1::text), now() + interval '10 minutes') RETURNING id""",
    "refresh_auth_session": """UPDATE auth_sessions SET expires_at = now() + $1::interval
        WHERE session_key_hash = $2 AND expires_at > now()
          AND expires_at < now() + $3::interval RETURNING id""",
    "consume_siwe_nonce": """UPDATE siwe_nonces SET used_at = now()
        WHERE nonce = $1 AND wallet_address = lower($2::text) AND used_at IS NULL
          AND expires_at > now() RETURNING id""",
}


def _run(conn: Conn, text: LiteralString, params: tuple[object, ...]) -> Any:
    return psycopg.RawCursor[TupleRow](conn).execute(text, params).fetchone()


def _old_issue(query: str, table: str, secret: Callable[[], str], by_wallet: bool = False) -> Issue:
    """An issuer running the old SQL of `query`, owned by the user's id or wallet."""

    def issue(conn: Conn, user: models.User) -> Credential | None:
        value, wallet = secret(), user.wallet_address or ""
        row = _run(conn, OLD_SQL[query], (wallet if by_wallet else user.id, value))
        return None if row is None else Credential(table, row[0], value, wallet)

    return issue


def _hash() -> str:
    return sha256_hex(secrets.token_hex(8))


OLD_ISSUERS = {
    "create_auth_session": _old_issue("create_auth_session", "auth_sessions", _hash),
    "create_access_token": _old_issue("create_access_token", "access_tokens", _hash),
    "add_ssh_key": _old_issue("add_ssh_key", "ssh_keys", ssh_fingerprint),
    "create_siwe_nonce": _old_issue(
        "create_siwe_nonce", "siwe_nonces", lambda: secrets.token_hex(16), by_wallet=True
    ),
}


def _old_refresh(conn: Conn, cred: Credential) -> object:
    return _run(conn, OLD_SQL["refresh_auth_session"], (MONTH, cred.secret, HOUR))


def _old_consume(conn: Conn, cred: Credential) -> object:
    return _run(conn, OLD_SQL["consume_siwe_nonce"], (cred.secret, cred.wallet))


OLD_USES = {
    "refresh_auth_session": Path(issue_session, _old_refresh, sign_out, expire),
    "consume_siwe_nonce": Path(issue_nonce, _old_consume, use_up_nonce, expire),
}


@pytest.mark.parametrize(("use", "block"), [(u, b) for u in OLD_USES for b in FLAG_BLOCKS])
def test_negative_control_old_queries_let_a_blocked_user_use_a_credential(
    conn: Conn, use: str, block: str
) -> None:
    """The issue's finding: the old refresh extended (and the old consume accepted) a
    credential of a blocked user; the same check catches it."""
    with pytest.raises(AssertionError, match=r"assert .* is None"):
        assert_refused(conn, OLD_USES[use], user_state(block))


@pytest.mark.parametrize(("issue", "block"), [(i, b) for i in OLD_ISSUERS for b in FLAG_BLOCKS])
def test_negative_control_old_queries_issue_to_a_blocked_user(
    conn: Conn, issue: str, block: str
) -> None:
    with pytest.raises(AssertionError, match=r"assert .* is None"):
        assert_issue_refused(conn, OLD_ISSUERS[issue], block)
