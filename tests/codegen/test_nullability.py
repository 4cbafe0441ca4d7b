"""Nullability that never lies, with PostgreSQL as the judge.

Every case in tests/codegen/nullability_cases.py goes through the real path (sqlc with its
database-backed analysis on this server, then our plugin) into one generated package;
each generated function then runs over rows of edge values and over empty tables. A
column generated without ``| None`` must never come back NULL; every column generated
with it must come back NULL at least once (the negative control that proves each
nullable verdict is needed); and every value must be an instance of its annotation.
The curated never-NULL lists are checked the same way, one fact per function/operator.
"""

from __future__ import annotations

import ast
import builtins
import datetime
import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
import psycopg
import pytest
from pglast import ast as pg_ast
from pglast.visitors import Visitor
from psycopg.types.datetime import TimestampLoader, TimestamptzLoader
from sqlc_gen_psycopg import nullability

from tests.codegen.codegen_support import run_sqlc, sqlc_config
from tests.codegen.nullability_cases import (
    CASES,
    FUNCTION_EVIDENCE,
    KNOWN_NULL,
    OPERATOR_EVIDENCE,
    ROWS,
    SCHEMA,
    Case,
)
from tests.fixtures.fix_db import Conn, fresh_database

PACKAGE = "nullability_cases_pkg"
FACTS = tuple(
    Case(f"SELECT {expr} AS v", "", nullable)
    for expr, nullable in [
        *((e, False) for calls in FUNCTION_EVIDENCE.values() for e in calls),
        *((e, False) for calls in OPERATOR_EVIDENCE.values() for e in calls),
        *((e, True) for e in KNOWN_NULL),
    ]
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the generator said about one query's column, and what PostgreSQL returned."""

    case: Case
    function: str
    annotation: str  # as generated, e.g. ``list[int | None]``'s ``int | None``
    cls: type | None  # what its non-None values must be instances of (None: JsonValue)
    values: tuple[object, ...]  # what the generated function returned, seeded then empty
    nulls: tuple[bool, ...]  # PostgreSQL's ``v IS NULL`` for the same rows (JSON null isn't)

    @property
    def nullable(self) -> bool:
        return self.annotation.endswith(" | None")

    @property
    def type(self) -> str:
        return self.annotation.removesuffix(" | None")


class InfiniteTimestamptz(TimestamptzLoader):
    """PostgreSQL's +-infinity as datetime's extremes (Python has no infinite datetime),
    so that edge rows load and a non-NULL infinity is told from a NULL."""

    def load(self, data: Any) -> datetime.datetime:
        if bytes(data) in INFINITIES:
            return INFINITIES[bytes(data)].replace(tzinfo=datetime.UTC)
        return super().load(data)


class InfiniteTimestamp(TimestampLoader):
    def load(self, data: Any) -> datetime.datetime:
        return INFINITIES.get(bytes(data)) or super().load(data)


INFINITIES = {b"infinity": datetime.datetime.max, b"-infinity": datetime.datetime.min}


def queries_file(cases: tuple[Case, ...]) -> str:
    return "".join(f"-- name: Q{i:03d} :many\n{c.sql};\n\n" for i, c in enumerate(cases))


def return_annotations(source: str) -> dict[str, str]:
    """Function name -> the element annotation of its ``-> list[...]``."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and isinstance(node.returns, ast.Subscript):
            found[node.name] = ast.unparse(node.returns.slice)
    return found


def runtime_class(module: types.ModuleType, annotation: str) -> type | None:
    """The class non-None values of ``annotation`` must be instances of (None: JsonValue)."""
    base = annotation.removesuffix(" | None")
    if base.startswith("list["):
        return list
    if base == "JsonValue":
        return None
    head, *rest = base.split(".")
    found = builtins.__dict__.get(head) or getattr(module, head)
    for part in rest:
        found = getattr(found, part)
    assert isinstance(found, type), annotation
    return found


def observe(
    conn: Conn, module: types.ModuleType, function: str, case: Case
) -> tuple[list[object], list[bool]]:
    """The generated function's values, and PostgreSQL's own NULL test on the same query."""
    values: list[object] = getattr(module, function)(conn)
    nulls = [r[0] for r in conn.execute(f"SELECT v IS NULL FROM ({case.sql}) AS s").fetchall()]
    assert len(nulls) == len(values), case.sql
    return values, nulls


@pytest.fixture(scope="module")
def verdicts(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Verdict]]:
    work = tmp_path_factory.mktemp("nullability")
    (work / "schema.sql").write_text(SCHEMA)
    all_cases = CASES + FACTS
    (work / "queries.sql").write_text(queries_file(all_cases))
    with fresh_database(server_url, work / "schema.sql") as url:
        (work / "sqlc.yaml").write_text(
            sqlc_config("queries.sql", PACKAGE, f"{{package: {PACKAGE}}}", database_uri=url)
        )
        done = run_sqlc(work)
        assert done.returncode == 0, done.stderr
        annotations = return_annotations((work / PACKAGE / "queries.py").read_text())
        sys.path.insert(0, str(work))
        try:
            module = importlib.import_module(f"{PACKAGE}.queries")
            names = [f"q{i:03d}" for i in range(len(all_cases))]
            with psycopg.connect(url) as conn:
                conn.adapters.register_loader("timestamptz", InfiniteTimestamptz)
                conn.adapters.register_loader("timestamp", InfiniteTimestamp)
                conn.execute(ROWS)
                seeded = [
                    observe(conn, module, n, c) for n, c in zip(names, all_cases, strict=True)
                ]
                conn.execute("DELETE FROM u; DELETE FROM t")
                empty = [observe(conn, module, n, c) for n, c in zip(names, all_cases, strict=True)]
                conn.rollback()
            yield [
                Verdict(
                    case,
                    n,
                    annotations[n],
                    runtime_class(module, annotations[n]),
                    (*full[0], *none[0]),
                    (*full[1], *none[1]),
                )
                for case, n, full, none in zip(all_cases, names, seeded, empty, strict=True)
            ]
        finally:
            sys.path.remove(str(work))


def describe(v: Verdict) -> str:
    return f"{v.case.sql!r} generated {v.annotation!r}, PostgreSQL returned {v.values[:4]!r}"


def test_at_least_100_expression_cases() -> None:
    assert len(CASES) >= 100
    assert sum(c.nullable for c in CASES) >= 40 and sum(not c.nullable for c in CASES) >= 40


def test_each_case_gets_its_expected_type_and_nullability(verdicts: list[Verdict]) -> None:
    wrong = [
        describe(v)
        for v in verdicts[: len(CASES)]
        if (v.type, v.nullable) != (v.case.type, v.case.nullable)
    ]
    assert wrong == []


def test_non_null_annotations_never_meet_null(verdicts: list[Verdict]) -> None:
    lies = [describe(v) for v in verdicts if not v.nullable and True in v.nulls]
    assert lies == []
    assert all(v.values for v in verdicts if not v.nullable), "a non-null case returned no row"


def test_every_nullable_annotation_is_needed(verdicts: list[Verdict]) -> None:
    """The negative control: some row makes PostgreSQL return NULL for each of them."""
    unneeded = [describe(v) for v in verdicts if v.nullable and True not in v.nulls]
    assert unneeded == []


def test_values_are_instances_of_their_annotation(verdicts: list[Verdict]) -> None:
    wrong = [
        describe(v)
        for v in verdicts
        if v.cls is not None and not all(isinstance(x, v.cls) for x in v.values if x is not None)
    ]
    assert wrong == []
    assert sum(v.cls is not None for v in verdicts) > len(verdicts) * 3 // 4
    # Python's None is SQL's NULL, except for JSON's own null inside a JsonValue.
    mismatched = [
        describe(v)
        for v in verdicts
        if v.cls is not None and [x is None for x in v.values] != list(v.nulls)
    ]
    assert mismatched == []


def test_facts_agree_with_the_generator(verdicts: list[Verdict]) -> None:
    """Listed functions at edge inputs: generated non-null; the look-alikes: nullable."""
    disagree = [describe(v) for v in verdicts[len(CASES) :] if v.nullable != v.case.nullable]
    assert disagree == []


class Calls(Visitor):  # type: ignore[misc]
    """Function and operator names an expression uses."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_FuncCall(self, ancestors: Any, node: pg_ast.FuncCall) -> None:
        self.names.add(node.funcname[-1].sval)

    def visit_A_Expr(self, ancestors: Any, node: pg_ast.A_Expr) -> None:
        self.names.add(node.name[-1].sval)


def used(expr: str) -> set[str]:
    calls = Calls()
    calls(pglast.parse_sql(f"SELECT {expr}"))
    return calls.names


def test_every_listed_function_and_operator_has_evidence() -> None:
    listed = nullability.NULL_TOLERANT_FUNCTIONS | nullability.STRICT_FUNCTIONS
    assert set(FUNCTION_EVIDENCE) == listed
    assert set(OPERATOR_EVIDENCE) == nullability.STRICT_OPERATORS
    evidence = {**FUNCTION_EVIDENCE, **OPERATOR_EVIDENCE}
    mislabelled = [
        (name, e) for name, calls in evidence.items() for e in calls if name not in used(e)
    ]
    assert mislabelled == []


def test_sql_value_functions_never_null_except_current_schema(
    conn: Conn,
) -> None:
    always = (
        "current_date, current_time, localtime, current_timestamp, localtimestamp,"
        " current_role, current_user, user, session_user, current_catalog"
    )
    row = conn.execute(f"SELECT {always}, current_schema").fetchone()
    assert row is not None and None not in row
    conn.execute("SET LOCAL search_path = ''")
    assert conn.execute("SELECT current_schema").fetchone() == (None,)
    assert {
        pglast.enums.SQLValueFunctionOp.SVFOP_CURRENT_SCHEMA
    } == nullability.NULLABLE_SQL_VALUE_FUNCTIONS
