"""``plue-db demo``: a scripted walk through Plue through the generated query functions only.

It shows the typed layer doing real work: SIWE sign-in with a one-time nonce, a
repository, issues numbered atomically, a landing request with a review, workflow runs
claimed by a runner, LLM usage, then tables read back from the database. Every step
that is a unit runs in one transaction (``run_in_transaction``). Names carry a per-run
suffix, so the demo runs again on the same database and its tables cover that run only.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from plue_queries import auth, issues, landing, llm_usage, models, repositories, users, workflows
from plue_queries.enums import (
    IssueState,
    LandingStatus,
    LogStream,
    ReviewState,
    WorkflowRunStatus,
    WorkflowStepStatus,
)
from psycopg import IsolationLevel

from plue_db import config, migrate, servers
from plue_db.transactions import run_in_transaction

T = TypeVar("T")
Say = Callable[[str], object]

NONCE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(days=30)
RUNNER_HEARTBEAT_AGE = timedelta(minutes=1)
PAGE = 500

LABELS = (
    ("bug", "#d73a4a", "Something is broken"),
    ("enhancement", "#a2eeef", "New feature or request"),
    ("docs", "#0075ca", "Documentation"),
)
# (title, body, labels, comments by (author key, body)); authors are "alice" and "bob".
ISSUES = (
    (
        "Landing queue retries forever on conflicts",
        "A conflicted change goes back to the queue without a rebase.",
        ("bug",),
        (
            ("bob", "Reproduced with a two-change stack."),
            ("alice", "Fix is in the landing request."),
        ),
    ),
    (
        "Document Sign-In-With-Ethereum",
        "Explain the nonce lifetime and the one-time use.",
        ("docs", "enhancement"),
        (("alice", "Done, see the auth guide."),),
    ),
    (
        "Show runner labels on the dashboard",
        "",
        ("enhancement",),
        (("bob", "Labels come from the runner heartbeat."),),
    ),
)
CLOSED_ISSUE = 2

PLAN: dict[str, Any] = {
    "steps": [
        {"name": "checkout", "run": "jj git fetch && jj new main", "needs": []},
        {"name": "test", "run": "pytest -q", "needs": ["checkout"]},
        {"name": "lint", "run": "ruff check .", "needs": ["test"]},
    ]
}
# Per run: the trigger and each step's exit code (None: skipped because a need failed).
RUNS: tuple[tuple[str, tuple[int | None, ...]], ...] = (
    ("push", (0, 0, 0)),
    ("landing_request", (0, 1, None)),
)

# (provider, model, input tokens, output tokens); prices in USD per million tokens,
# which is micro-USD per token.
PRICES = {"claude-sonnet-4": (3, 15), "claude-haiku-3.5": (1, 5), "gpt-4.1-mini": (2, 8)}
LLM_CALLS = (
    ("anthropic", "claude-sonnet-4", 12_000, 1_800),
    ("anthropic", "claude-sonnet-4", 8_500, 2_200),
    ("anthropic", "claude-haiku-3.5", 30_000, 900),
    ("openai", "gpt-4.1-mini", 4_000, 1_000),
    ("anthropic", "claude-sonnet-4", 21_000, 3_400),
)


class DemoError(Exception):
    """A demo step did not get the result it needs; the message names the step."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One workflow run as the demo left it."""

    run: models.WorkflowRun
    steps: list[models.WorkflowStep]
    log_lines: int


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What one demo run created, including the secrets it handed out (for tests)."""

    suffix: str
    started_at: datetime
    user: models.User
    reviewer: models.User
    nonce: models.SiweNonce
    second_consume: models.SiweNonce | None
    session: models.AuthSession
    session_key: str
    access_token: str
    repository: models.Repository
    issues: list[models.Issue]
    landing: models.LandingQueue
    runs: list[RunSummary]
    usage: list[llm_usage.LlmUsageByModelRow]

    @property
    def secrets(self) -> tuple[str, ...]:
        """The plaintext credentials given to the user; none may be stored."""
        return (self.session_key, self.access_token)


def sha256_hex(secret: str) -> str:
    """How session keys and access tokens are stored: sha256, lower-case hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: numbers right-aligned, None as '-'."""
    text = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    right = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return "  ".join(padded).rstrip()

    out = [line(headers), line(["-" * w for w in widths]), *(line(row) for row in text)]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _usd(micro: int) -> Decimal:
    """Micro-USD as dollars with all six decimals."""
    return Decimal(micro).scaleb(-6)


def _some(value: T | None, what: str) -> T:
    """The row a step needs, or a DemoError naming what came back empty."""
    if value is None:
        raise DemoError(f"{what}: the query returned no row")
    return value


def _change_id() -> str:
    """A random Jujutsu change id: 32 characters of reverse hex (k-z)."""
    return "".join(chr(ord("z") - int(c, 16)) for c in secrets.token_hex(16))


def _short(text: str) -> str:
    return f"{text[:8]}…"


def run(conn: psycopg.Connection[Any], say: Say = print) -> DemoResult:
    """Walk through Plue on ``conn`` (a non-autocommit connection), printing as it goes."""
    suffix = secrets.token_hex(3)
    say(f"demo run {suffix}")
    signin = _sign_in(conn, say, suffix)
    reviewer, repo = _repository(conn, say, suffix, signin.user)
    people = {"alice": signin.user.id, "bob": reviewer.id}
    made = _issues(conn, say, repo, people)
    request = _landing(conn, say, repo, signin.user, reviewer)
    runs = _workflows(conn, say, suffix, repo, signin.user)
    _record_usage(conn, say, signin.user, runs)
    usage = _tables(conn, say, repo, signin.nonce.created_at)
    return DemoResult(
        suffix=suffix,
        started_at=signin.nonce.created_at,
        user=signin.user,
        reviewer=reviewer,
        nonce=signin.nonce,
        second_consume=signin.second_consume,
        session=signin.session,
        session_key=signin.session_key,
        access_token=signin.access_token,
        repository=repo,
        issues=made,
        landing=request,
        runs=runs,
        usage=usage,
    )


@dataclass(frozen=True, slots=True)
class _SignIn:
    user: models.User
    nonce: models.SiweNonce
    second_consume: models.SiweNonce | None
    session: models.AuthSession
    session_key: str
    access_token: str


def _sign_in(conn: psycopg.Connection[Any], say: Say, suffix: str) -> _SignIn:
    say("\n== 1. Sign in with Ethereum ==")
    wallet = "0x" + secrets.token_hex(20)
    # What a wallet sends: EIP-55 mixed case; the database keeps the lower-case form.
    presented = "0x" + wallet[2:].upper()
    nonce_text = secrets.token_hex(16)
    issued = run_in_transaction(
        conn,
        lambda c: _some(
            auth.create_siwe_nonce(c, nonce=nonce_text, wallet_address=presented, ttl=NONCE_TTL),
            "create SIWE nonce",
        ),
    )
    say(f"  nonce {_short(issued.nonce)} issued to {issued.wallet_address}, valid {NONCE_TTL}")
    session_key = secrets.token_urlsafe(32)
    access_token = "plue_" + secrets.token_urlsafe(30)

    def accept(c: psycopg.Connection[Any]) -> tuple[models.SiweNonce, models.User, bool]:
        used = _some(
            auth.consume_siwe_nonce(c, nonce=nonce_text, wallet_address=presented),
            f"consume nonce {_short(nonce_text)} (unused, unexpired, this wallet)",
        )
        user = users.get_user_by_wallet(c, wallet_address=presented)
        created = user is None
        if user is None:
            user = users.create_user(
                c,
                username=f"alice-{suffix}",
                email=None,
                display_name="Alice",
                bio="Signed in with a wallet",
                avatar_url=None,
                wallet_address=presented,
                is_admin=False,
            )
        _some(users.record_user_login(c, id=user.id), f"sign-in of {user.username}")
        return used, user, created

    used, user, created = run_in_transaction(conn, accept)
    say(f"  nonce consumed at {used.used_at:%H:%M:%S}")
    say(f"  user {user.username} (id {user.id}) {'created' if created else 'found'} by wallet")
    replay = run_in_transaction(
        conn, lambda c: auth.consume_siwe_nonce(c, nonce=nonce_text, wallet_address=presented)
    )
    say(f"  second consume of the same nonce: {'REFUSED' if replay is None else 'ACCEPTED (bug)'}")

    def credentials(c: psycopg.Connection[Any]) -> models.AuthSession:
        session = _some(
            auth.create_auth_session(
                c,
                user_id=user.id,
                session_key_hash=sha256_hex(session_key),
                user_agent="plue-db demo",
                expires_at=datetime.now(UTC) + SESSION_TTL,
            ),
            "create session",
        )
        _some(
            auth.create_access_token(
                c,
                user_id=user.id,
                name="demo cli",
                token_hash=sha256_hex(access_token),
                token_last_eight=access_token[-8:],
                scopes=["repo:read", "repo:write"],
                expires_at=None,
            ),
            "create access token",
        )
        return session

    session = run_in_transaction(conn, credentials)
    say(f"  session {session.id}: stored sha256 {_short(session.session_key_hash)} of the key")
    valid = run_in_transaction(
        conn,
        lambda c: auth.validate_access_token(c, token_hash=sha256_hex(access_token)),
    )
    say(f"  access token …{access_token[-8:]}: stored hashed, validates: {valid is not None}")
    return _SignIn(user, issued, replay, session, session_key, access_token)


def _repository(
    conn: psycopg.Connection[Any], say: Say, suffix: str, owner: models.User
) -> tuple[models.User, models.Repository]:
    say("\n== 2. A reviewer and a repository ==")

    def create(c: psycopg.Connection[Any]) -> tuple[models.User, models.Repository]:
        reviewer = users.create_user(
            c,
            username=f"bob-{suffix}",
            email=f"bob-{suffix}@example.com",
            display_name="Bob",
            bio="",
            avatar_url=None,
            wallet_address=None,
            is_admin=False,
        )
        repo = repositories.create_repository(
            c,
            owner_id=owner.id,
            name=f"plue-{suffix}",
            description="A forge on Jujutsu",
            is_public=True,
            default_branch="main",
            topics=["jujutsu", "forge"],
        )
        return reviewer, repo

    reviewer, repo = run_in_transaction(conn, create)
    say(f"  user {reviewer.username} (id {reviewer.id})")
    say(f"  repository {owner.username}/{repo.name} (id {repo.id})")
    return reviewer, repo


def _issues(
    conn: psycopg.Connection[Any], say: Say, repo: models.Repository, people: dict[str, int]
) -> list[models.Issue]:
    say("\n== 3. Issues with atomic numbers, labels and comments ==")

    def create_labels(c: psycopg.Connection[Any]) -> dict[str, int]:
        made = (
            issues.create_label(c, repository_id=repo.id, name=name, color=color, description=text)
            for name, color, text in LABELS
        )
        return {label.name: label.id for label in made}

    label_ids = run_in_transaction(conn, create_labels)
    say(f"  labels: {', '.join(label_ids)}")
    made: list[models.Issue] = []
    for spec in ISSUES:
        issue = run_in_transaction(
            conn,
            functools.partial(_create_issue, repo=repo, spec=spec, labels=label_ids, people=people),
        )
        made.append(issue)
        say(f"  #{issue.issue_number} {issue.title} [{', '.join(spec[2])}]")
    closed = run_in_transaction(
        conn,
        lambda c: _some(
            issues.close_issue(c, id=made[CLOSED_ISSUE - 1].id), f"close #{CLOSED_ISSUE}"
        ),
    )
    made[CLOSED_ISSUE - 1] = closed
    say(f"  closed #{closed.issue_number}")
    return made


IssueSpec = tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]]


def _create_issue(
    conn: psycopg.Connection[Any],
    *,
    repo: models.Repository,
    spec: IssueSpec,
    labels: dict[str, int],
    people: dict[str, int],
) -> models.Issue:
    """An issue with its labels and comments: one unit, numbered by the database."""
    title, body, label_names, comments = spec
    issue = issues.create_issue(
        conn,
        repository_id=repo.id,
        title=title,
        body=body,
        author_id=people["alice"],
        milestone_id=None,
        due_date=None,
    )
    for name in label_names:
        issues.attach_label(conn, issue_id=issue.id, label_id=labels[name])
    for author, text in comments:
        issues.create_comment(conn, issue_id=issue.id, author_id=people[author], body=text)
    return issue


def _landing(
    conn: psycopg.Connection[Any],
    say: Say,
    repo: models.Repository,
    author: models.User,
    reviewer: models.User,
) -> models.LandingQueue:
    say("\n== 4. A landing request with a review ==")
    change = _change_id()

    def submit(c: psycopg.Connection[Any]) -> models.LandingQueue:
        request = landing.submit_landing_request(
            c,
            repository_id=repo.id,
            change_id=change,
            title="Rebase conflicted changes before requeueing",
            description="Fixes #1",
            author_id=author.id,
            target_bookmark="main",
            stack_change_ids=[change],
        )
        return _transition(c, request, LandingStatus.IN_REVIEW)

    request = run_in_transaction(conn, submit)
    say(f"  request {request.id} for change {change[:12]} is {request.status}")

    def review(c: psycopg.Connection[Any]) -> models.LandingQueue:
        landing.upsert_landing_review(
            c,
            landing_id=request.id,
            reviewer_id=reviewer.id,
            state=ReviewState.APPROVED,
            body="Looks good; the retry now rebases first.",
        )
        return _transition(c, _transition(c, request, LandingStatus.APPROVED), LandingStatus.QUEUED)

    queued = run_in_transaction(conn, review)
    say(f"  {reviewer.username} approved; request is {queued.status}")

    def land(c: psycopg.Connection[Any]) -> models.LandingQueue:
        claimed = landing.claim_next_landable(c, repository_id=repo.id, max_count=1)
        if [r.id for r in claimed] != [request.id]:
            raise DemoError(f"claim landing: expected request {request.id}, got {claimed}")
        return _some(
            landing.mark_landing_landed(
                c, landed_commit_id=secrets.token_hex(20), landed_by=author.id, id=request.id
            ),
            f"land request {request.id}",
        )

    landed = run_in_transaction(conn, land)
    say(f"  claimed from the queue and {landed.status} as {_short(landed.landed_commit_id or '')}")
    return landed


def _transition(
    conn: psycopg.Connection[Any], request: models.LandingQueue, to: LandingStatus
) -> models.LandingQueue:
    return _some(
        landing.transition_landing_request(conn, to_status=to, id=request.id),
        f"move landing request {request.id} from {request.status} to {to}",
    )


def _workflows(
    conn: psycopg.Connection[Any],
    say: Say,
    suffix: str,
    repo: models.Repository,
    user: models.User,
) -> list[RunSummary]:
    say("\n== 5. Workflow runs claimed by a runner, with steps and logs ==")
    definition = run_in_transaction(
        conn,
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
    runner = run_in_transaction(
        conn,
        lambda c: workflows.upsert_runner(c, name=f"runner-{suffix}", labels=["linux", "x64"]),
    )
    say(f"  workflow {definition.name} (id {definition.id})")
    say(f"  runner {runner.name} registered, {runner.status}")
    return [
        _one_run(conn, say, definition, runner, user, trigger, exits) for trigger, exits in RUNS
    ]


def _one_run(
    conn: psycopg.Connection[Any],
    say: Say,
    definition: models.WorkflowDefinition,
    runner: models.RunnerPool,
    user: models.User,
    trigger: str,
    exits: tuple[int | None, ...],
) -> RunSummary:
    def queue(c: psycopg.Connection[Any]) -> tuple[models.WorkflowRun, list[models.WorkflowStep]]:
        queued = _some(
            workflows.create_workflow_run(
                c,
                trigger_event=trigger,
                ref="main",
                commit_id=secrets.token_hex(20),
                inputs={"trigger": trigger},
                triggered_by=user.id,
                definition_id=definition.id,
            ),
            f"queue a {trigger} run",
        )
        steps = [
            workflows.create_workflow_step(
                c, run_id=queued.id, name=step["name"], position=i, depends_on=step["needs"]
            )
            for i, step in enumerate(PLAN["steps"])
        ]
        return queued, steps

    queued, steps = run_in_transaction(conn, queue)

    def claim(c: psycopg.Connection[Any]) -> models.WorkflowRun:
        got = _some(
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
        return _some(
            workflows.start_workflow_run(c, id=queued.id, runner_id=runner.id),
            f"start run {queued.id}",
        )

    started = run_in_transaction(conn, claim)
    say(f"  run {started.id} ({trigger}) claimed by {runner.name} and {started.status}")
    lines = sum(
        run_in_transaction(
            conn, functools.partial(_execute_step, run=started, step=step, exit_code=code)
        )
        for step, code in zip(steps, exits, strict=True)
    )
    failed = any(code not in (0, None) for code in exits)
    conclusion = WorkflowRunStatus.FAILED if failed else WorkflowRunStatus.SUCCEEDED

    def finish(c: psycopg.Connection[Any]) -> models.WorkflowRun:
        done = _some(
            workflows.finish_workflow_run(c, conclusion=conclusion, id=started.id),
            f"finish run {started.id}",
        )
        _some(workflows.release_runner(c, id=runner.id), f"release runner {runner.name}")
        return done

    done = run_in_transaction(conn, finish)
    final_steps = run_in_transaction(
        conn, lambda c: workflows.list_workflow_steps(c, run_id=done.id)
    )
    say(f"  run {done.id} {done.status}: {lines} log lines; runner {runner.name} idle again")
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
        _some(workflows.skip_workflow_step(conn, id=step.id), f"skip step {step.name}")
        workflows.append_workflow_log(
            conn,
            run_id=run.id,
            step_id=step.id,
            stream=LogStream.SYSTEM,
            content=f"skipped {step.name}: a step it needs failed",
        )
        return 1
    _some(workflows.start_workflow_step(conn, id=step.id), f"start step {step.name}")
    output = [
        workflows.CopyWorkflowLogsParams(run.id, step.id, LogStream.STDOUT, f"{step.name}: {text}")
        for text in ("starting", "working", "done")
    ]
    if exit_code:
        output.append(
            workflows.CopyWorkflowLogsParams(
                run.id, step.id, LogStream.STDERR, f"{step.name}: 1 failed, 41 passed"
            )
        )
    written = workflows.copy_workflow_logs(conn, output)
    status = WorkflowStepStatus.FAILED if exit_code else WorkflowStepStatus.SUCCEEDED
    _some(
        workflows.finish_workflow_step(conn, conclusion=status, exit_code=exit_code, id=step.id),
        f"finish step {step.name}",
    )
    return written


def _record_usage(
    conn: psycopg.Connection[Any], say: Say, user: models.User, runs: list[RunSummary]
) -> None:
    say("\n== 6. LLM usage ==")

    def record(c: psycopg.Connection[Any]) -> int:
        total = 0
        for i, (provider, model, tokens_in, tokens_out) in enumerate(LLM_CALLS):
            price_in, price_out = PRICES[model]
            usage = llm_usage.record_llm_usage(
                c,
                user_id=user.id,
                session_id=None,
                workflow_run_id=runs[i % len(runs)].run.id,
                provider=provider,
                model=model,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_micro_usd=tokens_in * price_in + tokens_out * price_out,
            )
            total += usage.cost_micro_usd
        return total

    total = run_in_transaction(conn, record)
    say(f"  {len(LLM_CALLS)} calls recorded, ${_usd(total)} in total")


def _tables(
    conn: psycopg.Connection[Any], say: Say, repo: models.Repository, since: datetime
) -> list[llm_usage.LlmUsageByModelRow]:
    """Read everything back in one snapshot and print it."""

    def read(
        c: psycopg.Connection[Any],
    ) -> tuple[list[list[object]], list[list[object]], list[llm_usage.LlmUsageByModelRow]]:
        issue_rows: list[list[object]] = []
        found = [
            issue
            for state in (IssueState.OPEN, IssueState.CLOSED)
            for issue in issues.list_issues(
                c,
                repository_id=repo.id,
                state=state,
                label_id=None,
                assignee_id=None,
                milestone_id=None,
                before_id=None,
                before_created_at=None,
                page_size=PAGE,
            )
        ]
        for issue in sorted(found, key=lambda i: i.issue_number):
            labels = issues.list_issue_labels(c, issue_id=issue.id)
            comments = issues.list_comments(
                c, issue_id=issue.id, after_id=None, after_created_at=None, page_size=PAGE
            )
            author = users.get_user_by_id(c, id=issue.author_id) if issue.author_id else None
            issue_rows.append(
                [
                    f"#{issue.issue_number}",
                    issue.title,
                    issue.state,
                    ", ".join(label.name for label in labels),
                    len(comments),
                    author.username if author else None,
                ]
            )
        run_rows: list[list[object]] = []
        recent = workflows.list_recent_workflow_runs(
            c,
            repository_id=repo.id,
            status=None,
            before_id=None,
            before_created_at=None,
            page_size=PAGE,
        )
        for r in reversed(recent):
            steps = workflows.list_workflow_steps(c, run_id=r.id)
            logs = workflows.list_run_logs(c, run_id=r.id, after_id=None, page_size=PAGE)
            runner = workflows.get_runner(c, id=r.runner_id) if r.runner_id else None
            ok = sum(s.status == WorkflowStepStatus.SUCCEEDED for s in steps)
            run_rows.append(
                [
                    r.id,
                    r.definition_name,
                    r.trigger_event,
                    r.status,
                    runner.name if runner else None,
                    f"{ok}/{len(steps)}",
                    len(logs),
                ]
            )
        usage = llm_usage.llm_usage_by_model(c, since=since, until=since + timedelta(days=1))
        return issue_rows, run_rows, usage

    issue_rows, run_rows, usage = run_in_transaction(
        conn, read, isolation=IsolationLevel.REPEATABLE_READ
    )
    say("\n== 7. Tables ==")
    say(f"\nIssues of {repo.name}")
    say(format_table(["#", "title", "state", "labels", "comments", "author"], issue_rows))
    say(f"\nWorkflow runs of {repo.name}")
    say(
        format_table(
            ["run", "workflow", "trigger", "status", "runner", "steps ok", "logs"], run_rows
        )
    )
    say("\nLLM cost per model (this demo run)")
    say(
        format_table(
            ["model", "calls", "input tokens", "output tokens", "cost (USD)"],
            [
                [u.model, u.calls, u.input_tokens, u.output_tokens, _usd(u.cost_micro_usd)]
                for u in usage
            ],
        )
    )
    return usage


def main() -> int:
    """``plue-db demo``: migrate the configured database if needed, then run the demo."""
    url = servers.database_url()
    print(f"database: {config.redacted(url)}")
    applied = migrate.migrate(url)
    print(f"migrations applied now: {', '.join(m.name for m in applied) or 'none (up to date)'}")
    try:
        with psycopg.connect(url) as conn:
            run(conn)
    except DemoError as exc:
        print(f"plue-db demo: {exc}", file=sys.stderr)
        return 1
    return 0
