"""plue_queries.asyncpg, the asyncpg target, on a real server.

Every read function of every domain module runs on the seeded world of
tests/fixtures/fix_world.py through asyncpg: each value is an instance of the
function's annotation (plue_db.typecheck.runtime_types) and equals what the psycopg async twin
returns for the same call. Then the transaction rules: :copyfrom and :batchexec are all
or nothing in a savepoint of the caller's transaction (or their own), and an iter_*
stream runs in the caller's transaction, refused outside one. Negative controls: a
connection without init_connection returns jsonb as text, which the sweep reports.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import asyncpg
import psycopg
import pytest
from plue_queries import asyncpg as apg
from plue_queries import issues, workflows
from plue_queries.enums import IssueState, LogStream
from plue_queries.types import JsonShapeError, NoRowError

from bench.latency import asyncpg_params
from plue_db.servers import replicas
from plue_db.typecheck.runtime_types import Checker
from tests.asyncpg_flows import UndoError, connect, run_rolled_back
from tests.factories import unique_name
from tests.fixtures.fix_replicas import DBNAME
from tests.fixtures.fix_world import World
from tests.typecheck.test_runtime_types import Sweep as PsycopgSweep
from tests.typecheck.test_runtime_types import (
    call,
    function_names,
    kwargs_for,
    read_entries,
    state_for,
)


@dataclasses.dataclass
class Sweep(PsycopgSweep):
    """The psycopg sweep's findings, and where asyncpg's values differ from psycopg's."""

    differences: list[str] = dataclasses.field(default_factory=list)
    compared: int = 0


async def rolled_back(conn: Any, state: Any, function: Any, *args: Any) -> Any:
    """``function(conn, *args)`` after the STATE statement, in a transaction rolled back
    afterwards, its value kept."""
    out: list[Any] = []
    try:
        async with conn.transaction():
            if state:
                await conn.execute(*psycopg_to_asyncpg(*state))
            out.append(await collect(function(conn, *args)))
            raise UndoError
    except UndoError:
        pass
    return out[0]


async def collect(result: Any) -> Any:
    if inspect.isasyncgen(result):
        return [row async for row in result]
    return await result


async def sweep(url: str, world: World, checker: Checker, *, init: bool = True) -> Sweep:
    """Each read function (and stream) through asyncpg and through psycopg's async twin."""
    found = Sweep()
    apg_conn = await connect(url, init=init)
    try:
        async with await psycopg.AsyncConnection.connect(url) as pg_conn:
            for entry in read_entries():
                sync = importlib.import_module(f"plue_queries.{entry['module']}")
                ours = importlib.import_module(f"plue_queries.asyncpg.{entry['module']}")
                twin = importlib.import_module(f"plue_queries.aio.{entry['module']}")
                kwargs = kwargs_for(entry, sync, world, checker)
                state = state_for(entry["name"], world)
                for name in function_names(entry):
                    where = f"asyncpg.{entry['module']}.{name}"
                    found.called.add(where)

                    try:
                        value = await rolled_back(
                            apg_conn, state, partial(call, getattr(ours, name)), entry, sync, kwargs
                        )
                    except (asyncpg.PostgresError, asyncpg.InterfaceError, JsonShapeError) as exc:
                        found.failed(where, kwargs, exc)
                        continue
                    found.returned(checker, getattr(ours, name), value, where)
                    # Writes, and the state statements (their triggers stamp updated_at),
                    # draw ids and now() anew per call: compare what plain reads return.
                    compared = name in sync.READ_ONLY_FUNCTIONS and not state
                    found.compared += compared
                    async with pg_conn.transaction(force_rollback=True):
                        if state:
                            await pg_conn.execute(*state)
                        expected = await collect(
                            call(getattr(twin, name), pg_conn, entry, sync, kwargs)
                        )
                    if compared and value != expected:
                        found.differences.append(f"{where}: {value!r} != {expected!r}")
    finally:
        await apg_conn.close()
    return found


def psycopg_to_asyncpg(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    """A STATE statement (``%(name)s`` placeholders) as asyncpg's ``$n`` and arguments."""
    names = list(params)
    for number, name in enumerate(names, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    return (sql, *(params[name] for name in names))


def test_every_read_function_returns_its_annotation_and_psycopgs_values(
    seeded: tuple[str, World], checker: Checker
) -> None:
    url, world = seeded
    found = asyncio.run(sweep(url, world, checker))
    assert found.errors == []
    assert found.mismatches == []
    assert found.differences == []
    assert found.compared > 150
    entries = read_entries()
    assert len(entries) > 200
    assert len(found.called) == len(entries) + sum(bool(e["stream"]) for e in entries)
    assert found.called - found.produced == set()
    modules = {where.split(".")[1] for where in found.called}
    assert len(modules) == 14  # every domain module


def test_control_without_init_connection_jsonb_differs(
    seeded: tuple[str, World], checker: Checker
) -> None:
    """asyncpg's default jsonb codec returns the text, which JsonValue admits (a JSON
    string is a str), so only the comparison with psycopg's values can see it: it must."""
    url, world = seeded
    found = asyncio.run(sweep(url, world, checker, init=False))
    differing = {d.split(":", 1)[0] for d in found.differences}
    assert "asyncpg.agent.list_message_parts" in differing  # parts hold jsonb content
    # Each difference is JSON text where psycopg gave a value.
    assert all("='{" in d or "='[" in d for d in found.differences), found.differences[:2]
    # A typed json column (workflow_definitions.plan, sqlc.yaml json_types) refuses the text.
    refused = [e for e in found.errors if "JsonShapeError" in e]
    assert refused and all("expected an object, got a string" in e for e in refused), refused


# ---- transactions stay the caller's ------------------------------------------------


@pytest.fixture
def url(seeded: tuple[str, World]) -> str:
    return seeded[0]


@pytest.fixture
def world(seeded: tuple[str, World]) -> World:
    return seeded[1]


async def log_count(conn: Any, run_id: int) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM workflow_logs WHERE run_id = $1", run_id)
    return count


def logs(run_id: int, *contents: str) -> list[workflows.CopyWorkflowLogsParams]:
    return [workflows.CopyWorkflowLogsParams(run_id, None, LogStream.STDOUT, c) for c in contents]


def test_copyfrom_in_a_transaction_is_a_savepoint(url: str, world: World) -> None:
    """A failing COPY undoes its own rows only; the caller's transaction goes on."""
    run_id = world.rows["workflow_runs"].id

    async def go() -> tuple[int, int, int]:
        conn = await connect(url)
        try:
            before = await log_count(conn, run_id)
            async with conn.transaction():
                assert await apg.copy_workflow_logs(conn, logs(run_id, "a", "b")) == 2
                with pytest.raises(asyncpg.ForeignKeyViolationError):
                    await apg.copy_workflow_logs(conn, [*logs(run_id, "c"), *logs(-1, "d")])
                inside = await log_count(conn, run_id)  # the transaction is still usable
            after = await log_count(conn, run_id)
            return before, inside, after
        finally:
            await conn.close()

    before, inside, after = asyncio.run(go())
    assert inside == before + 2
    assert after == before + 2  # the caller committed its two rows; the failed call's none


def test_copyfrom_outside_a_transaction_is_its_own(url: str, world: World) -> None:
    run_id = world.rows["workflow_runs"].id

    async def go() -> tuple[int, int, bool]:
        conn = await connect(url)
        try:
            before = await log_count(conn, run_id)
            with pytest.raises(asyncpg.ForeignKeyViolationError):
                await apg.copy_workflow_logs(conn, [*logs(run_id, "x"), *logs(-1, "y")])
            failed = await log_count(conn, run_id)
            assert await apg.copy_workflow_logs(conn, logs(run_id, "z")) == 1
            return before, failed, conn.is_in_transaction()
        finally:
            await conn.close()

    before, failed, in_transaction = asyncio.run(go())
    assert failed == before  # nothing of the failed COPY, not even its first row
    assert not in_transaction


def test_batchexec_all_or_nothing_inside_the_callers_transaction(url: str, world: World) -> None:
    issue, label = world.rows["issues"], world.rows["labels"]
    rows = [issues.AttachLabelsParams(issue.id, label.id), issues.AttachLabelsParams(issue.id, -1)]

    async def go() -> tuple[int, str]:
        conn = await connect(url)
        try:
            async with conn.transaction():
                await conn.execute("DELETE FROM issue_labels WHERE issue_id = $1", issue.id)
                with pytest.raises(asyncpg.ForeignKeyViolationError):
                    await apg.attach_labels(conn, rows)
                count: int = await conn.fetchval(
                    "SELECT count(*) FROM issue_labels WHERE issue_id = $1", issue.id
                )
                await apg.attach_labels(conn, rows[:1])
                status = await conn.fetchval(
                    "SELECT count(*)::text FROM issue_labels WHERE issue_id = $1", issue.id
                )
                raise UndoError
        except UndoError:
            return count, status
        finally:
            await conn.close()

    count, status = asyncio.run(go())
    assert (count, status) == (0, "1")


def test_streams_need_and_keep_the_callers_transaction(url: str, world: World) -> None:
    repository = world.rows["repositories"]

    async def go() -> None:
        conn = await connect(url)
        try:
            with pytest.raises(apg.StreamNeedsTransactionError, match="iter_list_issues"):
                await anext(stream(conn, repository.id))
            assert not conn.is_in_transaction()
            with pytest.raises(ValueError, match="batch_size must be at least 1"):
                await anext(stream(conn, repository.id, batch_size=0))
            async with conn.transaction():
                await conn.execute("CREATE TEMP TABLE caller_work (n int)")
                await conn.execute("INSERT INTO caller_work VALUES (1)")
                async for _ in stream(conn, repository.id, batch_size=1):
                    break  # leaving early undoes nothing of the caller's
                assert await conn.fetchval("SELECT count(*) FROM caller_work") == 1
            assert await conn.fetchval("SELECT count(*) FROM caller_work") == 1
        finally:
            await conn.close()

    asyncio.run(go())


def stream(conn: Any, repository_id: int, batch_size: int = 1000) -> AsyncIterator[Any]:
    return apg.iter_list_issues(
        conn,
        repository_id=repository_id,
        state=IssueState.OPEN,
        page_size=50,
        batch_size=batch_size,
    )


def test_pool_init_sets_the_codecs(url: str, world: World) -> None:
    """``asyncpg.create_pool(init=init_connection)``: every pooled connection decodes json."""
    run = world.rows["workflow_runs"]

    async def go() -> list[Any]:
        async with asyncpg.create_pool(
            **asyncpg_params(url), min_size=2, max_size=2, init=apg.init_connection
        ) as pool:
            return await asyncio.gather(
                *(
                    pool.fetchval("SELECT inputs FROM workflow_runs WHERE id = $1", run.id)
                    for _ in range(4)
                )
            )

    assert asyncio.run(go()) == [run.inputs] * 4


def test_one_row_functions_raise_no_row_error_by_name(url: str) -> None:
    """A :one typed to return a row raises NoRowError naming itself when none comes."""

    async def flow(conn: Any) -> None:
        await conn.execute(
            "CREATE FUNCTION pg_temp.drop_row() RETURNS trigger LANGUAGE plpgsql"
            " AS 'BEGIN RETURN NULL; END'"
        )
        await conn.execute(
            "CREATE TRIGGER drop_row BEFORE INSERT ON labels"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.drop_row()"
        )
        with pytest.raises(NoRowError, match="create_label"):
            await apg.create_label(conn, repository_id=1, name="n", color="#000000", description="")

    run_rolled_back(url, flow)


def test_a_hot_standby_refuses_a_write_with_asyncpgs_error(cluster: replicas.Cluster) -> None:
    """asyncpg has no read_only flag to refuse early: the standby refuses the write
    itself, before writing anything. Control: the same call on the primary writes."""
    username = unique_name("standby")

    async def create(url: str) -> Any:
        conn = await connect(url)
        try:
            return await apg.create_user(
                conn, username=username, display_name="S", bio="", is_admin=False
            )
        finally:
            await conn.close()

    standby = cluster.replicas[0].url(DBNAME)
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError, match="read-only transaction"):
        asyncio.run(create(standby))
    with psycopg.connect(cluster.primary.url(DBNAME)) as primary:
        found = primary.execute("SELECT count(*) FROM users WHERE username = %s", (username,))
        assert found.fetchone() == (0,)
    made = asyncio.run(create(cluster.primary.url(DBNAME)))
    assert made.username == username
