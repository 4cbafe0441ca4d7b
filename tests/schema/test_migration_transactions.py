"""Migrations and transactions: a file is applied entirely or not at all, or (marked
no-transaction) statement by statement with its progress recorded and resumed.

Issue 9, defect 4: a file holding COMMIT used to be applied halfway while the error said
"rolled back". The negative control runs the same check against that old runner.

Over 400 lines on purpose: each scenario runs against the runner and against the old
one, and they share their migration files and setup.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from plue_db.schema.migrate import PARTIAL, TABLE, MigrationError, migrate
from tests.concurrency import run_together
from tests.schema.test_migrate import recorded, tables, write

MOOD = "CREATE TYPE mood AS ENUM ('calm', 'busy');\nCREATE TABLE t (m mood);\n"
ADD_SAD = (
    "ALTER TYPE mood ADD VALUE 'sad';\nCOMMIT;\n"
    "INSERT INTO t VALUES ('sad');\nINSERT INTO nosuch VALUES (1);\n"
)
MARKER = "-- plue-db: no-transaction\n"


def labels(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT enumlabel FROM pg_enum WHERE enumtypid = 'mood'::regtype ORDER BY enumsortorder"
        ).fetchall()
    return [r[0] for r in rows]


def bookkeeping(url: str) -> dict[str, tuple[str, list[str] | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT name, checksum, statements_done FROM {}").format(sql.Identifier(TABLE))
        ).fetchall()
    return {name: (checksum, done) for name, checksum, done in rows}


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]


def old_runner(url: str, directory: Path) -> None:
    """The runner before issue 9: each file as one simple-protocol query in a transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        for path in sorted(directory.iterdir()):
            with conn.transaction():
                conn.execute(path.read_bytes())


def half_applied(url: str) -> bool:
    """The COMMIT file's damage: its enum value is in, but the file is not applied."""
    return "sad" in labels(url)


def test_commit_in_a_migration_applies_nothing(tmp_path: Path, empty_database_url: str) -> None:
    migrations = write(tmp_path / "m", {"0001_mood.sql": MOOD})
    migrate(empty_database_url, migrations)
    write(migrations, {"0002_add_sad.sql": ADD_SAD})
    # Every run, the first and the reruns, gives the same refusal and changes nothing.
    for _ in range(2):
        with pytest.raises(MigrationError) as info:
            migrate(empty_database_url, migrations)
        assert str(info.value).startswith(
            f"{migrations / '0002_add_sad.sql'}:2: 'COMMIT': a migration may not control "
            "transactions"
        )
        assert not half_applied(empty_database_url)
        assert labels(empty_database_url) == ["calm", "busy"]
        assert recorded(empty_database_url) == ["0001_mood.sql"]
    # The documented way: no-transaction, without the COMMIT, the broken INSERT fixed.
    fixed = MARKER + ADD_SAD.replace("COMMIT;\n", "").replace(
        "nosuch VALUES (1)", "t VALUES ('calm')"
    )
    write(migrations, {"0002_add_sad.sql": fixed})
    assert [m.name for m in migrate(empty_database_url, migrations)] == ["0002_add_sad.sql"]
    assert labels(empty_database_url) == ["calm", "busy", "sad"]
    assert scalar(empty_database_url, "SELECT string_agg(m::text, ',' ORDER BY m) FROM t") == (
        "calm,sad"
    )


def test_negative_control_the_old_runner_leaves_the_commit_file_half_applied(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_mood.sql": MOOD, "0002_add_sad.sql": ADD_SAD})
    with pytest.raises(psycopg.errors.UndefinedTable):
        old_runner(empty_database_url, migrations)
    assert half_applied(empty_database_url)  # the check above sees the defect


TRANSACTION_CONTROL = [
    "BEGIN",
    "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "START TRANSACTION",
    "COMMIT",
    "COMMIT AND CHAIN",
    "END",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT s",
    "RELEASE SAVEPOINT s",
    "RELEASE s",
    "ROLLBACK TO SAVEPOINT s",
    "PREPARE TRANSACTION 'x'",
    "COMMIT PREPARED 'x'",
    "ROLLBACK PREPARED 'x'",
    "/* hidden */ commit",
]


@pytest.mark.parametrize("marker", ["", MARKER], ids=["transactional", "no-transaction"])
@pytest.mark.parametrize("statement", TRANSACTION_CONTROL)
def test_transaction_control_is_refused_before_any_pending_file_runs(
    tmp_path: Path, empty_database_url: str, statement: str, marker: str
) -> None:
    body = f"{marker}CREATE TABLE a (id int);\n\nCREATE TABLE b (id int); {statement};\n"
    migrations = write(
        tmp_path / "m",
        {"0001_first.sql": "CREATE TABLE first (id int);\n", "0002_bad.sql": body},
    )
    line = 3 + bool(marker)
    quoted = statement.replace("/* hidden */ ", "")
    expected = f"{migrations / '0002_bad.sql'}:{line}: {quoted!r}: a migration may not control"
    for dry_run in (True, False):
        with pytest.raises(MigrationError) as info:
            migrate(empty_database_url, migrations, dry_run=dry_run)
        assert str(info.value).startswith(expected)
    assert [t for t in tables(empty_database_url) if t != TABLE] == []  # 0001 did not run
    assert recorded(empty_database_url) == []


@pytest.mark.parametrize(
    "statement", ["DO $$ BEGIN INSERT INTO log VALUES (2); COMMIT; END $$", "CALL p()"]
)
@pytest.mark.parametrize("marker", ["", MARKER], ids=["transactional", "no-transaction"])
def test_do_and_call_that_commit_are_refused_by_postgresql(
    tmp_path: Path, empty_database_url: str, marker: str, statement: str
) -> None:
    # PostgreSQL refuses COMMIT in procedural code inside a transaction block; the
    # runner keeps every DO and CALL inside one, in both kinds of file.
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE log (n int)")
        conn.execute(
            "CREATE PROCEDURE p() LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO log VALUES (1); COMMIT; END $$"
        )
    migrations = write(tmp_path / "m", {"0001_commits.sql": f"{marker}SELECT 1;\n{statement};\n"})
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    assert f"0001_commits.sql:{2 + bool(marker)}: invalid transaction termination" in str(
        info.value
    )
    assert scalar(empty_database_url, "SELECT count(*) FROM log") == 0
    # Transactional: nothing recorded. No-transaction: SELECT 1 committed, file unfinished.
    expected = {"0001_commits.sql": (PARTIAL, 1)} if marker else {}
    assert {
        name: (checksum, len(done or []))
        for name, (checksum, done) in bookkeeping(empty_database_url).items()
    } == expected


def test_procedural_code_is_never_retried_outside_a_transaction(
    tmp_path: Path, empty_database_url: str
) -> None:
    # A DO block that PostgreSQL refuses inside a transaction block the first time, and
    # that commits then fails when run alone: retrying it alone would leave its insert.
    tricky = (
        "DO $$ BEGIN\n"
        "  IF nextval('attempts') = 1 THEN\n"
        "    RAISE EXCEPTION 'not in a block' USING ERRCODE = 'active_sql_transaction';\n"
        "  END IF;\n"
        "  INSERT INTO log VALUES (1); COMMIT; RAISE EXCEPTION 'late failure';\n"
        "END $$;\n"
    )
    migrations = write(tmp_path / "m", {"0001_tricky.sql": MARKER + tricky})
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE log (n int); CREATE SEQUENCE attempts")
    with pytest.raises(MigrationError, match=r"0001_tricky\.sql:\d+: not in a block .*rolled back"):
        migrate(empty_database_url, migrations)
    assert scalar(empty_database_url, "SELECT count(*) FROM log") == 0


def test_no_transaction_file_runs_what_needs_its_own_transaction(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_mood.sql": MOOD})
    migrate(empty_database_url, migrations)
    without_marker = (
        "ALTER TYPE mood ADD VALUE 'sad';\nINSERT INTO t VALUES ('sad');\n"
        "CREATE INDEX CONCURRENTLY t_m ON t (m);\nVACUUM t;\n"
    )
    write(migrations, {"0002_sad.sql": without_marker})
    with pytest.raises(MigrationError, match=r"0002_sad\.sql:2: unsafe use of new value \"sad\""):
        migrate(empty_database_url, migrations)
    assert labels(empty_database_url) == ["calm", "busy"]  # rolled back entirely
    write(migrations, {"0002_sad.sql": MARKER + without_marker})
    assert [m.name for m in migrate(empty_database_url, migrations)] == ["0002_sad.sql"]
    assert labels(empty_database_url) == ["calm", "busy", "sad"]
    assert scalar(empty_database_url, "SELECT count(*) FROM t WHERE m = 'sad'") == 1
    assert scalar(
        empty_database_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_m'::regclass"
    )
    assert bookkeeping(empty_database_url)["0002_sad.sql"][1] is None  # applied entirely
    assert migrate(empty_database_url, migrations) == []
    write(migrations, {"0002_sad.sql": MARKER + without_marker + "-- edited\n"})
    with pytest.raises(MigrationError, match=r"0002_sad\.sql was changed after it was applied"):
        migrate(empty_database_url, migrations)


HALFWAY = (
    MARKER
    + "CREATE TABLE a (id int);\n"
    + "INSERT INTO a VALUES (1);\n"
    + "INSERT INTO\n  nosuch VALUES (1);\n"
    + "CREATE TABLE b (id int);\n"
)


def test_no_transaction_file_failing_halfway_is_recorded_and_resumed(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(
        tmp_path / "m", {"0001_halfway.sql": HALFWAY, "0002_after.sql": "CREATE TABLE c ();"}
    )
    for _ in range(2):  # the rerun does not repeat the committed, non-idempotent INSERT
        with pytest.raises(MigrationError) as info:
            migrate(empty_database_url, migrations)
        message = str(info.value)
        assert message.startswith(
            f'{migrations / "0001_halfway.sql"}:5: relation "nosuch" does not exist '
            "(no-transaction migration: 2 of its 4 statements are committed; "
            "statement 3 was rolled back; fix the cause and rerun"
        )
        assert scalar(empty_database_url, "SELECT count(*) FROM a") == 1
        assert tables(empty_database_url) == ["a", TABLE]  # neither b nor 0002's c
        checksum, done = bookkeeping(empty_database_url)["0001_halfway.sql"]
        assert (checksum, len(done or [])) == (PARTIAL, 2)
    # Not applied: a dry run still lists it, and a committed statement may not change.
    assert [m.name for m in migrate(empty_database_url, migrations, dry_run=True)] == [
        "0001_halfway.sql",
        "0002_after.sql",
    ]
    write(migrations, {"0001_halfway.sql": HALFWAY.replace("VALUES (1);", "VALUES (2);", 1)})
    with pytest.raises(
        MigrationError,
        match=r"0001_halfway\.sql:3: statement 2 was changed after it was committed; "
        r"0001_halfway\.sql is partly applied \(statements 1-2 committed\)",
    ):
        migrate(empty_database_url, migrations)
    write(migrations, {"0001_halfway.sql": HALFWAY.replace(MARKER, "")})
    with pytest.raises(MigrationError, match=r"no longer starts with '-- plue-db: no-transaction'"):
        migrate(empty_database_url, migrations)
    write(migrations, {"0001_halfway.sql": HALFWAY.replace("nosuch", "a")})  # the fix
    applied = migrate(empty_database_url, migrations)
    assert [m.name for m in applied] == ["0001_halfway.sql", "0002_after.sql"]
    assert scalar(empty_database_url, "SELECT string_agg(id::text, ',' ORDER BY id) FROM a") == (
        "1,1"  # statement 2 once, the fixed statement 3 once
    )
    assert tables(empty_database_url) == ["a", "b", "c", TABLE]
    assert bookkeeping(empty_database_url)["0001_halfway.sql"] == (applied[0].checksum, None)


def test_failed_concurrent_index_is_reported_as_partial_and_recoverable(
    tmp_path: Path, empty_database_url: str
) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE u (email text); INSERT INTO u VALUES ('a'), ('a')")
    index = MARKER + "CREATE UNIQUE INDEX CONCURRENTLY u_email ON u (email);\n"
    migrations = write(tmp_path / "m", {"0001_index.sql": index})
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    assert str(info.value).startswith(
        f'{migrations / "0001_index.sql"}:2: could not create unique index "u_email" '
        "(no-transaction migration: 0 of its 1 statements are committed; statement 1 ran "
        "outside a transaction and may have left partial effects (a failed CREATE INDEX "
        "CONCURRENTLY leaves an INVALID index: drop it before rerunning)"
    )
    invalid = "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 'u_email'::regclass"
    assert scalar(empty_database_url, invalid)
    with pytest.raises(MigrationError, match=r'relation "u_email" already exists'):
        migrate(empty_database_url, migrations)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:  # the operator
        conn.execute("DROP INDEX u_email; DELETE FROM u WHERE ctid <> (SELECT min(ctid) FROM u)")
    assert [m.name for m in migrate(empty_database_url, migrations)] == ["0001_index.sql"]
    assert not scalar(empty_database_url, invalid)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("-- plue-db: no-transactions\nSELECT 1;\n", 1),
        ("--plue-db:no-transaction\nSELECT 1;\n", 1),
        ("-- plue-db: no-transaction \nSELECT 1;\n", 1),
        ("SELECT 1;\n-- plue-db: no-transaction\nSELECT 2;\n", 2),
        ("-- a comment first\n-- PLUE-DB: no-transaction\n", 2),
        (MARKER + "SELECT 1; -- plue-db: no-transaction\n", 2),
    ],
)
def test_misspelt_or_misplaced_directives_are_refused(
    tmp_path: Path, empty_database_url: str, text: str, line: int
) -> None:
    migrations = write(tmp_path / "m", {"0001_x.sql": text})
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    assert str(info.value).startswith(f"{migrations / '0001_x.sql'}:{line}: ")
    assert "is not a plue-db directive; the only one is '-- plue-db: no-transaction'" in str(
        info.value
    )
    assert recorded(empty_database_url) == []


def test_syntax_errors_are_located_before_anything_runs(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(
        tmp_path / "m",
        {"0001_ok.sql": "CREATE TABLE a ();\n", "0002_typo.sql": "SELECT 1;\n\nSELEC 2;\n"},
    )
    with pytest.raises(MigrationError, match=r'0002_typo\.sql:3: syntax error at or near "SELEC"'):
        migrate(empty_database_url, migrations)
    assert tables(empty_database_url) == [TABLE]


def test_errors_without_a_position_name_the_statement_line(
    tmp_path: Path, empty_database_url: str
) -> None:
    text = (
        "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n\n"
        "INSERT INTO a VALUES (1);\n"
    )
    for marker, line in (("", 4), (MARKER, 5)):
        migrations = write(tmp_path / f"m{line}", {"0001_dup.sql": marker + text})
        with pytest.raises(MigrationError, match=rf"0001_dup\.sql:{line}: duplicate key value"):
            migrate(empty_database_url, migrations)
        with psycopg.connect(empty_database_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS a")
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(TABLE)))


def test_bookkeeping_table_from_before_statements_done_is_upgraded(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a ();\n"})
    checksum = migrate(empty_database_url, migrations)[0].checksum
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP COLUMN statements_done").format(sql.Identifier(TABLE))
        )
    write(migrations, {"0002_b.sql": MARKER + "CREATE TABLE b ();\n"})
    assert [m.name for m in migrate(empty_database_url, migrations, dry_run=True)] == ["0002_b.sql"]
    assert [m.name for m in migrate(empty_database_url, migrations)] == ["0002_b.sql"]
    assert bookkeeping(empty_database_url)["0001_a.sql"] == (checksum, None)


def test_concurrent_migrators_run_each_no_transaction_statement_once(
    tmp_path: Path, empty_database_url: str
) -> None:
    steps = "".join(f"INSERT INTO runs VALUES ({n});\nSELECT pg_sleep(0.05);\n" for n in range(4))
    migrations = write(
        tmp_path / "m",
        {"0001_runs.sql": "CREATE TABLE runs (step int);\n", "0002_steps.sql": MARKER + steps},
    )

    def run(_: int) -> list[str]:
        return [m.name for m in migrate(empty_database_url, migrations)]

    results = run_together(4, run)
    assert sorted(name for result in results for name in result) == [
        "0001_runs.sql",
        "0002_steps.sql",
    ]
    assert scalar(
        empty_database_url, "SELECT string_agg(step::text, ',' ORDER BY step) FROM runs"
    ) == ("0,1,2,3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "CREATE TABLE a ();\nSELECT pg_advisory_unlock_all();\n",
            "0001_x.sql: released the migration lock (pg_advisory_unlock_all(), DISCARD ALL, "
            "...), which lets another migrator run the same files; remove that from the "
            "migration (rolled back: nothing of 0001_x.sql was applied)",
        ),
        (
            MARKER + "CREATE TABLE a ();\nSELECT pg_advisory_unlock_all();\n",
            "0001_x.sql:3: released the migration lock (pg_advisory_unlock_all(), DISCARD ALL, "
            "...), which lets another migrator run the same files; remove that from the "
            "migration (no-transaction migration: 1 of its 2 statements are committed; "
            "statement 2 was rolled back;",
        ),
        (
            MARKER + "CREATE TABLE a ();\nDISCARD ALL;\n",
            "0001_x.sql:3: released the migration lock (pg_advisory_unlock_all(), DISCARD ALL, "
            "...), which lets another migrator run the same files; remove that from the "
            "migration (no-transaction migration: 1 of its 2 statements are committed; "
            "statement 2 committed, but its progress was not recorded: the rerun repeats it;",
        ),
    ],
    ids=["transactional", "no-transaction", "no-transaction-discard"],
)
def test_a_migration_that_releases_the_lock_is_not_recorded(
    tmp_path: Path, empty_database_url: str, text: str, expected: str
) -> None:
    migrations = write(tmp_path / "m", {"0001_x.sql": text})
    with pytest.raises(MigrationError) as info:
        migrate(empty_database_url, migrations)
    assert expected in str(info.value)
    record = bookkeeping(empty_database_url).get("0001_x.sql")
    assert record is None or record[0] == PARTIAL  # never recorded as applied
    assert tables(empty_database_url) == (["a", TABLE] if text.startswith(MARKER) else [TABLE])


def schema_of(url: str, table: str) -> object:
    return scalar(
        url, f"SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = '{table}'"
    )


def test_session_settings_do_not_leak_into_the_next_file(
    tmp_path: Path, empty_database_url: str
) -> None:
    migrations = write(
        tmp_path / "m",
        {
            "0001_elsewhere.sql": "CREATE SCHEMA elsewhere;\nSET search_path = elsewhere;\n"
            "CREATE TABLE inside ();\n",
            "0002_next.sql": "CREATE TABLE outside ();\n",
        },
    )
    migrate(empty_database_url, migrations)
    assert schema_of(empty_database_url, "inside") == "elsewhere"
    assert schema_of(empty_database_url, "outside") == "public"


def test_resumed_no_transaction_file_replays_its_committed_settings(
    tmp_path: Path, empty_database_url: str
) -> None:
    text = (
        MARKER + "CREATE SCHEMA elsewhere;\nSET search_path = elsewhere;\n"
        "CREATE TABLE first ();\nINSERT INTO nosuch VALUES (1);\nCREATE TABLE second ();\n"
    )
    migrations = write(tmp_path / "m", {"0001_elsewhere.sql": text})
    with pytest.raises(MigrationError, match=r"0001_elsewhere\.sql:5: relation \"nosuch\""):
        migrate(empty_database_url, migrations)
    write(migrations, {"0001_elsewhere.sql": text.replace("INSERT INTO nosuch VALUES (1)", "")})
    migrate(empty_database_url, migrations)
    assert schema_of(empty_database_url, "first") == "elsewhere"
    assert schema_of(empty_database_url, "second") == "elsewhere"
