"""migrations.sum: check sees an edited or missing released migration, as a deploy would.

The module's checks run on copies of migrations/ and migrations.sum; the CLI's through
``plue-db check --only released`` run from a copy of the project (src/ included, so
its PROJECT_ROOT is the copy). The negative control is the same edit without the sum
file: it passes, as every edit passed check before migrations.sum.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from plue_db import config
from plue_db.schema import released
from plue_db.schema.migrate import MigrationError, applied, discover, migrate
from plue_db.servers.scratch import scratch_database

EDITED = "0002_drop_redundant_log_step_fkey.sql"


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    """This project's migrations/ and migrations.sum, copied."""
    migrations = tmp_path / "migrations"
    shutil.copytree(config.MIGRATIONS_DIR, migrations)
    shutil.copy(released.SUM_PATH, tmp_path / "migrations.sum")
    return migrations, tmp_path / "migrations.sum"


def test_every_migration_on_main_is_released_and_unchanged() -> None:
    assert released.check() == []
    assert sorted(released.released_migrations()) == [m.name for m in discover()]
    assert released.unreleased(discover()) == []


def test_sum_holds_the_checksums_migrate_records(server_url: str) -> None:
    with scratch_database(server_url) as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            recorded = {name: record.checksum for name, record in applied(conn).items()}
    assert recorded == released.released_migrations()


def test_edited_released_migration_is_named(copy: tuple[Path, Path]) -> None:
    migrations, sums = copy
    with (migrations / EDITED).open("a") as file:
        file.write("-- a harmless-looking edit\n")
    [problem] = released.check(migrations, sums)
    assert problem.startswith(f"{migrations / EDITED} was changed after it was released")
    with pytest.raises(MigrationError, match=EDITED):
        released.release(migrations, sums)  # recording it again would hide the edit


def test_negative_control_without_the_sum_file_the_edit_passes(copy: tuple[Path, Path]) -> None:
    migrations, sums = copy
    with (migrations / EDITED).open("a") as file:
        file.write("-- a harmless-looking edit\n")
    sums.unlink()
    assert released.check(migrations, sums) == []


def test_missing_released_migration_is_named(copy: tuple[Path, Path]) -> None:
    migrations, sums = copy
    (migrations / EDITED).unlink()
    assert released.check(migrations, sums) == [
        f"{migrations / EDITED} is released (migrations.sum) but missing; restore it"
    ]


def test_new_migration_is_unreleased_until_released(copy: tuple[Path, Path]) -> None:
    migrations, sums = copy
    (migrations / "0005_gadgets.sql").write_text("CREATE TABLE gadgets (id bigint);\n")
    assert released.check(migrations, sums) == []
    assert [m.name for m in released.unreleased(discover(migrations), sums)] == ["0005_gadgets.sql"]
    assert released.release(migrations, sums) == ["0005_gadgets.sql"]
    assert released.unreleased(discover(migrations), sums) == []
    assert sums.read_text().startswith(released.HEADER)


def test_unreleased_migration_numbered_before_a_released_one(copy: tuple[Path, Path]) -> None:
    migrations, sums = copy
    (migrations / "0000_early.sql").write_text("SELECT 1;\n")
    [problem] = released.check(migrations, sums)
    assert "0000_early.sql is unreleased but sorts before the released 0004_" in problem


def test_malformed_sum_line_names_file_and_line(copy: tuple[Path, Path]) -> None:
    _, sums = copy
    sums.write_text(sums.read_text() + "0005_x.sql not-a-checksum\n")
    with pytest.raises(MigrationError, match=r"migrations\.sum:8: expected"):
        released.released_migrations(sums)


def check_in_copy(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``plue-db check`` of the copy of this project at ``root`` (its src/ imported)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", "plue_db.cli", "check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
        check=False,
    )


def test_check_command_fails_naming_the_edited_file(
    copy: tuple[Path, Path], tmp_path: Path
) -> None:
    migrations, sums = copy
    shutil.copytree(config.PROJECT_ROOT / "src", tmp_path / "src")
    with (migrations / EDITED).open("a") as file:
        file.write("-- a harmless-looking edit\n")
    result = check_in_copy(tmp_path, "--only", "released", "--json")
    assert result.returncode == 1, result.stderr
    [outcome] = json.loads(result.stdout)["checks"]
    assert outcome["name"] == "released" and not outcome["passed"]
    assert f"{migrations / EDITED} was changed after it was released" in outcome["problems"][0]
    sums.unlink()  # the control: the same edit, no sum file
    result = check_in_copy(tmp_path, "--only", "released")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "check: all passed (released)"


def test_release_command_records_the_new_migration_in_one_line(
    copy: tuple[Path, Path], tmp_path: Path
) -> None:
    migrations, sums = copy
    shutil.copytree(config.PROJECT_ROOT / "src", tmp_path / "src")
    (migrations / "0005_gadgets.sql").write_text("CREATE TABLE gadgets (id bigint);\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    command = [sys.executable, "-m", "plue_db.cli", "migration", "release"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert (done.returncode, done.stdout) == (
        0,
        "recorded in migrations.sum as released: 0005_gadgets.sql\n",
    ), done.stderr
    assert released.released_migrations(sums)["0005_gadgets.sql"] == (
        discover(migrations)[-1].checksum
    )
    with (migrations / "0005_gadgets.sql").open("a") as file:
        file.write("-- edited after release\n")
    refused = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("plue-db migration: ")
    assert "0005_gadgets.sql was changed after it was released" in refused.stderr
