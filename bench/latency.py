"""Per-statement workloads: every client runs the same statement, one call at a time or
from 8 threads through a pool, against the baseline (raw psycopg ``conn.execute``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import psycopg
import sqlalchemy
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from bench import clients, pgbench
from bench.harness import Case, Timer, Workload
from bench.statements import Statement

BASELINE = "raw psycopg conn.execute (baseline)"
AA = "raw psycopg conn.execute (A/A control)"
GENERATED = "generated sync"
GENERATED_ASYNC = "generated async"
RAW_ASYNC = "raw psycopg async"
ASYNCPG = "asyncpg"
SQLALCHEMY = "SQLAlchemy Core text()"
PGBENCH = "pgbench -M prepared"
THREADS = 8
_SETTING = re.compile(r"-c\s*([\w.]+)=(\S+)")


@dataclass(slots=True)
class Connections:
    """One connection per client, all autocommit, all to the same database and socket."""

    url: str
    sync: psycopg.Connection[Any]
    aio: psycopg.AsyncConnection[Any]
    apg: asyncpg.Connection
    sa: sqlalchemy.Connection
    loop: asyncio.AbstractEventLoop
    pool: ConnectionPool[psycopg.Connection[Any]]
    engine: sqlalchemy.Engine
    executor: ThreadPoolExecutor


@contextmanager
def connect(url: str) -> Iterator[Connections]:
    """Open every client's connection (and an 8-connection pool per pooled client)."""
    with ExitStack() as stack:
        loop = asyncio.new_event_loop()
        stack.callback(loop.close)
        conn = stack.enter_context(psycopg.connect(url, autocommit=True))
        aconn = loop.run_until_complete(psycopg.AsyncConnection.connect(url, autocommit=True))
        stack.callback(lambda: loop.run_until_complete(aconn.close()))
        apg = loop.run_until_complete(asyncpg.connect(**asyncpg_params(url)))
        stack.callback(lambda: loop.run_until_complete(apg.close()))
        engine = sqlalchemy.create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(url),
            isolation_level="AUTOCOMMIT",
            pool_size=THREADS + 1,
            max_overflow=0,
        )
        stack.callback(engine.dispose)
        sa_conn = stack.enter_context(engine.connect())
        pool = stack.enter_context(
            ConnectionPool(
                url,
                min_size=THREADS,
                max_size=THREADS,
                kwargs={"autocommit": True},
                name="bench",
            )
        )
        pool.wait()
        executor = stack.enter_context(ThreadPoolExecutor(THREADS))
        yield Connections(url, conn, aconn, apg, sa_conn, loop, pool, engine, executor)


def asyncpg_params(url: str) -> dict[str, Any]:
    """asyncpg's keywords for the libpq conninfo ``url`` (socket directory or TCP host)."""
    info = conninfo_to_dict(url)
    params: dict[str, Any] = {
        "host": info.get("host"),
        "port": int(info.get("port") or 5432),
        "user": info.get("user"),
        "database": info.get("dbname"),
    }
    if info.get("password"):
        params["password"] = info["password"]
    settings = dict(_SETTING.findall(str(info.get("options") or "")))
    if settings:
        params["server_settings"] = settings
    return params


def single(c: Connections, st: Statement, ops: int) -> Workload:
    """``st`` called one at a time by every client."""
    calls = st.calls()
    return Workload(
        st.name,
        ops,
        [
            Case(BASELINE, clients.sequential(c.sync, clients.raw_psycopg_op(st), calls)),
            Case(AA, clients.sequential(c.sync, clients.raw_psycopg_op(st), calls)),
            Case(GENERATED, clients.sequential(c.sync, clients.generated_op(st), calls)),
            Case(
                GENERATED_ASYNC,
                clients.awaited(c.loop, c.aio, clients.generated_async_op(st), calls),
            ),
            Case(
                RAW_ASYNC,
                clients.awaited(c.loop, c.aio, clients.raw_psycopg_async_op(st), calls),
            ),
            Case(ASYNCPG, clients.awaited(c.loop, c.apg, clients.asyncpg_op(st), calls)),
            Case(SQLALCHEMY, clients.sequential(c.sa, clients.sqlalchemy_op(st), calls)),
            Case(PGBENCH, pgbench.timer(c.url, st)),
        ],
    )


def concurrent(c: Connections, st: Statement, ops: int) -> Workload:
    """``st`` from 8 threads, each call checking a connection out of a pool."""
    calls = st.calls()

    def pooled(op: clients.Op) -> Timer:
        return clients.threaded(c.pool.connection, op, calls, c.executor, THREADS)

    return Workload(
        f"{st.name}, {THREADS} threads",
        ops,
        [
            Case(BASELINE, pooled(clients.raw_psycopg_op(st))),
            Case(AA, pooled(clients.raw_psycopg_op(st))),
            Case(GENERATED, pooled(clients.generated_op(st))),
            Case(
                SQLALCHEMY,
                clients.threaded(
                    c.engine.connect, clients.sqlalchemy_op(st), calls, c.executor, THREADS
                ),
            ),
            Case(PGBENCH, pgbench.timer(c.url, st, clients=THREADS)),
        ],
    )
