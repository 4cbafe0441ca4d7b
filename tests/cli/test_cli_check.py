"""``plue-db check``'s options and output: --only, --json, a live database tried first,
a last line saying what happened."""

from __future__ import annotations

import json
import time

from plue_db import cli
from plue_db.schema import drift
from tests.cli.test_cli_errors import assert_one_line, plue_db

UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/none?connect_timeout=2"


def test_check_names_match_the_checks_that_run(server_url: str) -> None:
    assert tuple(c.name for c in drift.checks("postgresql:///live")) == cli.CHECK_NAMES


def test_only_and_json_report_each_selected_check(server_url: str) -> None:
    result = plue_db(
        "check", "--only", "released,migrations", "--json", env={"DATABASE_URL": server_url}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["passed"] is True
    assert [(c["name"], c["passed"], c["problems"]) for c in document["checks"]] == [
        ("released", True, []),
        ("migrations", True, []),
    ]


def test_text_output_ends_with_one_line_saying_what_happened(server_url: str) -> None:
    result = plue_db("check", "--only", "released", env={"DATABASE_URL": server_url})
    assert result.stdout.splitlines() == [
        "ok   released migrations are unchanged (migrations.sum)",
        "check: all passed (released)",
    ]


def test_each_check_says_on_stderr_when_it_starts(server_url: str) -> None:
    """Progress for a slow check goes to stderr, so stdout stays the sections or JSON."""
    result = plue_db(
        "check", "--only", "released,migrations", "--json", env={"DATABASE_URL": server_url}
    )
    assert result.stderr.splitlines() == ["check 1/2: released...", "check 2/2: migrations..."]
    assert json.loads(result.stdout)["passed"] is True


def test_unreachable_live_database_fails_first_with_the_fix(server_url: str) -> None:
    started = time.monotonic()
    result = plue_db("check", "--database-url", UNREACHABLE, env={"DATABASE_URL": server_url})
    elapsed = time.monotonic() - started
    assert_one_line(
        result, "check", "start the server or fix --database-url's host/port", hidden=("s3cret",)
    )
    assert result.stdout == ""  # before any check ran: a reachable one prints sections
    assert elapsed < 30, elapsed
    reachable = plue_db(
        "check", "--only", "released,live", "--database-url", server_url,
        env={"DATABASE_URL": server_url},
    )  # fmt: skip
    assert reachable.stdout.startswith("ok   released migrations are unchanged")


def test_only_live_needs_a_database_url() -> None:
    result = plue_db("check", "--only", "live", env={})
    assert_one_line(result, "check", "add --database-url", hidden=())


def test_unknown_check_name_is_refused() -> None:
    result = plue_db("check", "--only", "released,nope", env={})
    assert result.returncode == 2
    assert "unknown check nope; choose from released, " in result.stderr
