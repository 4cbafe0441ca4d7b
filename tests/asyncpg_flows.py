"""asyncpg connections for the asyncpg-target tests: connected with the target's codecs,
and a flow run on one in a transaction that is rolled back, so tests leave no rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from plue_queries import asyncpg as apg

from bench.latency import asyncpg_params

Flow = Callable[[Any], Awaitable[None]]


class UndoError(Exception):
    """Raised to leave an asyncpg transaction block by rolling it back."""


async def connect(url: str, *, init: bool = True) -> Any:
    """A connection to ``url``, with ``init_connection``'s codecs unless ``init`` is off."""
    conn = await asyncpg.connect(**asyncpg_params(url))
    if init:
        await apg.init_connection(conn)
    return conn


def run_rolled_back(url: str, flow: Flow) -> None:
    """``flow(conn)`` on a new connection, in a transaction rolled back afterwards."""

    async def go() -> None:
        conn = await connect(url)
        try:
            async with conn.transaction():
                await flow(conn)
                raise UndoError
        except UndoError:
            pass
        finally:
            await conn.close()

    asyncio.run(go())
