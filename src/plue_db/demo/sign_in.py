"""Step 1: Sign-In-With-Ethereum with a one-time nonce, then a session and an access token.

The plaintext credentials are what sign-in hands the user; they come back in
``SignedIn.credentials`` (the demo's result carries them so tests can prove the
database holds only their sha256 digests).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
from plue_queries import auth, models, users

from plue_db.demo.script import NONCE_TTL, SESSION_TTL
from plue_db.demo.steps import Demo, require, short
from plue_db.values import sha256_hex, wallet_address


class Credentials(NamedTuple):
    """The plaintext secrets given to the user; none may be stored."""

    session_key: str
    access_token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: models.User
    nonce: models.SiweNonce  # as issued, before it was consumed
    second_consume: models.SiweNonce | None  # replaying the nonce: None when refused
    session: models.AuthSession
    credentials: Credentials


def sign_in(demo: Demo) -> SignedIn:
    demo.section(1, "Sign in with Ethereum")
    # What a wallet sends: EIP-55 mixed case; the database keeps the lower-case form.
    presented = "0x" + wallet_address()[2:].upper()
    nonce_text = secrets.token_hex(16)
    issued = demo.unit(
        lambda c: require(
            auth.create_siwe_nonce(c, nonce=nonce_text, wallet_address=presented, ttl=NONCE_TTL),
            "create SIWE nonce",
        ),
    )
    demo.say(f"  nonce {short(issued.nonce)} issued to {issued.wallet_address}, valid {NONCE_TTL}")

    def accept(c: psycopg.Connection[Any]) -> tuple[models.SiweNonce, models.User, bool]:
        used = require(
            auth.consume_siwe_nonce(c, nonce=nonce_text, wallet_address=presented),
            f"consume nonce {short(nonce_text)} (unused, unexpired, this wallet)",
        )
        user = users.get_user_by_wallet(c, wallet_address=presented)
        created = user is None
        if user is None:
            user = users.create_user(
                c,
                username=f"alice-{demo.suffix}",
                email=None,
                display_name="Alice",
                bio="Signed in with a wallet",
                avatar_url=None,
                wallet_address=presented,
                is_admin=False,
            )
        require(users.record_user_login(c, id=user.id), f"sign-in of {user.username}")
        return used, user, created

    used, user, created = demo.unit(accept)
    demo.say(f"  nonce consumed at {used.used_at:%H:%M:%S}")
    demo.say(f"  user {user.username} (id {user.id}) {'created' if created else 'found'} by wallet")
    replay = demo.unit(
        lambda c: auth.consume_siwe_nonce(c, nonce=nonce_text, wallet_address=presented)
    )
    verdict = "REFUSED" if replay is None else "ACCEPTED (bug)"
    demo.say(f"  second consume of the same nonce: {verdict}")
    credentials = Credentials(
        session_key=secrets.token_urlsafe(32), access_token="plue_" + secrets.token_urlsafe(30)
    )
    session = demo.unit(lambda c: _store_credentials(c, user, credentials))
    demo.say(f"  session {session.id}: stored sha256 {short(session.session_key_hash)} of the key")
    token = credentials.access_token
    valid = demo.unit(lambda c: auth.validate_access_token(c, token_hash=sha256_hex(token)))
    demo.say(f"  access token …{token[-8:]}: stored hashed, validates: {valid is not None}")
    return SignedIn(user, issued, replay, session, credentials)


def _store_credentials(
    conn: psycopg.Connection[Any], user: models.User, credentials: Credentials
) -> models.AuthSession:
    """A session and an access token for ``user``, each stored only as its digest."""
    session = require(
        auth.create_auth_session(
            conn,
            user_id=user.id,
            session_key_hash=sha256_hex(credentials.session_key),
            user_agent="plue-db demo",
            expires_at=datetime.now(UTC) + SESSION_TTL,
        ),
        "create session",
    )
    require(
        auth.create_access_token(
            conn,
            user_id=user.id,
            name="demo cli",
            token_hash=sha256_hex(credentials.access_token),
            token_last_eight=credentials.access_token[-8:],
            scopes=["repo:read", "repo:write"],
            expires_at=None,
        ),
        "create access token",
    )
    return session
