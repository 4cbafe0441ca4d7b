"""The option fixtures' generated packages (tests/golden/option_*) in tests: a module of
one imported from its expected/ directory, an asyncpg connection with its codecs, and
the fixture generated without an option (a control)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg

from bench.latency import asyncpg_params
from tests.codegen.codegen_support import copy_fixture, run_sqlc
from tests.codegen.test_golden_types import package
from tests.paths import GOLDEN


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


def without_lines(fixture: str, work: Path, name: str, dropped: tuple[str, ...]) -> ModuleType:
    """Control: the fixture's ``query`` module generated into ``work`` as package ``name``
    from its sqlc.yaml without the lines starting (after indentation) with ``dropped``,
    which is the fixture without the option those lines set."""
    copy = copy_fixture(GOLDEN / fixture, work)
    lines = (copy / "sqlc.yaml").read_text().splitlines()
    kept = "\n".join(line for line in lines if not line.strip().startswith(dropped))
    (copy / "sqlc.yaml").write_text(kept.replace(f"{fixture}\n", f"{name}\n"))
    done = run_sqlc(copy)
    assert done.returncode == 0, done.stderr
    sys.path.append(str(copy / "expected"))
    return importlib.import_module(f"{name}.query")
