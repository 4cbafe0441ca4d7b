"""What the demo plays: its labels, issues, workflow plan and runs, and LLM calls.

Plain data, named field by field, so a step reads ``issue.labels`` rather than a
position in a tuple, and changing the story means editing only this file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from plue_db.json_shapes import WorkflowPlan

NONCE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(days=30)
RUNNER_HEARTBEAT_AGE = timedelta(minutes=1)
# Page size of every list the demo reads back; far above what one run creates.
PAGE = 500


class Label(NamedTuple):
    name: str
    color: str
    description: str


class Comment(NamedTuple):
    author: str  # a key of the demo's people: "alice" or "bob"
    body: str


class IssueScript(NamedTuple):
    title: str
    body: str
    labels: tuple[str, ...]  # Label names
    comments: tuple[Comment, ...]
    closed: bool = False  # closed once every issue exists


class PlanStep(NamedTuple):
    name: str
    run: str
    needs: tuple[str, ...]


class RunScript(NamedTuple):
    trigger: str
    # Each plan step's exit code, in plan order; None: skipped because a need failed.
    exit_codes: tuple[int | None, ...]


class Price(NamedTuple):
    """USD per million tokens, which is micro-USD per token."""

    input: int
    output: int


class LlmCall(NamedTuple):
    provider: str
    model: str
    input_tokens: int
    output_tokens: int


LABELS = (
    Label("bug", "#d73a4a", "Something is broken"),
    Label("enhancement", "#a2eeef", "New feature or request"),
    Label("docs", "#0075ca", "Documentation"),
)

ISSUES = (
    IssueScript(
        "Landing queue retries forever on conflicts",
        "A conflicted change goes back to the queue without a rebase.",
        labels=("bug",),
        comments=(
            Comment("bob", "Reproduced with a two-change stack."),
            Comment("alice", "Fix is in the landing request."),
        ),
    ),
    IssueScript(
        "Document Sign-In-With-Ethereum",
        "Explain the nonce lifetime and the one-time use.",
        labels=("docs", "enhancement"),
        comments=(Comment("alice", "Done, see the auth guide."),),
        closed=True,
    ),
    IssueScript(
        "Show runner labels on the dashboard",
        "",
        labels=("enhancement",),
        comments=(Comment("bob", "Labels come from the runner heartbeat."),),
    ),
)

PLAN_STEPS = (
    PlanStep("checkout", "jj git fetch && jj new main", needs=()),
    PlanStep("test", "pytest -q", needs=("checkout",)),
    PlanStep("lint", "ruff check .", needs=("test",)),
)
# The workflow definition's plan as stored (jsonb).
PLAN: WorkflowPlan = {
    "steps": [{"name": s.name, "run": s.run, "needs": list(s.needs)} for s in PLAN_STEPS]
}

RUNS = (
    RunScript("push", exit_codes=(0, 0, 0)),
    RunScript("landing_request", exit_codes=(0, 1, None)),
)

PRICES = {
    "claude-sonnet-4": Price(3, 15),
    "claude-haiku-3.5": Price(1, 5),
    "gpt-4.1-mini": Price(2, 8),
}
LLM_CALLS = (
    LlmCall("anthropic", "claude-sonnet-4", 12_000, 1_800),
    LlmCall("anthropic", "claude-sonnet-4", 8_500, 2_200),
    LlmCall("anthropic", "claude-haiku-3.5", 30_000, 900),
    LlmCall("openai", "gpt-4.1-mini", 4_000, 1_000),
    LlmCall("anthropic", "claude-sonnet-4", 21_000, 3_400),
)
