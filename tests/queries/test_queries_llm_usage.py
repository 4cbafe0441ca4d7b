"""The llm_usage queries against a real PostgreSQL: recording calls and rolling them
up per model, per UTC day and per session, with exact sums beyond 32 bits."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from plue_queries import llm_usage, models
from psycopg import errors

from tests.factories import make_agent_session, make_user, make_workflow_run
from tests.fixtures.fix_db import Conn

UTC = datetime.UTC
# Usage is placed in 2001 so that no other test's rows fall in the ranges queried here.
SINCE = datetime.datetime(2001, 3, 1, tzinfo=UTC)
UNTIL = datetime.datetime(2001, 4, 1, tzinfo=UTC)


def record(
    conn: Conn,
    at: datetime.datetime | None = None,
    **overrides: Any,
) -> models.LlmUsage:
    """Record a call (optionally moved to `at`, as if it had been made then)."""
    fields: dict[str, Any] = {
        "user_id": None,
        "session_id": None,
        "workflow_run_id": None,
        "provider": "anthropic",
        "model": "claude-sonnet-4",
        "input_tokens": 1000,
        "output_tokens": 200,
        "cost_micro_usd": 6000,
    }
    fields.update(overrides)
    usage = llm_usage.record_llm_usage(conn, **fields)
    if at is None:
        return usage
    conn.execute("UPDATE llm_usage SET created_at = %s WHERE id = %s", (at, usage.id))
    usage.created_at = at
    return usage


def test_record_links_the_call_to_its_session_and_run(conn: Conn) -> None:
    session = make_agent_session(conn)
    run = make_workflow_run(conn)
    usage = record(
        conn,
        user_id=session.user_id,
        session_id=session.id,
        workflow_run_id=run.id,
        input_tokens=4_000_000_000,
    )
    assert (usage.user_id, usage.session_id, usage.workflow_run_id) == (
        session.user_id,
        session.id,
        run.id,
    )
    assert (usage.provider, usage.model, usage.input_tokens) == (
        "anthropic",
        "claude-sonnet-4",
        4_000_000_000,
    )


def test_record_rejects_bad_values(conn: Conn) -> None:
    with (
        pytest.raises(errors.CheckViolation, match="input_tokens_non_negative"),
        conn.transaction(),
    ):
        record(conn, input_tokens=-5)
    with (
        pytest.raises(errors.CheckViolation, match="llm_usage_model_not_empty"),
        conn.transaction(),
    ):
        record(conn, model=" ")
    with pytest.raises(errors.ForeignKeyViolation), conn.transaction():
        record(conn, session_id=-1)


def test_usage_by_model_sums_within_the_range(conn: Conn) -> None:
    march = datetime.datetime(2001, 3, 10, 12, tzinfo=UTC)
    record(conn, march, model="gpt-5", input_tokens=3_000_000_000, cost_micro_usd=9_000_000_000)
    record(conn, march, model="gpt-5", input_tokens=3_000_000_000, cost_micro_usd=9_000_000_000)
    record(conn, march, model="claude-haiku", output_tokens=10, cost_micro_usd=5)
    record(conn, UNTIL, model="gpt-5", cost_micro_usd=1)  # the range is half-open
    record(conn, SINCE - datetime.timedelta(seconds=1), model="claude-haiku")
    rows = llm_usage.llm_usage_by_model(conn, since=SINCE, until=UNTIL)
    assert rows == [
        llm_usage.LlmUsageByModelRow(
            model="gpt-5",
            calls=2,
            input_tokens=6_000_000_000,
            output_tokens=400,
            cost_micro_usd=18_000_000_000,
        ),
        llm_usage.LlmUsageByModelRow(
            model="claude-haiku", calls=1, input_tokens=1000, output_tokens=10, cost_micro_usd=5
        ),
    ]
    later = datetime.datetime(2002, 1, 1, tzinfo=UTC)
    assert llm_usage.llm_usage_by_model(conn, since=later, until=later) == []


def test_usage_by_day_uses_utc_days_whatever_the_session_time_zone(
    conn: Conn,
) -> None:
    conn.execute("SET TIME ZONE 'America/New_York'")
    record(conn, datetime.datetime(2001, 3, 4, 23, 30, tzinfo=UTC), cost_micro_usd=100)
    record(conn, datetime.datetime(2001, 3, 5, 0, 30, tzinfo=UTC), cost_micro_usd=200)
    record(conn, datetime.datetime(2001, 3, 5, 23, 59, tzinfo=UTC), cost_micro_usd=300)
    record(conn, datetime.datetime(2001, 3, 5, 12, tzinfo=UTC), model="gpt-5", cost_micro_usd=7)
    days = llm_usage.llm_usage_by_day(conn, since=SINCE, until=UNTIL, model="claude-sonnet-4")
    assert [(d.day, d.calls, d.cost_micro_usd, d.input_tokens) for d in days] == [
        (datetime.date(2001, 3, 4), 1, 100, 1000),
        (datetime.date(2001, 3, 5), 2, 500, 2000),
    ]
    every_model = llm_usage.llm_usage_by_day(conn, since=SINCE, until=UNTIL, model=None)
    assert [(d.day, d.calls, d.cost_micro_usd) for d in every_model] == [
        (datetime.date(2001, 3, 4), 1, 100),
        (datetime.date(2001, 3, 5), 3, 507),
    ]


def test_usage_for_a_session_is_zero_until_it_calls(conn: Conn) -> None:
    session = make_agent_session(conn)
    other = make_agent_session(conn)
    assert llm_usage.llm_usage_for_session(conn, session_id=session.id) == (
        llm_usage.LlmUsageForSessionRow(calls=0, input_tokens=0, output_tokens=0, cost_micro_usd=0)
    )
    record(conn, session_id=session.id, input_tokens=10, output_tokens=20, cost_micro_usd=30)
    record(conn, session_id=session.id, input_tokens=1, output_tokens=2, cost_micro_usd=3)
    record(conn, session_id=other.id)
    assert llm_usage.llm_usage_for_session(conn, session_id=session.id) == (
        llm_usage.LlmUsageForSessionRow(
            calls=2, input_tokens=11, output_tokens=22, cost_micro_usd=33
        )
    )


def test_user_cost_since_counts_only_that_user_from_that_moment(
    conn: Conn,
) -> None:
    user = make_user(conn)
    record(conn, datetime.datetime(2001, 3, 1, tzinfo=UTC), user_id=user.id, cost_micro_usd=1)
    record(conn, datetime.datetime(2001, 3, 2, tzinfo=UTC), user_id=user.id, cost_micro_usd=20)
    record(conn, datetime.datetime(2001, 3, 3, tzinfo=UTC), user_id=user.id, cost_micro_usd=300)
    record(conn, datetime.datetime(2001, 3, 3, tzinfo=UTC), cost_micro_usd=4000)
    since = datetime.datetime(2001, 3, 2, tzinfo=UTC)
    assert llm_usage.user_llm_cost_since(conn, user_id=user.id, since=since) == 320
    assert llm_usage.user_llm_cost_since(conn, user_id=user.id, since=UNTIL) == 0


def test_delete_usage_before_a_cutoff(conn: Conn) -> None:
    old = record(conn, datetime.datetime(1999, 1, 1, tzinfo=UTC))
    kept = record(conn, datetime.datetime(2001, 3, 1, tzinfo=UTC))
    cutoff = datetime.datetime(2000, 1, 1, tzinfo=UTC)
    assert llm_usage.delete_llm_usage_before(conn, before=cutoff) == 1
    left = conn.execute(
        "SELECT id FROM llm_usage WHERE id = ANY(%s) ORDER BY id", ([old.id, kept.id],)
    ).fetchall()
    assert left == [(kept.id,)]
