"""Read-only marking, judged by PostgreSQL itself: a hot standby runs what we mark
read-only and refuses what we mark write.

Every Plue function in generated/plue_queries/manifest.json is sent to a real replica
(NULL for every parameter; a :copyfrom opens its COPY): read-only ones must succeed,
write ones must fail with PostgreSQL's read-only error (25006). A table of
hand-picked statements (locking clauses, data-modifying WITH, nextval, user functions
of each volatility) does the same, with a naive "every SELECT is read-only" rule as the
negative control. Generated write functions refuse a ``conn.read_only`` connection
before anything is sent (the transaction never even begins).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from plue_queries import agent, issues, users, workflows
from plue_queries import aio as aio_queries
from plue_queries.types import ReadOnlyConnectionError
from sqlc_gen_psycopg.access import classify
from sqlc_gen_psycopg.schema_info import read_schema

from plue_db.servers import replicas
from tests.fixtures.fix_db import Conn
from tests.fixtures.fix_replicas import DBNAME
from tests.paths import ROOT, SCHEMA

MANIFEST = ROOT / "generated/plue_queries/manifest.json"


def on_standby(replica: replicas.Node, sql: str, nparams: int, *, copy: bool = False) -> str:
    """``"ok"`` if the replica runs ``sql`` with NULL parameters, else the error's SQLSTATE."""
    with psycopg.connect(replica.url(DBNAME), autocommit=True) as conn:
        try:
            with psycopg.RawCursor(conn) as cur:
                if copy:
                    with cur.copy(sql):
                        pass
                else:
                    cur.execute(sql, [None] * nparams)
        except psycopg.Error as exc:
            return exc.sqlstate or type(exc).__name__
    return "ok"


def test_every_plue_function_marking_agrees_with_a_hot_standby(
    cluster: replicas.Cluster,
) -> None:
    functions = json.loads(MANIFEST.read_text())["functions"]
    replica = cluster.replicas[0]
    wrong = []
    verdicts = {True: 0, False: 0}
    for fn in functions:
        sql = fn["copy_sql"] or fn["sql"]
        got = on_standby(replica, sql, len(fn["params"]), copy=bool(fn["copy_sql"]))
        expected = "ok" if fn["read_only"] else "25006"  # read_only_sql_transaction
        if got != expected:
            wrong.append(f"{fn['module']}.{fn['name']}: marked {fn['read_only']}, standby {got}")
        verdicts[fn["read_only"]] += 1
    assert wrong == []
    # Both kinds are well represented: the test cannot pass by marking everything alike.
    assert verdicts[True] >= 100 and verdicts[False] >= 100, verdicts


@dataclass(frozen=True)
class Case:
    sql: str
    read_only: bool
    standby: str  # "ok" or the SQLSTATE the standby answers with


CASES = [
    Case("SELECT id, username FROM users WHERE id = 1", True, "ok"),
    Case("VALUES (1), (2)", True, "ok"),
    Case("SELECT count(*), max(created_at) FROM issues", True, "ok"),
    Case("SELECT user_may_sign_in(1)", True, "ok"),  # STABLE in schema.sql
    Case("SELECT public.user_may_sign_in(1)", True, "ok"),
    Case("SELECT rate_limit_window('1 minute')", True, "ok"),  # IMMUTABLE
    Case("SELECT pg_catalog.timezone('UTC', now())", True, "ok"),
    Case("SELECT id FROM users FOR UPDATE", False, "25006"),
    Case("SELECT id FROM users FOR NO KEY UPDATE SKIP LOCKED", False, "25006"),
    Case("SELECT id FROM users FOR SHARE", False, "25006"),
    Case("SELECT id FROM users WHERE id IN (SELECT id FROM users FOR KEY SHARE)", False, "25006"),
    Case(
        "WITH gone AS (DELETE FROM users WHERE false RETURNING id) SELECT count(*) FROM gone",
        False,
        "25006",
    ),
    Case("SELECT nextval('users_id_seq')", False, "25006"),
    Case("SELECT 1 UNION ALL SELECT setval('users_id_seq', 5)", False, "25006"),
    Case("SELECT get_next_issue_number(1)", False, "25006"),  # VOLATILE: it UPDATEs
    Case("SELECT * INTO TEMP copied FROM users", False, "25006"),
    Case("SELECT txid_current()", False, "25006"),  # an unknown built-in: a write
    Case("INSERT INTO labels (repository_id, name, color) VALUES (1, 'x', 'fff')", False, "25006"),
    # Writes by policy although a standby runs them: a lock or setting taken on a
    # replica protects nothing on the primary; a notification reaches no listener.
    Case("SELECT pg_advisory_lock(42)", False, "ok"),
    Case("SELECT set_config('work_mem', '8MB', false)", False, "ok"),
]


def test_statement_table_agrees_with_a_hot_standby(cluster: replicas.Cluster) -> None:
    volatility = read_schema([SCHEMA]).volatility
    replica = cluster.replicas[0]
    naive_misses = []
    for case in CASES:
        access = classify(case.sql, volatility)
        assert access.read_only is case.read_only, (case.sql, access)
        assert access.read_only or access.reason, case.sql
        got = on_standby(replica, case.sql, 0)
        assert got == case.standby, (case.sql, got)
        assert not (access.read_only and got != "ok"), case.sql  # never wrongly read-only
        naive = case.sql.lstrip().upper().startswith(("SELECT", "VALUES"))
        if naive and got != "ok":
            naive_misses.append(case.sql)
    # Negative control: "every SELECT is read-only" sends statements a standby refuses.
    assert len(naive_misses) >= 8, naive_misses


@pytest.fixture
def read_only_conn(database_url: str) -> Iterator[Conn]:
    with psycopg.connect(database_url) as conn:
        conn.read_only = True
        yield conn


def test_write_functions_refuse_a_read_only_connection_before_sending(
    read_only_conn: Conn,
) -> None:
    conn = read_only_conn
    calls: dict[str, Callable[[], object]] = {
        "create_user": lambda: users.create_user(
            conn, username="ro", display_name="", bio="", is_admin=False
        ),
        "delete_issue": lambda: issues.delete_issue(conn, id=1),
        "move_pinned_issue": lambda: issues.move_pinned_issue(conn, issue_id=1, position=1),
        "attach_labels": lambda: issues.attach_labels(
            conn, [issues.AttachLabelsParams(issue_id=1, label_id=1)]
        ),
        "copy_workflow_logs": lambda: workflows.copy_workflow_logs(conn, []),
        "delete_session": lambda: agent.delete_session(conn, id=1),
    }
    for name, call in calls.items():
        with pytest.raises(ReadOnlyConnectionError, match=rf"^{name.removeprefix('iter_')} writes"):
            call()
        # Nothing was sent: psycopg would have begun a (read-only) transaction first.
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE, name
    # A read-only function runs on the same connection, inside BEGIN READ ONLY.
    assert users.get_user_by_id(conn, id=-1) is None
    assert conn.info.transaction_status.name == "INTRANS"
    conn.rollback()
    # Control: the same write sent as raw SQL reaches the server, which refuses it.
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM issues WHERE id = 1")
    assert conn.info.transaction_status.name == "INERROR"


def test_write_functions_run_when_the_connection_is_not_read_only(
    read_only_conn: Conn,
) -> None:
    """Positive control for the guard: the flag, not the function, refuses."""
    conn = read_only_conn
    conn.read_only = False
    assert issues.delete_issue(conn, id=-1) == 0
    conn.rollback()


def test_async_write_functions_refuse_a_read_only_connection(database_url: str) -> None:
    async def run() -> psycopg.pq.TransactionStatus:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await conn.set_read_only(True)
            with pytest.raises(ReadOnlyConnectionError, match=r"^delete_issue writes"):
                await aio_queries.issues.delete_issue(conn, id=1)
            return conn.info.transaction_status

    assert asyncio.run(run()) == psycopg.pq.TransactionStatus.IDLE


def test_read_only_registry_matches_the_manifest() -> None:
    """Each module's READ_ONLY_FUNCTIONS is what the runtime routes by; the manifest
    is what reviewers read. They come from one model and must agree."""
    import importlib

    functions = json.loads(MANIFEST.read_text())["functions"]
    for module_name in {fn["module"] for fn in functions}:
        module = importlib.import_module(f"plue_queries.{module_name}")
        twin = importlib.import_module(f"plue_queries.aio.{module_name}")
        expected = set()
        for fn in functions:
            if fn["module"] == module_name and fn["read_only"]:
                expected.add(fn["name"])
                if fn["stream"]:
                    expected.add(fn["stream"])
        assert expected == module.READ_ONLY_FUNCTIONS, module_name
        assert expected == twin.READ_ONLY_FUNCTIONS, module_name
