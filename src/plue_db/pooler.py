"""Connections through a transaction-mode pooler (pgbouncer ``pool_mode = transaction``).

Such a pooler hands each transaction whatever server connection is free, so nothing
may live in a session between transactions:

- psycopg prepares a statement it has run ``prepare_threshold`` times (5) and remembers
  it per client connection; the next transaction may run on a server connection that
  has no such statement, or another client's of the same name (``prepared statement
  "_pg3_0" does not exist`` / ``already exists``). ``prepare_threshold=None`` turns
  preparation off. pgbouncer before 1.21 cannot do otherwise; from 1.21, with
  ``max_prepared_statements`` > 0, it tracks protocol-level prepared statements itself
  and preparation may stay on.
- pgbouncer refuses the ``options`` startup parameter (``unsupported startup
  parameter: options``), which is how a direct pool sets its timeouts. Through a
  pooler the timeouts must be the server's own (``ALTER ROLE``/``ALTER DATABASE ...
  SET``, or pgbouncer's ``connect_query``); :func:`check_server_settings` compares them
  with what the pool asks for when it opens and names any that differ.
- ``TimeZone`` is one of the parameters pgbouncer tracks per client and restores on
  whichever server connection runs the next transaction, so the pool sets it with
  ``SET`` on each new connection (:func:`configure`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import psycopg

_SETTINGS: LiteralString = (
    "SELECT name, setting FROM pg_catalog.pg_settings WHERE name = ANY($1::text[]) ORDER BY name"
)
_SET_TIMEZONE: LiteralString = "SELECT pg_catalog.set_config('TimeZone', $1, false)"


class PoolerSettingsError(RuntimeError):
    """The server behind a transaction-mode pooler does not apply the pool's timeouts."""


def connection_kwargs(direct: dict[str, Any]) -> dict[str, Any]:
    """``psycopg.connect`` keyword arguments for a pooler: no startup ``options``, no
    server-side prepared statements."""
    kwargs = {key: value for key, value in direct.items() if key != "options"}
    kwargs["prepare_threshold"] = None
    return kwargs


def configure(timezone: str) -> Callable[[psycopg.Connection[Any]], None]:
    """A pool ``configure`` callback pinning ``TimeZone`` (kept by the pooler per client)."""

    def set_timezone(conn: psycopg.Connection[Any]) -> None:
        with psycopg.RawCursor(conn) as cur:
            cur.execute(_SET_TIMEZONE, (timezone,))
        conn.commit()

    return set_timezone


def configure_async(timezone: str) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """The asyncio twin of :func:`configure`."""

    async def set_timezone(conn: psycopg.AsyncConnection[Any]) -> None:
        async with psycopg.AsyncRawCursor(conn) as cur:
            await cur.execute(_SET_TIMEZONE, (timezone,))
        await conn.commit()

    return set_timezone


def check_server_settings(conn: psycopg.Connection[Any], wanted_ms: dict[str, int]) -> None:
    """Raise :class:`PoolerSettingsError` naming every timeout the server sets otherwise.

    ``wanted_ms`` maps a setting (``statement_timeout`` ...) to milliseconds, 0 = none.
    """
    with psycopg.RawCursor(conn) as cur:
        cur.execute(_SETTINGS, (sorted(wanted_ms),))
        found = cur.fetchall()
    conn.rollback()
    _judge(dict(found), wanted_ms)


async def check_server_settings_async(
    conn: psycopg.AsyncConnection[Any], wanted_ms: dict[str, int]
) -> None:
    """The asyncio twin of :func:`check_server_settings`."""
    async with psycopg.AsyncRawCursor(conn) as cur:
        await cur.execute(_SETTINGS, (sorted(wanted_ms),))
        found = await cur.fetchall()
    await conn.rollback()
    _judge(dict(found), wanted_ms)


def _judge(found: dict[Any, Any], wanted_ms: dict[str, int]) -> None:
    wrong = [
        f"{name} is {found[name]} ms on the server, the pool asks for {ms} ms"
        for name, ms in sorted(wanted_ms.items())
        if int(found[name]) != ms
    ]
    if wrong:
        raise PoolerSettingsError(
            "through a transaction-mode pooler the server must apply the pool's timeouts "
            "itself (the pooler refuses the startup options that set them): "
            + "; ".join(wrong)
            + ". Set them for the role or database (ALTER ROLE <role> SET statement_timeout"
            " = '30s'), or in pgbouncer's connect_query, or open the pool with the"
            " server's values (timeouts=Timeouts(...))"
        )
