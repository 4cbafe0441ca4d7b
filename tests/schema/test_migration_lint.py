"""Migration safety: squawk, configured for Plue, catches each unsafe change in an
unreleased migration, naming file:line and Plue's fix.

Each case is a migration the runner accepts (applied to a real database after the
released one) that trips one rule; its control is the safe way to write the same change,
which passes. Released migrations (listed in migrations.sum) are not linted; the control
there is the same file unlisted, which is.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from plue_db import config
from plue_db.schema import migration_lint
from plue_db.schema.migrate import migrate
from plue_db.servers.scratch import scratch_database
from tests.schema.test_released import check_in_copy

RELEASED = """\
CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL, score integer NOT NULL);
CREATE TABLE note (id bigint PRIMARY KEY, account_id bigint NOT NULL, body text);
"""
SEPARATE = "-- plue-db: no-transaction\n"
TIMEOUT = "SET lock_timeout = '5s';\n"

# rule -> (unsafe migration body, its line, the safe way, a word of Plue's fix)
CASES = {
    "require-concurrent-index-creation": (
        TIMEOUT + "-- find notes by account\nCREATE INDEX note_account ON note (account_id);\n",
        3,
        SEPARATE + TIMEOUT + "CREATE INDEX CONCURRENTLY note_account ON note (account_id);\n",
        "`-- plue-db: no-transaction`",
    ),
    "adding-required-field": (
        TIMEOUT + "ALTER TABLE account ADD COLUMN email text NOT NULL;\n",
        2,
        TIMEOUT + "ALTER TABLE account ADD COLUMN email text NOT NULL DEFAULT '';\n",
        "backfill",
    ),
    "changing-column-type": (
        TIMEOUT + "\nALTER TABLE account ALTER COLUMN score TYPE bigint;\n",
        3,
        TIMEOUT + "ALTER TABLE account ADD COLUMN score_big bigint;\n",
        "backfill",
    ),
    "constraint-missing-not-valid": (
        TIMEOUT + "ALTER TABLE account ADD CONSTRAINT account_score CHECK (score >= 0);\n",
        2,
        TIMEOUT
        + "ALTER TABLE account ADD CONSTRAINT account_score CHECK (score >= 0) NOT VALID;\n",
        "NOT VALID",
    ),
    "adding-foreign-key-constraint": (
        TIMEOUT + "ALTER TABLE note ADD CONSTRAINT note_account_fkey\n"
        "    FOREIGN KEY (account_id) REFERENCES account (id);\n",
        2,
        TIMEOUT + "ALTER TABLE note ADD CONSTRAINT note_account_fkey\n"
        "    FOREIGN KEY (account_id) REFERENCES account (id) NOT VALID;\n",
        "NOT VALID",
    ),
    "require-lock-timeout": (
        "ALTER TABLE account ADD COLUMN nickname text;\n",
        1,
        TIMEOUT + "ALTER TABLE account ADD COLUMN nickname text;\n",
        "lock_timeout",
    ),
}


def project(tmp_path: Path, change: str) -> tuple[Path, Path]:
    """migrations/ with 0001 released (listed in migrations.sum) and 0002 = change."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_accounts.sql").write_text(RELEASED)
    (migrations / "0002_change.sql").write_text(change)
    checksum = hashlib.sha256(RELEASED.encode()).hexdigest()
    sum_path = tmp_path / "migrations.sum"
    sum_path.write_text(f"# released\n0001_accounts.sql {checksum}\n")
    return migrations, sum_path


@pytest.mark.parametrize("rule", sorted(CASES))
def test_unsafe_change_is_named_with_its_fix(rule: str, tmp_path: Path, server_url: str) -> None:
    unsafe, line, _, fix_word = CASES[rule]
    migrations, sum_path = project(tmp_path, unsafe)
    with scratch_database(server_url) as url:  # a migration the runner accepts
        assert [m.name for m in migrate(url, migrations)] == [
            "0001_accounts.sql",
            "0002_change.sql",
        ]
    findings = migration_lint.lint(migration_lint.unreleased(migrations, sum_path))
    assert [(f.path.name, f.line, f.rule) for f in findings if f.rule == rule] == [
        ("0002_change.sql", line, rule)
    ]
    (finding,) = [f for f in findings if f.rule == rule]
    assert fix_word in finding.fix
    assert str(finding).startswith(f"{migrations / '0002_change.sql'}:{line}: {rule}: ")
    assert migration_lint.check_lint(migrations, sum_path) == [str(f) for f in findings]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_control_the_safe_way_passes(rule: str, tmp_path: Path, server_url: str) -> None:
    _, _, safe, _ = CASES[rule]
    migrations, sum_path = project(tmp_path, safe)
    with scratch_database(server_url) as url:
        assert len(migrate(url, migrations)) == 2
    assert migration_lint.check_lint(migrations, sum_path) == []


def test_released_migrations_are_not_linted(tmp_path: Path) -> None:
    unsafe = CASES["require-concurrent-index-creation"][0]
    migrations, sum_path = project(tmp_path, unsafe)
    checksum = hashlib.sha256(unsafe.encode()).hexdigest()
    with sum_path.open("a") as out:
        out.write(f"0002_change.sql {checksum}\n")
    assert migration_lint.check_lint(migrations, sum_path) == []
    # control: unlisted, the same file is linted
    sum_path.write_text(sum_path.read_text().replace("0002_change.sql", "# 0002_change.sql"))
    assert len(migration_lint.check_lint(migrations, sum_path)) == 1


def test_a_table_created_in_the_same_file_needs_no_concurrent_index(tmp_path: Path) -> None:
    new_table = TIMEOUT + (
        "CREATE TABLE public.tag (id bigint PRIMARY KEY, name text NOT NULL);\n"
        "CREATE INDEX tag_name ON public.tag USING btree (name);\n"
    )
    migrations, sum_path = project(tmp_path, new_table)
    assert migration_lint.check_lint(migrations, sum_path) == []


def test_plue_migrations_pass() -> None:
    """What `plue-db check` runs: every migration of this project is released (control:
    without migrations.sum all of them are linted, and 0001-0004 predate the rules)."""
    assert migration_lint.check_lint() == []
    assert migration_lint.check_lint(sum_path=Path("/nonexistent/migrations.sum")) != []


def test_check_command_names_the_finding(tmp_path: Path) -> None:
    """``plue-db check --only lint`` in a copy of the project: an unreleased migration
    with a plain CREATE INDEX on an existing table fails, at its line, with the fix;
    the control, the same index built CONCURRENTLY in a no-transaction file, passes."""
    for name in ("src", "migrations"):
        shutil.copytree(config.PROJECT_ROOT / name, tmp_path / name)
    for name in (".squawk.toml", "migrations.sum"):
        shutil.copy(config.PROJECT_ROOT / name, tmp_path / name)
    added = tmp_path / "migrations" / "0005_issue_titles.sql"
    added.write_text(TIMEOUT + "CREATE INDEX issues_title ON issues (title);\n")
    result = check_in_copy(tmp_path, "--only", "lint", "--json")
    assert result.returncode == 1, result.stderr
    [outcome] = json.loads(result.stdout)["checks"]
    assert outcome["problems"] == [
        "migrations/0005_issue_titles.sql:2: require-concurrent-index-creation: During normal "
        "index creation, table updates are blocked, but reads are still allowed. Fix: "
        + migration_lint.FIXES["require-concurrent-index-creation"]
    ]
    added.write_text(
        SEPARATE + TIMEOUT + "CREATE INDEX CONCURRENTLY issues_title ON issues (title);\n"
    )
    result = check_in_copy(tmp_path, "--only", "lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "check: all passed (lint)"
