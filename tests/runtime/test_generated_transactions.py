"""Generated code never ends, commits or rolls back a transaction that is the caller's.

Streams (``iter_*``) and many-row writes (``:copyfrom``, ``:batch*``) run inside whatever
transaction the caller has open. Every scenario is played twice: with the generated
function, which must pass, and with the shape the generator used to emit (the stream or
the write wrapped in ``conn.transaction()``), which must fail the same check: the
negative control that proves the check can see the defect.

Over 400 lines on purpose: every scenario is written twice, the generated function and
the old shape as its negative control, side by side.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, Literal

import psycopg
import pytest
from plue_queries import aio, issues, models, users, workflows
from plue_queries.enums import LogStream
from plue_queries.types import StreamEndedError
from psycopg.rows import tuple_row

from plue_db.pool import open_async_pool, open_pool
from tests.factories import make_issue, make_user, make_workflow_run
from tests.fixtures.fix_db import AConn, Conn, fresh_database
from tests.paths import SCHEMA

Impl = Literal["generated", "legacy"]
IMPLS: tuple[Impl, ...] = ("generated", "legacy")
Exit = Literal["break", "return", "raise", "gc"]
Mode = Literal["pool", "autocommit", "caller_transaction"]
LOG_LINES = 5  # more than one batch of 2, so the cursor is open when the loop is left


class LoopBodyError(Exception):
    """Raised by a caller's loop body."""


@pytest.fixture(scope="module")
def database_url(server_url: str) -> Iterator[str]:
    """A database of this module's own: its scenarios commit, and the queued workflow runs
    they leave must not be claimed by the workflow tests sharing the session's database."""
    with fresh_database(server_url, SCHEMA) as url:
        yield url


@pytest.fixture
def world(database_url: str) -> tuple[int, int, int]:
    """Committed: a workflow run with LOG_LINES log lines, and two users (a, b)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        run = make_workflow_run(conn)
        lines = [
            workflows.CopyWorkflowLogsParams(run.id, None, LogStream.STDOUT, f"line {i}")
            for i in range(LOG_LINES)
        ]
        workflows.copy_workflow_logs(conn, lines)
        return run.id, make_user(conn).id, make_user(conn).id


def names(database_url: str, *ids: int) -> tuple[str, ...]:
    """Display names as another session sees them (committed state only)."""
    with psycopg.connect(database_url) as conn:
        found = [users.get_user_by_id(conn, id=i) for i in ids]
    return tuple(u.display_name if u else "<gone>" for u in found)


def rename(conn: Conn, user_id: int, name: str) -> None:
    assert users.update_user_profile(conn, display_name=name, bio="", id=user_id) is not None


async def arename(conn: AConn, user_id: int, name: str) -> None:
    updated = await aio.users.update_user_profile(conn, display_name=name, bio="", id=user_id)
    assert updated is not None


# --- the streams, generated and legacy -------------------------------------------------


def stream(impl: Impl, conn: Conn, run_id: int) -> Generator[object, None, None]:
    if impl == "generated":
        return workflows.iter_list_run_logs(conn, run_id=run_id, page_size=100, batch_size=2)
    return legacy_stream(conn, run_id)


def legacy_stream(conn: Conn, run_id: int) -> Generator[object, None, None]:
    """The stream as generated before the fix: a server cursor in conn.transaction()."""
    with (
        conn.transaction(),
        psycopg.RawServerCursor(conn, "legacy_stream", row_factory=tuple_row) as cur,
    ):
        cur.itersize = 2
        cur.execute(workflows.LIST_RUN_LOGS, (run_id, None, 100))
        yield from cur


def astream(impl: Impl, conn: AConn, run_id: int) -> AsyncGenerator[object, None]:
    if impl == "generated":
        return aio.workflows.iter_list_run_logs(conn, run_id=run_id, page_size=100, batch_size=2)
    return legacy_astream(conn, run_id)


async def legacy_astream(conn: AConn, run_id: int) -> AsyncGenerator[object, None]:
    async with (
        conn.transaction(),
        psycopg.AsyncRawServerCursor(conn, "legacy_stream", row_factory=tuple_row) as cur,
    ):
        cur.itersize = 2
        await cur.execute(workflows.LIST_RUN_LOGS, (run_id, None, 100))
        async for row in cur:
            yield row


# --- leaving a loop early --------------------------------------------------------------


def leave_loop(impl: Impl, conn: Conn, how: Exit, run_id: int, user_id: int) -> None:
    """Write inside a loop over a stream, then leave the loop the way ``how`` says."""
    if how == "gc":
        it = stream(impl, conn, run_id)
        next(it)
        rename(conn, user_id, "in-loop")
        del it
        gc.collect()
        return

    def loop() -> None:
        for _ in stream(impl, conn, run_id):
            rename(conn, user_id, "in-loop")
            if how == "break":
                break
            if how == "return":
                return
            raise LoopBodyError

    with suppress(LoopBodyError):
        loop()


@contextmanager
def connection(database_url: str, mode: Mode) -> Iterator[Conn]:
    """A connection the way a caller holds one, committed when the block ends."""
    if mode == "pool":
        with open_pool(database_url, min_size=1, max_size=1) as pool, pool.connection() as conn:
            yield conn
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        block: AbstractContextManager[Any] = (
            conn.transaction() if mode == "caller_transaction" else nullcontext()
        )
        with block:
            yield conn


def play_sync(database_url: str, impl: Impl, mode: Mode, how: Exit, w: tuple[int, int, int]) -> str:
    run_id, a, b = w
    try:
        with connection(database_url, mode) as conn:
            leave_loop(impl, conn, how, run_id, a)
            rename(conn, b, "after-loop")
    except psycopg.Error as exc:
        return f"error: {exc}"
    return "/".join(names(database_url, a, b))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("how", ["break", "return", "raise", "gc"])
@pytest.mark.parametrize("mode", ["pool", "autocommit", "caller_transaction"])
def test_leaving_a_stream_keeps_the_callers_writes(
    database_url: str, world: tuple[int, int, int], mode: Mode, how: Exit, impl: Impl
) -> None:
    outcome = play_sync(database_url, impl, mode, how, world)
    if impl == "generated":
        assert outcome == "in-loop/after-loop"
    else:
        assert outcome != "in-loop/after-loop"


async def aleave_loop(impl: Impl, conn: AConn, how: Exit, run_id: int, user_id: int) -> None:
    # Deliberately leave_loop's twin, line for line with await: each way of leaving
    # a stream is spelled out for the async generator too, not derived from the sync one.
    if how == "gc":
        it = astream(impl, conn, run_id)
        await anext(it)
        await arename(conn, user_id, "in-loop")
        del it
        gc.collect()
        return

    async def loop() -> None:
        async for _ in astream(impl, conn, run_id):
            await arename(conn, user_id, "in-loop")
            if how == "break":
                break
            if how == "return":
                return
            raise LoopBodyError

    with suppress(LoopBodyError):
        await loop()


async def aplay(
    database_url: str, impl: Impl, mode: Mode, how: Exit, run_id: int, a: int, b: int
) -> None:
    """The async twin of play_sync: the event loop closes abandoned generators later."""
    if mode == "pool":
        async with (
            await open_async_pool(database_url, min_size=1, max_size=1) as pool,
            pool.connection() as conn,
        ):
            await aleave_loop(impl, conn, how, run_id, a)
            await arename(conn, b, "after-loop")
        return
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        if mode == "caller_transaction":
            async with conn.transaction():
                await aleave_loop(impl, conn, how, run_id, a)
                await arename(conn, b, "after-loop")
        else:
            await aleave_loop(impl, conn, how, run_id, a)
            await arename(conn, b, "after-loop")
        await asyncio.sleep(0.05)  # let the loop finalize abandoned generators


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("how", ["break", "return", "raise", "gc"])
@pytest.mark.parametrize("mode", ["pool", "autocommit", "caller_transaction"])
def test_leaving_an_async_stream_keeps_the_callers_writes(
    database_url: str, world: tuple[int, int, int], mode: Mode, how: Exit, impl: Impl
) -> None:
    run_id, a, b = world
    try:
        asyncio.run(aplay(database_url, impl, mode, how, run_id, a, b))
        outcome = "/".join(names(database_url, a, b))
    except psycopg.Error as exc:
        outcome = f"error: {exc}"
    if impl == "generated":
        assert outcome == "in-loop/after-loop"
    else:
        assert outcome != "in-loop/after-loop"


# --- a stream kept past its transaction ------------------------------------------------


def keep_past_the_block(database_url: str, impl: Impl, w: tuple[int, int, int]) -> str:
    """Read one row, give the connection back, then touch the stream while the next
    borrower of the same connection is in the middle of a transaction."""
    run_id, a, b = w
    try:
        with open_pool(database_url, min_size=1, max_size=1) as pool:
            with pool.connection() as conn:
                it = stream(impl, conn, run_id)
                next(it)
            with pool.connection() as other:
                assert other is conn
                rename(other, a, "next owner")
                with pytest.raises(StreamEndedError, match="iter_list_run_logs"):
                    list(it)  # the rest of the batch it holds, then no fetch
                it.close()
                rename(other, b, "still usable")
    except psycopg.Error as exc:
        return f"error: {exc}"
    return "/".join(names(database_url, a, b))


@pytest.mark.parametrize("impl", IMPLS)
def test_a_stream_kept_past_its_block_cannot_disturb_the_next_owner(
    database_url: str, world: tuple[int, int, int], impl: Impl
) -> None:
    outcome = keep_past_the_block(database_url, impl, world)
    if impl == "generated":
        assert outcome == "next owner/still usable"
    else:
        assert outcome.startswith("error: ")


def test_an_abandoned_async_stream_closed_later_leaves_the_next_owner_alone(
    database_url: str, world: tuple[int, int, int]
) -> None:
    run_id, a, b = world

    async def scenario() -> None:
        async with await open_async_pool(database_url, min_size=1, max_size=1) as pool:
            async with pool.connection() as conn:
                it = aio.workflows.iter_list_run_logs(
                    conn, run_id=run_id, page_size=100, batch_size=2
                )
                await anext(it)
            async with pool.connection() as other:
                await arename(other, a, "next owner")
                with pytest.raises(StreamEndedError):
                    [_ async for _ in it]
                await it.aclose()
                await arename(other, b, "still usable")

    asyncio.run(scenario())
    assert names(database_url, a, b) == ("next owner", "still usable")


def test_committing_inside_the_loop_ends_a_stream_clearly(
    database_url: str, world: tuple[int, int, int]
) -> None:
    run_id, a, _ = world
    with psycopg.connect(database_url) as conn:
        seen = 0
        with pytest.raises(StreamEndedError, match="transaction holding this stream"):
            for _ in workflows.iter_list_run_logs(conn, run_id=run_id, page_size=100, batch_size=2):
                seen += 1
                rename(conn, a, f"commit {seen}")
                conn.commit()
        assert seen == 2  # the first batch, then the check before the second fetch
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert names(database_url, a) == ("commit 2",)


def test_autocommit_stream_holds_its_rows_while_the_loop_writes(
    database_url: str, world: tuple[int, int, int]
) -> None:
    """On an autocommit connection the cursor is WITH HOLD: every in-loop write commits at
    once (another session sees it during the loop) and the stream still reads to the end."""
    run_id, a, _ = world
    with psycopg.connect(database_url, autocommit=True) as conn:
        lines = []
        for log in workflows.iter_list_run_logs(conn, run_id=run_id, page_size=100, batch_size=2):
            lines.append(log.content)
            rename(conn, a, log.content)
            assert names(database_url, a) == (log.content,)
        assert lines == [f"line {i}" for i in range(LOG_LINES)]
        cursors = conn.execute("SELECT count(*) FROM pg_cursors").fetchone()
        assert cursors == (0,)


def test_streams_close_their_cursor_when_read_to_the_end(
    database_url: str, world: tuple[int, int, int]
) -> None:
    run_id, _, _ = world
    with psycopg.connect(database_url) as conn:
        assert len(list(workflows.iter_list_run_logs(conn, run_id=run_id, page_size=100))) == 5
        assert len(list(workflows.iter_list_run_logs(conn, run_id=run_id, page_size=4,
                                                     batch_size=2))) == 4  # fmt: skip
        assert conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)


def test_batch_size_must_be_positive(database_url: str, world: tuple[int, int, int]) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(ValueError, match="batch_size"):
        next(workflows.iter_list_run_logs(conn, run_id=world[0], page_size=1, batch_size=0))


# --- many-row writes -------------------------------------------------------------------

Write = Callable[[Conn, int], None]


def copy_lines(impl: Impl) -> Write:
    """Copy two log lines into a run (the run id decides whether the FK holds)."""

    def write(conn: Conn, run_id: int) -> None:
        rows = [
            workflows.CopyWorkflowLogsParams(run_id, None, LogStream.STDERR, f"copied {i}")
            for i in range(2)
        ]
        if impl == "generated":
            workflows.copy_workflow_logs(conn, rows)
            return
        with (  # the legacy shape
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(workflows.COPY_WORKFLOW_LOGS_COPY) as copy,
        ):
            for p in rows:
                copy.write_row((p.run_id, p.step_id, p.stream, p.content))

    return write


def copied(database_url: str, run_id: int) -> int:
    with psycopg.connect(database_url) as conn:
        logs = workflows.list_run_logs(conn, run_id=run_id, page_size=100)
    return sum(1 for log in logs if log.content.startswith("copied"))


@pytest.mark.parametrize("impl", IMPLS)
def test_a_failed_block_keeps_nothing_of_a_copy(
    database_url: str, world: tuple[int, int, int], impl: Impl
) -> None:
    """`with pool.connection()` is one transaction: when it fails, the rows copied in it
    are gone too. conn.transaction() on the idle connection committed them on its own."""
    run_id = world[0]
    with (
        open_pool(database_url, min_size=1, max_size=1) as pool,
        pytest.raises(LoopBodyError),
        pool.connection() as conn,
    ):
        copy_lines(impl)(conn, run_id)
        raise LoopBodyError
    assert copied(database_url, run_id) == (0 if impl == "generated" else 2)


@pytest.mark.parametrize("mode", ["pool", "autocommit", "caller_transaction"])
def test_a_failed_copy_undoes_only_itself(
    database_url: str, world: tuple[int, int, int], mode: Mode
) -> None:
    run_id, a, b = world
    with connection(database_url, mode) as conn:
        rename(conn, a, "before")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            copy_lines("generated")(conn, -1)
        rename(conn, b, "after")
        copy_lines("generated")(conn, run_id)
    assert names(database_url, a, b) == ("before", "after")
    assert copied(database_url, run_id) == 2


def test_a_copy_in_autocommit_commits_at_once(
    database_url: str, world: tuple[int, int, int]
) -> None:
    run_id = world[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        copy_lines("generated")(conn, run_id)
        assert copied(database_url, run_id) == 2
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def attach(impl: Impl, conn: Conn, pairs: list[issues.AttachLabelsParams]) -> None:
    if impl == "generated":
        issues.attach_labels(conn, pairs)
        return
    with conn.transaction(), psycopg.RawCursor(conn) as cur:  # the legacy shape
        cur.executemany(issues.ATTACH_LABELS, [(p.issue_id, p.label_id) for p in pairs])


@pytest.mark.parametrize("impl", IMPLS)
def test_a_failed_block_keeps_nothing_of_a_batch(database_url: str, impl: Impl) -> None:
    with psycopg.connect(database_url, autocommit=True) as setup:
        issue = make_issue(setup)
        label = issues.create_label(
            setup, repository_id=issue.repository_id, name="bug", color="#ff0000", description=""
        )
    with open_pool(database_url, min_size=1, max_size=1) as pool:
        with pytest.raises(LoopBodyError), pool.connection() as conn:
            attach(impl, conn, [issues.AttachLabelsParams(issue.id, label.id)])
            raise LoopBodyError
        with pool.connection() as conn:
            attached = issues.list_issue_labels(conn, issue_id=issue.id)
    assert len(attached) == (0 if impl == "generated" else 1)


def test_a_failed_batch_undoes_only_itself(database_url: str) -> None:
    with open_pool(database_url, min_size=1, max_size=1) as pool, pool.connection() as conn:
        issue = make_issue(conn)
        label = issues.create_label(
            conn, repository_id=issue.repository_id, name="bug", color="#ff0000", description=""
        )
        good = issues.AttachLabelsParams(issue.id, label.id)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            issues.attach_labels(conn, [good, issues.AttachLabelsParams(issue.id, -1)])
        assert issues.list_issue_labels(conn, issue_id=issue.id) == []
        issues.attach_labels(conn, [good])
        assert [x.id for x in issues.list_issue_labels(conn, issue_id=issue.id)] == [label.id]


def test_async_copy_joins_the_callers_transaction(
    database_url: str, world: tuple[int, int, int]
) -> None:
    run_id, a, _ = world
    rows = [workflows.CopyWorkflowLogsParams(run_id, None, LogStream.STDOUT, "copied async")]

    async def scenario() -> None:
        async with await open_async_pool(database_url, min_size=1, max_size=1) as pool:
            with pytest.raises(LoopBodyError):
                async with pool.connection() as conn:
                    await aio.workflows.copy_workflow_logs(conn, rows)
                    raise LoopBodyError
            async with pool.connection() as conn:
                await arename(conn, a, "before")
                with pytest.raises(psycopg.errors.ForeignKeyViolation):
                    await aio.workflows.copy_workflow_logs(
                        conn, [workflows.CopyWorkflowLogsParams(-1, None, LogStream.STDOUT, "x")]
                    )
                await aio.workflows.copy_workflow_logs(conn, rows)

    asyncio.run(scenario())
    assert copied(database_url, run_id) == 1
    assert names(database_url, a) == ("before",)


def test_models_type_is_what_the_stream_yields(
    database_url: str, world: tuple[int, int, int]
) -> None:
    with psycopg.connect(database_url) as conn:
        first = next(iter(workflows.iter_list_run_logs(conn, run_id=world[0], page_size=1)))
    assert isinstance(first, models.WorkflowLog) and first.content == "line 0"
