"""The MCP's read-only login on a scratch database: the database, the reader role's URL,
and a ReadonlyExecutor logged in as it, one each per test module.

A module that uses ``executor`` defines ``reader_limits``, the Limits its queries run
under.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plue_db.mcp import reader_role, readonly
from tests.fix_db import fresh_database


@pytest.fixture(scope="module")
def scratch_url(server_url: str) -> Iterator[str]:
    """An empty database of the module's own, dropped afterwards."""
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture(scope="module")
def reader_url(scratch_url: str) -> str:
    return reader_role.ensure_reader_role(scratch_url)


@pytest.fixture(scope="module")
def executor(
    reader_url: str, reader_limits: readonly.Limits
) -> Iterator[readonly.ReadonlyExecutor]:
    ex = readonly.ReadonlyExecutor(reader_url, reader_limits)
    yield ex
    ex.close()
