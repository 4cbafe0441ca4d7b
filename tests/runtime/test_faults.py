"""Faults under a running workload: killed backends, a restarted server, lock waits.

Each test drives the generated functions through a real pool on a real PostgreSQL and
checks what a caller relies on: an acknowledged write is durable, a failed call raises
an error the caller can act on (never hangs), and the pool heals without help.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from plue_queries import enums, issues, models, workflows
from psycopg import errors

from plue_db.pool import SyncPool, Timeouts, open_pool
from tests.factories import (
    make_issue,
    make_repo,
    make_user,
    make_workflow_definition,
    make_workflow_run,
)
from tests.fixtures.fix_db import Conn, fresh_database
from tests.paths import SCHEMA

WORKERS = 8
FAULT_SECONDS = 10.0
KILL_EVERY_S = 0.05
PROBE_TIMEOUT_S = 0.2
POOL_TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def fault_database_url(server_url: str) -> Iterator[str]:
    """A database of its own, so the killer may end every other backend in it."""
    with fresh_database(server_url, SCHEMA) as url:
        yield url


@dataclass
class Ledger:
    """What one worker saw: every acknowledged write by id, and every failure."""

    repo_id: int
    definition: models.WorkflowDefinition
    attempted: int = 0
    issue_ids: list[int] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    step_ids: list[int] = field(default_factory=list)
    log_ids: list[int] = field(default_factory=list)
    failures: list[psycopg.OperationalError] = field(default_factory=list)
    unexpected: list[BaseException] = field(default_factory=list)
    last_success: float = 0.0

    @property
    def acknowledged(self) -> int:
        return sum(map(len, (self.issue_ids, self.comment_ids, self.run_ids, self.log_ids)))


def _new_issue(conn: Conn, ledger: Ledger) -> Callable[[], None]:
    issue = issues.create_issue(
        conn,
        repository_id=ledger.repo_id,
        title="Push rejected under load",
        body="",
        author_id=None,
        milestone_id=None,
        due_date=None,
    )
    return lambda: ledger.issue_ids.append(issue.id)


def _new_comment(conn: Conn, ledger: Ledger) -> Callable[[], None]:
    if not ledger.issue_ids:
        return _new_issue(conn, ledger)
    comment = issues.create_comment(
        conn, issue_id=ledger.issue_ids[-1], author_id=None, body="Seen it too."
    )
    return lambda: ledger.comment_ids.append(comment.id)


def _new_run(conn: Conn, ledger: Ledger) -> Callable[[], None]:
    """A run and its first step: one unit, committed together by the pool."""
    run = make_workflow_run(conn, ledger.definition, commit_id=None)
    step = workflows.create_workflow_step(
        conn, run_id=run.id, name="build", position=0, depends_on=[]
    )

    def record() -> None:
        ledger.run_ids.append(run.id)
        ledger.step_ids.append(step.id)

    return record


def _new_log(conn: Conn, ledger: Ledger) -> Callable[[], None]:
    if not ledger.run_ids:
        return _new_run(conn, ledger)
    line = workflows.append_workflow_log(
        conn,
        run_id=ledger.run_ids[-1],
        step_id=ledger.step_ids[-1],
        stream=enums.LogStream.STDOUT,
        content="compiling plue-db",
    )
    return lambda: ledger.log_ids.append(line.id)


OPERATIONS = (_new_issue, _new_comment, _new_run, _new_log)


def _work(pool: SyncPool, ledger: Ledger, done: threading.Event) -> None:
    """Write until told to stop; record a write only once its commit came back."""
    step = 0
    while not done.is_set():
        operation = OPERATIONS[step % len(OPERATIONS)]
        step += 1
        ledger.attempted += 1
        try:
            with pool.connection() as conn:
                record = operation(conn, ledger)
        except psycopg.OperationalError as exc:
            ledger.failures.append(exc)
        except BaseException as exc:  # reported by the test, not lost
            ledger.unexpected.append(exc)
            return
        else:
            record()
            ledger.last_success = time.monotonic()


def _kill_backends(url: str, until: float) -> int:
    """Terminate every other client backend of the database every KILL_EVERY_S."""
    killed = 0
    with psycopg.connect(url, autocommit=True) as admin:
        while time.monotonic() < until:
            row = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            ).fetchone()
            assert row is not None
            killed += row[0]
            time.sleep(KILL_EVERY_S)
    return killed


def _first_success_after(pool: SyncPool, started: float) -> float:
    """Seconds from ``started`` until a generated call through the pool succeeds.

    The caller retries with a short timeout: after two failed health checks in a row
    psycopg_pool sleeps about 1 s (capped at the caller's timeout) before the next try,
    and right after the faults every idle connection is a dead one.
    """
    while True:
        try:
            with pool.connection(timeout=PROBE_TIMEOUT_S) as conn:
                assert issues.get_issue(conn, id=0) is None
            return time.monotonic() - started
        except psycopg.OperationalError:
            continue


def _all_served_after(ledgers: list[Ledger], started: float, limit_s: float) -> float:
    """Seconds from ``started`` until every worker has had a call succeed again
    (infinity if one has not within ``limit_s``)."""
    while not all(ledger.last_success > started for ledger in ledgers):
        if time.monotonic() - started > limit_s:
            return math.inf
        time.sleep(0.01)
    return max(ledger.last_success for ledger in ledgers) - started


def _found(conn: Conn, table: str, ids: list[int]) -> int:
    query = psycopg.sql.SQL("SELECT count(*) FROM {} WHERE id = ANY(%s)").format(
        psycopg.sql.Identifier(table)
    )
    row = conn.execute(query, (ids,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.slow
def test_killed_backends_lose_no_acknowledged_write(fault_database_url: str) -> None:
    with psycopg.connect(fault_database_url, autocommit=True) as setup:
        owner = make_user(setup)
        ledgers = []
        for _ in range(WORKERS):
            repo = make_repo(setup, owner)
            definition = make_workflow_definition(setup, repo)
            ledgers.append(Ledger(repo_id=repo.id, definition=definition))
    done = threading.Event()
    with open_pool(
        fault_database_url, min_size=WORKERS, max_size=WORKERS, timeout=POOL_TIMEOUT_S
    ) as pool:
        threads = [threading.Thread(target=_work, args=(pool, ledger, done)) for ledger in ledgers]
        for thread in threads:
            thread.start()
        killed = _kill_backends(fault_database_url, time.monotonic() + FAULT_SECONDS)
        faults_stopped = time.monotonic()
        recovery_s = _first_success_after(pool, faults_stopped)
        all_served_s = _all_served_after(ledgers, faults_stopped, POOL_TIMEOUT_S + 1.0)
        done.set()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()

    assert [exc for ledger in ledgers for exc in ledger.unexpected] == []
    failures = [exc for ledger in ledgers for exc in ledger.failures]
    attempted = sum(ledger.attempted for ledger in ledgers)
    acknowledged = sum(ledger.acknowledged for ledger in ledgers)
    assert killed > 0 and failures, "the faults never hit the workload"
    assert attempted == acknowledged + len(failures)
    assert recovery_s < 1.0
    # A worker caught in the pool's check backoff during the storm may still wait,
    # but never past its own pool timeout.
    assert all_served_s < POOL_TIMEOUT_S + 1.0

    with psycopg.connect(fault_database_url) as check:
        wanted = {
            "issues": [i for ledger in ledgers for i in ledger.issue_ids],
            "comments": [i for ledger in ledgers for i in ledger.comment_ids],
            "workflow_runs": [i for ledger in ledgers for i in ledger.run_ids],
            "workflow_steps": [i for ledger in ledgers for i in ledger.step_ids],
            "workflow_logs": [i for ledger in ledgers for i in ledger.log_ids],
        }
        found = {table: _found(check, table, ids) for table, ids in wanted.items()}
        assert found == {table: len(ids) for table, ids in wanted.items()}
        assert all(wanted.values())
        # Numbers are taken and used in one statement: per repository exactly 1..n-1.
        gaps = check.execute(
            "SELECT r.id FROM repositories r LEFT JOIN issues i ON i.repository_id = r.id"
            " GROUP BY r.id, r.next_issue_number"
            " HAVING count(i.id) <> r.next_issue_number - 1"
            " OR coalesce(max(i.issue_number), 0) <> r.next_issue_number - 1"
        ).fetchall()
        assert gaps == []
        stepless = check.execute(
            "SELECT r.id FROM workflow_runs r WHERE NOT EXISTS"
            " (SELECT 1 FROM workflow_steps s WHERE s.run_id = r.id AND s.position = 0)"
        ).fetchall()
        assert stepless == []
    print(
        f"\nkilled backends: {killed}; calls attempted {attempted}, acknowledged "
        f"{acknowledged}, found {sum(found.values()) - found['workflow_steps']}, failed "
        f"{len(failures)}; pool serving again after {recovery_s * 1000:.0f} ms,"
        f" every worker after {all_served_s * 1000:.0f} ms"
    )


@pytest.fixture
def throwaway_server() -> Iterator[tuple[Path, Any]]:
    """A separate embedded PostgreSQL this test may stop and start at will."""
    from pgserver.postgres_server import get_server

    parent = Path(tempfile.mkdtemp(prefix="plue-faults-"))
    parent.chmod(0o755)  # pgserver runs the cluster as another user when we are root
    pgdata = parent / "pgdata"
    try:
        yield pgdata, get_server(pgdata, cleanup_mode="stop")
    finally:
        get_server(pgdata, cleanup_mode="stop").cleanup()
        shutil.rmtree(parent)


def _timed_call(pool: SyncPool) -> tuple[bool, float]:
    """One generated call: (succeeded, seconds it took)."""
    started = time.monotonic()
    try:
        with pool.connection() as conn:
            issues.get_issue(conn, id=1)
    except psycopg.OperationalError:
        return False, time.monotonic() - started
    return True, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR")  # pgserver's platformdirs, harmless
def test_pool_recovers_from_a_server_restart(throwaway_server: tuple[Path, Any]) -> None:
    from pgserver.postgres_server import get_server

    pgdata, server = throwaway_server
    url = str(server.get_uri())
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute(SCHEMA.read_bytes())
        issue = make_issue(setup)
    pool_timeout = 2.0
    with open_pool(url, min_size=2, max_size=4, timeout=pool_timeout) as pool:
        assert _timed_call(pool)[0]
        down_at = time.monotonic()
        server.cleanup()  # pg_ctl stop (fast): sessions are cut, as in a real restart
        during = [_timed_call(pool) for _ in range(2)]
        get_server(pgdata, cleanup_mode="stop")
        outage_s = time.monotonic() - down_at
        calls = 0
        while not _timed_call(pool)[0]:
            calls += 1
            assert time.monotonic() - down_at < outage_s + 8, "pool did not recover"
        recovered_s = time.monotonic() - down_at
        with pool.connection() as conn:
            assert issues.get_issue(conn, id=issue.id) == issue
    assert [ok for ok, _ in during] == [False, False]
    assert all(took < pool_timeout + 1.0 for _, took in during)
    print(
        f"\nrestart: outage {outage_s:.2f} s, pool serving {recovered_s:.2f} s after stop"
        f" ({calls} calls failed in between), calls during outage took"
        f" {', '.join(f'{took:.2f}' for _, took in during)} s"
    )


@pytest.fixture
def locked_issue(database_url: str) -> Iterator[models.Issue]:
    """An issue whose row another transaction holds locked until the test ends."""
    with psycopg.connect(database_url, autocommit=True) as setup:
        issue = make_issue(setup)
    with psycopg.connect(database_url) as holder:
        locked = issues.update_issue(holder, id=issue.id, title="held by another editor", body=None)
        assert locked is not None
        yield issue
        holder.rollback()


def _blocked_update(database_url: str, timeouts: Timeouts, issue: models.Issue) -> None:
    """Try to edit the locked issue through a pool configured with ``timeouts``."""
    with open_pool(database_url, timeouts=timeouts) as pool, pool.connection() as conn:
        issues.update_issue(conn, id=issue.id, title="my edit", body=None)


def test_lock_wait_ends_at_lock_timeout(database_url: str, locked_issue: models.Issue) -> None:
    timeouts = Timeouts(statement_ms=30_000, lock_ms=300)
    started = time.monotonic()
    with pytest.raises(errors.LockNotAvailable, match="lock timeout"):
        _blocked_update(database_url, timeouts, locked_issue)
    assert 0.25 < time.monotonic() - started < 3


def test_lock_wait_ends_at_statement_timeout(database_url: str, locked_issue: models.Issue) -> None:
    timeouts = Timeouts(statement_ms=300, lock_ms=0)
    started = time.monotonic()
    with pytest.raises(errors.QueryCanceled, match="statement timeout"):
        _blocked_update(database_url, timeouts, locked_issue)
    assert 0.25 < time.monotonic() - started < 3
    with psycopg.connect(database_url) as check:
        assert issues.get_issue(check, id=locked_issue.id) == locked_issue
