"""The option fixtures' generated packages (tests/golden/option_*) in tests: a module of
one imported from its expected/ directory, and an asyncpg connection with its codecs."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import asyncpg

from bench.latency import asyncpg_params
from tests.test_golden_types import package


def load(fixture: str, module: str) -> ModuleType:
    """``<package>.<module>`` of the fixture's expected/ package."""
    return importlib.import_module(f"{package(fixture)}.{module}")


@asynccontextmanager
async def asyncpg_connection(url: str, fixture: str) -> AsyncIterator[Any]:
    """An asyncpg connection to ``url`` after the fixture package's ``init_connection``."""
    conn = await asyncpg.connect(**asyncpg_params(url))
    try:
        await load(fixture, "asyncpg").init_connection(conn)
        yield conn
    finally:
        await conn.close()
