"""Steps 5 and 6: workflow runs claimed by a runner, with steps and logs; the LLM usage
those runs caused."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import psycopg
from plue_queries import llm_usage, models, workflows
from plue_queries.enums import LogStream, WorkflowRunStatus, WorkflowStepStatus

from plue_db.demo.script import (
    LLM_CALLS,
    PLAN,
    PLAN_STEPS,
    PRICES,
    RUNNER_HEARTBEAT_AGE,
    RUNS,
    RunScript,
)
from plue_db.demo.steps import Demo, DemoError, require, usd
from plue_db.values import commit_id


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One workflow run as the demo left it."""

    run: models.WorkflowRun
    steps: list[models.WorkflowStep]
    log_lines: int


def run_workflows(demo: Demo, repo: models.Repository, user: models.User) -> list[RunSummary]:
    """A workflow and a runner; then each scripted run is queued, claimed, worked, finished."""
    demo.section(5, "Workflow runs claimed by a runner, with steps and logs")
    definition = demo.unit(
        lambda c: workflows.upsert_workflow_definition(
            c,
            repository_id=repo.id,
            name="ci",
            file_path=".plue/workflows/ci.py",
            triggers=[{"event": "push", "bookmarks": ["main"]}, {"event": "landing_request"}],
            plan=PLAN,
            is_active=True,
        ),
    )
    runner = demo.unit(
        lambda c: workflows.upsert_runner(c, name=f"runner-{demo.suffix}", labels=["linux", "x64"]),
    )
    demo.say(f"  workflow {definition.name} (id {definition.id})")
    demo.say(f"  runner {runner.name} registered, {runner.status}")
    return [_one_run(demo, definition, runner, user, script) for script in RUNS]


def _one_run(
    demo: Demo,
    definition: models.WorkflowDefinition,
    runner: models.RunnerPool,
    user: models.User,
    script: RunScript,
) -> RunSummary:
    trigger = script.trigger

    def queue(c: psycopg.Connection[Any]) -> tuple[models.WorkflowRun, list[models.WorkflowStep]]:
        queued = require(
            workflows.create_workflow_run(
                c,
                trigger_event=trigger,
                ref="main",
                commit_id=commit_id(),
                inputs={"trigger": trigger},
                triggered_by=user.id,
                definition_id=definition.id,
            ),
            f"queue a {trigger} run",
        )
        steps = [
            workflows.create_workflow_step(
                c, run_id=queued.id, name=step.name, position=i, depends_on=list(step.needs)
            )
            for i, step in enumerate(PLAN_STEPS)
        ]
        return queued, steps

    queued, steps = demo.unit(queue)

    def claim(c: psycopg.Connection[Any]) -> models.WorkflowRun:
        got = require(
            workflows.claim_workflow_run(c, max_heartbeat_age=RUNNER_HEARTBEAT_AGE),
            f"claim run {queued.id} (no idle runner or no queued run)",
        )
        if (got.run_id, got.runner_id) != (queued.id, runner.id):
            raise DemoError(
                f"claim run {queued.id}: the dispatcher handed out run {got.run_id} to runner "
                f"{got.runner_id} instead (an older queued run or a fresher idle runner in this "
                f"database); the demo works only its own runner {runner.id}, so it rolled the "
                "claim back. Run the demo on a database without other queued runs"
            )
        return require(
            workflows.start_workflow_run(c, id=queued.id, runner_id=runner.id),
            f"start run {queued.id}",
        )

    started = demo.unit(claim)
    demo.say(f"  run {started.id} ({trigger}) claimed by {runner.name} and {started.status}")
    lines = sum(
        demo.unit(functools.partial(_execute_step, run=started, step=step, exit_code=code))
        for step, code in zip(steps, script.exit_codes, strict=True)
    )
    failed = any(code not in (0, None) for code in script.exit_codes)
    conclusion = WorkflowRunStatus.FAILED if failed else WorkflowRunStatus.SUCCEEDED

    def finish(c: psycopg.Connection[Any]) -> models.WorkflowRun:
        done = require(
            workflows.finish_workflow_run(c, conclusion=conclusion, id=started.id),
            f"finish run {started.id}",
        )
        require(workflows.release_runner(c, id=runner.id), f"release runner {runner.name}")
        return done

    done = demo.unit(finish)
    final_steps = demo.unit(lambda c: workflows.list_workflow_steps(c, run_id=done.id))
    demo.say(f"  run {done.id} {done.status}: {lines} log lines; runner {runner.name} idle again")
    return RunSummary(done, final_steps, lines)


def _execute_step(
    conn: psycopg.Connection[Any],
    *,
    run: models.WorkflowRun,
    step: models.WorkflowStep,
    exit_code: int | None,
) -> int:
    """Run (or skip) one step in one transaction; return the log lines it wrote."""
    if exit_code is None:
        require(workflows.skip_workflow_step(conn, id=step.id), f"skip step {step.name}")
        lines = [(LogStream.SYSTEM, f"skipped {step.name}: a step it needs failed")]
    else:
        require(workflows.start_workflow_step(conn, id=step.id), f"start step {step.name}")
        lines = [
            (LogStream.STDOUT, f"{step.name}: {text}") for text in ("starting", "working", "done")
        ]
        if exit_code:
            lines.append((LogStream.STDERR, f"{step.name}: 1 failed, 41 passed"))
    written = workflows.copy_workflow_logs(
        conn,
        [workflows.CopyWorkflowLogsParams(run.id, step.id, stream, text) for stream, text in lines],
    )
    if exit_code is not None:
        status = WorkflowStepStatus.FAILED if exit_code else WorkflowStepStatus.SUCCEEDED
        require(
            workflows.finish_workflow_step(
                conn, conclusion=status, exit_code=exit_code, id=step.id
            ),
            f"finish step {step.name}",
        )
    return written


def record_usage(demo: Demo, user: models.User, runs: list[RunSummary]) -> None:
    """The scripted LLM calls, charged to ``user`` and spread over the runs."""
    demo.section(6, "LLM usage")

    def record(c: psycopg.Connection[Any]) -> int:
        total = 0
        for i, call in enumerate(LLM_CALLS):
            price = PRICES[call.model]
            usage = llm_usage.record_llm_usage(
                c,
                user_id=user.id,
                session_id=None,
                workflow_run_id=runs[i % len(runs)].run.id,
                provider=call.provider,
                model=call.model,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                cost_micro_usd=call.input_tokens * price.input + call.output_tokens * price.output,
            )
            total += usage.cost_micro_usd
        return total

    total = demo.unit(record)
    demo.say(f"  {len(LLM_CALLS)} calls recorded, ${usd(total)} in total")
