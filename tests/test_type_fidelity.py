"""Every generated query agrees with PostgreSQL's own description of it (PREPARE).

The negative controls feed the checker deliberately wrong descriptions of a real
query, proving each kind of mismatch is seen, not just that a run came back empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest

from plue_db import fidelity


@pytest.fixture(scope="module")
def queries() -> list[fidelity.GeneratedQuery]:
    return fidelity.all_generated_queries()


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def find(queries: list[fidelity.GeneratedQuery], module: str, name: str) -> fidelity.GeneratedQuery:
    return next(q for q in queries if q.module == module and q.name == name)


def retype(
    slots: tuple[fidelity.Slot, ...], field: str, annotation: str
) -> tuple[fidelity.Slot, ...]:
    assert field in {s.name for s in slots}
    return tuple(
        dataclasses.replace(s, annotation=annotation) if s.name == field else s for s in slots
    )


def test_every_generated_query_matches_postgres(
    database_url: str, queries: list[fidelity.GeneratedQuery]
) -> None:
    assert fidelity.check(database_url) == []


def test_all_sync_and_async_modules_are_covered(queries: list[fidelity.GeneratedQuery]) -> None:
    modules = {q.module for q in queries}
    assert {"users", "aio.users", "workflows", "aio.workflows", "issues"} <= modules
    sync = {(q.module, q.name) for q in queries if not q.module.startswith("aio.")}
    twins = {
        (q.module.removeprefix("aio."), q.name) for q in queries if q.module.startswith("aio.")
    }
    assert sync == twins
    assert len(sync) > 100
    copy = find(queries, "workflows", "CopyWorkflowLogs")
    assert [s.name for s in copy.params] == ["run_id", "step_id", "stream", "content"]
    assert copy.columns is None


def test_control_int8_column_claimed_str_is_reported(
    db: psycopg.Connection[tuple[object, ...]], queries: list[fidelity.GeneratedQuery]
) -> None:
    query = find(queries, "users", "GetUserByID")
    assert query.columns is not None
    wrong = dataclasses.replace(query, columns=retype(query.columns, "id", "str"))
    assert fidelity.check_queries(db, [wrong]) == [
        "users.GetUserByID: column id: PostgreSQL type int8 wants int, generated str"
    ]


def test_control_nullable_column_claimed_non_optional_is_reported(
    db: psycopg.Connection[tuple[object, ...]], queries: list[fidelity.GeneratedQuery]
) -> None:
    query = find(queries, "users", "GetUserByID")
    assert query.columns is not None
    wrong = dataclasses.replace(query, columns=retype(query.columns, "email", "str"))
    assert fidelity.check_queries(db, [wrong]) == [
        "users.GetUserByID: column email: users.email is nullable, generated non-optional str"
    ]


def test_control_not_null_column_claimed_optional_without_outer_join_is_reported(
    db: psycopg.Connection[tuple[object, ...]], queries: list[fidelity.GeneratedQuery]
) -> None:
    query = find(queries, "users", "GetUserByID")
    assert query.columns is not None
    wrong = dataclasses.replace(query, columns=retype(query.columns, "username", "str | None"))
    assert fidelity.check_queries(db, [wrong]) == [
        "users.GetUserByID: column username: users.username is NOT NULL and no outer join"
        " can null it, generated str | None"
    ]


def test_not_null_column_on_outer_joined_side_may_be_optional(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    """repositories.name is NOT NULL, but a LEFT JOIN can make it NULL."""
    sql = (
        "SELECT u.id, r.name FROM users u LEFT JOIN repositories r ON r.owner_id = u.id"
        " WHERE u.id = $1"
    )
    columns = (fidelity.Slot("id", "int"), fidelity.Slot("name", "str | None"))
    query = fidelity.GeneratedQuery("t", "Probe", sql, (fidelity.Slot("id", "int"),), columns)
    assert fidelity.check_queries(db, [query]) == []
    inner = dataclasses.replace(query, sql=sql.replace("LEFT JOIN", "JOIN"))
    assert fidelity.check_queries(db, [inner]) == [
        "t.Probe: column name: repositories.name is NOT NULL and no outer join can null it,"
        " generated str | None"
    ]


def test_control_parameter_count_type_and_column_name_are_reported(
    db: psycopg.Connection[tuple[object, ...]], queries: list[fidelity.GeneratedQuery]
) -> None:
    query = find(queries, "workflows", "CopyWorkflowLogs")
    wrong_type = dataclasses.replace(query, params=retype(query.params, "stream", "str"))
    missing = dataclasses.replace(query, params=query.params[:3])
    get = find(queries, "users", "GetUserByID")
    assert get.columns is not None
    renamed = dataclasses.replace(
        get,
        columns=tuple(
            dataclasses.replace(s, name="login") if s.name == "username" else s for s in get.columns
        ),
    )
    assert fidelity.check_queries(db, [wrong_type, missing, renamed]) == [
        "workflows.CopyWorkflowLogs: parameter $3 stream: PostgreSQL type log_stream wants"
        " LogStream, generated str",
        "workflows.CopyWorkflowLogs: PostgreSQL sees 4 parameters, the function takes 3",
        "users.GetUserByID: column username: generated field is named login",
    ]


def test_control_extra_column_and_jsonb_and_array_types_are_reported(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    sql = "SELECT $1::jsonb AS doc, $2::text[] AS tags"
    params = (fidelity.Slot("doc", "JsonInput"), fidelity.Slot("tags", "list[str]"))
    right = (fidelity.Slot("doc", "JsonValue | None"), fidelity.Slot("tags", "list[str] | None"))
    query = fidelity.GeneratedQuery("t", "Docs", sql, params, right)
    assert fidelity.check_queries(db, [query]) == []
    wrong = dataclasses.replace(
        query,
        columns=(
            fidelity.Slot("doc", "JsonInput"),
            fidelity.Slot("tags", "list[int]"),
            fidelity.Slot("x", "int"),
        ),
    )
    assert fidelity.check_queries(db, [wrong]) == [
        "t.Docs: PostgreSQL returns 2 columns, the generated row has 3",
        "t.Docs: column doc: PostgreSQL type jsonb wants JsonValue, generated JsonInput",
        "t.Docs: column tags: PostgreSQL type _text wants list[str], generated list[int]",
    ]


def test_sql_postgres_rejects_is_reported(db: psycopg.Connection[tuple[object, ...]]) -> None:
    query = fidelity.GeneratedQuery("t", "Broken", "SELECT no_such_column FROM users", (), ())
    [problem] = fidelity.check_queries(db, [query])
    assert problem.startswith("t.Broken: PostgreSQL rejects the SQL:")
    assert "no_such_column" in problem
