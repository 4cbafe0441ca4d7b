"""plue_queries.asyncpg against raw asyncpg and against the generated psycopg async
functions, and what naming constraint violations costs its success path: part of
``python -m bench``, or alone as ``python -m bench.asyncpg_target [--quick] [--rounds N]``.

Each workload's baseline is raw asyncpg (``conn.fetch``/``fetchrow`` on the same
``$n`` SQL, rows decoded by hand into the same dataclasses); the A/A control is that
baseline timed again under another name. Single calls run one after another on one
connection; the concurrent workload runs 8 tasks at once, each call checking a
connection out of an 8-connection pool (asyncpg's, psycopg_pool's async one). The
errors workload times ``update_user_profile`` (an UPDATE ... RETURNING, so it
translates violations) against the same call written out without the handler.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import itertools
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import psycopg
from plue_queries import asyncpg as apg
from plue_queries import models, users
from psycopg_pool import AsyncConnectionPool

from bench import clients, harness, latency, report, seed, statements
from bench.harness import Case, Timer, Workload, WorkloadResult
from bench.scratch import scratch_database
from plue_db import dsn, servers

RAW = "raw asyncpg (baseline)"
AA = "raw asyncpg (A/A control)"
GENERATED = "generated asyncpg"
PSYCOPG = "generated psycopg async"
TASKS = 8
BEFORE = "no handler (before)"
BEFORE_AA = "A/A: no handler again"
HANDLED = "generated, with handler"


def generated(st: statements.Statement) -> clients.AsyncOp:
    """The plue_queries.asyncpg twin of the statement's psycopg async function."""
    module = importlib.import_module(st.acall.__module__.replace(".aio.", ".asyncpg."))
    function = getattr(module, st.acall.__name__)
    return lambda conn, a, kw: function(conn, **kw)


def concurrent(
    loop: asyncio.AbstractEventLoop,
    checkout: Callable[[], AbstractAsyncContextManager[Any]],
    op: clients.AsyncOp,
    calls: list[clients.Call],
) -> Timer:
    """``TASKS`` tasks share the calls; each call checks a connection out of a pool."""
    source = itertools.cycle(calls)

    async def task(batch: list[clients.Call]) -> None:
        for a, kw in batch:
            async with checkout() as conn:
                await op(conn, a, kw)

    async def run(batches: list[list[clients.Call]]) -> float:
        start = time.perf_counter()
        await asyncio.gather(*(task(b) for b in batches))
        return time.perf_counter() - start

    def timer(n: int) -> float:
        batches = [list(itertools.islice(source, max(1, n // TASKS))) for _ in range(TASKS)]
        return loop.run_until_complete(run(batches)) / sum(len(b) for b in batches)

    return timer


def workloads(
    loop: asyncio.AbstractEventLoop,
    conns: tuple[Any, Any, Any, AsyncConnectionPool[Any]],
    single: Sequence[statements.Statement],
    pooled: statements.Statement,
    ops: int,
) -> list[Workload]:
    apg_conn, pg_conn, apg_pool, pg_pool = conns
    out = []
    for st in single:
        calls = st.calls()
        raw = clients.asyncpg_op(st)
        out.append(
            Workload(
                f"asyncpg: {st.name}",
                ops,
                [
                    Case(RAW, clients.awaited(loop, apg_conn, raw, calls)),
                    Case(AA, clients.awaited(loop, apg_conn, raw, calls)),
                    Case(GENERATED, clients.awaited(loop, apg_conn, generated(st), calls)),
                    Case(
                        PSYCOPG,
                        clients.awaited(loop, pg_conn, clients.generated_async_op(st), calls),
                    ),
                ],
            )
        )
    calls = pooled.calls()
    raw = clients.asyncpg_op(pooled)
    out.append(
        Workload(
            f"asyncpg: {pooled.name}, {TASKS} tasks",
            ops * 2,
            [
                Case(RAW, concurrent(loop, apg_pool.acquire, raw, calls)),
                Case(AA, concurrent(loop, apg_pool.acquire, raw, calls)),
                Case(GENERATED, concurrent(loop, apg_pool.acquire, generated(pooled), calls)),
                Case(
                    PSYCOPG,
                    concurrent(loop, pg_pool.connection, clients.generated_async_op(pooled), calls),
                ),
            ],
        )
    )
    return out


async def update_without_handler(
    conn: Any, *, display_name: str, bio: str, avatar_url: str | None, id: int
) -> models.User | None:
    """apg.update_user_profile as generated before errors were named (no try/except)."""
    r = await conn.fetchrow(users.UPDATE_USER_PROFILE, display_name, bio, avatar_url, id)
    return None if r is None else models.load_user(r)


def errors_path(loop: asyncio.AbstractEventLoop, conn: Any, ops: int) -> Workload:
    """The success path of a translating function with and without its handler."""
    user = loop.run_until_complete(
        apg.create_user(
            conn, username="bench_errors_asyncpg", display_name="B", bio="", is_admin=False
        )
    )
    calls: list[clients.Call] = [
        ((), {"display_name": f"name {n}", "bio": "", "avatar_url": None, "id": user.id})
        for n in range(100)
    ]

    def timer(function: Callable[..., Any]) -> Timer:
        return clients.awaited(loop, conn, lambda c, a, kw: function(c, **kw), calls)

    return Workload(
        "asyncpg: update_user_profile (success path)",
        ops,
        [
            Case(BEFORE, timer(update_without_handler)),
            Case(BEFORE_AA, timer(update_without_handler)),
            Case(HANDLED, timer(apg.update_user_profile)),
        ],
    )


def measure(
    url: str, seeded: seed.Seeded, rounds: int, ops: int, log: Callable[[str], None]
) -> tuple[list[WorkloadResult], list[tuple[str, float]]]:
    """Every workload on ``url`` (seeded; commits should skip the WAL flush, which would
    bury the client), with the named in-round ratios."""
    rng = random.Random(1)
    lookup = statements.point_lookup(seeded, rng, 2000)
    page = statements.list_page(seeded, 10)
    single = [lookup, page, statements.insert_returning(seeded, rng, 2000)]
    loop = asyncio.new_event_loop()
    params = latency.asyncpg_params(url)

    async def open_all() -> tuple[Any, Any, Any, AsyncConnectionPool[Any]]:
        apg_conn = await asyncpg.connect(**params)
        await apg.init_connection(apg_conn)
        pg_conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        apg_pool = await asyncpg.create_pool(
            **params, min_size=TASKS, max_size=TASKS, init=apg.init_connection
        )
        pg_pool = AsyncConnectionPool(
            url, min_size=TASKS, max_size=TASKS, kwargs={"autocommit": True}, open=False
        )
        await pg_pool.open(wait=True)
        return apg_conn, pg_conn, apg_pool, pg_pool

    async def close_all(conns: tuple[Any, Any, Any, AsyncConnectionPool[Any]]) -> None:
        for closing in (conns[0].close(), conns[1].close(), conns[2].close(), conns[3].close()):
            await closing

    conns = loop.run_until_complete(open_all())
    try:
        compared = workloads(loop, conns, single, lookup, ops)
        results = [harness.run(w, rounds, log) for w in compared]
        errors = harness.run(errors_path(loop, conns[0], ops), rounds, log)
    finally:
        loop.run_until_complete(close_all(conns))
        loop.close()
    pairs = [
        (f"{w.name}: {label} / raw asyncpg", w.paired_ratio(label, RAW))
        for w in results
        for label in (GENERATED, AA)
    ] + [
        (f"{w.name}: {GENERATED} / {PSYCOPG}", w.paired_ratio(GENERATED, PSYCOPG)) for w in results
    ]
    pairs += [
        (f"{errors.name}: {HANDLED} / before", errors.paired_ratio(HANDLED, BEFORE)),
        (f"{errors.name}: A/A", errors.paired_ratio(BEFORE_AA, BEFORE)),
    ]
    return [*results, errors], pairs


def main(argv: Sequence[str] | None = None, log: Callable[[str], None] = print) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.asyncpg_target")
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (default 24)")
    args = parser.parse_args(argv)
    rounds, ops, size = (2, 10, seed.QUICK) if args.quick else (24, 300, seed.FULL)
    with scratch_database(servers.database_url()) as url:
        seeded = seed.seed(url, size, random.Random(20250601))
        # As bench's latency section: no WAL flush per commit, which would bury the client.
        fast = dsn.with_params(url, options="-c synchronous_commit=off")
        results, pairs = measure(fast, seeded, args.rounds or rounds, ops, log)
    text = "\n\n".join([report.table(results), report.comparisons(pairs)])
    log(text)
    return text


if __name__ == "__main__":
    main()
