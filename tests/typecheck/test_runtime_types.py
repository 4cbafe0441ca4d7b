"""Every generated read function, run on seeded data, returns what its annotation says.

A world with a row in every table is seeded through the generated functions themselves
(tests/fixtures/fix_world.py). Then every :one and :many function of plue_queries (and each
iter_* stream, and each async twin) runs with arguments taken from that world, each call
in a savepoint that is rolled back, and every returned value is walked against
``typing.get_type_hints`` of the function (plue_db.typecheck.runtime_types). A sweep over empty
results proves little, so the test also asserts that every function produced a non-None
value.

A little over 400 lines: how each function's arguments come from the world (the tables
below) is most of it, and the sweeps need it in one place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import importlib
import inspect
import json
import re
import secrets
import types
import typing
from collections.abc import Callable
from typing import Any, LiteralString

import psycopg
import pytest
from plue_queries import (
    issues,
    milestones,
    repositories,
    users,
    workflows,
)
from plue_queries.enums import (
    LandingStatus,
    WorkflowRunStatus,
    WorkflowStepStatus,
)

from plue_db.json_shapes import WorkflowPlan
from plue_db.typecheck.runtime_types import Checker
from tests import factories
from tests.fixtures.fix_db import Conn
from tests.fixtures.fix_world import NOW, World, unseeded
from tests.paths import ROOT

MANIFEST = ROOT / "generated/plue_queries/manifest.json"
READS = frozenset({":one", ":many", ":batchone", ":batchmany"})


# ---- arguments for each function, from the world ---------------------------------

# A parameter with no table column behind it, by name: what to pass.
ID_OF = {
    "user_id": "users",
    "assignee_id": "users",
    "reviewer_id": "users",
    "viewer_id": "users",
    "renamed_by": "users",
    "issue_id": "issues",
    "comment_id": "comments",
    "label_id": "labels",
    "milestone_id": "milestones",
    "runner_id": "runner_pool",
    "head_repository_id": "repositories",
}
BY_NAME: dict[str, Callable[[World], Any]] = {
    "page_size": lambda w: 1000,
    "max_count": lambda w: 10,
    "tokens": lambda w: 5,
    "position": lambda w: 0,
    "ttl": lambda w: datetime.timedelta(hours=1),
    "refresh_window": lambda w: datetime.timedelta(minutes=30),
    "window_size": lambda w: datetime.timedelta(minutes=1),
    "max_heartbeat_age": lambda w: datetime.timedelta(0),
    "include_private": lambda w: True,
    "only_active": lambda w: True,
    "active_only": lambda w: True,
    "wallet_address": lambda w: w.wallet,
    "username": lambda w: w.rows["users"].username,
    "owner_username": lambda w: w.rows["users"].username,
    "email": lambda w: w.rows["users"].email,
    "change_id": lambda w: w.rows["changes"].change_id,
    "name": lambda w: w.rows["repositories"].name,
    "branch_name": lambda w: "main",
    "from_name": lambda w: "main",
    "to_name": lambda w: "trunk",
    "topic": lambda w: "jj",
    "landed_commit_id": lambda w: factories.commit_id(),
    "merged_commit_id": lambda w: factories.commit_id(),
}
# Columns with unique values: an INSERT into their table gets a fresh one, not the world's.
INSERT_TARGET = re.compile(r"\bINSERT INTO (\w+)")
FRESH: dict[str, Callable[[], Any]] = {
    "username": lambda: factories.unique_name("user"),
    "email": lambda: f"{factories.unique_name('mail')}@example.com",
    "wallet_address": factories.wallet_address,
    "name": lambda: factories.unique_name("name"),
    "title": lambda: factories.unique_name("title"),
    "pattern": lambda: factories.unique_name("release/"),
    "fingerprint": factories.ssh_fingerprint,
    "token_hash": lambda: factories.sha256_hex(factories.unique_name("token")),
    "session_key_hash": lambda: factories.sha256_hex(factories.unique_name("session")),
    "nonce": lambda: secrets.token_hex(8),
    "change_id": factories.change_id,
    "operation_id": factories.commit_id,
}
LATER = datetime.timedelta(days=2)
# Function -> parameter -> value where the world's row or the name says the wrong thing.
OVERRIDES: dict[str, dict[str, Callable[[World], Any]]] = {
    "create_user": {"wallet_address": lambda w: factories.wallet_address()},
    "create_workflow_step": {"position": lambda w: 1},
    "list_change_children": {"change_id": lambda w: w.parent_change.change_id},
    "get_email_address_by_email": {"email": lambda w: w.rows["email_addresses"].email},
    "refresh_auth_session": {
        "ttl": lambda w: datetime.timedelta(days=3),
        "refresh_window": lambda w: datetime.timedelta(days=2),
    },
    "llm_usage_by_day": {"until": lambda w: NOW + LATER},
    "llm_usage_by_model": {"until": lambda w: NOW + LATER},
    "transition_landing_request": {"to_status": lambda w: LandingStatus.IN_REVIEW},
    "set_review_comment_resolved": {"is_resolved": lambda w: True},
    "claim_workflow_run": {"max_heartbeat_age": lambda w: datetime.timedelta(hours=1)},
    "finish_workflow_run": {"conclusion": lambda w: WorkflowRunStatus.SUCCEEDED},
    "finish_workflow_step": {"conclusion": lambda w: WorkflowStepStatus.SUCCEEDED},
}
# Function -> the state its query acts on, set inside the call's rolled-back savepoint.
STATE: dict[str, tuple[LiteralString, Callable[[World], dict[str, Any]]]] = {
    **dict.fromkeys(
        ("claim_next_landable", "list_next_landable"),
        (
            "UPDATE landing_queue SET status = 'queued' WHERE id = %(id)s",
            lambda w: {"id": w.rows["landing_queue"].id},
        ),
    ),
    "mark_landing_landed": (
        "UPDATE landing_queue SET status = 'landing' WHERE id = %(id)s",
        lambda w: {"id": w.rows["landing_queue"].id},
    ),
    "unresolve_landing_line_comment": (
        "UPDATE landing_line_comments SET is_resolved = true, resolved_by = %(user)s,"
        " resolved_at = now() WHERE id = %(id)s",
        lambda w: {"id": w.rows["landing_line_comments"].id, "user": w.rows["users"].id},
    ),
    "dismiss_review": (
        "UPDATE reviews SET state = 'approved' WHERE id = %(id)s",
        lambda w: {"id": w.rows["reviews"].id},
    ),
    "reopen_pull_request": (
        "UPDATE pull_requests SET state = 'closed', closed_at = now() WHERE id = %(id)s",
        lambda w: {"id": w.rows["pull_requests"].id},
    ),
    **dict.fromkeys(
        ("finish_workflow_run", "finish_workflow_step"),
        (
            "WITH run AS (UPDATE workflow_runs SET status = 'running', started_at = now()"
            " WHERE id = %(run)s) UPDATE workflow_steps SET status = 'running',"
            " started_at = now() WHERE id = %(step)s",
            lambda w: {"run": w.rows["workflow_runs"].id, "step": w.rows["workflow_steps"].id},
        ),
    ),
    "release_runner": (
        "UPDATE runner_pool SET status = 'busy', claimed_run_id = %(run)s WHERE id = %(id)s",
        lambda w: {"id": w.rows["runner_pool"].id, "run": w.rows["workflow_runs"].id},
    ),
    "start_workflow_run": (
        "UPDATE workflow_runs SET runner_id = %(runner)s WHERE id = %(id)s",
        lambda w: {"id": w.rows["workflow_runs"].id, "runner": w.rows["runner_pool"].id},
    ),
}


def kwargs_for(
    entry: dict[str, Any], module: types.ModuleType, world: World, checker: Checker
) -> dict[str, Any]:
    """Values for one function's parameters: overrides, then the world's row of the table
    the parameter meets, then its name, then None where allowed, else a plain value."""
    hints = checker.hints(getattr(module, entry["params_class"] or entry["name"]))
    target = INSERT_TARGET.search(entry["sql"])
    inserted = target[1] if target else None
    kwargs: dict[str, Any] = {}
    for param in entry["params"]:
        name, source = param["name"], param["source"]
        override = OVERRIDES.get(entry["name"], {}).get(name)
        if override is not None:
            kwargs[name] = override(world)
        elif source and source.split(".")[0] == inserted and name in FRESH:
            kwargs[name] = FRESH[name]()
        elif source and (value := from_row(world, source)) is not _MISSING:
            kwargs[name] = value
        elif name in ID_OF:
            kwargs[name] = world.rows[ID_OF[name]].id
        elif name in BY_NAME:
            kwargs[name] = BY_NAME[name](world)
        elif param["nullable"]:
            kwargs[name] = None
        else:
            kwargs[name] = plain_value(hints[name], name)
    return kwargs


_MISSING = object()


def from_row(world: World, source: str) -> Any:
    table, column = source.split(".")
    row = world.rows.get(table)
    return getattr(row, column, _MISSING) if row is not None else _MISSING


def plain_value(hint: Any, name: str) -> Any:
    """A valid value of a parameter's type that nothing in the world supplies."""
    if typing.get_origin(hint) is list:
        return []
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    plain = {
        int: 1,
        str: factories.unique_name(name),
        bool: True,
        datetime.datetime: NOW,
        datetime.date: NOW.date(),
        datetime.timedelta: datetime.timedelta(hours=1),
    }
    if hint in plain:
        return plain[hint]
    return {}  # JsonInput


# ---- the sweep -------------------------------------------------------------------


@dataclasses.dataclass
class Sweep:
    mismatches: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    produced: set[str] = dataclasses.field(default_factory=set)
    called: set[str] = dataclasses.field(default_factory=set)

    def failed(self, where: str, kwargs: dict[str, Any], exc: Exception) -> None:
        self.errors.append(f"{where}({kwargs}): {type(exc).__name__}: {exc}")

    def returned(self, checker: Checker, function: Any, value: Any, where: str) -> None:
        """What ``function`` returned: its mismatches, and whether it produced a value."""
        self.mismatches.extend(checker.returned(function, value, where))
        if produced_something(value):
            self.produced.add(where)


def call(
    function: Callable[..., Any],
    conn: Any,
    entry: dict[str, Any],
    module: types.ModuleType,
    kwargs: dict[str, Any],
) -> Any:
    """Call with keywords, or (:batchone/:batchmany) with one row of its Params class,
    whose class lives in the sync module."""
    if entry["params_class"]:
        return function(conn, [getattr(module, entry["params_class"])(**kwargs)])
    return function(conn, **kwargs)


def state_for(name: str, world: World) -> tuple[LiteralString, dict[str, Any]] | None:
    """The statement (and its parameters) that sets up what function name acts on."""
    if name not in STATE:
        return None
    sql, params = STATE[name]
    return sql, params(world)


def read_entries() -> list[dict[str, Any]]:
    document = json.loads(MANIFEST.read_text())
    return [f for f in document["functions"] if f["command"] in READS]


def produced_something(value: object) -> bool:
    """Some non-None value: a list counts when it holds one (rows, or a batch's results)."""
    if isinstance(value, list):
        return any(produced_something(v) for v in value)
    return value is not None


def function_names(entry: dict[str, Any]) -> list[str]:
    """The function, and its iter_ stream if it has one."""
    return [entry["name"]] + ([entry["stream"]] if entry["stream"] else [])


def sweep_sync(conn: Conn, world: World, checker: Checker) -> Sweep:
    found = Sweep()
    for entry in read_entries():
        module = importlib.import_module(f"plue_queries.{entry['module']}")
        for name in function_names(entry):
            function = getattr(module, name)
            kwargs = kwargs_for(entry, module, world, checker)
            where = f"{entry['module']}.{name}"
            found.called.add(where)
            try:
                with conn.transaction(force_rollback=True):
                    if state := state_for(entry["name"], world):
                        conn.execute(*state)
                    result = call(function, conn, entry, module, kwargs)
                    value = list(result) if inspect.isgenerator(result) else result
            except psycopg.Error as exc:
                found.failed(where, kwargs, exc)
                continue
            found.returned(checker, function, value, where)
    return found


async def sweep_async(url: str, world: World, checker: Checker) -> Sweep:
    """The async twins and their streams, as sweep_sync runs the sync functions."""
    found = Sweep()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for entry in read_entries():
            module = importlib.import_module(f"plue_queries.aio.{entry['module']}")
            sync = importlib.import_module(f"plue_queries.{entry['module']}")
            kwargs = kwargs_for(entry, sync, world, checker)
            for name in function_names(entry):
                function = getattr(module, name)
                where = f"aio.{entry['module']}.{name}"
                found.called.add(where)
                try:
                    async with conn.transaction(force_rollback=True):
                        if state := state_for(entry["name"], world):
                            await conn.execute(*state)
                        result = call(function, conn, entry, sync, kwargs)
                        if inspect.isasyncgen(result):
                            value: Any = [row async for row in result]
                        else:
                            value = await result
                except psycopg.Error as exc:
                    found.failed(where, kwargs, exc)
                    continue
                found.returned(checker, function, value, where)
    return found


@pytest.fixture(scope="module")
def sync_sweep(seeded: tuple[str, World], checker: Checker) -> Sweep:
    url, world = seeded
    with psycopg.connect(url) as conn:
        return sweep_sync(conn, world, checker)


def test_every_read_function_returns_instances_of_its_annotation(sync_sweep: Sweep) -> None:
    assert sync_sweep.mismatches == []
    assert sync_sweep.errors == []
    entries = read_entries()
    assert len(entries) > 200
    assert len(sync_sweep.called) == len(entries) + sum(bool(e["stream"]) for e in entries)


def test_every_read_function_returned_a_value(sync_sweep: Sweep) -> None:
    """Not vacuous: each function (and stream) produced a non-None, non-empty result."""
    assert sync_sweep.called - sync_sweep.produced == set(), NOTHING_RETURNED


NOTHING_RETURNED = (
    "these functions returned nothing on the seeded world: give the tables they read a "
    "seed row in seed() of tests/fixtures/fix_world.py, or their arguments in this file's tables"
)


def test_the_world_has_a_row_in_every_table(seeded: tuple[str, World]) -> None:
    """A table added to schema.sql (README, "Adding a table") fails here by name, with
    the file to edit, before the sweeps report its functions as returning nothing."""
    url, _ = seeded
    with psycopg.connect(url) as conn:
        assert unseeded(conn) == []
        # Control: a table emptied in a rolled-back transaction is named, with the fix.
        with conn.transaction(force_rollback=True):
            conn.execute("CREATE TABLE gadgets (id bigint)")
            conn.execute("DELETE FROM watches")
            assert unseeded(conn) == [
                "table gadgets has no seed row: add one to seed() in tests/fixtures/fix_world.py",
                "table watches has no seed row: add one to seed() in tests/fixtures/fix_world.py",
            ]


def test_async_twins_return_instances_of_their_annotations(
    seeded: tuple[str, World], checker: Checker
) -> None:
    url, world = seeded
    found = asyncio.run(sweep_async(url, world, checker))
    assert found.mismatches == []
    assert found.errors == []
    assert found.called - found.produced == set()
    entries = read_entries()
    assert len(found.called) == len(entries) + sum(bool(e["stream"]) for e in entries)


# ---- negative controls: each rule of the checker sees a lie ------------------------


def test_control_wrong_values_in_real_rows_are_reported(
    seeded: tuple[str, World], checker: Checker
) -> None:
    """Real rows from the seeded world, each with one field made to lie."""
    _, world = seeded
    user, repo, run = world.rows["users"], world.rows["repositories"], world.rows["workflow_runs"]
    milestone, issue = world.rows["milestones"], world.rows["issues"]
    assert checker.returned(users.get_user_by_id, user, "u") == []
    lies = [
        (users.get_user_by_id, dataclasses.replace(user, created_at=NOW.date())),
        (users.get_user_by_id, dataclasses.replace(user, id=True)),
        (users.get_user_by_id, dataclasses.replace(user, username=None)),
        (issues.get_issue, dataclasses.replace(issue, state="open")),
        (repositories.get_repository_by_id, dataclasses.replace(repo, topics=["jj", 7])),
        (workflows.get_workflow_run, dataclasses.replace(run, inputs={"a": {1}})),
        (milestones.get_milestone, dataclasses.replace(milestone, due_date=NOW)),
        (users.get_user_by_id, repo),
    ]
    problems = [checker.returned(function, value, "v") for function, value in lies]
    assert [len(p) for p in problems] == [1] * len(lies), problems
    assert [p[0].split(": ", 1)[0] for p in problems] == [
        "v.created_at",
        "v.id",
        "v.username",
        "v.state",
        "v.topics[1]",
        "v.inputs['a']",
        "v.due_date",
        "v",
    ]
    assert "is not a datetime.datetime" in problems[0][0]
    assert problems[3][0].endswith("(builtins.str) is not a plue_queries.enums.IssueState")


def test_control_streams_and_lists_are_checked_element_by_element(checker: Checker) -> None:
    assert checker.returned(users.iter_list_users, [], "s") == []
    [problem] = checker.returned(users.iter_list_users, [None], "s")
    assert problem == "s[0]: None (builtins.NoneType) is not a plue_queries.models.User"
    [problem] = checker.returned(users.list_users, (), "l")
    assert problem == "l: () (builtins.tuple) is not a list"
    [problem] = checker.mismatches(decimal.Decimal("1.5"), float, "f")
    assert problem == "f: Decimal('1.5') (decimal.Decimal) is not a builtins.float"


def test_control_a_typed_json_column_is_checked_key_by_key(checker: Checker) -> None:
    """workflow_definitions.plan is a WorkflowPlan (sqlc.yaml json_types): each key."""
    ok = {"steps": [{"name": "a", "run": "make"}, {"name": "b", "run": "t", "needs": ["a"]}]}
    assert checker.mismatches(ok, WorkflowPlan, "p") == []
    bad = {"steps": [{"name": "a", "run": 1}, {"run": "t", "after": []}], "extra": 1}
    assert checker.mismatches(bad, WorkflowPlan, "p") == [
        "p: 'extra' is not a key of WorkflowPlan",
        "p['steps'][0]['run']: 1 (builtins.int) is not a builtins.str",
        "p['steps'][1]: 'after' is not a key of PlanStep",
        "p['steps'][1]: 'name' of PlanStep is missing",
    ]
