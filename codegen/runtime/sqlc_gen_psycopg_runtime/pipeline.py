"""A call completes its own statements inside the caller's ``conn.pipeline()``: its
result, named error and all or nothing hold there too (sqlc-gen-psycopg's README)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from typing import Any

import psycopg

_NOTHING = nullcontext()


def completed(conn: psycopg.Connection[Any]) -> AbstractContextManager[object]:
    """A block whose statements have run, result or error, when it ends."""
    return conn.pipeline() if conn.pgconn.pipeline_status else _NOTHING


def completed_async(conn: psycopg.AsyncConnection[Any]) -> AbstractAsyncContextManager[object]:
    """The asyncio twin of :func:`completed`."""
    return conn.pipeline() if conn.pgconn.pipeline_status else _NOTHING
