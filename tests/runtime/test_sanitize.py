"""NUL bytes: rejected by ordinary writes, made storable by the explicit sanitiser."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from plue_queries import agent, workflows
from plue_queries.enums import LogStream, MessageRole, MessageStatus, PartKind

from plue_db.sanitize import REPLACEMENT, clean_json, clean_text
from tests.factories import make_agent_session, make_workflow_run
from tests.fixtures.fix_db import Conn


def test_clean_text_and_json() -> None:
    assert clean_text("a\x00b\x00") == f"a{REPLACEMENT}b{REPLACEMENT}"
    assert clean_text("plain") == "plain"
    assert clean_text("a\x00", replacement="") == "a"
    dirty: dict[str, Any] = {"k\x00": ["x\x00", {"deep": "\x00"}, 1, None, True]}
    assert clean_json(dirty, "?") == {"k?": ["x?", {"deep": "?"}, 1, None, True]}


def log_count(conn: Conn, run_id: int) -> int:
    return len(workflows.list_run_logs(conn, run_id=run_id, after_id=None, page_size=1000))


def test_log_ingestion_rejects_nul_and_accepts_it_sanitised(conn: Conn) -> None:
    run = make_workflow_run(conn)
    lines = ["building", "binary\x00garbage", "done"]
    rows = [workflows.CopyWorkflowLogsParams(run.id, None, LogStream.STDOUT, t) for t in lines]
    with pytest.raises(psycopg.DataError, match="NUL"):
        workflows.copy_workflow_logs(conn, rows)
    assert log_count(conn, run.id) == 0  # the whole batch, not a prefix of it
    clean = [
        workflows.CopyWorkflowLogsParams(r.run_id, r.step_id, r.stream, clean_text(r.content))
        for r in rows
    ]
    assert workflows.copy_workflow_logs(conn, clean) == 3
    stored = workflows.list_run_logs(conn, run_id=run.id, after_id=None, page_size=10)
    assert [log.content for log in stored] == ["building", f"binary{REPLACEMENT}garbage", "done"]


def test_jsonb_payload_with_nul_is_refused_then_sanitised(conn: Conn) -> None:
    session = make_agent_session(conn)
    message = agent.append_message(
        conn, session_id=session.id, role=MessageRole.ASSISTANT, status=MessageStatus.COMPLETED
    )
    assert message is not None
    payload = {"text": "tool said \x00 here"}
    with pytest.raises(psycopg.errors.UntranslatableCharacter), conn.transaction():
        agent.append_part(conn, message_id=message.id, kind=PartKind.TEXT, content=payload)
    part = agent.append_part(
        conn, message_id=message.id, kind=PartKind.TEXT, content=clean_json(payload)
    )
    assert part is not None
    assert part.content == {"text": f"tool said {REPLACEMENT} here"}
