"""Tracing sees every generated call: OpenTelemetry's psycopg instrumentation, the real
package, with the SDK's in-memory exporter.

Each generated call gives exactly one span whose statement starts with the query's
``-- name:`` line: sync (the per-thread cursor reused across calls), async, an
``iter_*`` stream (its DECLARE), ``:copyfrom`` (its marked SAVEPOINT) and ``:batch*``
(its executemany); whether the service instruments before connecting
(``PsycopgInstrumentor().instrument()``, with or without ``cursor_factory=RawCursor``)
or the connection (``instrument_connection``). The control: the call shape before
(``psycopg.RawCursor(conn)``) is not traced at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from plue_queries import issues, users, workflows
from plue_queries.aio import users as ausers
from plue_queries.enums import LogStream

from tests.factories import make_issue, make_user, make_workflow_run, unique_name


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def instrumented(database_url: str, provider: TracerProvider) -> Iterator[psycopg.Connection[Any]]:
    """A plain connection instrumented with instrument_connection; rolled back after."""
    with psycopg.connect(database_url) as conn:
        PsycopgInstrumentor().instrument_connection(conn, tracer_provider=provider)
        yield conn
        conn.rollback()


def statements(exporter: InMemorySpanExporter) -> list[str]:
    """Each finished span's statement, in order; the exporter is emptied."""
    spans = exporter.get_finished_spans()
    exporter.clear()
    return [str((span.attributes or {}).get("db.statement", "")) for span in spans]


def named(query: str, command: str) -> str:
    return f"-- name: {query} {command}\n"


def user_fields() -> dict[str, Any]:
    return {"username": unique_name("traced"), "display_name": "T", "bio": "", "is_admin": False}


def test_create_and_three_lookups_are_four_spans(
    instrumented: psycopg.Connection[Any], exporter: InMemorySpanExporter
) -> None:
    """The issue's case: 0 spans before, one per call now, the thread's cursor reused."""
    user = users.create_user(instrumented, **user_fields())
    for _ in range(3):
        assert users.get_user_by_id(instrumented, id=user.id) == user
    got = statements(exporter)
    assert len(got) == 4
    assert got[0].startswith(named("CreateUser", ":one"))
    assert all(s.startswith(named("GetUserByID", ":one")) for s in got[1:])


def test_old_call_shape_is_not_traced(
    instrumented: psycopg.Connection[Any], exporter: InMemorySpanExporter
) -> None:
    """Control: the cursor generated code used to build, psycopg.RawCursor(conn), is
    invisible to the instrumentation; conn.execute on the same connection is seen."""
    user = users.create_user(instrumented, **user_fields())
    exporter.clear()
    for _ in range(3):
        psycopg.RawCursor(instrumented).execute(users.GET_USER_BY_ID, (user.id,)).fetchone()
    assert statements(exporter) == []
    instrumented.execute("SELECT 1")
    assert statements(exporter) == ["SELECT 1"]


def test_instrumenting_a_connection_already_used(
    database_url: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """The thread's cached cursor is dropped when the connection's factory changes."""
    with psycopg.connect(database_url) as conn:
        user = users.create_user(conn, **user_fields())
        assert statements(exporter) == []
        PsycopgInstrumentor().instrument_connection(conn, tracer_provider=provider)
        users.get_user_by_id(conn, id=user.id)
        assert len(statements(exporter)) == 1
        conn.rollback()


@pytest.mark.parametrize("factory", [None, psycopg.RawCursor], ids=["default", "raw"])
def test_instrumentor_before_connecting(
    database_url: str,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    factory: type[psycopg.Cursor[Any]] | None,
) -> None:
    instrumentor = PsycopgInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        kwargs: dict[str, Any] = {"cursor_factory": factory} if factory else {}
        with psycopg.connect(database_url, **kwargs) as conn:
            user = users.create_user(conn, **user_fields())
            users.get_user_by_username(conn, username=user.username)
            got = statements(exporter)
            conn.rollback()
    finally:
        instrumentor.uninstrument()
    assert [s.split("\n")[0] for s in got] == [
        "-- name: CreateUser :one",
        "-- name: GetUserByUsername :one",
    ]


def test_async_calls(
    database_url: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as aconn:
            PsycopgInstrumentor().instrument_connection(aconn, tracer_provider=provider)
            user = await ausers.create_user(aconn, **user_fields())
            await ausers.get_user_by_id(aconn, id=user.id)
            page = [u async for u in ausers.iter_list_users(aconn, only_active=False, page_size=5)]
            assert page
            await aconn.rollback()

    asyncio.run(run())
    got = statements(exporter)
    assert len(got) == 3
    assert got[0].startswith(named("CreateUser", ":one"))
    assert got[1].startswith(named("GetUserByID", ":one"))
    assert got[2].startswith("DECLARE") and named("ListUsers", ":many") in got[2]


def test_stream_is_one_span(
    instrumented: psycopg.Connection[Any], exporter: InMemorySpanExporter
) -> None:
    """A stream read in several fetches (batch_size 1, existence checks between) is one
    span: its DECLARE, which holds the query's name."""
    for _ in range(3):
        make_user(instrumented)
    exporter.clear()
    rows = list(users.iter_list_users(instrumented, only_active=False, page_size=3, batch_size=1))
    assert len(rows) == 3
    got = statements(exporter)
    assert len(got) == 1
    assert got[0].startswith("DECLARE") and named("ListUsers", ":many") in got[0]


def test_copyfrom_and_batch_are_one_span_each(
    instrumented: psycopg.Connection[Any], exporter: InMemorySpanExporter
) -> None:
    run = make_workflow_run(instrumented)
    issue = make_issue(instrumented)
    label = issues.create_label(
        instrumented,
        repository_id=issue.repository_id,
        name=unique_name("l"),
        color="#00ff00",
        description="",
    )
    exporter.clear()
    lines = [
        workflows.CopyWorkflowLogsParams(run.id, None, LogStream.STDOUT, f"line {n}")
        for n in range(5)
    ]
    assert workflows.copy_workflow_logs(instrumented, lines) == 5
    copied = statements(exporter)
    issues.attach_labels(instrumented, [issues.AttachLabelsParams(issue.id, label.id)])
    batched = statements(exporter)
    assert len(copied) == 1 and copied[0].startswith(named("CopyWorkflowLogs", ":copyfrom"))
    assert len(batched) == 1 and batched[0].startswith(named("AttachLabels", ":batchexec"))


def test_copyfrom_in_its_own_transaction_is_one_span(
    database_url: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """On an autocommit connection the call opens its own transaction: still one span."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        run = make_workflow_run(conn)
        PsycopgInstrumentor().instrument_connection(conn, tracer_provider=provider)
        line = workflows.CopyWorkflowLogsParams(run.id, None, LogStream.STDERR, "x")
        assert workflows.copy_workflow_logs(conn, [line]) == 1
    got = statements(exporter)
    assert len(got) == 1 and got[0].startswith(named("CopyWorkflowLogs", ":copyfrom"))
