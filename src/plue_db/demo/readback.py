"""Step 7: everything the run made, read back in one snapshot and printed as tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
from plue_queries import issues, llm_usage, models, users, workflows
from plue_queries.enums import IssueState, WorkflowStepStatus
from psycopg import IsolationLevel

from plue_db.demo.script import PAGE
from plue_db.demo.steps import Demo, usd
from plue_db.demo.tables import format_table

Rows = list[list[object]]


class Snapshot(NamedTuple):
    issues: Rows
    runs: Rows
    usage: list[llm_usage.LlmUsageByModelRow]


def print_tables(
    demo: Demo, repo: models.Repository, since: datetime
) -> list[llm_usage.LlmUsageByModelRow]:
    """The repository's issues and workflow runs, and LLM cost since ``since``; returns
    the cost rows."""
    snap = demo.unit(lambda c: _read(c, repo, since), isolation=IsolationLevel.REPEATABLE_READ)
    demo.section(7, "Tables")
    demo.say(f"\nIssues of {repo.name}")
    demo.say(format_table(["#", "title", "state", "labels", "comments", "author"], snap.issues))
    demo.say(f"\nWorkflow runs of {repo.name}")
    demo.say(
        format_table(
            ["run", "workflow", "trigger", "status", "runner", "steps ok", "logs"], snap.runs
        )
    )
    demo.say("\nLLM cost per model (this demo run)")
    demo.say(
        format_table(
            ["model", "calls", "input tokens", "output tokens", "cost (USD)"],
            [
                [u.model, u.calls, u.input_tokens, u.output_tokens, usd(u.cost_micro_usd)]
                for u in snap.usage
            ],
        )
    )
    return snap.usage


def _read(conn: psycopg.Connection[Any], repo: models.Repository, since: datetime) -> Snapshot:
    usage = llm_usage.llm_usage_by_model(conn, since=since, until=since + timedelta(days=1))
    return Snapshot(_issue_rows(conn, repo), _run_rows(conn, repo), usage)


def _issue_rows(conn: psycopg.Connection[Any], repo: models.Repository) -> Rows:
    found = [
        issue
        for state in (IssueState.OPEN, IssueState.CLOSED)
        for issue in issues.list_issues(conn, repository_id=repo.id, state=state, page_size=PAGE)
    ]
    rows: Rows = []
    for issue in sorted(found, key=lambda i: i.issue_number):
        labels = issues.list_issue_labels(conn, issue_id=issue.id)
        comments = issues.list_comments(conn, issue_id=issue.id, page_size=PAGE)
        author = users.get_user_by_id(conn, id=issue.author_id) if issue.author_id else None
        rows.append(
            [
                f"#{issue.issue_number}",
                issue.title,
                issue.state,
                ", ".join(label.name for label in labels),
                len(comments),
                author.username if author else None,
            ]
        )
    return rows


def _run_rows(conn: psycopg.Connection[Any], repo: models.Repository) -> Rows:
    rows: Rows = []
    recent = workflows.list_recent_workflow_runs(conn, repository_id=repo.id, page_size=PAGE)
    for run in reversed(recent):
        steps = workflows.list_workflow_steps(conn, run_id=run.id)
        logs = workflows.list_run_logs(conn, run_id=run.id, page_size=PAGE)
        runner = workflows.get_runner(conn, id=run.runner_id) if run.runner_id else None
        ok = sum(s.status == WorkflowStepStatus.SUCCEEDED for s in steps)
        rows.append(
            [
                run.id,
                run.definition_name,
                run.trigger_event,
                run.status,
                runner.name if runner else None,
                f"{ok}/{len(steps)}",
                len(logs),
            ]
        )
    return rows
