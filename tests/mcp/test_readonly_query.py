"""Every escape we know of, tried against the read-only executor of the MCP ``query`` tool.

Each attempt runs against three safe configurations (all layers; the server-side
layers alone, without the statement guard; the guard alone is covered by the first)
and must be refused with nothing changed. Two deliberately unsafe variants get the
same attempts and must be caught escaping, which proves the checks can see an escape.

The attempts run in a scratch database of their own (created on the server under
test), because the unsafe variants really do create tables and delete rows; each test
starts from freshly created tables.

Over 400 lines on purpose: the catalogue of escapes is the point, and it reads best as
one list run against every configuration.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from plue_db.mcp import reader_role, readonly, sql_guard
from plue_db.mcp.readonly import (
    Limits,
    QueryError,
    QueryRefusedError,
    QueryResult,
    QueryTimeoutError,
)
from plue_db.schema.migrate import LOCK_KEY
from tests.concurrency import run_together
from tests.fixtures.fix_db import Conn

PLAYGROUND = """
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
CREATE TABLE public.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, username text);
INSERT INTO public.users (username) VALUES ('alice'), ('bob');
CREATE SEQUENCE public.tickets;
SELECT setval('public.tickets', 7);
CREATE PROCEDURE public.add_user(name text) LANGUAGE sql
    AS $$ INSERT INTO public.users (username) VALUES (name) $$;
CREATE FUNCTION public.sneaky(name text) RETURNS bigint LANGUAGE sql
    AS $$ INSERT INTO public.users (username) VALUES (name) RETURNING id $$;
CREATE FUNCTION public.bump(a int, b int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT a + b';
CREATE OPERATOR public.|+| (LEFTARG = int, RIGHTARG = int, FUNCTION = public.bump);
"""
DEEP = "SELECT " + "+".join(["1"] * 20_001)  # the 20,000-term expression
LIMITS = Limits(statement_timeout_ms=2000, lock_timeout_ms=500)
Run = Callable[[str], QueryResult]


@pytest.fixture(scope="module")
def reader_limits() -> Limits:
    return LIMITS


@pytest.fixture
def admin(scratch_url: str) -> Iterator[Conn]:
    """A superuser connection to the scratch database, reset to the playground tables
    (the schema is new, so the reader's grants are renewed, as a server start does)."""
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute(PLAYGROUND.encode())
        reader_role.ensure_reader_role(scratch_url)
        yield conn


@dataclass
class Witnesses:
    """Things outside the executor that an escape would disturb."""

    victim: Conn
    listener: Conn
    marker: Path


@pytest.fixture
def witnesses(scratch_url: str, admin: Conn) -> Iterator[Witnesses]:
    marker = Path(f"/tmp/plue_mcp_escape_{uuid.uuid4().hex}")
    with (
        psycopg.connect(scratch_url, autocommit=True) as victim,
        psycopg.connect(scratch_url, autocommit=True) as listener,
    ):
        listener.execute("LISTEN plue_escape")
        yield Witnesses(victim, listener, marker)
    marker.unlink(missing_ok=True)


def snapshot(admin: Conn) -> dict[str, object]:
    """The visible state of the scratch database that no read may change."""
    queries = {
        "users": "SELECT string_agg(u::text, ';' ORDER BY id) FROM users u",
        "relations": "SELECT string_agg(relname || ':' || relnatts, ',' ORDER BY relname)"
        " FROM pg_class WHERE relnamespace = 'public'::regnamespace",
        "sequence": "SELECT (last_value, is_called)::text FROM tickets",
        "large_objects": "SELECT count(*) FROM pg_largeobject_metadata",
        "advisory_locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        "prepared_xacts": "SELECT count(*) FROM pg_prepared_xacts",
    }
    state: dict[str, object] = {}
    for key, query in queries.items():
        row = admin.execute(query.encode()).fetchone()
        state[key] = None if row is None else row[0]
    return state


ESCAPES = {
    "insert": "INSERT INTO users (username) VALUES ('mallory')",
    "update": "UPDATE users SET username = 'mallory'",
    "delete": "DELETE FROM users",
    "truncate": "TRUNCATE users",
    "create": "CREATE TABLE x (a int)",
    "drop": "DROP TABLE users",
    "alter": "ALTER TABLE users ADD COLUMN evil int",
    "select_into": "SELECT * INTO stolen FROM users",
    "commit_create": "COMMIT; CREATE TABLE x (a int)",
    "commit_delete": "COMMIT; DELETE FROM users",
    "rollback_insert": "ROLLBACK; INSERT INTO users (username) VALUES ('mallory')",
    "select_drop": "SELECT 1; DROP TABLE users",
    "writable_cte_delete": "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
    "writable_cte_insert": "WITH i AS (INSERT INTO users (username) VALUES ('m') RETURNING id)"
    " SELECT id FROM i",
    "set_read_write": "SET TRANSACTION READ WRITE",
    "set_config_read_only": "SELECT set_config('transaction_read_only', 'off', false)",
    "set_config_role": "SELECT set_config('role', 'postgres', false)",
    "reset_role": "RESET ROLE",
    "set_role": "SET ROLE postgres",
    "session_authorization": "SET SESSION AUTHORIZATION postgres",
    "copy_to_program": "COPY users TO PROGRAM 'touch {marker}'",
    "terminate_backend": "SELECT pg_terminate_backend({victim_pid})",
    "lo_import": "SELECT lo_import('/etc/passwd')",
    "read_file": "SELECT pg_read_file('/etc/passwd')",
    "call": "CALL add_user('mallory')",
    "do": "DO $$ BEGIN INSERT INTO users (username) VALUES ('mallory'); END $$",
    "volatile_function": "SELECT sneaky('mallory')",
    "nextval": "SELECT nextval('tickets')",
    "setval": "SELECT setval('tickets', 100)",
    "lock_table": "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
    "select_for_update": "SELECT * FROM users FOR UPDATE",
    "notify": "NOTIFY plue_escape, 'x'",
    "pg_notify": "SELECT pg_notify('plue_escape', 'x')",
    "prepare_execute": "PREPARE p AS DELETE FROM users; EXECUTE p",
    "prepare": "PREPARE p AS SELECT 1",
    "vacuum": "VACUUM users",
    "advisory_lock": "SELECT pg_advisory_lock(42)",
    "advisory_xact_lock": "SELECT pg_advisory_xact_lock(42)",
    "txid_current": "SELECT txid_current()",
    "pg_current_xact_id": "SELECT pg_current_xact_id()",
    "pg_sleep": "SELECT pg_sleep(0.01)",
}

# Calls only the statement guard refuses. A session advisory lock outlives ROLLBACK
# (DISCARD ALL releases it); a notification is only sent on COMMIT; a transaction lock
# holds for the call; an xid is consumed; a sleep lasts up to the timeout. The witnesses
# prove none outlives the call; test_advisory_lock_cannot_stall_the_migrator shows why
# the guard must still refuse them.
NOT_REFUSED_BY_SERVER = {
    "advisory_lock",
    "pg_notify",
    "advisory_xact_lock",
    "txid_current",
    "pg_current_xact_id",
    "pg_sleep",
}


def attempt(run: Run, case: str, admin: Conn, witnesses: Witnesses) -> list[str]:
    """Try one escape; return what went wrong (empty when it was refused and harmless)."""
    text = ESCAPES[case].format(
        marker=witnesses.marker, victim_pid=witnesses.victim.info.backend_pid
    )
    before = snapshot(admin)
    problems = []
    try:
        run(text)
        problems.append("not refused")
    except QueryError as exc:
        assert str(exc), "a refusal must say why"
    after = snapshot(admin)
    problems += [
        f"{key} changed: {before[key]} -> {after[key]}"
        for key in before
        if before[key] != after[key]
    ]
    if witnesses.marker.exists():
        problems.append(f"{witnesses.marker} was created")
    try:
        witnesses.victim.execute("SELECT 1")
    except psycopg.OperationalError:
        problems.append("another backend was terminated")
    if list(witnesses.listener.notifies(timeout=0.2, stop_after=1)):
        problems.append("a notification was delivered")
    return problems


def guarded(executor: readonly.ReadonlyExecutor) -> Run:
    return executor.query


@pytest.fixture
def server_layers(reader_url: str) -> Iterator[Run]:
    """The executor without its statement guard: role, READ ONLY, cursor, reset."""
    with psycopg.connect(reader_url, autocommit=True) as conn:
        yield lambda text: readonly.execute_readonly(conn, text, LIMITS)


@pytest.fixture
def unsafe_simple_protocol(scratch_url: str) -> Iterator[Run]:
    """NEGATIVE CONTROL: BEGIN READ ONLY as the superuser, text sent as a simple query."""

    def run(text: str) -> QueryResult:
        try:
            conn.execute("BEGIN READ ONLY")
            cur = conn.execute(text.encode())
            rows = cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise QueryError(str(exc)) from exc
        finally:
            conn.execute("ROLLBACK")
        return QueryResult(columns=[], rows=[list(row) for row in rows])

    with psycopg.connect(scratch_url, autocommit=True) as conn:
        yield run


@pytest.fixture
def unsafe_set_role(scratch_url: str) -> Iterator[Run]:
    """NEGATIVE CONTROL: every server-side layer, but as the superuser after SET ROLE reader."""
    with psycopg.connect(scratch_url, autocommit=True, prepare_threshold=None) as conn:

        def run(text: str) -> QueryResult:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(reader_role.READER_ROLE)))
            try:
                return readonly.execute_readonly(conn, text, LIMITS)
            finally:
                conn.execute("RESET ROLE")

        yield run


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_every_escape_is_refused_by_the_executor(
    case: str, executor: readonly.ReadonlyExecutor, admin: Conn, witnesses: Witnesses
) -> None:
    assert attempt(guarded(executor), case, admin, witnesses) == []


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_every_escape_is_refused_by_the_server_layers_alone(
    case: str, server_layers: Run, admin: Conn, witnesses: Witnesses
) -> None:
    """Without the guard two calls run, and only rollback and DISCARD ALL undo them."""
    expected = ["not refused"] if case in NOT_REFUSED_BY_SERVER else []
    assert attempt(server_layers, case, admin, witnesses) == expected


@pytest.mark.parametrize(
    ("case", "seen"),
    [
        ("commit_create", "relations changed"),
        ("commit_delete", "users changed"),
        ("rollback_insert", "users changed"),
        ("set_config_role", "not refused"),
        ("copy_to_program", "was created"),
        ("terminate_backend", "terminated"),
        ("read_file", "not refused"),
    ],
)
def test_negative_control_simple_protocol_as_superuser_escapes(
    case: str, seen: str, unsafe_simple_protocol: Run, admin: Conn, witnesses: Witnesses
) -> None:
    problems = attempt(unsafe_simple_protocol, case, admin, witnesses)
    assert any(seen in problem for problem in problems), problems


def test_negative_control_set_role_escapes_through_set_config(
    unsafe_set_role: Run, admin: Conn, witnesses: Witnesses
) -> None:
    """Why the reader must log in as itself: after SET ROLE the session user is still root."""
    assert attempt(unsafe_set_role, "set_config_role", admin, witnesses) == ["not refused"]
    assert unsafe_set_role("SELECT current_user").rows == [[reader_role.READER_ROLE]]


def test_guard_messages_name_what_is_wrong() -> None:
    cases = {
        "SELECT 1; SELECT 2": "exactly one statement; got 2",
        "DELETE FROM users": "DELETE is not allowed: the query tool only reads",
        "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d": "DELETE inside the query",
        "SELECT * FROM users FOR SHARE": "row locks",
        "SELEC 1": "not valid SQL",
        "SELECT * INTO t FROM users": "SELECT INTO",
        "": "the query is empty",
        "SELECT 'a\x00b'": "NUL byte (\\x00) at character 9",
        "SELECT '\ud800'": "lone surrogate at character 8",
        "SELECT '" + "x" * 100_000 + "'": "at most 100000 are accepted",
        DEEP: "statement too deeply nested or complex: 40002 tokens",
    }
    for text, expected in cases.items():
        with pytest.raises(QueryRefusedError) as caught:
            sql_guard.check_statement(text)
        assert expected in str(caught.value), (text, str(caught.value))
    assert sql_guard.check_statement("SELECT 1 ; -- done").text == "SELECT 1"


def test_negative_control_parsing_a_deep_expression_unbounded_crashes() -> None:
    """Why the guard counts tokens before parsing: pglast recurses per operator and a
    30,000-term sum kills the process (no exception to catch)."""
    deeper = "SELECT " + "+".join(["1"] * 30_000)
    code = f"import pglast; pglast.parse_sql({deeper!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=120, check=False
    )
    assert done.returncode < 0, done.returncode  # killed by a signal (SIGSEGV)


REFUSED_CALLS = {
    "SELECT pg_catalog.set_config('role', 'postgres', false)": "set_config(text,text,boolean)",
    "SELECT pg_advisory_xact_lock(42)": "function pg_advisory_xact_lock(bigint) is not allowed",
    "SELECT * FROM pg_try_advisory_xact_lock(42)": "pg_try_advisory_xact_lock(bigint)",
    "SELECT txid_current()": "txid_current() is not allowed: PostgreSQL marks it parallel unsafe",
    "SELECT pg_current_xact_id()": "pg_current_xact_id() is not allowed",
    "SELECT pg_sleep(0.01)": "pg_sleep(double precision) is not allowed: PostgreSQL marks it vol",
    "SELECT nextval('tickets')": "nextval(regclass)",
    "SELECT lo_creat(-1)": "lo_creat(integer)",
    "SELECT pg_notify('plue_escape', 'x')": "pg_notify(text,text)",
    "SELECT count(*) FROM users WHERE id = sneaky('m')": "function sneaky(text)",
    "SELECT 1 |+| 2": "operator |+| calls bump(integer,integer), which is not allowed",
}


def test_calls_are_refused_by_what_postgres_says_about_them(
    executor: readonly.ReadonlyExecutor, admin: Conn
) -> None:
    for text, expected in REFUSED_CALLS.items():
        with pytest.raises(QueryRefusedError) as caught:
            executor.query(text)
        assert expected in str(caught.value), (text, str(caught.value))
    harmless = executor.query(
        "SELECT random() < 2, now() <= clock_timestamp(), pg_relation_size('users') > 0,"
        " count(*), current_schema() FROM users"
    )
    assert harmless.rows == [[True, True, True, 2, "public"]]


def test_advisory_lock_cannot_stall_the_migrator(
    executor: readonly.ReadonlyExecutor, server_layers: Run, scratch_url: str, admin: Conn
) -> None:
    """The issue's attack: hold the migrator's lock key while sleeping. NEGATIVE CONTROL:
    the server-side layers alone let it through, and the migrator is seen blocked."""
    text = f"SELECT pg_advisory_xact_lock({LOCK_KEY}), pg_sleep(1)"

    def migrator_blocked(run: Run) -> bool:
        blocked = False
        with ThreadPoolExecutor(1) as pool, psycopg.connect(scratch_url, autocommit=True) as m:
            future = pool.submit(run, text)
            while not future.done():
                row = m.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
                if row == (True,):
                    m.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
                blocked = blocked or row == (False,)
                time.sleep(0.02)
            try:
                future.result()
            except QueryRefusedError as exc:
                assert "pg_advisory_xact_lock(bigint) is not allowed" in str(exc)
        return blocked

    assert migrator_blocked(executor.query) is False
    assert migrator_blocked(server_layers) is True


def test_select_returns_columns_and_json_safe_rows(
    executor: readonly.ReadonlyExecutor, admin: Conn
) -> None:
    result = executor.query(
        "SELECT 1::int AS i, 1.50::numeric AS d, '\\x00ff'::bytea AS b,"
        " '2024-02-29 12:00:00+00'::timestamptz AS ts, '2024-02-29'::date AS day,"
        " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id, '{\"k\": [1, null]}'::jsonb AS j,"
        " interval '90 minutes' AS span, '10.0.0.1'::inet AS ip, ARRAY[1, 2] AS arr,"
        " NULL::text AS nothing, 'NaN'::float8 AS nan"
    )
    assert result.columns == [
        "i", "d", "b", "ts", "day", "id", "j", "span", "ip", "arr", "nothing", "nan"
    ]  # fmt: skip
    row = result.rows[0]
    assert row[:6] == [
        1,
        "1.50",
        "\\x00ff",
        row[3],
        "2024-02-29",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ]
    assert str(row[3]).startswith("2024-02-29T") and str(row[3])[-6] in "+-"
    assert row[6:] == [{"k": [1, None]}, "1:30:00", "10.0.0.1", [1, 2], None, "nan"]
    assert json.loads(json.dumps(result.as_dict()))["row_count"] == 1
    assert result.truncated is False
    users = executor.query("SELECT username FROM users ORDER BY id")
    assert users.rows == [["alice"], ["bob"]]


def test_ordering_survives_and_undecodable_values_are_named(
    executor: readonly.ReadonlyExecutor, admin: Conn
) -> None:
    """The size-bounding wrapper keeps the statement's order; a value psycopg cannot
    load (an infinite timestamp) gets a message that says what to do."""
    ordered = executor.query("SELECT n FROM generate_series(1, 600) n ORDER BY n DESC")
    assert ordered.rows[:3] == [[600], [599], [598]] and len(ordered.rows) == LIMITS.max_rows
    with pytest.raises(QueryError, match=r"cannot be read: .*infinity.*; cast it to text"):
        executor.query("SELECT 'infinity'::timestamptz AS forever")
    assert executor.query("SELECT 'infinity'::timestamptz::text").rows == [["infinity"]]


RUNAWAY = "SELECT count(*) FROM generate_series(1, 1e5) a, generate_series(1, 1e5) b"


def most_queries_at_once(reader_url: str, scratch_url: str, max_concurrent: int) -> int:
    """Start four runaway queries together through an executor allowing
    ``max_concurrent``; return the most seen running at once in pg_stat_activity."""
    limits = Limits(statement_timeout_ms=1500, max_concurrent=max_concurrent)
    executor = readonly.ReadonlyExecutor(reader_url, limits)
    seen = 0

    def call(_: int) -> str:
        try:
            executor.query(RUNAWAY)
        except QueryError as exc:
            return type(exc).__name__
        return "finished"

    try:
        with ThreadPoolExecutor(1) as pool, psycopg.connect(scratch_url, autocommit=True) as admin:
            calls = pool.submit(run_together, 4, call)
            while not calls.done():
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND usename = %s AND state = 'active' AND query LIKE 'FETCH%%'",
                    (reader_role.READER_ROLE,),
                ).fetchone()
                seen = max(seen, row[0] if row else 0)
                time.sleep(0.05)
            assert set(calls.result()) <= {"QueryTimeoutError", "QueryRefusedError"}
    finally:
        executor.close()
    return seen


def test_at_most_max_concurrent_queries_run_at_once(reader_url: str, scratch_url: str) -> None:
    """NEGATIVE CONTROL: allowing four, four are seen, so the check can see them."""
    assert most_queries_at_once(reader_url, scratch_url, 2) == 2
    assert most_queries_at_once(reader_url, scratch_url, 4) == 4


def test_runaway_query_is_cut_off_by_the_timeout(executor: readonly.ReadonlyExecutor) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="statement timeout"):
        executor.query(RUNAWAY)
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 5, elapsed
    assert executor.query("SELECT 1 AS ok").rows == [[1]], "the pool serves again afterwards"


# Issue 17's query: 500 rows of about 8 ms each; no FETCH alone comes near a 1 s limit
# while the whole takes several seconds.
PER_ROW = (
    "SELECT g, (SELECT count(*) FROM generate_series(1, 300 + g * 0) a,"
    " generate_series(1, 300) b) FROM generate_series(1, 500) g"
)
ONE_SECOND = Limits(statement_timeout_ms=1000)


def per_fetch_timeout(reader_url: str) -> tuple[int, float]:
    """NEGATIVE CONTROL: the executor's transaction before issue 17, its statement
    timeout set once, which PostgreSQL restarts at every FETCH. Rows read, seconds.
    FETCHes of 10 rows, so that no single one nears the limit on a loaded machine (50
    did, once): what is shown is the restart, not the batch size."""
    with psycopg.connect(reader_url, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("BEGIN READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', '1000', true)")
        with conn.cursor(name="per_fetch") as cur:
            cur.execute(readonly.bounded(conn, PER_ROW, 2, ONE_SECOND.max_bytes))
            rows = 0
            while batch := cur.fetchmany(10):
                rows += len(batch)
        conn.rollback()
    return rows, time.monotonic() - started


@pytest.mark.parametrize("timeout", ["one deadline", "per fetch"])
def test_one_deadline_bounds_the_declare_and_every_fetch(reader_url: str, timeout: str) -> None:
    if timeout == "per fetch":
        rows, elapsed = per_fetch_timeout(reader_url)
        assert rows == 500 and elapsed > 1.5, elapsed  # every row, well past the second
        return
    executor = readonly.ReadonlyExecutor(reader_url, ONE_SECOND)
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError) as deadline:
            executor.query(PER_ROW)
        elapsed = time.monotonic() - started
        with pytest.raises(QueryTimeoutError) as plain:
            executor.query(RUNAWAY)  # one statement past the limit
        assert executor.query("SELECT 1 AS ok").rows == [[1]], "the pool serves again"
    finally:
        executor.close()
    assert 0.95 < elapsed < 1.4, elapsed
    with pytest.raises(QueryTimeoutError) as between:  # the deadline passed between FETCHes
        readonly._Deadline(0).left_ms()
    message = "query cancelled by its time limit: canceling statement due to statement timeout"
    assert str(deadline.value) == str(plain.value) == str(between.value) == message


def test_query_blocked_by_a_lock_fails_after_lock_timeout(
    executor: readonly.ReadonlyExecutor, scratch_url: str, admin: Conn
) -> None:
    with psycopg.connect(scratch_url) as holder:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="lock timeout"):
            executor.query("SELECT count(*) FROM users")
        assert time.monotonic() - started < 2
        holder.rollback()


def test_huge_result_is_capped_to_the_row_cap(executor: readonly.ReadonlyExecutor) -> None:
    started = time.monotonic()
    result = executor.query("SELECT generate_series(1, 1000000000) AS n")
    assert time.monotonic() - started < 2
    assert result.rows == [[n] for n in range(1, LIMITS.max_rows + 1)]
    assert result.truncated is True
    assert result.truncated_reason == f"row cap of {LIMITS.max_rows} rows"
    exact = executor.query(f"SELECT generate_series(1, {LIMITS.max_rows}) AS n")
    assert len(exact.rows) == LIMITS.max_rows and exact.truncated is False


def test_wide_result_is_capped_by_size(scratch_url: str, reader_url: str) -> None:
    small = readonly.ReadonlyExecutor(reader_url, Limits(max_bytes=10_000))
    try:
        result = small.query("SELECT repeat('x', 1000) AS wide FROM generate_series(1, 100)")
    finally:
        small.close()
    assert result.truncated is True and result.truncated_reason == "size cap of 10000 bytes"
    assert 0 < len(result.rows) < 100
    assert len(json.dumps(result.rows)) <= 10_000


def test_reader_role_creation_is_idempotent_and_race_safe(scratch_url: str) -> None:
    role = f"plue_mcp_race_{uuid.uuid4().hex[:8]}"
    try:
        urls = run_together(8, lambda _: reader_role.ensure_reader_role(scratch_url, role))
        assert len(urls) == 8 and len(set(urls)) == 1
        with psycopg.connect(urls[0], autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_user, current_setting('default_transaction_read_only'),"
                " pg_has_role('pg_read_all_data', 'USAGE'), r.rolsuper"
                " FROM pg_roles r WHERE r.rolname = current_user"
            ).fetchone()
        assert row == (role, "on", False, False)
    finally:
        with psycopg.connect(scratch_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_login_that_can_write_is_refused(scratch_url: str, admin: Conn) -> None:
    with pytest.raises(reader_role.ReaderSetupError, match="superuser"):
        readonly.ReadonlyExecutor(scratch_url)
    role = f"plue_mcp_writer_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        admin.execute(sql.SQL("GRANT INSERT ON users TO {}").format(sql.Identifier(role)))
        with pytest.raises(reader_role.ReaderSetupError, match=r"can write to table public\.users"):
            readonly.ReadonlyExecutor(reader_role.with_user(scratch_url, role))
    finally:
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_limits_from_env_validates_and_names_the_variable() -> None:
    assert Limits.from_env({"PLUE_MCP_MAX_ROWS": "20"}) == Limits(max_rows=20)
    with pytest.raises(ValueError, match="PLUE_MCP_STATEMENT_TIMEOUT_MS"):
        Limits.from_env({"PLUE_MCP_STATEMENT_TIMEOUT_MS": "five"})
