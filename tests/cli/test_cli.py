"""The plue-db command, run as a user would: a real process against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from plue_db import cli, config

PLUE_DB = str(Path(sys.executable).parent / "plue-db")
COMMANDS = ["up", "down", "migrate", "reset", "migration", "generate", "check", "demo", "stats"]
COMMANDS += ["docs", "mcp"]


def plue_db(*args: str, server_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if server_url is not None:
        env["DATABASE_URL"] = server_url
    return subprocess.run(
        [PLUE_DB, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_help_lists_every_command() -> None:
    result = plue_db("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: plue-db {command}")


def test_migrate_applies_reports_and_is_idempotent(tmp_path: Path, empty_database_url: str) -> None:
    (tmp_path / "0001_things.sql").write_text("CREATE TABLE thing (id int PRIMARY KEY);")
    args = ("migrate", "--database-url", empty_database_url, "--migrations-dir", str(tmp_path))
    assert plue_db(*args, "--dry-run").stdout.splitlines() == [
        "would apply 0001_things.sql",
        "dry run: 1 migration would apply; nothing was changed",
    ]
    first = plue_db(*args)
    assert first.returncode == 0
    applied, summary = first.stdout.splitlines()
    assert applied == "applied 0001_things.sql"
    assert re.fullmatch(
        r"migrated: 1 migration applied in \d+\.\d s; the database is at 0001_things\.sql", summary
    ), summary
    again = plue_db(*args)
    assert (again.returncode, again.stdout) == (
        0,
        "database is up to date; no migration to apply\n",
    )


def test_failing_migration_is_one_clear_line(tmp_path: Path, empty_database_url: str) -> None:
    (tmp_path / "0001_bad.sql").write_text("CREATE TABLE thing (id nosuchtype);")
    result = plue_db(
        "migrate", "--database-url", empty_database_url, "--migrations-dir", str(tmp_path)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert '0001_bad.sql:1: type "nosuchtype" does not exist' in result.stderr
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT to_regclass('thing')").fetchone() == (None,)


def test_bad_file_name_is_one_clear_line(tmp_path: Path, empty_database_url: str) -> None:
    (tmp_path / "first.sql").write_text("SELECT 1;")
    result = plue_db(
        "migrate", "--database-url", empty_database_url, "--migrations-dir", str(tmp_path)
    )
    assert result.returncode == 1
    assert result.stderr.startswith("plue-db migrate: ")
    assert f"{tmp_path / 'first.sql'}: not a migration; {tmp_path} may hold only" in result.stderr


def test_unreachable_server_is_one_clear_line() -> None:
    result = plue_db(
        "migrate", "--database-url", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("plue-db migrate: connection failed")


def test_check_names_what_differs_in_a_live_database(
    empty_database_url: str, server_url: str
) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(config.SCHEMA_PATH.read_bytes())
        conn.execute("ALTER TABLE users ADD COLUMN nickname text")
    drifted = plue_db("check", "--database-url", empty_database_url, server_url=server_url)
    assert drifted.returncode == 1
    assert f"FAIL {config.redacted(empty_database_url)} matches schema.sql" in drifted.stdout
    assert "  column users.nickname: only in live database: text" in drifted.stdout
