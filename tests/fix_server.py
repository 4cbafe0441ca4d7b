"""The server under test: ``--server-url``, else DATABASE_URL, else the embedded 16.

The option is written into DATABASE_URL at configure time, so the code under test (the
CLI in a subprocess, plue_db.servers in process) talks to the same server as the
fixtures. pytest's report header names the server, its password hidden.
"""

from __future__ import annotations

import os

import pytest

from plue_db import dsn, servers


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--server-url",
        metavar="URL",
        help="the PostgreSQL server to test against (default: DATABASE_URL, else the "
        "embedded PostgreSQL 16)",
    )


def pytest_configure(config: pytest.Config) -> None:
    url: str | None = config.getoption("--server-url")
    if url:
        try:
            os.environ["DATABASE_URL"] = dsn.validate(url, "--server-url")
        except dsn.DsnError as error:
            raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "server under test: the embedded PostgreSQL 16"
    source = "--server-url" if config.getoption("--server-url") else "DATABASE_URL"
    return f"server under test: {dsn.redacted(url)} ({source})"


# Fixtures that start PostgreSQL clusters of their own (streaming replicas of the wheel's
# binaries, Patroni on Debian's 15): a test using one never touches the server under test.
OWN_SERVER_FIXTURES = frozenset({"cluster", "patroni"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run on servers of their own, so that tests/run_suites.py runs
    them once rather than once per server under test."""
    for item in items:
        if OWN_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.own_servers)


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server under test (its maintenance database)."""
    return servers.database_url()
