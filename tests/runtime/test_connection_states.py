"""Every promise of the generated code holds in every state the caller's connection can be in.

The promises: a call's result is its result (a row count is not -1), its constraint
violation arrives in the call as the named class, a many-row write (``:batch*``,
``:copyfrom``) is all or nothing without touching the caller's work, a stream reads
its rows without touching the caller's work, and a write on a read-only connection
is refused before anything is sent. Where a state cannot keep one (psycopg refuses
COPY and streams in pipeline mode), the call raises one clear error naming itself and
still touches nothing.

The states: idle (a transaction opens implicitly), inside ``conn.transaction()``,
autocommit, inside ``conn.pipeline()`` (with and without autocommit), and a connection
borrowed again after another borrower handed it back to its pool with a failed
transaction. Each cell: the caller renames a user (its own work), makes one call, and
leaves the state as its owner would (the block commits); another session then checks
what stayed. psycopg sync and async play every cell; asyncpg plays the states it has.

Negative controls: the shapes the generator printed before pipelines were handled (a
savepoint whose error arrives after it is released, an execute whose error arrives at
the caller's next fetch, a row count read before the result came) keep their promises
outside a pipeline and break them inside one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any, Literal, LiteralString

import asyncpg
import psycopg
import pytest
from kitchen import queries as kitchen
from kitchen.enums import Mood
from plue_queries import aio, errors, issues, users, workflows
from plue_queries import asyncpg as apg
from plue_queries.enums import LogStream
from plue_queries.types import ReadOnlyConnectionError
from psycopg import pq

from bench.latency import asyncpg_params
from plue_db.pool import open_async_pool, open_pool
from tests.asyncpg_flows import connect as apg_connect
from tests.factories import make_issue, make_repo, make_user, make_workflow_run
from tests.fixtures.fix_db import AConn, Conn, fresh_database
from tests.paths import SCHEMA

State = Literal["idle", "transaction", "autocommit", "pipeline", "autocommit_pipeline", "pool"]
STATES: tuple[State, ...] = (
    "idle",
    "transaction",
    "autocommit",
    "pipeline",
    "autocommit_pipeline",
    "pool",
)
PIPELINED: tuple[State, ...] = ("pipeline", "autocommit_pipeline")
Feature = Literal["named", "rowcount", "batch", "copy", "stream", "read_only"]
FEATURES: tuple[Feature, ...] = ("named", "rowcount", "batch", "copy", "stream", "read_only")
LOG_LINES = 3
UNKNOWN = 10**12  # an id no row has: a foreign-key violation


@dataclass(frozen=True, slots=True)
class Cell:
    """Committed rows one cell plays on, and the name the caller gives its user."""

    url: str
    user_id: int
    repo_id: int
    issue_id: int
    label_id: int
    label_name: str
    run_id: int
    mark: str


@dataclass(frozen=True, slots=True)
class Seen:
    """What another session sees once the caller's block has ended."""

    caller_kept: bool  # the user carries the caller's new name
    attached: int  # labels on the cell's issue
    lines: int  # log lines of the cell's run
    labels_named_mark: int  # labels created with the mark as name


@dataclass(frozen=True, slots=True)
class Outcome:
    call: str  # what the call returned or raised
    seen: Seen | None  # None: not checked (a failed statement fails the caller's transaction)


@pytest.fixture(scope="module")
def database_url(server_url: str) -> Iterator[str]:
    """A database of this module's own: its cells commit."""
    with fresh_database(server_url, SCHEMA) as url:
        yield url


@pytest.fixture
def cell(database_url: str) -> Cell:
    with psycopg.connect(database_url, autocommit=True) as conn:
        repo = make_repo(conn)
        label = issues.create_label(
            conn, repository_id=repo.id, name=f"l-{uuid.uuid4().hex[:8]}", color="#00ff00",
            description="",
        )  # fmt: skip
        run = make_workflow_run(conn)
        workflows.copy_workflow_logs(
            conn,
            [
                workflows.CopyWorkflowLogsParams(run.id, None, LogStream.STDOUT, f"line {i}")
                for i in range(LOG_LINES)
            ],
        )
        return Cell(
            database_url,
            make_user(conn).id,
            repo.id,
            make_issue(conn, repo).id,
            label.id,
            label.name,
            run.id,
            f"caller {uuid.uuid4().hex[:8]}",
        )


def seen(cell: Cell) -> Seen:
    with psycopg.connect(cell.url) as conn:
        user = users.get_user_by_id(conn, id=cell.user_id)
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM issue_labels WHERE issue_id = %s),"
            " (SELECT count(*) FROM workflow_logs WHERE run_id = %s),"
            " (SELECT count(*) FROM labels WHERE name = %s)",
            (cell.issue_id, cell.run_id, cell.mark),
        ).fetchone()
    assert user is not None and counts is not None
    return Seen(user.display_name == cell.mark, *counts)


def described(error: BaseException) -> str:
    """The error's named class (as ``plue_queries.errors`` names it) or its own class, and
    for a refusal the function it names."""
    names = [c.__name__ for c in type(error).__mro__ if c.__module__ == "plue_queries.errors"]
    name = names[0] if names else type(error).__name__
    if isinstance(error, psycopg.NotSupportedError):
        return f"{name} {str(error).split(':')[0]}"
    return name


def expected(feature: Feature, state: State, driver: str = "psycopg") -> Outcome:
    """What each cell must show."""
    pipelined = state in PIPELINED
    kept = Seen(caller_kept=True, attached=0, lines=LOG_LINES, labels_named_mark=0)
    if feature == "named":
        return Outcome("LabelsRepositoryNameKeyViolation", None)
    if feature == "rowcount":
        return Outcome("returned 1", Seen(True, 1, LOG_LINES, 0))
    if feature == "batch":
        return Outcome("IssueLabelsLabelIDFkeyViolation", kept)
    if feature == "copy":
        refused = "NotSupportedError copy_workflow_logs"
        return Outcome(refused if pipelined else "WorkflowLogsRunIDFkeyViolation", kept)
    if feature == "stream":
        if pipelined:
            return Outcome("NotSupportedError iter_list_run_logs", kept)
        if driver == "asyncpg" and state != "transaction":
            return Outcome("StreamNeedsTransactionError", kept)
        return Outcome(f"returned {LOG_LINES}", kept)
    return Outcome("ReadOnlyConnectionError", Seen(False, 0, LOG_LINES, 0))


# -- psycopg, sync ------------------------------------------------------------------------


@contextmanager
def caller(url: str, state: State, *, read_only: bool = False) -> Iterator[Conn]:
    """A connection in ``state``; the block's end ends the state as its owner would."""
    if state == "pool":
        with open_pool(url, min_size=1, max_size=1) as pool:
            with pool.connection() as conn, suppress(psycopg.errors.DivisionByZero):
                conn.execute("SELECT 1/0")  # handed back in a failed transaction
            with pool.connection() as conn:
                conn.read_only = read_only
                yield conn
        return
    with psycopg.connect(url, autocommit=state.startswith("autocommit")) as conn:
        conn.read_only = read_only
        if state == "transaction":
            with conn.transaction():
                yield conn
        elif state in PIPELINED:
            with conn.pipeline():
                yield conn
        else:
            yield conn


Impl = Literal["generated", "legacy"]


@contextmanager
def legacy_atomic(conn: Conn) -> Iterator[None]:
    """``_atomic.atomic`` as it was before pipelines were handled."""
    if conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        with conn.transaction():
            yield
        return
    psycopg.RawCursor(conn).execute("SAVEPOINT legacy")
    try:
        yield
    except BaseException:
        failed = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)
        if conn.info.transaction_status in failed:
            psycopg.RawCursor(conn).execute(
                "ROLLBACK TO SAVEPOINT legacy; RELEASE SAVEPOINT legacy"
            )
        raise
    psycopg.RawCursor(conn).execute("RELEASE SAVEPOINT legacy")


def legacy_statement(
    conn: Conn, query: LiteralString, args: tuple[Any, ...]
) -> psycopg.RawCursor[Any]:
    """A single statement as generated before: its execute alone in the try."""
    cur = psycopg.RawCursor(conn)
    try:
        cur.execute(query, args)
    except psycopg.IntegrityError as error:
        errors.raise_named(error)
        raise
    return cur


def play(impl: Impl, feature: Feature, conn: Conn, cell: Cell) -> object:
    """The cell's call (after the caller's own write); ``legacy`` for named, rowcount, batch."""
    if feature == "read_only":
        return issues.create_label(
            conn, repository_id=cell.repo_id, name=cell.mark, color="#000000", description=""
        )
    users.update_user_profile(conn, display_name=cell.mark, bio="", id=cell.user_id)
    label = (cell.repo_id, cell.label_name, "#ff0000", "")
    if feature == "named" and impl == "legacy":
        return legacy_statement(conn, issues.CREATE_LABEL, label).fetchone()
    if feature == "named":
        return issues.create_label(
            conn, repository_id=cell.repo_id, name=cell.label_name, color="#ff0000", description=""
        )
    if feature == "rowcount" and impl == "legacy":
        return legacy_statement(conn, issues.ATTACH_LABEL, (cell.issue_id, cell.label_id)).rowcount
    if feature == "rowcount":
        return issues.attach_label(conn, issue_id=cell.issue_id, label_id=cell.label_id)
    pairs = [
        issues.AttachLabelsParams(cell.issue_id, cell.label_id),
        issues.AttachLabelsParams(cell.issue_id, UNKNOWN),
    ]
    if feature == "batch" and impl == "legacy":
        try:
            with legacy_atomic(conn), psycopg.RawCursor(conn) as cur:
                cur.executemany(issues.ATTACH_LABELS, [(p.issue_id, p.label_id) for p in pairs])
        except psycopg.IntegrityError as error:
            errors.raise_named(error)
            raise
        return None
    if feature == "batch":
        issues.attach_labels(conn, pairs)
        return None
    if feature == "copy":
        return workflows.copy_workflow_logs(
            conn,
            [
                workflows.CopyWorkflowLogsParams(cell.run_id, None, LogStream.STDOUT, "new"),
                workflows.CopyWorkflowLogsParams(UNKNOWN, None, LogStream.STDOUT, "new"),
            ],
        )
    return len(
        list(workflows.iter_list_run_logs(conn, run_id=cell.run_id, page_size=100, batch_size=2))
    )


def run_cell(impl: Impl, feature: Feature, state: State, cell: Cell) -> Outcome:
    """The call's outcome, and an error the state's end raises (a pipeline's sync, a
    COMMIT) added to it: a promise kept raises nothing there."""
    call = "no outcome"
    try:
        with caller(cell.url, state, read_only=feature == "read_only") as conn:
            try:
                call = f"returned {play(impl, feature, conn, cell)!r}"
            except (psycopg.Error, ReadOnlyConnectionError) as error:
                call = described(error)
    except psycopg.Error as error:
        call += f", then at the block's end {described(error)}"
    return Outcome(call, seen(cell))


def check(outcome: Outcome, want: Outcome) -> None:
    assert outcome.call == want.call
    if want.seen is not None:
        assert outcome.seen == want.seen


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("feature", FEATURES)
def test_every_promise_holds_in_every_state(feature: Feature, state: State, cell: Cell) -> None:
    check(run_cell("generated", feature, state, cell), expected(feature, state))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("feature", ["named", "rowcount", "batch"])
def test_the_old_shapes_break_their_promises_only_in_a_pipeline(
    feature: Feature, state: State, cell: Cell
) -> None:
    """The negative control: same cells, the shapes printed before."""
    outcome = run_cell("legacy", feature, state, cell)
    # On autocommit the old batch ran in conn.transaction(), which psycopg syncs itself.
    breaks = ("pipeline",) if feature == "batch" else PIPELINED
    if state not in breaks:
        check(outcome, expected(feature, state))
        return
    with pytest.raises(AssertionError):
        check(outcome, expected(feature, state))


# -- psycopg, asyncio: the same cells through plue_queries.aio (a deliberate twin) ---------


@asynccontextmanager
async def acaller(url: str, state: State, *, read_only: bool = False) -> AsyncIterator[AConn]:
    """The asyncio twin of :func:`caller`."""
    if state == "pool":
        async with await open_async_pool(url, min_size=1, max_size=1) as pool:
            async with pool.connection() as conn:
                with suppress(psycopg.errors.DivisionByZero):
                    await conn.execute("SELECT 1/0")
            async with pool.connection() as conn:
                await conn.set_read_only(read_only)
                yield conn
        return
    autocommit = state.startswith("autocommit")
    async with await psycopg.AsyncConnection.connect(url, autocommit=autocommit) as conn:
        await conn.set_read_only(read_only)
        if state == "transaction":
            async with conn.transaction():
                yield conn
        elif state in PIPELINED:
            async with conn.pipeline():
                yield conn
        else:
            yield conn


async def aplay(feature: Feature, conn: AConn, cell: Cell) -> object:
    if feature == "read_only":
        return await aio.issues.create_label(
            conn, repository_id=cell.repo_id, name=cell.mark, color="#000000", description=""
        )
    await aio.users.update_user_profile(conn, display_name=cell.mark, bio="", id=cell.user_id)
    if feature == "named":
        return await aio.issues.create_label(
            conn, repository_id=cell.repo_id, name=cell.label_name, color="#ff0000", description=""
        )
    if feature == "rowcount":
        return await aio.issues.attach_label(conn, issue_id=cell.issue_id, label_id=cell.label_id)
    if feature == "batch":
        await aio.issues.attach_labels(
            conn,
            [
                issues.AttachLabelsParams(cell.issue_id, cell.label_id),
                issues.AttachLabelsParams(cell.issue_id, UNKNOWN),
            ],
        )
        return None
    if feature == "copy":
        return await aio.workflows.copy_workflow_logs(
            conn,
            [
                workflows.CopyWorkflowLogsParams(cell.run_id, None, LogStream.STDOUT, "new"),
                workflows.CopyWorkflowLogsParams(UNKNOWN, None, LogStream.STDOUT, "new"),
            ],
        )
    stream = aio.workflows.iter_list_run_logs(conn, run_id=cell.run_id, page_size=100, batch_size=2)
    return len([r async for r in stream])


async def arun_cell(feature: Feature, state: State, cell: Cell) -> Outcome:
    """The asyncio twin of :func:`run_cell`."""
    call = "no outcome"
    try:
        async with acaller(cell.url, state, read_only=feature == "read_only") as conn:
            try:
                call = f"returned {await aplay(feature, conn, cell)!r}"
            except (psycopg.Error, ReadOnlyConnectionError) as error:
                call = described(error)
    except psycopg.Error as error:
        call += f", then at the block's end {described(error)}"
    return Outcome(call, seen(cell))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("feature", FEATURES)
def test_every_async_promise_holds_in_every_state(
    feature: Feature, state: State, cell: Cell
) -> None:
    check(asyncio.run(arun_cell(feature, state, cell)), expected(feature, state))


# -- asyncpg: no autocommit switch, no pipeline mode, no read-only marking ----------------

APG_STATES: tuple[State, ...] = ("idle", "transaction", "pool")
APG_FEATURES: tuple[Feature, ...] = ("named", "rowcount", "batch", "copy", "stream")


@asynccontextmanager
async def apg_caller(url: str, state: State) -> AsyncIterator[Any]:
    if state == "pool":
        pool = await asyncpg.create_pool(
            **asyncpg_params(url), min_size=1, max_size=1, init=apg.init_connection
        )
        try:
            async with pool.acquire() as conn:
                await conn.execute("BEGIN")  # handed back inside a transaction
            async with pool.acquire() as conn:
                yield conn
        finally:
            await pool.close()
        return
    conn = await apg_connect(url)
    try:
        if state == "transaction":
            async with conn.transaction():
                yield conn
        else:
            yield conn
    finally:
        await conn.close()


async def apg_play(feature: Feature, conn: Any, cell: Cell) -> object:
    await apg.users.update_user_profile(conn, display_name=cell.mark, bio="", id=cell.user_id)
    calls: dict[Feature, Callable[[], Awaitable[object]]] = {
        "named": lambda: apg.issues.create_label(
            conn, repository_id=cell.repo_id, name=cell.label_name, color="#ff0000", description=""
        ),
        "rowcount": lambda: apg.issues.attach_label(
            conn, issue_id=cell.issue_id, label_id=cell.label_id
        ),
        "batch": lambda: apg.issues.attach_labels(
            conn,
            [
                issues.AttachLabelsParams(cell.issue_id, cell.label_id),
                issues.AttachLabelsParams(cell.issue_id, UNKNOWN),
            ],
        ),
        "copy": lambda: apg.workflows.copy_workflow_logs(
            conn,
            [
                workflows.CopyWorkflowLogsParams(cell.run_id, None, LogStream.STDOUT, "new"),
                workflows.CopyWorkflowLogsParams(UNKNOWN, None, LogStream.STDOUT, "new"),
            ],
        ),
        "stream": lambda: count_async(
            apg.workflows.iter_list_run_logs(conn, run_id=cell.run_id, page_size=100, batch_size=2)
        ),
    }
    return await calls[feature]()


async def count_async(rows: AsyncIterator[object]) -> int:
    return len([r async for r in rows])


async def apg_run_cell(feature: Feature, state: State, cell: Cell) -> Outcome:
    """:func:`run_cell` on asyncpg."""
    call = "no outcome"
    try:
        async with apg_caller(cell.url, state) as conn:
            try:
                call = f"returned {await apg_play(feature, conn, cell)!r}"
            except (asyncpg.PostgresError, psycopg.Error) as error:
                call = described(error)
    except asyncpg.PostgresError as error:
        call += f", then at the block's end {described(error)}"
    return Outcome(call, seen(cell))


@pytest.mark.parametrize("state", APG_STATES)
@pytest.mark.parametrize("feature", APG_FEATURES)
def test_every_asyncpg_promise_holds_in_every_state(
    feature: Feature, state: State, cell: Cell
) -> None:
    check(asyncio.run(apg_run_cell(feature, state, cell)), expected(feature, state, "asyncpg"))


# -- errors that arrive outside generated calls ------------------------------------------


def queue_duplicate(conn: Conn, cell: Cell) -> None:
    """The caller's own statement, queued: in a pipeline its error arrives at the sync."""
    conn.execute(
        "INSERT INTO labels (repository_id, name, color, description)"
        " VALUES (%s, %s, '#ff0000', '')",
        (cell.repo_id, cell.label_name),
    )


@pytest.mark.parametrize("helper", [True, False], ids=["named", "control"])
def test_named_names_an_error_at_the_callers_own_sync(cell: Cell, helper: bool) -> None:
    """Control: without ``errors.named()`` the same sync raises psycopg's unnamed class."""
    with (
        psycopg.connect(cell.url) as conn,
        pytest.raises(psycopg.errors.UniqueViolation) as raised,
        errors.named() if helper else nullcontext(),
        conn.pipeline(),
    ):
        queue_duplicate(conn, cell)
    assert isinstance(raised.value, errors.LabelsRepositoryNameKeyViolation) is helper


def test_a_generated_call_in_a_pipeline_raises_what_the_caller_queued_before_it(cell: Cell) -> None:
    """The call syncs the caller's queue before sending its own statement: the caller's
    error arrives in it, named, and the call's statement is never sent."""
    with psycopg.connect(cell.url, autocommit=True) as conn, conn.pipeline():
        queue_duplicate(conn, cell)
        with pytest.raises(errors.LabelsRepositoryNameKeyViolation):
            issues.attach_label(conn, issue_id=cell.issue_id, label_id=cell.label_id)
    assert seen(cell).attached == 0


@pytest.mark.parametrize("pipelined", [False, True], ids=["outside", "pipeline"])
def test_returning_batches_and_commands_give_the_same_results_in_a_pipeline(
    kitchen_conn: Conn, pipelined: bool
) -> None:
    """The kitchen fixture's :batchmany, :batchone and :execresult (Plue has none)."""
    owner = kitchen.create_owner(kitchen_conn, class_="breeder", from_=None)
    assert owner is not None
    kitchen.add_pets(kitchen_conn, [kitchen.AddPetsParams(owner.id, f"p{i}") for i in range(3)])
    with kitchen_conn.pipeline() if pipelined else nullcontext():
        mine = kitchen.pets_of_owners_batch(
            kitchen_conn, [kitchen.PetsOfOwnersBatchParams(owner.id)]
        )
        first = mine[0][0]
        got = kitchen.get_pets_batch(
            kitchen_conn, [kitchen.GetPetsBatchParams(first.id), kitchen.GetPetsBatchParams(-1)]
        )
        touched = kitchen.touch_pets(kitchen_conn, feeling=Mood.HAPPY)
    assert [p.name for p in mine[0]] == ["p0", "p1", "p2"]
    assert got == [first, None]
    assert touched.rowcount >= 3 and touched.status.startswith("UPDATE")
