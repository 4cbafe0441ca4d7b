"""The workflow queries against a real PostgreSQL: definitions, runs and their guarded
lifecycle, the atomic run + runner claim (with a naive control that double-claims),
steps, logs (single append, COPY, keyset pages) and the runner pool.

Over 400 lines on purpose: one module per queries/*.sql file, so a query's tests sit
next to its siblings' and the module grows with the file.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg
import pytest
from plue_queries import models, workflows
from plue_queries.enums import LogStream, RunnerStatus, WorkflowRunStatus, WorkflowStepStatus
from plue_queries.types import JsonShapeError
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import (
    make_repo,
    make_runner,
    make_user,
    make_workflow_definition,
    make_workflow_run,
    unique_name,
)
from tests.fixtures.fix_db import Conn
from tests.queries.keyset import after, first_pages

RunStatus = WorkflowRunStatus
StepStatus = WorkflowStepStatus
WARM = datetime.timedelta(minutes=1)


def age_runner(conn: Conn, runner_id: int, minutes: int) -> None:
    """Pretend the runner's last heartbeat was that many minutes ago."""
    conn.execute(
        "UPDATE runner_pool SET last_heartbeat_at = now() - make_interval(mins => %s)"
        " WHERE id = %s",
        (minutes, runner_id),
    )


def claimed(conn: Conn) -> tuple[models.WorkflowRun, models.RunnerPool]:
    """Claim a run, then read back both rows as the database now has them."""
    claim = workflows.claim_workflow_run(conn, max_heartbeat_age=WARM)
    assert claim is not None
    run = workflows.get_workflow_run(conn, id=claim.run_id)
    runner = workflows.get_runner(conn, id=claim.runner_id)
    assert run is not None and runner is not None
    return run, runner


# --- definitions -------------------------------------------------------------------


def test_a_stored_plan_that_doesnt_fit_raises_one_error(conn: Conn) -> None:
    """plan is a WorkflowPlan (sqlc.yaml json_types): a stored step without its run
    command is refused when read, naming the function, the column and the path; the
    control is the same row read raw, where psycopg hands back the dict as stored."""
    definition = make_workflow_definition(conn)
    assert definition.plan["steps"][1] == {
        "name": "test",
        "run": "zig build test",
        "needs": ["build"],
    }
    conn.execute(
        "UPDATE workflow_definitions SET plan = plan #- '{steps,1,run}' WHERE id = %s",
        (definition.id,),
    )
    with pytest.raises(JsonShapeError) as raised:
        workflows.get_workflow_definition(conn, id=definition.id)
    assert str(raised.value) == (
        "get_workflow_definition: column workflow_definitions.plan: the JSON does not fit "
        "WorkflowPlan: a required key is missing at $.steps[1].run"
    )
    raw = conn.execute("SELECT plan FROM workflow_definitions WHERE id = %s", (definition.id,))
    assert raw.fetchone() == (
        {"steps": [definition.plan["steps"][0], {"name": "test", "needs": ["build"]}]},
    )


def test_upsert_definition_replaces_by_repository_and_name(
    conn: Conn,
) -> None:
    first = make_workflow_definition(conn, name="ci")
    again = make_workflow_definition(
        conn,
        repository_id=first.repository_id,
        name="ci",
        file_path=".plue/ci.yml",
        plan={"steps": [{"name": "lint", "run": "ruff check", "needs": []}]},
        is_active=False,
    )
    assert again.id == first.id
    assert again.file_path == ".plue/ci.yml"
    assert again.plan == {"steps": [{"name": "lint", "run": "ruff check", "needs": []}]}
    assert again.is_active is False
    assert again.triggers == [{"event": "push", "bookmarks": ["main"]}]
    assert workflows.get_workflow_definition(conn, id=first.id) == again
    by_name = workflows.get_workflow_definition_by_name(
        conn, repository_id=first.repository_id, name="ci"
    )
    assert by_name == again
    other_repo = make_workflow_definition(conn, name="ci")
    assert other_repo.id != first.id


def test_list_definitions_pages_by_name_and_filters_active(
    conn: Conn,
) -> None:
    repo = make_repo(conn)
    for name in ["deploy", "build", "nightly", "audit"]:
        make_workflow_definition(conn, repo, name=name, is_active=name != "nightly")
    page = workflows.list_workflow_definitions(
        conn, repository_id=repo.id, active_only=False, after_name=None, page_size=3
    )
    assert [d.name for d in page] == ["audit", "build", "deploy"]
    rest = workflows.list_workflow_definitions(
        conn, repository_id=repo.id, active_only=False, after_name=page[-1].name, page_size=3
    )
    assert [d.name for d in rest] == ["nightly"]
    active = workflows.list_workflow_definitions(
        conn, repository_id=repo.id, active_only=True, after_name=None, page_size=10
    )
    assert [d.name for d in active] == ["audit", "build", "deploy"]


def test_delete_definition_keeps_its_runs(conn: Conn) -> None:
    run = make_workflow_run(conn)
    assert run.definition_id is not None
    assert workflows.delete_workflow_definition(conn, id=run.definition_id) == 1
    assert workflows.delete_workflow_definition(conn, id=run.definition_id) == 0
    kept = workflows.get_workflow_run(conn, id=run.id)
    assert kept is not None and kept.definition_id is None


def test_definition_constraints_raise_typed_errors(conn: Conn) -> None:
    with pytest.raises(errors.CheckViolation), conn.transaction():
        make_workflow_definition(conn, name="  ")
    with pytest.raises(errors.ForeignKeyViolation), conn.transaction():
        make_workflow_definition(conn, repository_id=-1)


# --- runs ----------------------------------------------------------------------------


def test_create_run_is_queued_in_the_definitions_repository(
    conn: Conn,
) -> None:
    user = make_user(conn)
    definition = make_workflow_definition(conn)
    run = make_workflow_run(
        conn, definition, inputs={"debug": True}, triggered_by=user.id, ref="feature"
    )
    assert run.repository_id == definition.repository_id
    assert run.definition_id == definition.id
    assert run.status == RunStatus.QUEUED
    assert (run.inputs, run.triggered_by, run.ref) == ({"debug": True}, user.id, "feature")
    assert (run.runner_id, run.started_at, run.finished_at) == (None, None, None)
    assert workflows.get_workflow_run(conn, id=run.id) == run


def test_create_run_of_missing_or_inactive_definition_returns_nothing(
    conn: Conn,
) -> None:
    inactive = make_workflow_definition(conn, is_active=False)
    args: dict[str, Any] = {
        "trigger_event": "push",
        "ref": None,
        "commit_id": None,
        "inputs": {},
        "triggered_by": None,
    }
    assert workflows.create_workflow_run(conn, definition_id=inactive.id, **args) is None
    assert workflows.create_workflow_run(conn, definition_id=-1, **args) is None
    count = conn.execute(
        "SELECT count(*) FROM workflow_runs WHERE repository_id = %s", (inactive.repository_id,)
    ).fetchone()
    assert count == (0,)


def test_create_run_rejects_a_malformed_commit_id(conn: Conn) -> None:
    with pytest.raises(errors.CheckViolation, match="workflow_runs_commit_id_format"):
        make_workflow_run(conn, commit_id="HEAD")


def test_run_lifecycle_is_guarded(conn: Conn) -> None:
    make_workflow_run(conn)
    runner = make_runner(conn)
    other = make_runner(conn)
    run, holder = claimed(conn)
    assert holder.id in (runner.id, other.id)
    stranger = other.id if holder.id == runner.id else runner.id
    assert workflows.start_workflow_run(conn, id=run.id, runner_id=stranger) is None
    started = workflows.start_workflow_run(conn, id=run.id, runner_id=holder.id)
    assert started is not None and started.status == RunStatus.RUNNING
    assert started.started_at is not None
    assert workflows.start_workflow_run(conn, id=run.id, runner_id=holder.id) is None
    finished = workflows.finish_workflow_run(conn, id=run.id, conclusion=RunStatus.FAILED)
    assert finished is not None and finished.status == RunStatus.FAILED
    assert finished.finished_at is not None and finished.finished_at >= started.started_at
    assert workflows.finish_workflow_run(conn, id=run.id, conclusion=RunStatus.SUCCEEDED) is None
    assert workflows.cancel_workflow_run(conn, id=run.id) is None


def test_finish_with_a_non_final_status_is_rejected(conn: Conn) -> None:
    make_workflow_run(conn)
    make_runner(conn)
    run, runner = claimed(conn)
    assert workflows.start_workflow_run(conn, id=run.id, runner_id=runner.id) is not None
    with (
        pytest.raises(errors.CheckViolation, match="workflow_runs_finished_iff_concluded"),
        conn.transaction(),
    ):
        workflows.finish_workflow_run(conn, id=run.id, conclusion=RunStatus.QUEUED)
    bogus: Any = "exploded"
    with pytest.raises(errors.InvalidTextRepresentation), conn.transaction():
        workflows.finish_workflow_run(conn, id=run.id, conclusion=bogus)
    still = workflows.get_workflow_run(conn, id=run.id)
    assert still is not None and still.status == RunStatus.RUNNING and still.finished_at is None


def test_cancel_a_queued_run(conn: Conn) -> None:
    run = make_workflow_run(conn)
    cancelled = workflows.cancel_workflow_run(conn, id=run.id)
    assert cancelled is not None and cancelled.status == RunStatus.CANCELLED
    assert cancelled.finished_at is not None and cancelled.started_at is None


# --- claims ----------------------------------------------------------------------------


def test_claim_pairs_the_oldest_run_with_a_warm_idle_runner(
    conn: Conn,
) -> None:
    definition = make_workflow_definition(conn)
    first = make_workflow_run(conn, definition)
    second = make_workflow_run(conn, definition)
    stale = make_runner(conn)
    age_runner(conn, stale.id, 5)
    warm = make_runner(conn)
    run, runner = claimed(conn)
    assert (run.id, runner.id) == (first.id, warm.id)
    assert run.status == RunStatus.QUEUED and run.runner_id == warm.id
    assert runner.status == RunnerStatus.BUSY and runner.claimed_run_id == first.id
    # The only idle runner left is stale: nothing is handed out, the run keeps waiting.
    assert workflows.claim_workflow_run(conn, max_heartbeat_age=WARM) is None
    waiting = workflows.get_workflow_run(conn, id=second.id)
    assert waiting is not None and waiting.runner_id is None
    # Once the stale runner heartbeats it is warm again and gets the second run.
    assert workflows.upsert_runner(conn, name=stale.name, labels=stale.labels) is not None
    run2, runner2 = claimed(conn)
    assert (run2.id, runner2.id) == (second.id, stale.id)
    assert workflows.claim_workflow_run(conn, max_heartbeat_age=WARM) is None


def test_claim_without_a_runner_leaves_the_run_unclaimed(conn: Conn) -> None:
    run = make_workflow_run(conn)
    busy = make_runner(conn)
    conn.execute("UPDATE runner_pool SET status = 'draining' WHERE id = %s", (busy.id,))
    assert workflows.claim_workflow_run(conn, max_heartbeat_age=WARM) is None
    waiting = workflows.get_workflow_run(conn, id=run.id)
    assert waiting is not None and waiting.runner_id is None


WORKERS = 16
RUNS = 200
POOL = 12


def seed_runs_and_runners(database_url: str, runners: int) -> tuple[set[int], set[int], int]:
    """Commit RUNS queued runs of a fresh repository and `runners` warm idle runners."""
    with psycopg.connect(database_url, autocommit=True) as setup:
        definition = make_workflow_definition(setup)
        runs = {make_workflow_run(setup, definition).id for _ in range(RUNS)}
        pool = {make_runner(setup).id for _ in range(runners)}
    return runs, pool, definition.repository_id


def cleanup(database_url: str, repository_id: int, runner_ids: set[int]) -> None:
    """Remove what a race test committed, so other tests' claims never see it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM runner_pool WHERE id = ANY(%s)", (list(runner_ids),))
        conn.execute("DELETE FROM repositories WHERE id = %s", (repository_id,))


def double_claims(claims: list[tuple[int, int]]) -> list[int]:
    """Run ids handed out more than once."""
    return [run for run, n in Counter(run for run, _ in claims).items() if n > 1]


def test_concurrent_claims_hand_out_each_run_and_runner_exactly_once(
    database_url: str,
) -> None:
    """16 workers drain 200 runs through a pool of 12 runners, each worker running
    what it claims and releasing the runner. A runner held by two runs at once would
    fail the guarded start (the run's runner_id) or the release (runner not busy)."""
    runs, pool, repository_id = seed_runs_and_runners(database_url, POOL)
    claims: list[tuple[int, int]] = []
    lock = threading.Lock()

    def work(conn: Conn, _: int) -> None:
        while True:
            claim = workflows.claim_workflow_run(conn, max_heartbeat_age=WARM)
            if claim is None:
                left = conn.execute(
                    "SELECT count(*) FROM workflow_runs WHERE repository_id = %s"
                    " AND status = 'queued' AND runner_id IS NULL",
                    (repository_id,),
                ).fetchone()
                if left == (0,):
                    return
                time.sleep(0.001)  # every runner is busy; one is released soon
                continue
            with lock:
                claims.append((claim.run_id, claim.runner_id))
            runner = workflows.get_runner(conn, id=claim.runner_id)
            assert runner is not None and runner.claimed_run_id == claim.run_id
            assert workflows.start_workflow_run(conn, id=claim.run_id, runner_id=claim.runner_id), (
                f"run {claim.run_id} could not start on runner {claim.runner_id}"
            )
            assert workflows.finish_workflow_run(
                conn, id=claim.run_id, conclusion=RunStatus.SUCCEEDED
            )
            assert workflows.release_runner(conn, id=claim.runner_id), (
                f"runner {claim.runner_id} was no longer busy with run {claim.run_id}"
            )

    try:
        run_on_connections(database_url, WORKERS, work)
        assert double_claims(claims) == []
        assert {run for run, _ in claims} == runs
        assert len(claims) == RUNS
        assert {runner for _, runner in claims} <= pool
        with psycopg.connect(database_url) as check:
            rows = check.execute(
                "SELECT id, runner_id, status FROM workflow_runs WHERE repository_id = %s",
                (repository_id,),
            ).fetchall()
        assert sorted((run_id, runner_id) for run_id, runner_id, _ in rows) == sorted(claims)
        assert {status for _, _, status in rows} == {"succeeded"}
    finally:
        cleanup(database_url, repository_id, pool)


def naive_claim(
    conn: Conn, runner_id: int, between: Callable[[], object] = lambda: None
) -> int | None:
    """SELECT-then-UPDATE without row locks or SKIP LOCKED: what ClaimWorkflowRun must
    not be. ``between`` runs between the two statements."""
    row = conn.execute(
        "SELECT id FROM workflow_runs WHERE status = 'queued' AND runner_id IS NULL"
        " ORDER BY created_at, id LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    between()
    conn.execute("UPDATE workflow_runs SET runner_id = %s WHERE id = %s", (runner_id, row[0]))
    return int(row[0])


def test_naive_claim_double_claims_under_the_same_load(database_url: str) -> None:
    """Negative control: the same race and check catch a naive claim. Every worker's
    first claim waits, between its SELECT and its UPDATE, for all the others to have
    read: the race is then certain, not left to how the threads happen to be scheduled
    (a loaded machine once let each worker through alone)."""
    runs, pool, repository_id = seed_runs_and_runners(database_url, WORKERS)
    runner_ids = list(pool)
    claims: list[tuple[int, int]] = []
    lock = threading.Lock()
    all_read = threading.Barrier(WORKERS, timeout=30)

    def work(conn: Conn, n: int) -> None:
        runner_id = runner_ids[n]
        between: Callable[[], object] = all_read.wait
        while (run_id := naive_claim(conn, runner_id, between)) is not None:
            between = lambda: None  # noqa: E731 - only the first claim waits
            with lock:
                claims.append((run_id, runner_id))

    try:
        run_on_connections(database_url, WORKERS, work)
        assert {run for run, _ in claims} == runs
        assert double_claims(claims) != []
        assert len(claims) > RUNS
    finally:
        cleanup(database_url, repository_id, pool)


# --- recent runs ----------------------------------------------------------------------


def test_recent_runs_newest_first_with_definition_name(conn: Conn) -> None:
    repo = make_repo(conn)
    build = make_workflow_definition(conn, repo, name="build")
    deploy = make_workflow_definition(conn, repo, name="deploy")
    made = [make_workflow_run(conn, d) for d in (build, deploy, build, deploy, build)]
    assert workflows.cancel_workflow_run(conn, id=made[1].id) is not None
    assert workflows.delete_workflow_definition(conn, id=deploy.id) == 1

    def page(
        status: RunStatus | None, before: workflows.ListRecentWorkflowRunsRow | None
    ) -> list[workflows.ListRecentWorkflowRunsRow]:
        return workflows.list_recent_workflow_runs(
            conn, repository_id=repo.id, status=status, page_size=2, **after(before)
        )

    first, second, third = first_pages(partial(page, None), 3)
    listed = first + second + third
    assert [r.id for r in listed] == [r.id for r in reversed(made)]
    assert [r.definition_name for r in listed] == ["build", None, "build", None, "build"]
    assert page(None, third[-1]) == []
    cancelled = page(RunStatus.CANCELLED, None)
    assert [(r.id, r.status) for r in cancelled] == [(made[1].id, RunStatus.CANCELLED)]
    counts = workflows.count_workflow_runs_by_status(conn, repository_id=repo.id)
    assert [(c.status, c.runs) for c in counts] == [
        (RunStatus.QUEUED, 4),
        (RunStatus.CANCELLED, 1),
    ]


# --- steps ----------------------------------------------------------------------------


def make_steps(conn: Conn, run_id: int) -> list[models.WorkflowStep]:
    steps = []
    for position, name, needs in [(2, "deploy", ["test"]), (0, "build", []), (1, "test", [])]:
        step = workflows.create_workflow_step(
            conn, run_id=run_id, name=name, position=position, depends_on=needs
        )
        steps.append(step)
    return steps


def test_steps_list_in_plan_order_and_transitions_are_guarded(
    conn: Conn,
) -> None:
    run = make_workflow_run(conn)
    deploy, build, _ = make_steps(conn, run.id)
    assert deploy.status == StepStatus.PENDING and deploy.depends_on == ["test"]
    listed = workflows.list_workflow_steps(conn, run_id=run.id)
    assert [s.name for s in listed] == ["build", "test", "deploy"]

    assert (
        workflows.finish_workflow_step(
            conn, id=build.id, conclusion=StepStatus.SUCCEEDED, exit_code=0
        )
        is None
    )
    started = workflows.start_workflow_step(conn, id=build.id)
    assert started is not None and started.status == StepStatus.RUNNING
    assert workflows.start_workflow_step(conn, id=build.id) is None
    done = workflows.finish_workflow_step(
        conn, id=build.id, conclusion=StepStatus.FAILED, exit_code=2
    )
    assert done is not None and (done.status, done.exit_code) == (StepStatus.FAILED, 2)
    assert done.finished_at is not None

    skipped = workflows.skip_workflow_step(conn, id=deploy.id)
    assert skipped is not None and skipped.status == StepStatus.SKIPPED
    assert workflows.skip_workflow_step(conn, id=deploy.id) is None
    assert workflows.cancel_workflow_steps(conn, run_id=run.id) == 1
    final = {s.name: s.status for s in workflows.list_workflow_steps(conn, run_id=run.id)}
    assert final == {
        "build": StepStatus.FAILED,
        "test": StepStatus.CANCELLED,
        "deploy": StepStatus.SKIPPED,
    }


def test_step_names_and_positions_are_unique_per_run(conn: Conn) -> None:
    run = make_workflow_run(conn)
    make_steps(conn, run.id)
    with pytest.raises(errors.UniqueViolation, match="run_name_key"), conn.transaction():
        workflows.create_workflow_step(conn, run_id=run.id, name="build", position=9, depends_on=[])
    with pytest.raises(errors.UniqueViolation, match="run_position_key"), conn.transaction():
        workflows.create_workflow_step(conn, run_id=run.id, name="lint", position=0, depends_on=[])


# --- logs -----------------------------------------------------------------------------


def test_logs_append_copy_and_page_by_line(conn: Conn) -> None:
    run = make_workflow_run(conn)
    _, build, test = make_steps(conn, run.id)
    header = workflows.append_workflow_log(
        conn, run_id=run.id, step_id=None, stream=LogStream.SYSTEM, content="runner ready"
    )
    assert header is not None and header.step_id is None and header.stream == LogStream.SYSTEM
    lines = [
        workflows.CopyWorkflowLogsParams(
            run_id=run.id,
            step_id=build.id if i < 600 else test.id,
            stream=LogStream.STDERR if i % 10 == 0 else LogStream.STDOUT,
            content=f"line {i}\twith tab and ünïcode",
        )
        for i in range(1000)
    ]
    assert workflows.copy_workflow_logs(conn, lines) == 1000

    seen: list[models.WorkflowLog] = []
    after: int | None = None
    while page := workflows.list_run_logs(conn, run_id=run.id, after_id=after, page_size=300):
        seen += page
        after = page[-1].id
    assert len(seen) == 1001
    assert seen[0] == header
    assert [line.content for line in seen[1:]] == [line.content for line in lines]
    assert [line.stream for line in seen[1:]] == [line.stream for line in lines]
    assert [line.id for line in seen] == sorted(line.id for line in seen)

    test_page = workflows.list_step_logs(conn, step_id=test.id, after_id=None, page_size=1000)
    assert [line.content for line in test_page] == [
        f"line {i}\twith tab and ünïcode" for i in range(600, 1000)
    ]
    tail = workflows.list_step_logs(conn, step_id=test.id, after_id=test_page[-2].id, page_size=5)
    assert tail == [test_page[-1]]


def test_log_of_a_step_of_another_run_is_rejected(conn: Conn) -> None:
    run = make_workflow_run(conn)
    other = make_workflow_run(conn)
    _, build, _ = make_steps(conn, other.id)
    with pytest.raises(errors.ForeignKeyViolation, match="workflow_logs_step_of_run_fkey"):
        workflows.append_workflow_log(
            conn, run_id=run.id, step_id=build.id, stream=LogStream.STDOUT, content="x"
        )


def test_copy_with_a_nul_byte_writes_nothing(conn: Conn) -> None:
    run = make_workflow_run(conn)
    lines = [
        workflows.CopyWorkflowLogsParams(
            run_id=run.id, step_id=None, stream=LogStream.STDOUT, content=text
        )
        for text in ["fine", "bad\x00byte", "never reached"]
    ]
    with pytest.raises(psycopg.DataError, match="NUL"):
        workflows.copy_workflow_logs(conn, lines)
    assert workflows.list_run_logs(conn, run_id=run.id, after_id=None, page_size=10) == []


# --- runner pool ----------------------------------------------------------------------


def test_upsert_runner_registers_then_heartbeats(conn: Conn) -> None:
    name = unique_name("runner")
    first = make_runner(conn, name=name, labels=["linux"])
    assert first.status == RunnerStatus.IDLE and first.claimed_run_id is None
    conn.execute("UPDATE runner_pool SET status = 'offline' WHERE id = %s", (first.id,))
    age_runner(conn, first.id, 10)
    back = make_runner(conn, name=name, labels=["linux", "gpu"])
    assert back.id == first.id
    assert back.status == RunnerStatus.IDLE and back.labels == ["linux", "gpu"]
    assert back.last_heartbeat_at == first.last_heartbeat_at  # now() again, not 10 min ago
    with pytest.raises(errors.CheckViolation), conn.transaction():
        make_runner(conn, name=" ")


def test_heartbeat_keeps_a_busy_runner_busy_and_release_frees_it(
    conn: Conn,
) -> None:
    make_workflow_run(conn)
    make_runner(conn)
    run, runner = claimed(conn)
    beat = make_runner(conn, name=runner.name)
    assert beat.status == RunnerStatus.BUSY and beat.claimed_run_id == run.id
    released = workflows.release_runner(conn, id=runner.id)
    assert released is not None
    assert released.status == RunnerStatus.IDLE and released.claimed_run_id is None
    assert workflows.release_runner(conn, id=runner.id) is None
    assert workflows.delete_runner(conn, id=runner.id) == 1
    gone = workflows.get_workflow_run(conn, id=run.id)
    assert gone is not None and gone.runner_id is None


def test_reap_requeues_unstarted_runs_and_times_out_running_ones(
    conn: Conn,
) -> None:
    definition = make_workflow_definition(conn)
    unstarted = make_workflow_run(conn, definition)
    running = make_workflow_run(conn, definition)
    make_runner(conn)
    make_runner(conn)
    _, lost_a = claimed(conn)
    _, lost_b = claimed(conn)
    assert workflows.start_workflow_run(conn, id=running.id, runner_id=lost_b.id) is not None
    fresh = make_runner(conn)
    for runner in (lost_a, lost_b):
        age_runner(conn, runner.id, 3)

    reaped = workflows.reap_stale_runners(conn, max_heartbeat_age=datetime.timedelta(minutes=2))
    assert reaped == workflows.ReapStaleRunnersRow(runners=2, requeued_runs=1, timed_out_runs=1)
    requeued = workflows.get_workflow_run(conn, id=unstarted.id)
    timed_out = workflows.get_workflow_run(conn, id=running.id)
    assert requeued is not None and (requeued.status, requeued.runner_id) == (
        RunStatus.QUEUED,
        None,
    )
    assert timed_out is not None and timed_out.status == RunStatus.TIMED_OUT
    assert timed_out.finished_at is not None
    for runner in (lost_a, lost_b):
        now = workflows.get_runner(conn, id=runner.id)
        assert now is not None and (now.status, now.claimed_run_id) == (RunnerStatus.OFFLINE, None)
    untouched = workflows.get_runner(conn, id=fresh.id)
    assert untouched is not None and untouched.status == RunnerStatus.IDLE
    assert workflows.reap_stale_runners(
        conn, max_heartbeat_age=datetime.timedelta(minutes=2)
    ) == workflows.ReapStaleRunnersRow(runners=0, requeued_runs=0, timed_out_runs=0)
    again, runner = claimed(conn)
    assert (again.id, runner.id) == (unstarted.id, fresh.id)
