"""The agent queries against a real PostgreSQL: sessions, messages appended at atomic
positions (raced by real threads), parts with jsonb payloads, and token totals."""

from __future__ import annotations

from functools import partial
from typing import Any

import psycopg
import pytest
from plue_queries import agent, models
from plue_queries.enums import MessageRole, MessageStatus, PartKind, SessionStatus
from psycopg import errors

from tests.concurrency import run_on_connections
from tests.factories import make_agent_session, make_user
from tests.fixtures.fix_db import Conn
from tests.queries.keyset import after, first_pages


def append(
    conn: Conn,
    session_id: int,
    role: MessageRole = MessageRole.USER,
    model: str | None = None,
) -> models.Message:
    message = agent.append_message(
        conn, session_id=session_id, role=role, status=MessageStatus.PENDING, model=model
    )
    assert message is not None
    return message


# --- sessions -------------------------------------------------------------------------


def test_create_and_get_session(conn: Conn) -> None:
    parent = make_agent_session(conn)
    child = make_agent_session(
        conn, user_id=parent.user_id, parent_session_id=parent.id, title="Fork", model="gpt-5"
    )
    assert child.parent_session_id == parent.id and child.user_id == parent.user_id
    assert (child.title, child.model, child.directory) == ("Fork", "gpt-5", "/home/agent/work")
    assert (child.status, child.token_count, child.message_count) == (SessionStatus.ACTIVE, 0, 0)
    assert agent.get_session(conn, id=child.id) == child
    system = make_agent_session(conn, user_id=None, repository_id=None)
    assert system.user_id is None and system.repository_id is None


def test_session_constraints_raise_typed_errors(conn: Conn) -> None:
    with pytest.raises(errors.ForeignKeyViolation), conn.transaction():
        make_agent_session(conn, user_id=-1)
    with (
        pytest.raises(errors.CheckViolation, match="sessions_directory_not_empty"),
        conn.transaction(),
    ):
        make_agent_session(conn, directory=" ")
    with pytest.raises(errors.CheckViolation, match="sessions_model_not_empty"), conn.transaction():
        make_agent_session(conn, model="")


def test_list_user_sessions_pages_newest_first_and_filters_status(
    conn: Conn,
) -> None:
    user = make_user(conn)
    made = [make_agent_session(conn, user_id=user.id, title=f"s{i}") for i in range(5)]
    make_agent_session(conn)  # someone else's
    assert agent.update_session_status(conn, id=made[3].id, status=SessionStatus.COMPLETED)

    def page(status: SessionStatus | None, before: models.Session | None) -> list[models.Session]:
        return agent.list_user_sessions(
            conn, user_id=user.id, status=status, page_size=2, **after(before)
        )

    first, second, third = first_pages(partial(page, None), 3)
    assert [s.title for s in first + second + third] == ["s4", "s3", "s2", "s1", "s0"]
    assert page(None, third[-1]) == []
    active = page(SessionStatus.ACTIVE, None)
    assert [s.title for s in active] == ["s4", "s2"]
    assert [s.title for s in page(SessionStatus.ACTIVE, active[-1])] == ["s1", "s0"]


def test_update_status_and_title(conn: Conn) -> None:
    session = make_agent_session(conn)
    idle = agent.update_session_status(conn, id=session.id, status=SessionStatus.IDLE)
    assert idle is not None and idle.status == SessionStatus.IDLE
    renamed = agent.update_session_title(conn, id=session.id, title="Refactor the parser")
    assert renamed is not None and renamed.title == "Refactor the parser"
    assert renamed.status == SessionStatus.IDLE
    assert agent.update_session_status(conn, id=-1, status=SessionStatus.IDLE) is None
    bogus: Any = "sleeping"
    with pytest.raises(errors.InvalidTextRepresentation), conn.transaction():
        agent.update_session_status(conn, id=session.id, status=bogus)


def test_add_session_tokens_returns_the_running_total(conn: Conn) -> None:
    session = make_agent_session(conn)
    assert agent.add_session_tokens(conn, id=session.id, tokens=1200) == 1200
    assert agent.add_session_tokens(conn, id=session.id, tokens=5_000_000_000) == 5_000_001_200
    assert agent.add_session_tokens(conn, id=-1, tokens=1) is None
    with pytest.raises(errors.CheckViolation, match="token_count_non_negative"), conn.transaction():
        agent.add_session_tokens(conn, id=session.id, tokens=-6_000_000_000)
    now = agent.get_session(conn, id=session.id)
    assert now is not None and now.token_count == 5_000_001_200


def test_delete_session_takes_its_messages_and_parts(conn: Conn) -> None:
    session = make_agent_session(conn)
    message = append(conn, session.id)
    agent.append_part(conn, message_id=message.id, kind=PartKind.TEXT, content={"text": "hi"})
    assert agent.delete_session(conn, id=session.id) == 1
    assert agent.delete_session(conn, id=session.id) == 0
    assert agent.get_message(conn, id=message.id) is None
    assert agent.list_message_parts(conn, message_id=message.id) == []


# --- messages -------------------------------------------------------------------------


def test_messages_get_consecutive_positions_and_list_in_order(
    conn: Conn,
) -> None:
    session = make_agent_session(conn)
    roles = [MessageRole.SYSTEM, MessageRole.USER, MessageRole.ASSISTANT, MessageRole.TOOL]
    made = [append(conn, session.id, role) for role in roles]
    assert [m.position for m in made] == [0, 1, 2, 3]
    assert agent.get_message(conn, id=made[2].id) == made[2]
    head = agent.list_session_messages(
        conn, session_id=session.id, after_position=None, page_size=3
    )
    assert [m.role for m in head] == roles[:3]
    rest = agent.list_session_messages(
        conn, session_id=session.id, after_position=head[-1].position, page_size=3
    )
    assert rest == [made[3]]
    counted = agent.get_session(conn, id=session.id)
    assert counted is not None and counted.message_count == 4


def test_append_to_a_missing_session_returns_nothing(conn: Conn) -> None:
    assert (
        agent.append_message(
            conn, session_id=-1, role=MessageRole.USER, status=MessageStatus.PENDING, model=None
        )
        is None
    )


def test_finish_message_and_token_totals(conn: Conn) -> None:
    session = make_agent_session(conn)
    assert agent.get_session_token_totals(conn, session_id=session.id) == (
        agent.GetSessionTokenTotalsRow(messages=0, input_tokens=0, output_tokens=0)
    )
    first = append(conn, session.id, MessageRole.ASSISTANT, "claude-sonnet-4")
    second = append(conn, session.id, MessageRole.ASSISTANT, "claude-sonnet-4")
    streaming = agent.update_message_status(conn, id=first.id, status=MessageStatus.STREAMING)
    assert streaming is not None and streaming.status == MessageStatus.STREAMING
    done = agent.finish_message(
        conn,
        id=first.id,
        status=MessageStatus.COMPLETED,
        input_tokens=3_000_000_000,
        output_tokens=450,
        error=None,
    )
    assert done is not None
    assert (done.status, done.input_tokens, done.output_tokens) == (
        MessageStatus.COMPLETED,
        3_000_000_000,
        450,
    )
    failed = agent.finish_message(
        conn,
        id=second.id,
        status=MessageStatus.FAILED,
        input_tokens=100,
        output_tokens=0,
        error="provider overloaded",
    )
    assert failed is not None and failed.error == "provider overloaded"
    assert agent.get_session_token_totals(conn, session_id=session.id) == (
        agent.GetSessionTokenTotalsRow(messages=2, input_tokens=3_000_000_100, output_tokens=450)
    )
    with pytest.raises(errors.CheckViolation), conn.transaction():
        agent.finish_message(
            conn,
            id=second.id,
            status=MessageStatus.FAILED,
            input_tokens=-1,
            output_tokens=0,
            error=None,
        )


APPENDERS = 8
EACH = 25


def test_concurrent_appends_get_positions_exactly_0_to_n(database_url: str) -> None:
    """8 threads x 25 appends to one session: positions exactly 0..199, no collision."""
    with psycopg.connect(database_url, autocommit=True) as setup:
        session = make_agent_session(setup, user_id=None, repository_id=None)

    def worker(conn: Conn, _: int) -> list[int]:
        return [append(conn, session.id).position for _ in range(EACH)]

    try:
        appended = run_on_connections(database_url, APPENDERS, worker)
        positions = [position for mine in appended for position in mine]
        assert sorted(positions) == list(range(APPENDERS * EACH))
        with psycopg.connect(database_url) as check:
            stored = agent.list_session_messages(
                check, session_id=session.id, after_position=None, page_size=1000
            )
            after = agent.get_session(check, id=session.id)
        assert [m.position for m in stored] == list(range(APPENDERS * EACH))
        assert after is not None and after.message_count == APPENDERS * EACH
    finally:
        with psycopg.connect(database_url, autocommit=True) as done:
            agent.delete_session(done, id=session.id)


# --- parts ----------------------------------------------------------------------------


def test_parts_append_in_order_with_jsonb_payloads(conn: Conn) -> None:
    message = append(conn, make_agent_session(conn).id, MessageRole.ASSISTANT)
    payloads: list[tuple[PartKind, Any]] = [
        (PartKind.REASONING, {"text": "Check the failing test first."}),
        (PartKind.TOOL_CALL, {"tool": "bash", "input": {"command": "pytest -x", "timeout": 60}}),
        (PartKind.TOOL_RESULT, {"tool": "bash", "output": ["1 failed", "ok"], "exit": 1}),
        (PartKind.TEXT, {"text": 'Fixed — ünïcode and "quotes" survive.'}),
    ]
    made = []
    for kind, content in payloads:
        part = agent.append_part(conn, message_id=message.id, kind=kind, content=content)
        assert part is not None
        made.append(part)
    assert [p.position for p in made] == [0, 1, 2, 3]
    listed = agent.list_message_parts(conn, message_id=message.id)
    assert [(p.kind, p.content) for p in listed] == payloads
    grown = agent.update_part_content(
        conn, id=made[3].id, content={"text": "Fixed, and the suite passes."}
    )
    assert grown is not None and grown.content == {"text": "Fixed, and the suite passes."}
    assert agent.append_part(conn, message_id=-1, kind=PartKind.TEXT, content={}) is None


def test_a_nul_in_a_part_is_rejected_and_nothing_is_written(
    conn: Conn,
) -> None:
    """jsonb cannot hold \\u0000: the append fails as a whole, the position is not used."""
    message = append(conn, make_agent_session(conn).id, MessageRole.TOOL)
    with pytest.raises(errors.UntranslatableCharacter), conn.transaction():
        agent.append_part(
            conn, message_id=message.id, kind=PartKind.TOOL_RESULT, content={"out": "a\x00b"}
        )
    part = agent.append_part(conn, message_id=message.id, kind=PartKind.TEXT, content={"t": 1})
    assert part is not None and part.position == 0
    assert agent.list_message_parts(conn, message_id=message.id) == [part]
