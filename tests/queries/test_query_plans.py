"""The hot queries keep using their indexes, with custom and with generic plans.

psycopg prepares a statement after five executions and PostgreSQL may then switch to
a generic plan, planned without the parameter values. A keyset predicate written as
``($n IS NULL OR (created_at, id) < (...))`` loses its index condition there, and a
deep page scans every earlier row. So each hot query is EXPLAINed twice on a seeded
forge (thousands of rows, ANALYZEd): once with its values (custom plan) and once
PREPAREd under ``plan_cache_mode = force_generic_plan``. A Seq Scan on a big table
fails the test, and so does a keyset list whose cursor bound is not an index
condition. Negative controls show the checker sees both faults.

Over 400 lines on purpose: the list of hot queries with their arguments is most of it,
and it must sit beside the plan checker and its controls.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
import pytest
from plue_queries import agent, auth, issues, landing, pull_requests, repositories, users, workflows
from plue_queries.enums import IssueState, LandingStatus, PrState
from psycopg import sql

from bench import forge_seed
from tests.fixtures.fix_db import Conn, fresh_database
from tests.paths import SCHEMA

Plan = Mapping[str, Any]

BIG_TABLES = frozenset(
    {
        "users",
        "repositories",
        "issues",
        "comments",
        "workflow_runs",
        "workflow_steps",
        "workflow_logs",
        "sessions",
        "messages",
        "parts",
        "landing_queue",
        "pull_requests",
        "auth_sessions",
        "access_tokens",
        "ssh_keys",
    }
)
# Small enough to seed in seconds, big enough that an index beats a scan everywhere.
SIZE = dataclasses.replace(
    forge_seed.ForgeSize.at(0.02), users=10_000, repositories=1_000, issues=100_000
)
HOT = forge_seed.HOT_ID
MIDDLE = forge_seed.NOW - forge_seed.SPAN / 2
"""A cursor timestamp half-way through every seeded timeline: a deep page."""


@dataclass(frozen=True, slots=True)
class HotQuery:
    """A generated query, the values to plan it with, and its keyset column if a list."""

    name: str
    function: Callable[..., object]
    text: LiteralString
    values: Mapping[str, object]
    keyset: str | None = None
    """A column that must appear in an index condition (the cursor bound)."""

    def params(self) -> list[object]:
        """The values in $n order: the generated function's keyword order."""
        names = [
            p.name
            for p in inspect.signature(self.function).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "batch_size"
        ]
        unknown = set(self.values) - set(names)
        assert not unknown, f"{self.name}: no parameter named {sorted(unknown)}"
        return [self.values.get(name) for name in names]


def _deep(query: HotQuery, **cursor: object) -> HotQuery:
    return dataclasses.replace(
        query, name=f"{query.name} (deep page)", values={**query.values, **cursor}
    )


def _lists() -> list[HotQuery]:
    page = {"page_size": 50}
    return [
        HotQuery(
            "issues of a repository by state",
            issues.list_issues,
            issues.LIST_ISSUES,
            {"repository_id": HOT, "state": IssueState.OPEN, **page},
            "created_at",
        ),
        HotQuery(
            "comments of an issue",
            issues.list_comments,
            issues.LIST_COMMENTS,
            {"issue_id": HOT, **page},
            "created_at",
        ),
        HotQuery(
            "log lines of a run",
            workflows.list_run_logs,
            workflows.LIST_RUN_LOGS,
            {"run_id": HOT, **page},
            "id",
        ),
        HotQuery(
            "log lines of a step",
            workflows.list_step_logs,
            workflows.LIST_STEP_LOGS,
            {"step_id": HOT, **page},
            "id",
        ),
        HotQuery(
            "recent runs of a repository",
            workflows.list_recent_workflow_runs,
            workflows.LIST_RECENT_WORKFLOW_RUNS,
            {"repository_id": HOT, **page},
            "created_at",
        ),
        HotQuery(
            "messages of a session",
            agent.list_session_messages,
            agent.LIST_SESSION_MESSAGES,
            {"session_id": HOT, **page},
            "position",
        ),
        HotQuery(
            "sessions of a user",
            agent.list_user_sessions,
            agent.LIST_USER_SESSIONS,
            {"user_id": HOT, **page},
            "created_at",
        ),
        HotQuery(
            "repositories of an owner",
            repositories.list_repositories_by_owner,
            repositories.LIST_REPOSITORIES_BY_OWNER,
            {"owner_id": HOT, "include_private": True, **page},
            "created_at",
        ),
        HotQuery(
            "landing queue by repository and status",
            landing.list_landing_requests_by_status,
            landing.LIST_LANDING_REQUESTS_BY_STATUS,
            {"repository_id": HOT, "status": LandingStatus.PENDING, **page},
            "created_at",
        ),
        HotQuery(
            "pull requests by repository and state",
            pull_requests.list_pull_requests_by_state,
            pull_requests.LIST_PULL_REQUESTS_BY_STATE,
            {"base_repository_id": HOT, "state": PrState.OPEN, **page},
            "created_at",
        ),
        HotQuery(
            "users, newest first",
            users.list_users,
            users.LIST_USERS,
            {"only_active": True, **page},
            "created_at",
        ),
    ]


def _deep_cursors() -> dict[str, dict[str, object]]:
    """Per list, a cursor half-way down the hot parent's list."""
    before = {"before_created_at": MIDDLE, "before_id": 2**40}
    return {
        "issues of a repository by state": before,
        "comments of an issue": {"after_created_at": MIDDLE, "after_id": 1},
        "log lines of a run": {"after_id": SIZE.log_lines // 2},
        "log lines of a step": {"after_id": SIZE.log_lines // 2},
        "recent runs of a repository": before,
        "messages of a session": {"after_position": SIZE.messages // forge_seed.HOT_SHARE // 2},
        "sessions of a user": before,
        "repositories of an owner": before,
        "landing queue by repository and status": before,
        "pull requests by repository and state": before,
        "users, newest first": before,
    }


def _lookups() -> list[HotQuery]:
    return [
        HotQuery(
            "user by username",
            users.get_user_by_username,
            users.GET_USER_BY_USERNAME,
            {"username": "user4242"},
        ),
        HotQuery("user by id", users.get_user_by_id, users.GET_USER_BY_ID, {"id": 4242}),
        HotQuery(
            "repository by owner and name",
            repositories.get_repository_by_owner_and_name,
            repositories.GET_REPOSITORY_BY_OWNER_AND_NAME,
            {"owner_username": "user1", "name": "repo11"},
        ),
        HotQuery(
            "issue by number",
            issues.get_issue_by_number,
            issues.GET_ISSUE_BY_NUMBER,
            {"repository_id": 7, "issue_number": 3},
        ),
        HotQuery(
            "browser session by key hash",
            auth.get_valid_auth_session,
            auth.GET_VALID_AUTH_SESSION,
            {"session_key_hash": forge_seed.session_key_hash(42)},
        ),
        HotQuery(
            "access token by hash",
            auth.validate_access_token,
            auth.VALIDATE_ACCESS_TOKEN,
            {"token_hash": forge_seed.access_token_hash(42)},
        ),
        HotQuery(
            "ssh key by fingerprint",
            auth.get_ssh_key_by_fingerprint,
            auth.GET_SSH_KEY_BY_FINGERPRINT,
            {"fingerprint": forge_seed.ssh_fingerprint(42)},
        ),
        HotQuery(
            "ssh login by fingerprint",
            auth.authenticate_ssh_key,
            auth.AUTHENTICATE_SSH_KEY,
            {"fingerprint": forge_seed.ssh_fingerprint(42)},
        ),
        HotQuery(
            "parts of a message",
            agent.list_message_parts,
            agent.LIST_MESSAGE_PARTS,
            {"message_id": 4242},
        ),
        HotQuery(
            "claim the next queued run",
            workflows.claim_workflow_run,
            workflows.CLAIM_WORKFLOW_RUN,
            {"max_heartbeat_age": datetime.timedelta(minutes=1)},
        ),
    ]


def _hot_queries() -> list[HotQuery]:
    cursors = _deep_cursors()
    lists = _lists()
    return [*lists, *(_deep(q, **cursors[q.name]) for q in lists), *_lookups()]


HOT_QUERIES = _hot_queries()

# The pre-fix keyset form of ListIssues: correct results, but under a generic plan the
# OR keeps the cursor bound out of the index condition.
OR_KEYSET_LIST_ISSUES: LiteralString = """
SELECT * FROM issues
WHERE repository_id = $1 AND state = $2
  AND ($3::bigint IS NULL OR (created_at, id) < ($4::timestamptz, $3::bigint))
ORDER BY created_at DESC, id DESC
LIMIT 50
"""
UNINDEXED: LiteralString = "SELECT id FROM issues WHERE body = $1 LIMIT 50"


@pytest.fixture(scope="module")
def forge(server_url: str) -> Iterator[str]:
    """A database holding a small seeded forge, ANALYZEd, for this module only."""
    with fresh_database(server_url, SCHEMA) as url:
        forge_seed.seed_forge(url, SIZE)
        yield url


@pytest.fixture
def forge_conn(forge: str) -> Iterator[Conn]:
    with psycopg.connect(forge) as conn:
        yield conn
        conn.rollback()


def custom_plan(conn: Conn, text: LiteralString, params: list[object]) -> Plan:
    """EXPLAIN with the values bound: what a one-off execution plans."""
    with psycopg.RawCursor(conn) as cur:
        row = cur.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) {}").format(sql.SQL(text)), params
        ).fetchone()
    return _top(row)


def generic_plan(conn: Conn, text: LiteralString, params: list[object]) -> Plan:
    """EXPLAIN EXECUTE of a PREPAREd statement forced to its generic plan."""
    conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    conn.execute(sql.SQL("PREPARE hot_query AS {}").format(sql.SQL(text)))
    try:
        # EXECUTE's arguments are expressions, not bind parameters: psycopg's client-side
        # binding turns the values into quoted literals that PostgreSQL then coerces.
        args = sql.SQL(", ").join(sql.Placeholder() * len(params))
        explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE hot_query ({})").format(args)
        with psycopg.ClientCursor(conn) as cur:
            row = cur.execute(explain, params).fetchone()
    finally:
        conn.execute("DEALLOCATE hot_query")
    return _top(row)


def _top(row: tuple[Any, ...] | None) -> Plan:
    assert row is not None
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    plan: Plan = document[0]["Plan"]
    return plan


def nodes(plan: Plan) -> Iterator[Plan]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def seq_scans_on_big_tables(plan: Plan) -> list[str]:
    return sorted(
        n["Relation Name"]
        for n in nodes(plan)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
    )


def read_in_index_order(plan: Plan, column: str) -> bool:
    """Whether the page is read in index order from the keyset bound on: an (ordered)
    index scan constrains ``column``, and nothing sorts. A bitmap scan with the bound
    still reads and sorts every row past the cursor."""
    ordered = ("Index Scan", "Index Only Scan")
    return not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes(plan)) and any(
        n["Node Type"] in ordered and column in n.get("Index Cond", "") for n in nodes(plan)
    )


PLANNERS = {"custom": custom_plan, "generic": generic_plan}


@pytest.mark.parametrize("planner", PLANNERS)
@pytest.mark.parametrize("query", HOT_QUERIES, ids=lambda q: q.name)
def test_hot_query_uses_an_index(forge_conn: Conn, query: HotQuery, planner: str) -> None:
    plan = PLANNERS[planner](forge_conn, query.text, query.params())

    assert seq_scans_on_big_tables(plan) == [], json.dumps(plan, indent=1)
    # With its values bound the planner knows how many rows lie past the cursor and
    # may rightly sort a short rest. A generic plan does not know: it must read the
    # page in index order from the bound, whatever the list's length.
    if query.keyset is not None and planner == "generic":
        assert read_in_index_order(plan, query.keyset), json.dumps(plan, indent=1)


@pytest.mark.parametrize("planner", PLANNERS)
def test_negative_control_unindexed_predicate_is_flagged(forge_conn: Conn, planner: str) -> None:
    plan = PLANNERS[planner](forge_conn, UNINDEXED, ["Steps to reproduce: run it twice."])

    assert seq_scans_on_big_tables(plan) == ["issues"]


def test_negative_control_or_keyset_loses_the_bound_in_a_generic_plan(forge_conn: Conn) -> None:
    params: list[object] = [HOT, IssueState.OPEN, 2**40, MIDDLE]

    assert read_in_index_order(custom_plan(forge_conn, OR_KEYSET_LIST_ISSUES, params), "created_at")
    assert not read_in_index_order(
        generic_plan(forge_conn, OR_KEYSET_LIST_ISSUES, params), "created_at"
    )


def test_seeded_forge_is_consistent(forge_conn: Conn) -> None:
    """COPY skipped the foreign-key triggers: prove no row points nowhere, counters agree."""
    fks = forge_conn.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text,"
        " array(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, o)"
        "       JOIN pg_attribute ON attrelid = conrelid AND attnum = n ORDER BY o)::text[],"
        " array(SELECT attname FROM unnest(confkey) WITH ORDINALITY k(n, o)"
        "       JOIN pg_attribute ON attrelid = confrelid AND attnum = n ORDER BY o)::text[]"
        " FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ).fetchall()
    assert len(fks) > 20
    for child, parent, columns, referenced in fks:
        assert isinstance(columns, list) and isinstance(referenced, list)
        match = sql.SQL(" AND ").join(
            sql.SQL("p.{} = c.{}").format(sql.Identifier(r), sql.Identifier(c))
            for c, r in zip(columns, referenced, strict=True)
        )
        present = sql.SQL(" AND ").join(
            sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns
        )
        orphans = sql.SQL(
            "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT FROM {} p WHERE {})"
        ).format(sql.Identifier(str(child)), present, sql.Identifier(str(parent)), match)
        assert forge_conn.execute(orphans).fetchone() == (0,), (child, columns)

    mismatched = forge_conn.execute(
        "SELECT r.id FROM repositories r WHERE r.next_issue_number <> 1 + GREATEST("
        " (SELECT coalesce(max(issue_number), 0) FROM issues WHERE repository_id = r.id),"
        " (SELECT coalesce(max(pr_number), 0) FROM pull_requests WHERE base_repository_id = r.id))"
    ).fetchall()
    assert mismatched == []
    counts = forge_conn.execute(
        "SELECT (SELECT count(*) FROM issues), (SELECT count(*) FROM comments),"
        " (SELECT count(*) FROM workflow_logs), (SELECT count(*) FROM users),"
        " (SELECT count(*) FROM issues WHERE repository_id = 1)"
    ).fetchone()
    assert counts == (SIZE.issues, SIZE.comments, SIZE.log_lines, SIZE.users, SIZE.issues // 10)


def _skipped_by_next_claim(conn: Conn, backlog: int) -> int:
    """Claim ``backlog`` runs without starting them, then count what the next claim skips."""
    conn.execute(
        "INSERT INTO workflow_runs (repository_id, definition_id, trigger_event)"
        " SELECT 1, 1, 'plan-test' FROM generate_series(1, %s)",
        (2 * backlog,),
    )
    conn.execute(
        "INSERT INTO runner_pool (name) SELECT 'plan-test-' || g FROM generate_series(1, %s) g",
        (2 * backlog,),
    )
    conn.execute("ANALYZE workflow_runs")
    for _ in range(backlog):
        assert workflows.claim_workflow_run(conn, max_heartbeat_age=datetime.timedelta(hours=1))
    with psycopg.RawCursor(conn) as cur:
        explain = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) {}").format(
            sql.SQL(workflows.CLAIM_WORKFLOW_RUN)
        )
        plan = _top(cur.execute(explain, [datetime.timedelta(hours=1)]).fetchone())
    queue_scans = [n for n in nodes(plan) if n.get("Index Name") == "idx_workflow_runs_queued"]
    assert len(queue_scans) == 1, json.dumps(plan, indent=1)
    return int(queue_scans[0].get("Rows Removed by Filter", 0))


def test_claim_skips_no_claimed_runs(forge_conn: Conn) -> None:
    """Claimed runs stay queued until started: the queue index must not hold them."""
    assert _skipped_by_next_claim(forge_conn, backlog=100) == 0


def test_negative_control_queue_index_with_claimed_runs_makes_claims_skip(forge_conn: Conn) -> None:
    forge_conn.execute("DROP INDEX idx_workflow_runs_queued")
    forge_conn.execute(
        "CREATE INDEX idx_workflow_runs_queued ON workflow_runs (created_at, id)"
        " WHERE status = 'queued'"
    )

    assert _skipped_by_next_claim(forge_conn, backlog=100) == 100
