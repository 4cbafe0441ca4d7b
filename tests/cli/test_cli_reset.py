"""``plue-db reset``: the way back from a local database ahead of the branch.

The embedded server runs in a temporary PLUE_DB_PGDATA (never the project's .pgdata).
A database migrated on a branch with one more migration is refused by ``migrate`` on
the branch without it (the negative control: stuck, with the message naming reset);
``reset`` recreates it with this branch's migrations. A DATABASE_URL database is
never dropped without --force.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cli.test_cli_errors import assert_one_line, plue_db


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r'"
            " AND relnamespace = 'public'::regnamespace AND relname <> 'plue_schema_migrations'"
            " ORDER BY 1"
        ).fetchall()
    return [name for (name,) in rows]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A temporary project: migrations/ (this branch) and ahead/ (a branch with 0002)."""
    with tempfile.TemporaryDirectory(prefix="plue_cli_reset_") as name:
        root = Path(name)
        for folder in ("migrations", "ahead"):
            (root / folder).mkdir()
            (root / folder / "0001_widgets.sql").write_text("CREATE TABLE widgets (id int);\n")
        (root / "ahead" / "0002_gadgets.sql").write_text("CREATE TABLE gadgets (id int);\n")
        try:
            yield root
        finally:
            cli(root, "down")


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": None, "PLUE_DB_PGDATA": str(root / "pgdata")}
    return plue_db(*args, env=env)


@pytest.mark.own_servers  # the embedded server in a temporary PLUE_DB_PGDATA
def test_reset_recovers_a_database_ahead_of_the_branch(home: Path) -> None:
    ahead = cli(home, "up", "--migrations-dir", str(home / "ahead"))
    assert ahead.returncode == 0, ahead.stderr
    url = ahead.stdout.splitlines()[-1]
    assert tables(url) == ["gadgets", "widgets"]

    branch = str(home / "migrations")
    stuck = cli(home, "migrate", "--migrations-dir", branch)
    assert_one_line(
        stuck,
        "migrate",
        "0002_gadgets.sql is recorded as applied but its file is missing",
        "`plue-db reset` recreates it",
        hidden=(),
    )

    reset = cli(home, "reset", "--migrations-dir", branch)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines() == [
        f"reset: dropped and recreated database postgres on the embedded server "
        f"({(home / 'pgdata').resolve()}); applied 1 migration"
    ]
    assert tables(url) == ["widgets"]
    again = cli(home, "migrate", "--migrations-dir", branch)
    assert again.stdout.splitlines() == ["database is up to date; no migration to apply"]


def test_reset_refuses_a_database_url_without_force(home: Path, empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE precious (id int)")
    env = {"DATABASE_URL": empty_database_url, "PLUE_DB_PGDATA": str(home / "pgdata")}
    migrations = ("--migrations-dir", str(home / "migrations"))
    refused = plue_db("reset", *migrations, env=env)
    assert_one_line(refused, "reset", "not the embedded server", "--force", hidden=())
    assert tables(empty_database_url) == ["precious"]

    forced = plue_db("reset", "--force", *migrations, env=env)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("reset: dropped and recreated database ")
    assert tables(empty_database_url) == ["widgets"]
