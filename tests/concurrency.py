"""Race plumbing shared by the concurrency tests.

A race test means something only if real threads start together (a Barrier) and
what a worker raised reaches the test instead of dying with its thread. This is that
harness once, so each test keeps only the work it races and the outcome it checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar, cast

import psycopg

from tests.fixtures.fix_db import Conn

T = TypeVar("T")
R = TypeVar("R")


def _together(
    workers: int,
    acquire: Callable[[], AbstractContextManager[R]],
    work: Callable[[R, int], T],
    timeout: float,
) -> list[T]:
    """Each thread acquires its resource, waits at the barrier, then runs its work;
    the results come back in worker order, or the lowest-numbered failure is raised
    (one that broke the barrier only when nothing else went wrong)."""
    barrier = threading.Barrier(workers)
    results: list[T | None] = [None] * workers
    failures: list[BaseException | None] = [None] * workers

    def worker(index: int) -> None:
        try:
            with acquire() as resource:
                barrier.wait(timeout=timeout)
                results[index] = work(resource, index)
        except BaseException as exc:  # re-raised below: a worker must not die silently
            failures[index] = exc
            barrier.abort()  # the others must not wait for a worker that never comes

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [n for n, thread in enumerate(threads) if thread.is_alive()]
    assert not hung, f"workers {hung} still running after {timeout} s"
    raised = [f for f in failures if f is not None]
    causes = [f for f in raised if not isinstance(f, threading.BrokenBarrierError)]
    if raised:
        raise (causes or raised)[0]
    return cast(list[T], results)  # every slot was filled: no worker failed


def run_together(workers: int, work: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """Run work(index) on `workers` threads released together."""
    return _together(workers, nullcontext, lambda _, index: work(index), timeout)


def run_on_connections(
    database_url: str,
    workers: int,
    work: Callable[[Conn, int], T],
    *,
    autocommit: bool = True,
    timeout: float = 60,
) -> list[T]:
    """Run work(connection, index) on `workers` threads, each on its own connection,
    opened before the barrier so that connecting does not stagger the start."""
    return _together(
        workers,
        lambda: psycopg.connect(database_url, autocommit=autocommit),
        work,
        timeout,
    )
