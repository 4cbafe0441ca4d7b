"""The drift check: matching sets pass; each kind of hand-made drift is named."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from plue_db.schema import catalog, drift
from plue_db.schema.migrate import MigrationError, migrate
from plue_db.servers.scratch import scratch_database

# The updated_at trigger, written once: the schema and its last migration share it.
TOUCH = """
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER person_touch BEFORE UPDATE ON person FOR EACH ROW EXECUTE FUNCTION touch();
"""

SCHEMA = (
    """
CREATE TYPE mood AS ENUM ('calm', 'busy');
COMMENT ON TYPE mood IS 'How a person feels.';

CREATE TABLE person (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    mood mood NOT NULL DEFAULT 'calm',
    visits integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN person.name IS 'Display name.';
CREATE UNIQUE INDEX person_name_lower ON person (lower(name));
"""
    + TOUCH
)

# The same schema, reached in three steps the way a project grows.
MIGRATIONS = {
    "0001_person.sql": """
CREATE TYPE mood AS ENUM ('calm');
CREATE TABLE person (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    mood mood NOT NULL DEFAULT 'calm'
);
""",
    "0002_visits.sql": """
ALTER TYPE mood ADD VALUE 'busy';
ALTER TABLE person ADD COLUMN visits integer NOT NULL DEFAULT 0;
ALTER TABLE person ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX person_name_lower ON person (lower(name));
COMMENT ON TYPE mood IS 'How a person feels.';
COMMENT ON COLUMN person.name IS 'Display name.';
""",
    "0003_touch.sql": TOUCH,
}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, text in MIGRATIONS.items():
        (migrations / name).write_text(text)
    return schema, migrations


def drift_with(project: tuple[Path, Path], server_url: str, extra: str) -> list[str]:
    schema, migrations = project
    (migrations / "0004_drift.sql").write_text(extra)
    return drift.check_migrations(server_url, schema, migrations)


def test_matching_migrations_pass(project: tuple[Path, Path], server_url: str) -> None:
    assert drift.check_migrations(server_url, *project) == []


def test_snapshot_sees_every_kind_of_object(server_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    with scratch_database(server_url, schema=schema) as url, psycopg.connect(url) as conn:
        objects = catalog.snapshot(conn)
    assert objects["enum mood"] == "'calm', 'busy'"
    assert objects["column person.mood"] == "mood NOT NULL DEFAULT 'calm'::mood"
    assert objects["column person.id"] == "bigint NOT NULL GENERATED ALWAYS AS IDENTITY"
    assert objects["constraint person.person_name_check"] == "CHECK ((name <> ''::text))"
    assert objects["index person_name_lower"].startswith("CREATE UNIQUE INDEX person_name_lower")
    assert "NEW.updated_at := now();" in objects["function touch()"]
    assert objects["trigger person.person_touch"].startswith("CREATE TRIGGER person_touch")
    assert objects["comment on column name of table person"] == "Display name."
    assert objects["table person"] == ""


def test_extra_column_is_named(project: tuple[Path, Path], server_url: str) -> None:
    problems = drift_with(project, server_url, "ALTER TABLE person ADD COLUMN nickname text;")
    assert problems == ["column person.nickname: only in migrations: text"]


def test_changed_default_shows_both_sides(project: tuple[Path, Path], server_url: str) -> None:
    problems = drift_with(
        project, server_url, "ALTER TABLE person ALTER COLUMN visits SET DEFAULT 1;"
    )
    assert problems == [
        "column person.visits: differs\n"
        "    schema.sql  integer NOT NULL DEFAULT 0\n"
        "    migrations  integer NOT NULL DEFAULT 1"
    ]


def test_missing_index_is_named(project: tuple[Path, Path], server_url: str) -> None:
    problems = drift_with(project, server_url, "DROP INDEX person_name_lower;")
    assert len(problems) == 1
    assert problems[0].startswith("index person_name_lower: only in schema.sql: CREATE UNIQUE")


def test_changed_function_body_is_shown_as_a_diff(
    project: tuple[Path, Path], server_url: str
) -> None:
    problems = drift_with(
        project,
        server_url,
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n    RETURN NEW;\nEND $$;",
    )
    assert len(problems) == 1
    assert problems[0].startswith("function touch(): differs\n")
    assert "    -    NEW.updated_at := now();" in problems[0]


def test_broken_migration_is_reported(project: tuple[Path, Path], server_url: str) -> None:
    with pytest.raises(
        MigrationError, match=r"0004_drift\.sql:1: relation \"nobody\" does not exist"
    ):
        drift_with(project, server_url, "ALTER TABLE nobody ADD COLUMN x int;")


def test_live_database_with_a_hand_added_enum_value(
    project: tuple[Path, Path], empty_database_url: str, server_url: str
) -> None:
    schema, migrations = project
    migrate(empty_database_url, migrations)
    assert drift.check_live(server_url, empty_database_url, schema) == []
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("ALTER TYPE mood ADD VALUE 'away'")
        conn.execute("COMMENT ON COLUMN person.name IS 'Shown in lists.'")
    assert drift.check_live(server_url, empty_database_url, schema) == [
        "comment on column name of table person: differs\n"
        "    schema.sql     Display name.\n"
        "    live database  Shown in lists.",
        "enum mood: differs\n"
        "    schema.sql     'calm', 'busy'\n"
        "    live database  'calm', 'busy', 'away'",
    ]


def test_scratch_databases_are_dropped(server_url: str) -> None:
    with scratch_database(server_url) as url, psycopg.connect(url) as conn:
        name = conn.info.dbname
    with psycopg.connect(server_url) as admin:
        left = admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert left.fetchone() == (0,)


def tables_in(problems: list[str]) -> list[str]:
    """The problems about whole tables (a table's columns etc. are reported apart)."""
    return [p for p in problems if p.startswith("table ")]


def test_table_only_in_migrations_is_named_on_that_side(
    project: tuple[Path, Path], server_url: str
) -> None:
    problems = drift_with(project, server_url, "CREATE TABLE gadgets (id bigint);")
    assert tables_in(problems) == ["table gadgets: only in migrations"]
    assert "column gadgets.id: only in migrations: bigint" in problems


def test_table_only_in_schema_is_named_on_that_side(
    project: tuple[Path, Path], server_url: str
) -> None:
    schema, migrations = project
    schema.write_text(SCHEMA + "CREATE TABLE gadgets (id bigint);\n")
    problems = drift.check_migrations(server_url, schema, migrations)
    assert tables_in(problems) == ["table gadgets: only in schema.sql"]


def test_renamed_table_names_each_name_on_its_own_side(
    project: tuple[Path, Path], server_url: str
) -> None:
    problems = drift_with(project, server_url, "ALTER TABLE person RENAME TO people;")
    assert tables_in(problems) == [
        "table people: only in migrations",
        "table person: only in schema.sql",
    ]


def old_describe_tables(left: dict[str, str], right: dict[str, str]) -> list[str]:
    """The old representation: '' for absent, tested with a falsy check, as drift had it."""
    labels = ("schema.sql", "migrations")
    found = []
    for key in sorted(left.keys() | right.keys()):
        a, b = left.get(key, ""), right.get(key, "")
        if key.startswith("table ") and left.get(key) != right.get(key):
            side = next(s for s, there in ((labels[0], b), (labels[1], a)) if not there)
            found.append(f"{key}: only in {side}")
    return found


def test_negative_control_empty_string_for_absent_names_the_wrong_side(
    project: tuple[Path, Path], server_url: str
) -> None:
    schema, migrations = project
    (migrations / "0004_rename.sql").write_text("ALTER TABLE person RENAME TO people;")
    with (
        scratch_database(server_url, schema=schema) as from_schema,
        scratch_database(server_url) as migrated,
    ):
        migrate(migrated, migrations)
        with psycopg.connect(from_schema) as left, psycopg.connect(migrated) as right:
            before, after = catalog.snapshot(left), catalog.snapshot(right)
    assert old_describe_tables(before, after) == [
        "table people: only in schema.sql",
        "table person: only in schema.sql",
    ]
    described = [
        drift.describe(*d, ("schema.sql", "migrations")) for d in catalog.differences(before, after)
    ]
    assert tables_in(described) == [
        "table people: only in migrations",
        "table person: only in schema.sql",
    ]
