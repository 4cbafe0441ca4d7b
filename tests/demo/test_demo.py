"""``plue-db demo`` end to end: run it twice on one fresh database, then check what it
printed and what it left behind.

Each test gets its own empty database (``empty_database_url``) rather than the shared
test database: the demo commits, and its workflow claim is global (oldest queued run,
freshest idle runner), so it must neither see nor leave rows other tests rely on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from plue_queries import workflows

from plue_db.demo import scenario
from plue_db.demo.tables import format_table
from plue_db.schema import migrate
from plue_db.values import sha256_hex
from tests import factories
from tests.fixtures.fix_db import Conn

ISSUES_TABLE = [
    ["#1", "Landing queue retries forever on conflicts", "open", "bug", "2"],
    ["#2", "Document Sign-In-With-Ethereum", "closed", "docs, enhancement", "1"],
    ["#3", "Show runner labels on the dashboard", "open", "enhancement", "1"],
]
COST_TABLE = [
    ["claude-sonnet-4", "3", "41500", "7400", "0.235500"],
    ["claude-haiku-3.5", "1", "30000", "900", "0.034500"],
    ["gpt-4.1-mini", "1", "4000", "1000", "0.016000"],
]


@pytest.fixture
def demo_url(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database that scenario.main() is pointed at through DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    return empty_database_url


@pytest.fixture
def demo_conn(demo_url: str) -> Iterator[Conn]:
    with psycopg.connect(demo_url, autocommit=True) as conn:
        yield conn


def table(out: str, title: str) -> list[list[str]]:
    """The body rows of the printed table under ``title``, cells split on 2+ spaces."""
    lines = out.split("\n")
    start = lines.index(title) + 3  # title, header, dashes
    rows: list[list[str]] = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def suffix_of(out: str) -> str:
    match = re.search(r"^demo run ([0-9a-f]{6})$", out, re.MULTILINE)
    assert match is not None, out
    return match[1]


def test_demo_runs_twice_and_prints_this_runs_tables(
    demo_url: str, demo_conn: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scenario.main() == 0
    first = capsys.readouterr().out
    assert scenario.main() == 0
    second = capsys.readouterr().out

    assert "migrations applied now: 0001_initial.sql" in first
    for out in (first, second):  # the command ends with one line saying what it did
        last = out.splitlines()[-1]
        assert re.fullmatch(
            rf"demo: run {suffix_of(out)} wrote 2 users, a repository, \d+ "
            r"issues and 2 workflow runs to .+",
            last,
        ), last
    assert "migrations applied now: none (up to date)" in second
    suffixes = [suffix_of(first), suffix_of(second)]
    assert suffixes[0] != suffixes[1]
    run_ids: list[int] = []
    for out, s in zip((first, second), suffixes, strict=True):
        assert "second consume of the same nonce: REFUSED" in out
        assert f"user alice-{s} (id " in out
        assert table(out, f"Issues of plue-{s}") == [[*row, f"alice-{s}"] for row in ISSUES_TABLE]
        runs = table(out, f"Workflow runs of plue-{s}")
        assert [row[1:] for row in runs] == [
            ["ci", "push", "succeeded", f"runner-{s}", "3/3", "9"],
            ["ci", "landing_request", "failed", f"runner-{s}", "1/3", "8"],
        ]
        run_ids += [int(row[0]) for row in runs]
        assert table(out, "LLM cost per model (this demo run)") == COST_TABLE
    assert run_ids == sorted(set(run_ids))  # four distinct runs, in creation order

    # What the database holds after both runs, per run.
    for s in suffixes:
        wallet, nonces_used = demo_conn.execute(
            "SELECT u.wallet_address, count(n.*) FILTER (WHERE n.used_at IS NOT NULL) "
            "FROM users u JOIN siwe_nonces n ON n.wallet_address = u.wallet_address "
            "WHERE u.username = %s GROUP BY u.wallet_address",
            (f"alice-{s}",),
        ).fetchone() or (None, None)
        assert wallet is not None and re.fullmatch(r"0x[0-9a-f]{40}", wallet)
        assert nonces_used == 1
        numbers = demo_conn.execute(
            "SELECT array_agg(i.issue_number ORDER BY i.issue_number), max(r.next_issue_number) "
            "FROM issues i JOIN repositories r ON r.id = i.repository_id WHERE r.name = %s",
            (f"plue-{s}",),
        ).fetchone()
        assert numbers == ([1, 2, 3], 4)
        landed = demo_conn.execute(
            "SELECT q.status::text, array_agg(rv.state::text), count(rv.*) "
            "FROM landing_queue q JOIN repositories r ON r.id = q.repository_id "
            "JOIN landing_reviews rv ON rv.landing_id = q.id WHERE r.name = %s GROUP BY q.id",
            (f"plue-{s}",),
        ).fetchall()
        assert landed == [("landed", ["approved"], 1)]
        runs_in_db = demo_conn.execute(
            "SELECT w.status::text, p.name, p.status::text, p.claimed_run_id, "
            "  (SELECT array_agg(st.status::text ORDER BY st.position) "
            "     FROM workflow_steps st WHERE st.run_id = w.id), "
            "  (SELECT count(*) FROM workflow_logs l WHERE l.run_id = w.id) "
            "FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id "
            "JOIN runner_pool p ON p.id = w.runner_id WHERE r.name = %s ORDER BY w.id",
            (f"plue-{s}",),
        ).fetchall()
        assert runs_in_db == [
            ("succeeded", f"runner-{s}", "idle", None, ["succeeded"] * 3, 9),
            ("failed", f"runner-{s}", "idle", None, ["succeeded", "failed", "skipped"], 8),
        ]
        usage = demo_conn.execute(
            "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cost_micro_usd) "
            "FROM llm_usage l JOIN users u ON u.id = l.user_id WHERE u.username = %s",
            (f"alice-{s}",),
        ).fetchone()
        assert usage == (5, 75_500, 9_300, 286_000)
    assert demo_conn.execute("SELECT count(*), sum(cost_micro_usd) FROM llm_usage").fetchone() == (
        10,
        572_000,
    )
    assert demo_conn.execute(
        "SELECT count(*) FROM workflow_runs WHERE status = 'queued'"
    ).fetchone() == (0,)


def test_demo_refuses_to_work_a_run_that_is_not_its_own(
    demo_url: str, demo_conn: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older queued run in the database is what the dispatcher hands out first: the
    demo says so, rolls its claim back and leaves that run untouched."""
    migrate.migrate(demo_url)
    with psycopg.connect(demo_url) as conn:
        repo = factories.make_repo(conn)
        definition = workflows.upsert_workflow_definition(
            conn,
            repository_id=repo.id,
            name="nightly",
            file_path="",
            triggers=[],
            plan={"steps": []},
            is_active=True,
        )
        foreign = workflows.create_workflow_run(
            conn,
            trigger_event="schedule",
            ref=None,
            commit_id=None,
            inputs={},
            triggered_by=None,
            definition_id=definition.id,
        )
        assert foreign is not None
        conn.commit()

    assert scenario.main() == 1
    err = capsys.readouterr().err
    assert f"the dispatcher handed out run {foreign.id} to runner" in err
    assert "rolled the claim back" in err
    after = demo_conn.execute(
        "SELECT status::text, runner_id FROM workflow_runs WHERE id = %s", (foreign.id,)
    ).fetchone()
    assert after == ("queued", None)
    # The demo's own run was queued with its steps, and stays unclaimed too.
    assert demo_conn.execute(
        "SELECT count(*) FROM workflow_runs WHERE runner_id IS NOT NULL OR status <> 'queued'"
    ).fetchone() == (0,)
    assert demo_conn.execute(
        "SELECT count(*) FROM runner_pool WHERE status <> 'idle'"
    ).fetchone() == (0,)


def test_run_returns_what_it_made(demo_url: str) -> None:
    """run(conn) is the demo without printing: its result is what the tests build on."""
    migrate.migrate(demo_url)
    lines: list[str] = []
    with psycopg.connect(demo_url) as conn:
        result = scenario.run(conn, say=lines.append)
    assert lines[0] == f"demo run {result.suffix}"
    assert result.nonce.used_at is None  # as issued; consumed in the next transaction
    assert result.second_consume is None
    assert result.user.wallet_address == result.nonce.wallet_address
    assert result.reviewer.username == f"bob-{result.suffix}"
    assert result.repository.name == f"plue-{result.suffix}"
    assert [(i.issue_number, i.state) for i in result.issues] == [
        (1, "open"),
        (2, "closed"),
        (3, "open"),
    ]
    assert (result.landing.status, result.landing.landed_by) == ("landed", result.user.id)
    assert [(r.run.status, [s.status for s in r.steps], r.log_lines) for r in result.runs] == [
        ("succeeded", ["succeeded"] * 3, 9),
        ("failed", ["succeeded", "failed", "skipped"], 8),
    ]
    assert [(u.model, u.cost_micro_usd) for u in result.usage] == [
        ("claude-sonnet-4", 235_500),
        ("claude-haiku-3.5", 34_500),
        ("gpt-4.1-mini", 16_000),
    ]
    assert result.started_at == result.nonce.created_at
    # What sign-in handed the user is what the database holds the digests of.
    assert result.session.session_key_hash == sha256_hex(result.credentials.session_key)
    assert result.credentials.access_token.startswith("plue_")


def test_format_table_aligns_numbers_right_and_marks_missing_values() -> None:
    text = format_table(["name", "n"], [["alpha", 5], ["b", 120], [None, 7]])
    assert text.split("\n") == [
        "name     n",
        "-----  ---",
        "alpha    5",
        "b      120",
        "-        7",
    ]
    assert format_table(["a", "b"], []).split("\n") == ["a  b", "-  -", "(no rows)"]


def test_format_table_counts_floats_as_numbers_and_bools_as_text() -> None:
    text = format_table(["ratio", "ok"], [[0.5, True], [12.25, False]])
    assert text.split("\n") == [
        "ratio  ok",
        "-----  -----",
        "  0.5  True",
        "12.25  False",
    ]
