"""The migration runner: order, exactly-once, checksums, rollback, naming, concurrency."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from plue_db import config
from plue_db.schema import migrate as migrate_module
from plue_db.schema.migrate import TABLE, MigrationError, discover, migrate
from tests.concurrency import run_together

FIRST = "CREATE TABLE author (id bigint PRIMARY KEY, name text NOT NULL);\n"
SECOND = (
    "CREATE TABLE book (id bigint PRIMARY KEY, author_id bigint REFERENCES author);\n"
    "INSERT INTO author VALUES (1, 'Le Guin');\n"
)
ARABIC = "\u0660\u0660\u0660\u0661"  # 0001 in Arabic-Indic digits, which \\d matches
WIDE = "\uff10\uff10\uff10"  # fullwidth 000


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def recorded(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT name FROM {} ORDER BY name").format(sql.Identifier(TABLE))
        ).fetchall()
    return [r[0] for r in rows]


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_applies_in_order_once_and_records_checksums(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0002_books.sql": SECOND, "0001_authors.sql": FIRST})
    applied = migrate(empty_database_url, migrations)
    assert [m.name for m in applied] == ["0001_authors.sql", "0002_books.sql"]
    assert migrate(empty_database_url, migrations) == []  # up to date: nothing runs
    with psycopg.connect(empty_database_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT name, checksum, applied_at IS NOT NULL FROM {} ORDER BY name").format(
                sql.Identifier(TABLE)
            )
        ).fetchall()
        authors = conn.execute("SELECT count(*) FROM author").fetchone()
    assert rows == [(m.name, m.checksum, True) for m in applied]
    assert len(rows[0][1]) == 64  # sha256 hex
    assert authors == (1,)  # the INSERT ran exactly once


def test_dry_run_lists_and_changes_nothing(tmp_path: Path, empty_database_url: str) -> None:
    migrations = write(tmp_path / "m", {"0001_authors.sql": FIRST})
    assert [m.name for m in migrate(empty_database_url, migrations, dry_run=True)] == [
        "0001_authors.sql"
    ]
    assert tables(empty_database_url) == []
    migrate(empty_database_url, migrations)
    write(migrations, {"0002_books.sql": SECOND})
    assert [m.name for m in migrate(empty_database_url, migrations, dry_run=True)] == [
        "0002_books.sql"
    ]
    assert recorded(empty_database_url) == ["0001_authors.sql"]


def test_changed_applied_file_is_refused_before_anything_runs(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_authors.sql": FIRST})
    migrate(empty_database_url, migrations)
    write(migrations, {"0001_authors.sql": FIRST + "-- edited\n", "0002_books.sql": SECOND})
    with pytest.raises(MigrationError, match=r"0001_authors\.sql was changed after it was applied"):
        migrate(empty_database_url, migrations)
    assert recorded(empty_database_url) == ["0001_authors.sql"]
    assert tables(empty_database_url) == ["author", TABLE]


def test_failing_migration_rolls_back_and_names_file_and_reason(
    tmp_path: Path, empty_database_url: str
) -> None:
    broken = (
        "CREATE TABLE book (id bigint PRIMARY KEY);\n\nALTER TABLE book ADD COLUMN x nosuchtype;\n"
    )
    migrations = write(tmp_path / "m", {"0001_authors.sql": FIRST, "0002_books.sql": broken})
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    message = str(info.value)
    assert "0002_books.sql:3:" in message
    assert 'type "nosuchtype" does not exist' in message
    assert recorded(empty_database_url) == ["0001_authors.sql"]
    assert tables(empty_database_url) == ["author", TABLE]  # no half-made book table
    write(migrations, {"0002_books.sql": SECOND})  # fixed: the run resumes from 0002
    assert [m.name for m in migrate(empty_database_url, migrations)] == ["0002_books.sql"]


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({"1_authors.sql": FIRST}, r"1_authors\.sql: not a migration; .* may hold only"),
        ({"0001-authors.sql": FIRST}, r"0001-authors\.sql: not a migration"),
        ({"0001_Authors.sql": FIRST}, r"0001_Authors\.sql: not a migration"),
        ({"0001_authors.txt": FIRST}, r"0001_authors\.txt: not a migration"),
        ({"0001_authors.sql": FIRST, "README.md": "notes"}, r"README\.md: not a migration"),
        ({"0001_authors.sql": FIRST, "0002_books.sql\n": SECOND}, r"0002_books\.sql\n: not"),
        ({"0001_authors.sql": FIRST, f"{WIDE}2_books.sql": SECOND}, rf"{WIDE}2_books\.sql: not"),
        (
            {"0001_authors.sql": FIRST, "0001_books.sql": SECOND},
            r"0001_books\.sql: number 0001 is also used by 0001_authors\.sql",
        ),
    ],
)
def test_bad_file_names_are_refused(
    tmp_path: Path, empty_database_url: str, files: dict[str, str], error: str
) -> None:
    with pytest.raises(MigrationError, match=error):
        migrate(empty_database_url, write(tmp_path / "m", files))
    assert tables(empty_database_url) == []


OLD_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")  # before issue 17


@pytest.mark.parametrize("checked", ["now", "old pattern"])
def test_only_ascii_digits_number_a_migration(
    tmp_path: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch, checked: str
) -> None:
    """Arabic-Indic digits (U+0660-U+0669) are digits to \\d: the old pattern applied such a file
    beside 0001_a.sql, past the duplicate-number check, and sorted it after 9999."""
    migrations = write(
        tmp_path / "m",
        {
            "0001_a.sql": "CREATE TABLE a ();",
            f"{ARABIC}_b.sql": "CREATE TABLE b ();",
            "9999_z.sql": "",
        },
    )
    if checked == "old pattern":  # NEGATIVE CONTROL: the defect, visible to this test
        monkeypatch.setattr(migrate_module, "FILE_NAME", OLD_FILE_NAME)
        applied = migrate(empty_database_url, migrations)
        assert [m.name for m in applied] == ["0001_a.sql", "9999_z.sql", f"{ARABIC}_b.sql"]
        assert tables(empty_database_url) == ["a", "b", TABLE]
        return
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    assert str(info.value) == (
        f"{migrations / f'{ARABIC}_b.sql'}: not a migration; {migrations} may hold only files"
        " named like 0001_create_users.sql (four ASCII digits 0-9, underscore, lower-case"
        " ASCII name, .sql)"
    )
    assert tables(empty_database_url) == []


def test_hidden_entries_are_ignored_and_subdirectories_refused(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_authors.sql": FIRST, ".gitkeep": ""})
    (migrations / ".cache").mkdir()
    assert [m.name for m in migrate(empty_database_url, migrations, dry_run=True)] == [
        "0001_authors.sql"
    ]
    (migrations / "archive").mkdir()
    with pytest.raises(MigrationError, match=r"/archive: not a migration"):
        migrate(empty_database_url, migrations)
    assert tables(empty_database_url) == []


def test_the_projects_migrations_directory_passes() -> None:
    """The repository's own migrations/ holds only NNNN_name.sql files today."""
    names = [m.name for m in discover()]
    assert names and names == sorted(p.name for p in config.MIGRATIONS_DIR.glob("*.sql"))


def test_missing_directory_is_named(tmp_path: Path, empty_database_url: str) -> None:
    with pytest.raises(MigrationError, match=r"migrations directory .*nowhere does not exist"):
        migrate(empty_database_url, tmp_path / "nowhere")


def test_deleted_or_out_of_order_files_are_refused(tmp_path: Path, empty_database_url: str) -> None:
    migrations = write(tmp_path / "m", {"0002_books.sql": FIRST})
    migrate(empty_database_url, migrations)
    write(migrations, {"0001_authors.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"0001_authors\.sql is new but sorts before"):
        migrate(empty_database_url, migrations)
    (migrations / "0001_authors.sql").unlink()
    (migrations / "0002_books.sql").unlink()
    with pytest.raises(MigrationError, match=r"0002_books\.sql is recorded as applied but"):
        migrate(empty_database_url, migrations)


def test_concurrent_migrators_apply_each_file_exactly_once(
    tmp_path: Path, empty_database_url: str
) -> None:
    # Each file is slow and not idempotent: run twice, it would fail or count twice.
    files = {
        f"{n:04d}_step{n}.sql": (
            f"CREATE TABLE step{n} (id int);\n"
            "CREATE TABLE IF NOT EXISTS runs (step int);\n"
            f"INSERT INTO runs VALUES ({n});\nSELECT pg_sleep(0.1);\n"
        )
        for n in range(1, 6)
    }
    migrations = write(tmp_path / "m", files)

    def run(_: int) -> list[str]:
        return [m.name for m in migrate(empty_database_url, migrations)]

    results = run_together(4, run)
    assert sorted(name for result in results for name in result) == sorted(files)
    with psycopg.connect(empty_database_url) as conn:
        runs = conn.execute("SELECT step FROM runs ORDER BY step").fetchall()
    assert runs == [(n,) for n in range(1, 6)]
    assert recorded(empty_database_url) == sorted(files)
