"""plue-db generate and the plugin's sqlc-gen-psycopg-db generate: sqlc with our plugin,
analysing queries on a scratch database (plue-db: of the embedded PostgreSQL 16), every
error at its own file:line with its query."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlc_gen_psycopg.analysis import configs, explain
from sqlc_gen_psycopg.analysis import generate as analysed
from sqlc_gen_psycopg.analysis.project import read_config

from plue_db.schema import drift
from plue_db.servers import embedded
from plue_db.typecheck.generate import fresh_output, generate
from tests.codegen.codegen_support import run_sqlc, sqlc_config
from tests.paths import GOLDEN


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
    assert drift.check_generated(root) == [
        "1 generated file is stale: run `plue-db generate`\n"
        "out/tiny/notes.py (changed)\n"
        "(`plue-db check --only generated --diff` shows the diff)"
    ]
    summary, diff = drift.check_generated(root, diff=True)
    assert summary.startswith("1 generated file is stale")
    assert "-# edited by hand" in diff


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
    assert len(problems) == 1 and "out/tiny/extra.py (no longer generated)" in problems[0]
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


# Database-backed analysis (sqlc_gen_psycopg.analysis): types from PostgreSQL itself.

# now() - created alone is typed in static mode too (the plugin's date/time rules); the
# untyped literal leaves sqlc's guess (int) there, PostgreSQL still says interval
AGE_QUERY = (
    "-- name: NoteAge :one\nSELECT now() - created + '1 hour' AS age FROM stamped WHERE id = $1;\n"
)
STAMPED = "CREATE TABLE stamped (id bigint PRIMARY KEY, created timestamptz NOT NULL);\n"
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
COMMAND = str(Path(sys.executable).parent / "sqlc-gen-psycopg-db")


def stamped_project(root: Path, query: str = AGE_QUERY) -> Path:
    root.mkdir(exist_ok=True)
    project(root, query)
    (root / "schema.sql").write_text(STAMPED)
    return root


def own_analysis_databases(server_url: str, pid: int | None = None) -> list[str]:
    """Scratch analysis databases that process (default: this one) left on the server."""
    pattern = f"{analysed.PREFIX}_{pid or os.getpid()}_%"
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))
        return [str(name) for (name,) in rows]


def embedded_databases() -> list[str]:
    return own_analysis_databases(embedded.start(keep_running=True))


def command(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sqlc-gen-psycopg-db <args>`` in ``root``, as a user runs it."""
    return command_with(root, {}, *args)


def command_with(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_types_come_from_the_database(tmp_path: Path) -> None:
    """Statically sqlc says `now() - created + '1 hour'` is an int; PostgreSQL says
    interval."""
    root = stamped_project(tmp_path / "db")
    assert generate(root) == 0
    module = (root / "out" / "tiny" / "notes.py").read_text()
    assert "def note_age(conn: psycopg.Connection[Any], *, id: int) -> datetime.timedelta" in module
    static = stamped_project(tmp_path / "static")  # negative control: plain sqlc, no database
    assert run_sqlc(static).returncode == 0
    assert "-> int" in (static / "out" / "tiny" / "notes.py").read_text()


def test_the_plugins_command_generates_with_postgresql_types(
    tmp_path: Path, server_url: str
) -> None:
    """`sqlc-gen-psycopg-db generate --database-url` writes in place what plue-db
    generates, leaves no temporary configuration or database, and never touches
    sqlc.yaml; `--static` gives sqlc's guess (the control)."""
    root = stamped_project(tmp_path)
    config = (root / "sqlc.yaml").read_text()
    done = command(root, "generate", "--database-url", server_url)
    assert (done.returncode, done.stderr) == (0, "")
    assert "-> datetime.timedelta" in (root / "out" / "tiny" / "notes.py").read_text()
    assert sorted(p.name for p in root.iterdir()) == ["out", "queries", "schema.sql", "sqlc.yaml"]
    assert (root / "sqlc.yaml").read_text() == config
    assert own_analysis_databases(server_url) == []
    assert command(root, "generate", "--static").returncode == 0
    assert "-> int" in (root / "out" / "tiny" / "notes.py").read_text()


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
    assert embedded_databases() == []


def test_analysis_database_holds_the_schema_and_is_dropped_on_error(
    tmp_path: Path, server_url: str
) -> None:
    """Inside, the scratch database exists with the schema loaded (the positive control
    for the leftover check); an exception inside still drops it."""
    root = stamped_project(tmp_path)
    with (
        pytest.raises(RuntimeError, match="boom"),
        analysed.analysis_databases(root / "sqlc.yaml", server_url) as urls,
    ):
        assert list(urls) == [0]
        assert own_analysis_databases(server_url) != []
        with psycopg.connect(urls[0]) as conn:
            assert conn.execute("SELECT count(*) FROM stamped").fetchone() == (0,)
        raise RuntimeError("boom")
    assert own_analysis_databases(server_url) == []


def test_a_killed_run_leaves_no_database_and_no_configuration(
    tmp_path: Path, server_url: str
) -> None:
    """SIGTERM while the schema loads (it sleeps): the command exits 130 and drops the
    scratch database; the temporary sqlc configuration is gone too."""
    root = stamped_project(tmp_path)
    # A DO block: the loader runs it (a bare SELECT it skips, as sqlc's catalog does).
    (root / "schema.sql").write_text(STAMPED + "DO $$ BEGIN PERFORM pg_sleep(60); END $$;\n")
    running = subprocess.Popen(
        [COMMAND, "generate", "--database-url", server_url],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not own_analysis_databases(server_url, running.pid):  # the positive control
            assert running.poll() is None and time.monotonic() < deadline, running.communicate()
            time.sleep(0.1)
        running.send_signal(signal.SIGTERM)
        assert running.wait(timeout=60) == 130
    finally:
        running.kill()
    assert own_analysis_databases(server_url, running.pid) == []
    assert sorted(p.name for p in root.iterdir()) == ["queries", "schema.sql", "sqlc.yaml"]


def test_a_run_killed_outright_leaves_a_database_the_next_run_drops(
    tmp_path: Path, server_url: str
) -> None:
    """SIGKILL while the schema loads: the run can drop nothing (the control: its
    database is still there), and the next run on the same server drops it first."""
    root = stamped_project(tmp_path)
    (root / "schema.sql").write_text(STAMPED + "DO $$ BEGIN PERFORM pg_sleep(60); END $$;\n")
    running = subprocess.Popen([COMMAND, "generate", "--database-url", server_url], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while not own_analysis_databases(server_url, running.pid):
            assert running.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        running.kill()
        running.wait(timeout=60)
    finally:
        running.kill()
    assert len(own_analysis_databases(server_url, running.pid)) == 1
    (root / "schema.sql").write_text(STAMPED)
    done = command(root, "generate", "--database-url", server_url)
    assert (done.returncode, done.stderr) == (0, "")
    assert own_analysis_databases(server_url, running.pid) == []


def running_postgres_of(folder: Path) -> psutil.Process | None:
    """The postgres serving the cluster in ``folder``, if one runs."""
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if str(folder) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            return process
    return None


def test_a_temporary_cluster_killed_outright_is_stopped_by_the_next_run(tmp_path: Path) -> None:
    """SIGKILL while the schema loads on the temporary PostgreSQL 16 (no --database-url):
    the run can stop nothing (the control: its cluster's folder is there and its server
    runs), and the next run stops that server and deletes the folder first."""
    root = stamped_project(tmp_path / "project")
    (root / "schema.sql").write_text(STAMPED + "DO $$ BEGIN PERFORM pg_sleep(60); END $$;\n")
    temporary = Path(tempfile.mkdtemp(prefix="sqlc-killed-", dir="/tmp"))  # see above
    env = {**os.environ, "TMPDIR": str(temporary)}
    running = subprocess.Popen([COMMAND, "generate"], cwd=root, env=env)
    try:
        deadline = time.monotonic() + 60
        while not [c for c in temporary.glob("sqlc-gen-psycopg-pg-*") if running_postgres_of(c)]:
            assert running.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        running.kill()
        running.wait(timeout=60)
        [cluster] = temporary.glob("sqlc-gen-psycopg-pg-*")
        server = running_postgres_of(cluster)
        assert server is not None
        (root / "schema.sql").write_text(STAMPED)
        done = command_with(root, {"TMPDIR": str(temporary)}, "generate")
        assert (done.returncode, done.stderr) == (0, "")
        assert not cluster.exists()
        assert running_postgres_of(cluster) is None
    finally:
        running.kill()
        shutil.rmtree(temporary, ignore_errors=True)


def test_failing_generation_leaves_no_scratch_database(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path, "-- name: NoteAge :one\nSELECT nope FROM stamped;\n")
    assert generate(root) != 0
    assert 'column "nope" does not exist' in capfd.readouterr().err
    assert embedded_databases() == []


def test_a_schema_that_does_not_load_names_the_file_and_leaves_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path)
    (root / "schema.sql").write_text(STAMPED + "CREATE TABLE broken (id bigint REFERENCES nope);\n")
    assert generate(root) != 0
    err = capfd.readouterr().err
    assert f"{root / 'schema.sql'}:2: does not load into an empty database" in err
    assert 'relation "nope" does not exist' in err
    assert not (root / "out").exists()
    assert embedded_databases() == []


def test_a_project_without_sqlc_config_is_named(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stamped_project(tmp_path)
    (root / "sqlc.yaml").unlink()
    assert generate(root) != 0
    assert f"no sqlc configuration in {tmp_path}" in capfd.readouterr().err
    assert embedded_databases() == []


def test_each_sql_entry_is_analysed_on_its_own_schema(tmp_path: Path, server_url: str) -> None:
    """Two packages from two schemas: each entry gets its own database, so one query
    over a same-named column of another type gets that schema's answer."""
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
    with analysed.analysis_databases(tmp_path / "sqlc.yaml", server_url) as urls:
        assert sorted(urls) == [0, 1]
        assert configs.variable(1) == "SQLC_GEN_PSYCOPG_URI_B"
        with psycopg.connect(urls[1]) as conn:
            created = "SELECT atttypid::regtype::text FROM pg_attribute"
            created += " WHERE attrelid = 'stamped'::regclass AND attname = 'created'"
            assert conn.execute(created).fetchone() == ("date",)


def test_a_pg_dump_schema_loads_into_the_analysis_database(tmp_path: Path, server_url: str) -> None:
    """pg_dump's psql meta-commands (\\restrict, \\connect) are blanked as sqlc blanks
    them (schema_info.as_sqlc_reads); the server can't run them."""
    dump = (GOLDEN / "pg_dump_schema" / "schema.sql").read_text()
    assert "\n\\restrict " in dump and "\n\\connect " in dump
    stamped_project(tmp_path, "-- name: Slug :one\nSELECT slug FROM tickets WHERE id = $1;\n")
    (tmp_path / "schema.sql").write_text(dump)
    with (
        analysed.analysis_databases(tmp_path / "sqlc.yaml", server_url) as urls,
        psycopg.connect(urls[0]) as conn,
    ):
        assert conn.execute("SELECT count(*) FROM public.tickets").fetchone() == (0,)
        with pytest.raises(psycopg.errors.SyntaxError, match="restrict"):  # the control
            conn.execute(dump.encode())


def test_a_migrations_folder_loads_its_up_parts_in_sqlc_order(
    tmp_path: Path, server_url: str
) -> None:
    """`schema: migrations`: files in name order, golang-migrate's *.down.sql and hidden
    files skipped, a goose file's down section cut off; as the plugin reads them."""
    root = stamped_project(tmp_path, "-- name: Tag :one\nSELECT label FROM tag WHERE id = $1;\n")
    migrations = root / "migrations"
    migrations.mkdir()
    (migrations / "001_tag.up.sql").write_text("CREATE TABLE tag (id bigint PRIMARY KEY);\n")
    (migrations / "001_tag.down.sql").write_text("DROP TABLE tag;\n")
    (migrations / "002_label.sql").write_text(
        "-- +goose Up\nALTER TABLE tag ADD label text NOT NULL;\n"
        "-- +goose Down\nALTER TABLE tag DROP label;\n"
    )
    (migrations / ".002_draft.sql").write_text("DROP TABLE tag;\n")
    (root / "sqlc.yaml").write_text(
        (root / "sqlc.yaml").read_text().replace("schema: schema.sql", "schema: migrations")
    )
    with (
        analysed.analysis_databases(root / "sqlc.yaml", server_url) as urls,
        psycopg.connect(urls[0]) as conn,
    ):
        columns = conn.execute(
            "SELECT attname::text FROM pg_attribute WHERE attnum > 0"
            " AND attrelid = 'tag'::regclass ORDER BY attnum"
        ).fetchall()
        assert columns == [("id",), ("label",)]
    assert command(root, "generate", "--database-url", server_url).returncode == 0
    assert "label: str" in (root / "out" / "tiny" / "models.py").read_text()


# Errors at the right place: README's "Adding a table or a query" loop with a typo.

USERS = """\
CREATE TABLE users (
    id bigint PRIMARY KEY,
    username text NOT NULL,
    email text,
    display_name text NOT NULL,
    bio text NOT NULL,
    created_at timestamptz NOT NULL
);
"""
USER_QUERIES = """\
-- Create an account.
-- name: CreateUser :one
INSERT INTO users (id, username, email, display_name, bio, created_at)
VALUES (
    sqlc.arg(id), sqlc.arg(username), sqlc.narg(email), sqlc.arg(display_name),
    sqlc.arg(bio), now()
)
RETURNING *;

-- The user with this id.
-- name: GetUserByID :one
SELECT * FROM users WHERE id = sqlc.arg(id);

-- Look a user up by name.
-- name: GetUserByUsername :one
SELECT * FROM users WHERE lower(username) = lower(sqlc.arg(username));
"""


def users_project(root: Path, typo: tuple[str, str]) -> Path:
    """The users queries with one replacement on line 12, GetUserByID's SQL."""
    root.mkdir(exist_ok=True)
    project(root, USER_QUERIES)
    (root / "schema.sql").write_text(USERS)
    lines = USER_QUERIES.split("\n")
    assert lines[11].startswith("SELECT * FROM users WHERE id = ")
    lines[11] = lines[11].replace(*typo)
    (root / "queries" / "notes.sql").write_text("\n".join(lines))
    return root


def raw_database_run(root: Path, server_url: str) -> str:
    """Plain sqlc with a `database:` entry: the old way, which misplaces errors."""
    with analysed.analysis_databases(root / "sqlc.yaml", server_url) as urls:
        settings = configs.analysed(read_config(root / "sqlc.yaml"), urls)
        (root / "raw.yaml").write_text(json.dumps(settings))
        env = {configs.variable(0): urls[0]}
        done = configs.run_sqlc(root / "raw.yaml", env)
    (root / "raw.yaml").unlink()
    assert done.returncode == 1
    return done.stdout + done.stderr


def test_a_typo_in_a_select_star_query_is_reported_at_its_line_in_both_modes(
    tmp_path: Path, server_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A misspelt column on notes.sql:12 (GetUserByID) is reported at 12:27 with the
    query's name: by plue-db generate, by the plugin's command on any server and by its
    --static mode. The control: sqlc's own database-backed run puts it in the next
    query (it adds PostgreSQL's position in the expanded `SELECT *` to the query's start)."""
    root = users_project(tmp_path, ("WHERE id", "WHERE idd"))
    expected = 'queries/notes.sql:12:27: column "idd" does not exist (query GetUserByID)'
    assert generate(root) == 1
    assert capfd.readouterr().err.splitlines() == [expected]
    for mode in (["--database-url", server_url], ["--static"]):
        done = command(root, "generate", *mode)
        assert (done.returncode, done.stderr.splitlines()) == (1, [expected]), mode
    raw = raw_database_run(root, server_url)
    assert 'queries/notes.sql:16:1: column "idd" does not exist' in raw
    assert not (root / "out").exists()


def test_an_error_only_postgresql_sees_is_placed_and_names_the_static_fallback(
    tmp_path: Path, server_url: str
) -> None:
    """sqlc's static analysis accepts `username = 1 + now()` and a function no schema
    file defines; PostgreSQL refuses both. Each is reported at its own column of line 12
    with the query, and the message names the static fallback, which generates."""
    for typo, column, message in (
        ("WHERE id = sqlc.arg(id)", 62, "operator does not exist: integer + timestamp"),
        ("SELECT *", 11, "function helper(bigint) does not exist"),
    ):
        root = users_project(
            tmp_path / str(column),
            (typo, typo + " AND username = 1 + now()" if column == 62 else "SELECT *, helper(id)"),
        )
        done = command(root, "generate", "--database-url", server_url)
        first, fallback = done.stderr.splitlines()
        assert done.returncode == 1
        assert first.startswith(f"queries/notes.sql:12:{column}: {message}"), first
        assert first.endswith("(query GetUserByID)")
        assert fallback == explain.FALLBACK
        raw = raw_database_run(root, server_url)  # the control: sqlc's place is another
        assert f"queries/notes.sql:12:{column}: " not in raw and message in raw
        assert command(root, "generate", "--static").returncode == 0


def test_without_a_server_the_command_uses_a_temporary_embedded_cluster(tmp_path: Path) -> None:
    """No --database-url: a PostgreSQL 16 cluster in a temporary directory, gone after
    the run, and PostgreSQL's type for the age. A TMPDIR too long for the
    server's socket is one line naming the fix, not a traceback."""
    root = stamped_project(tmp_path / "project")
    # short (the socket lives in the data directory) and under /tmp, which pgserver's
    # own user can reach when the tests run as root
    temporary = Path(tempfile.mkdtemp(prefix="sqlc-embedded-", dir="/tmp"))
    done = command_with(root, {"TMPDIR": str(temporary)}, "generate")
    assert (done.returncode, done.stderr) == (0, "")
    assert "-> datetime.timedelta" in (root / "out" / "tiny" / "notes.py").read_text()
    assert list(temporary.glob("sqlc-gen-psycopg-*")) == []  # pgserver keeps its runtime-*
    shutil.rmtree(temporary)
    deep = tmp_path / ("x" * 90)
    deep.mkdir()
    refused = command_with(root, {"TMPDIR": str(deep)}, "generate")
    assert refused.returncode == 1
    [line] = refused.stderr.splitlines()
    assert line.startswith("sqlc-gen-psycopg-db generate: the embedded PostgreSQL did not start")
    assert line.endswith("set TMPDIR to a short, writable folder, or pass --database-url")


def test_errors_both_analyses_see_and_one_only_postgresql_sees_are_all_placed(
    tmp_path: Path, server_url: str
) -> None:
    """A typo (both analyses refuse it) in one query and an operator only PostgreSQL
    refuses in another: the typo at sqlc's static place; the other relocated from a
    static request made with the typo's query blanked (without it, the static run fails
    and gives no request). No static fallback is named: static fails too."""
    root = users_project(tmp_path, ("WHERE id", "WHERE idd"))
    queries = root / "queries" / "notes.sql"
    queries.write_text(queries.read_text().replace("lower(sqlc.arg(username))", "1 + now()"))
    done = command(root, "generate", "--database-url", server_url)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        'queries/notes.sql:12:27: column "idd" does not exist (query GetUserByID)',
        "queries/notes.sql:16:47: operator does not exist: integer + timestamp with time zone"
        " (query GetUserByUsername)",
    ]
    raw = raw_database_run(root, server_url)  # the control: sqlc places the typo elsewhere
    assert 'queries/notes.sql:16:1: column "idd" does not exist' in raw
    config = root / "sqlc.yaml"
    with analysed.analysis_databases(config, server_url) as urls:
        found, rewritten = explain.static_run(config, read_config(config), urls, [])
        assert rewritten == {} and [(e.line, e.column) for e in found] == [(12, 27)]
        _, rewritten = explain.static_run(config, read_config(config), urls, found)
        assert sorted(rewritten) == [
            ("notes.sql", "CreateUser"),
            ("notes.sql", "GetUserByUsername"),
        ]


def test_an_error_no_query_explains_keeps_sqlcs_place_and_says_so(
    tmp_path: Path, server_url: str
) -> None:
    """An error from the database-backed run that no query's PREPARE reproduces is not
    silently shown at sqlc's place: the line says that place need not be right."""
    root = users_project(tmp_path, ("", ""))
    config = root / "sqlc.yaml"
    output = "# package tiny\nqueries/notes.sql:16:1: something else went wrong\n"
    with analysed.analysis_databases(config, server_url) as urls:
        lines = explain.explain(config, read_config(config), urls, output).splitlines()
    assert lines == [
        "queries/notes.sql: something else went wrong (PostgreSQL's analysis; sqlc reports"
        " it at 16:1, which need not be its place)",
        explain.FALLBACK,
    ]
