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

# The test modules whose subject is PostgreSQL's own behaviour, which may differ between
# versions: types and what PREPARE says of them, Plue's queries and their plans,
# migrations and DDL, constraint and isolation errors, cursors, time zones, what a
# read-only or unprivileged session can reach. tests/run_suites.py runs these on every
# server it can reach and the rest (the plugin's output, the CLI, docs, packaging, the
# servers plue-db starts) once, on the embedded PostgreSQL 16. A new module whose
# outcome could depend on the server's version belongs here;
# tests/test_suite_selection.py checks each name is a module on disk.
EACH_SERVER_MODULES = frozenset(
    {
        "test_asyncpg_domains", "test_asyncpg_streams", "test_asyncpg_target",
        "test_asyncpg_types", "test_bad_input", "test_check_notes",
        "test_check_outer_join_ctes", "test_codegen_runtime", "test_connection_states",
        "test_constraint_errors", "test_credential_sign_in_rule", "test_drift",
        "test_expression_types", "test_generated_transactions", "test_golden_real_apps",
        "test_golden_types", "test_identity_columns", "test_mcp_messages",
        "test_mcp_privileges", "test_migrate", "test_migration_0003", "test_migration_0004",
        "test_migration_transactions", "test_nullability", "test_one_row_results",
        "test_option_converters", "test_option_json_types", "test_pytypes",
        "test_queries_agent", "test_queries_auth", "test_queries_changes",
        "test_queries_collaboration", "test_queries_commit_statuses", "test_queries_issues",
        "test_queries_landing", "test_queries_llm_usage", "test_queries_milestones",
        "test_queries_pull_requests", "test_queries_rate_limits",
        "test_queries_repositories", "test_queries_users", "test_queries_workflows",
        "test_query_plans", "test_readonly_query", "test_roundtrip_properties",
        "test_runtime_types", "test_sanitize", "test_schema_loading", "test_stream_cursors",
        "test_transactions", "test_transactions_async", "test_type_fidelity",
        "test_untyped_values", "test_value_meaning", "test_view_nullability",
    }
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run on servers of their own, so that tests/run_suites.py runs
    them once rather than once per server under test, in one worker one after another
    (they share ports and the service user); and the tests to run on every server."""
    for item in items:
        if OWN_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.own_servers)
            item.add_marker(pytest.mark.xdist_group("own_servers"))
        if item.path.stem in EACH_SERVER_MODULES:
            item.add_marker(pytest.mark.each_server)


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server under test (its maintenance database)."""
    return servers.database_url()
