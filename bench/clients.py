"""How each client runs one call of a statement, and timers that repeat such calls.

An op is ``op(conn, args, kwargs)``: positional arguments in ``$n`` order for raw
clients, keywords for the generated functions. Every timer cycles through the same
precomputed calls, so the per-call bookkeeping is identical for all cases.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import asyncpg
import psycopg
import sqlalchemy

from bench import placeholders
from bench.harness import Timer
from bench.statements import Args, Statement

Call = tuple[Args, dict[str, Any]]
Op = Callable[[Any, Args, dict[str, Any]], object]
AsyncOp = Callable[[Any, Args, dict[str, Any]], Awaitable[object]]


def generated_op(st: Statement) -> Op:
    call = st.call
    return lambda conn, a, kw: call(conn, **kw)


def raw_psycopg_op(st: Statement) -> Op:
    """The baseline: ``conn.execute`` (a client cursor per call), tuple rows, same dataclass."""
    sql, order, decode = placeholders.format_style(st.sql), placeholders.reorder(st.sql), st.decode
    if st.many:
        return lambda conn, a, kw: [decode(r) for r in conn.execute(sql, order(a)).fetchall()]

    def one(conn: psycopg.Connection[Any], a: Args, kw: dict[str, Any]) -> object:
        row = conn.execute(sql, order(a)).fetchone()
        return None if row is None else decode(row)

    return one


def sqlalchemy_op(st: Statement) -> Op:
    """SQLAlchemy 2 Core ``text()``, the shape the official sqlc Python plugin generates."""
    stmt = sqlalchemy.text(placeholders.sqlalchemy_style(st.sql))
    keys = [f"p{n}" for n in sorted(set(placeholders.numbers(st.sql)))]
    decode = st.decode
    if st.many:
        return lambda conn, a, kw: [
            decode(r) for r in conn.execute(stmt, dict(zip(keys, a, strict=True)))
        ]

    def one(conn: sqlalchemy.Connection, a: Args, kw: dict[str, Any]) -> object:
        row = conn.execute(stmt, dict(zip(keys, a, strict=True))).first()
        return None if row is None else decode(row)

    return one


def generated_async_op(st: Statement) -> AsyncOp:
    acall = st.acall
    return lambda conn, a, kw: acall(conn, **kw)


def raw_psycopg_async_op(st: Statement) -> AsyncOp:
    sql, order, decode = placeholders.format_style(st.sql), placeholders.reorder(st.sql), st.decode

    async def op(conn: psycopg.AsyncConnection[Any], a: Args, kw: dict[str, Any]) -> object:
        cur = await conn.execute(sql, order(a))
        if st.many:
            return [decode(r) for r in await cur.fetchall()]
        row = await cur.fetchone()
        return None if row is None else decode(row)

    return op


def asyncpg_op(st: Statement) -> AsyncOp:
    """asyncpg takes ``$n`` natively and prepares through its statement cache."""
    sql, decode = st.sql, st.decode

    async def op(conn: asyncpg.Connection, a: Args, kw: dict[str, Any]) -> object:
        if st.many:
            return [decode(r) for r in await conn.fetch(sql, *a)]
        row = await conn.fetchrow(sql, *a)
        return None if row is None else decode(row)

    return op


def sequential(conn: object, op: Op, calls: list[Call]) -> Timer:
    """Calls one after another on one connection."""
    source = itertools.cycle(calls)

    def timer(n: int) -> float:
        batch = list(itertools.islice(source, n))
        start = time.perf_counter()
        for a, kw in batch:
            op(conn, a, kw)
        return (time.perf_counter() - start) / n

    return timer


def threaded(
    checkout: Callable[[], AbstractContextManager[Any]],
    op: Op,
    calls: list[Call],
    executor: ThreadPoolExecutor,
    threads: int,
) -> Timer:
    """``threads`` workers share the calls; each call checks a connection out of a pool."""
    source = itertools.cycle(calls)

    def worker(batch: list[Call]) -> None:
        for a, kw in batch:
            with checkout() as conn:
                op(conn, a, kw)

    def timer(n: int) -> float:
        batches = [list(itertools.islice(source, max(1, n // threads))) for _ in range(threads)]
        start = time.perf_counter()
        for future in [executor.submit(worker, b) for b in batches]:
            future.result()
        return (time.perf_counter() - start) / sum(len(b) for b in batches)

    return timer


def awaited(loop: asyncio.AbstractEventLoop, conn: object, op: AsyncOp, calls: list[Call]) -> Timer:
    """Calls awaited one after another, timed inside the running loop."""
    source = itertools.cycle(calls)

    async def run(batch: list[Call]) -> float:
        start = time.perf_counter()
        for a, kw in batch:
            await op(conn, a, kw)
        return time.perf_counter() - start

    def timer(n: int) -> float:
        return loop.run_until_complete(run(list(itertools.islice(source, n)))) / n

    return timer
