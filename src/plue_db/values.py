"""Values in the exact forms schema.sql stores them, made in one place.

The demo and the tests both need a wallet address, a Jujutsu change id or a stored
credential digest; schema.sql's CHECK constraints define each form, so each is spelt
once here rather than once per caller.
"""

from __future__ import annotations

import hashlib
import secrets


def sha256_hex(secret: str) -> str:
    """How session keys and access tokens are stored: sha256, lower-case hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def change_id() -> str:
    """A random full Jujutsu change id: 32 characters of reverse hex (k-z)."""
    return "".join(chr(ord("z") - int(c, 16)) for c in secrets.token_hex(16))


def commit_id() -> str:
    """A random full SHA-1 commit id."""
    return secrets.token_hex(20)


def wallet_address() -> str:
    """A random Ethereum address in canonical lower-case form."""
    return "0x" + secrets.token_hex(20)
