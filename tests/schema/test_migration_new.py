"""``plue-db migration new``: the drafted migration takes migrations/ to schema.sql.

The proof is the drift check itself: a table, a column, an index and an enum value are
added to a copy of Plue's schema.sql; after ``migration new`` the copy's migrations
match it (and pass the safety lint). The control is the empty migration
(``--empty``): check still fails with the same differences. What cannot be drafted
safely is listed in the file and still fails check.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from plue_db import cli, config
from plue_db.schema import drift, migration_draft, migration_lint
from plue_db.schema.migrate import MigrationError

ADDED = """
CREATE TABLE gadget (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name <> ''),
    made_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gadget_owner ON gadget (owner_id);
COMMENT ON TABLE gadget IS 'A user''s gadget';
ALTER TABLE users ADD COLUMN nickname text;
CREATE INDEX users_nickname ON users (nickname);
ALTER TYPE issue_state ADD VALUE 'triaged' BEFORE 'closed';
"""


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path, Path]:
    """schema.sql (with ADDED), migrations/ and a migrations.sum listing all of them."""
    schema = tmp_path / "schema.sql"
    schema.write_text(config.SCHEMA_PATH.read_text() + ADDED)
    migrations = tmp_path / "migrations"
    shutil.copytree(config.MIGRATIONS_DIR, migrations)
    lines = [
        f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n"
        for p in sorted(migrations.glob("*.sql"))
    ]
    (tmp_path / "migrations.sum").write_text("".join(lines))
    return schema, migrations, tmp_path / "migrations.sum"


def test_drafted_migration_makes_check_pass(copy: tuple[Path, Path, Path], server_url: str) -> None:
    schema, migrations, sum_path = copy
    before = drift.check_migrations(server_url, schema, migrations)
    assert "table gadget: only in schema.sql" in before
    written = migration_draft.new_migration("add_gadgets", server_url, migrations, schema)
    assert [p.name for p in written.paths] == [
        "0005_add_gadgets.sql",
        "0006_add_gadgets_concurrently.sql",
    ]
    assert written.failure is None
    assert written.by_hand == ()
    assert drift.check_migrations(server_url, schema, migrations) == []
    assert migration_lint.check_lint(migrations, sum_path) == []
    first, second = (p.read_text() for p in written.paths)
    assert "ALTER TYPE issue_state ADD VALUE 'triaged' AFTER 'open';" in first
    assert "COMMENT ON TABLE gadget IS 'A user''s gadget';" in first
    assert "CREATE INDEX gadget_owner ON public.gadget USING btree (owner_id);" in first
    assert second.startswith("-- plue-db: no-transaction\n")
    assert "CREATE INDEX CONCURRENTLY users_nickname ON public.users" in second


TRIGGERED = """
CREATE TYPE gadget_kind AS ENUM ('small', 'large');
CREATE TABLE gadget (id bigint PRIMARY KEY, kind gadget_kind NOT NULL DEFAULT 'small',
                     touched_at timestamptz);
COMMENT ON COLUMN gadget.kind IS 'How big';
CREATE FUNCTION gadget_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touched_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER gadget_touch BEFORE UPDATE ON gadget
    FOR EACH ROW EXECUTE FUNCTION gadget_touch();
ALTER TABLE issues ADD CONSTRAINT issues_title_short CHECK (length(title) < 10000);
"""


def test_types_functions_triggers_and_checks_on_existing_tables(
    copy: tuple[Path, Path, Path], server_url: str
) -> None:
    """A new enum type, function, trigger and column comment are drafted; a check on
    the existing issues is added NOT VALID and validated in the no-transaction file."""
    schema, migrations, sum_path = copy
    schema.write_text(config.SCHEMA_PATH.read_text() + TRIGGERED)
    written = migration_draft.new_migration("gadget_kinds", server_url, migrations, schema)
    assert (written.failure, written.by_hand) == (None, ())
    assert drift.check_migrations(server_url, schema, migrations) == []
    assert migration_lint.check_lint(migrations, sum_path) == []
    first, second = (p.read_text() for p in written.paths)
    assert "CREATE TYPE gadget_kind AS ENUM ('small', 'large');" in first
    assert "CREATE OR REPLACE FUNCTION public.gadget_touch()" in first
    assert "CHECK ((length(title) < 10000)) NOT VALID;" in first
    assert second.endswith("ALTER TABLE public.issues VALIDATE CONSTRAINT issues_title_short;\n")


def test_control_an_empty_migration_leaves_check_failing(
    copy: tuple[Path, Path, Path], server_url: str
) -> None:
    schema, migrations, _ = copy
    before = drift.check_migrations(server_url, schema, migrations)
    written = migration_draft.new_migration("add_gadgets", None, migrations, schema)
    assert [p.name for p in written.paths] == ["0005_add_gadgets.sql"]
    assert drift.check_migrations(server_url, schema, migrations) == before != []
    # what check prints ends with the command that drafts the migration
    problems = drift.check_migrations_or_draft(server_url, schema, migrations)
    assert problems == [*before, drift.DRAFT_HINT]
    assert "`plue-db migration new NAME`" in drift.DRAFT_HINT


def test_what_cannot_be_drafted_is_left_by_hand(tmp_path: Path, server_url: str) -> None:
    """A NOT NULL column without a default needs a backfill; a dropped column, a
    decision: both are listed in the file, and check still names them."""
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL);\n")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_account.sql").write_text(
        "CREATE TABLE account (id bigint PRIMARY KEY, age integer);\n"
    )
    written = migration_draft.new_migration("email", server_url, migrations, schema)
    assert written.by_hand == (
        "column account.age: only in migrations (drop it, or add it to schema.sql)",
        f"column account.email: only in schema.sql ({migration_draft.REQUIRED_COLUMN})",
    )
    text = written.paths[0].read_text()
    assert "--   column account.email: only in schema.sql (NOT NULL without a default" in text
    assert migration_draft.summary(written).endswith(
        ": 0 statements drafted, 2 differences left by hand (listed in the file)"
    )
    assert "ADD COLUMN" not in text
    assert len(drift.check_migrations(server_url, schema, migrations)) == 2


def test_nothing_to_draft_is_said(tmp_path: Path, server_url: str) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE account (id bigint PRIMARY KEY);\n")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_account.sql").write_text(schema.read_text())
    written = migration_draft.new_migration("noop", server_url, migrations, schema)
    assert migration_draft.summary(written) == (
        f"wrote {migrations / '0002_noop.sql'}: migrations/ already match schema.sql, "
        "nothing to draft"
    )
    assert "SET lock_timeout" not in written.paths[0].read_text()


def test_cli_prints_one_line_naming_the_file(
    copy: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    schema, migrations, _ = copy
    argv = ["migration", "new", "add_gadgets", "--empty", "--migrations-dir", str(migrations)]
    assert cli.main([*argv, "--schema", str(schema)]) == 0
    out = capsys.readouterr().out
    assert out == f"wrote {migrations / '0005_add_gadgets.sql'}: empty, for you to write\n"


@pytest.mark.parametrize("name", ["Add_Gadgets", "add-gadgets", "_x", "gadgets.sql", ""])
def test_bad_name_is_refused_naming_it(name: str, tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match=f"migration name {name!r}: use lower-case"):
        migration_draft.next_path(name, config.MIGRATIONS_DIR)
    assert migration_draft.next_path("add_gadgets").name == "0005_add_gadgets.sql"
