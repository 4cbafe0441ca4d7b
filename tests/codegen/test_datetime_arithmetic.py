"""Date and time arithmetic in static mode gets PostgreSQL's own types (issue 18).

Without a database, sqlc guesses ``int4`` for ``now() - started_at`` and every other
date/time operator. The plugin types these from the operands' known types by
PostgreSQL's operator rules (expression_types.DATETIME_OPERATORS), with no "static guess"
warning; an operand it can't type keeps sqlc's guess and the warning. Checked three
ways: every rule against PostgreSQL's own answer; a static generation's annotations;
and the generated function run on PostgreSQL, each value an instance of its annotation.
The control is sqlc's own guess, taken from the request it sends a plugin: the
annotation the plugin printed before, which PostgreSQL's values don't fit.
"""

from __future__ import annotations

import datetime
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from pglast import ast, parse_sql
from sqlc_gen_psycopg import pytypes
from sqlc_gen_psycopg.expression_types import (
    DATE_TRUNC_RESULTS,
    DATETIME_OPERATORS,
    SQL_VALUE_FUNCTION_TYPES,
)

from tests.codegen.codegen_support import run_sqlc, sqlc_config
from tests.fixtures.fix_db import fresh_database

PACKAGE = "datetime_arithmetic"
SCHEMA = """CREATE DOMAIN moment AS timestamptz;
CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    queued timestamp NOT NULL,
    done timestamp,
    due date NOT NULL,
    shipped date,
    wait interval NOT NULL,
    days int NOT NULL,
    at_time time NOT NULL,
    seen moment NOT NULL
);
"""
# column -> (expression, the annotation PostgreSQL's type gives). The nullable ones
# have an operand that may be NULL.
EXPRESSIONS = {
    "elapsed": ("now() - started_at", "datetime.timedelta"),
    "took": ("finished_at - started_at", "datetime.timedelta | None"),
    "since": ("current_timestamp - started_at", "datetime.timedelta"),
    "clock": ("clock_timestamp() - started_at", "datetime.timedelta"),
    "ts_took": ("done - queued", "datetime.timedelta | None"),
    "ts_age": ("localtimestamp - queued", "datetime.timedelta"),
    "mixed": ("started_at - queued", "datetime.timedelta"),
    "days_late": ("shipped - due", "int | None"),
    "days_ago": ("current_date - due", "int"),
    "earlier": ("due - days", "datetime.date"),
    "later": ("days + due", "datetime.date"),
    "tomorrow": ("due + 1", "datetime.date"),
    "tz_plus": ("started_at + wait", "datetime.datetime"),
    "tz_minus": ("started_at - interval '1 hour'", "datetime.datetime"),
    "ts_plus": ("wait + queued", "datetime.datetime"),
    "date_plus": ("due + wait", "datetime.datetime"),
    "date_minus": ("due - wait", "datetime.datetime"),
    "date_time": ("due + at_time", "datetime.datetime"),
    "time_plus": ("at_time + wait", "datetime.time"),
    "waits": ("wait + wait", "datetime.timedelta"),
    "no_wait": ("wait - wait", "datetime.timedelta"),
    "double_wait": ("wait * 2", "datetime.timedelta"),
    "half_wait": ("wait / 2", "datetime.timedelta"),
    "nested": ("(finished_at - started_at) + wait", "datetime.timedelta | None"),
    "domain": ("now() - seen", "datetime.timedelta"),
    "at": ("now()", "datetime.datetime"),
    "today": ("current_date", "datetime.date"),
    "clock_time": ("current_time", "datetime.time"),
    "local_time": ("localtime(0)", "datetime.time"),
    "login": ("current_user", "str"),
    "trunc_tz": ("date_trunc('day', started_at)", "datetime.datetime"),
    "trunc_ts": ("date_trunc('hour', done)", "datetime.datetime | None"),
    "trunc_date": ("date_trunc('month', due)", "datetime.datetime"),
    "trunc_wait": ("date_trunc('minute', wait)", "datetime.timedelta"),
    "trunc_zone": ("date_trunc('day', started_at, 'Europe/Paris')", "datetime.datetime"),
}
# sqlc types these SQL value functions any; before, the plugin made them text (str).
WERE_TEXT = ("clock_time", "local_time")
# An operand of no type the plugin knows (a string literal): sqlc's guess and a warning.
UNKNOWN_OPERAND = "since_2024"
QUERIES = (
    "-- name: JobTimes :many\nSELECT id,\n"
    + ",\n".join(f"       {sql} AS {name}" for name, (sql, _) in EXPRESSIONS.items())
    + f",\n       started_at - '2024-01-01' AS {UNKNOWN_OPERAND}\nFROM jobs ORDER BY id;\n"
)
CLASSES: dict[str, type] = {
    "int": int,
    "str": str,
    "datetime.date": datetime.date,
    "datetime.datetime": datetime.datetime,
    "datetime.time": datetime.time,
    "datetime.timedelta": datetime.timedelta,
}


def project(root: Path, plugin: str = "sqlc-gen-psycopg") -> Path:
    root.mkdir(parents=True)
    (root / "schema.sql").write_text(SCHEMA)
    (root / "queries").mkdir()
    (root / "queries" / "jobs.sql").write_text(QUERIES)
    options = f"{{package: {PACKAGE}, emit_async: false}}"
    config = sqlc_config("queries", f"out/{PACKAGE}", options)
    (root / "sqlc.yaml").write_text(config.replace("cmd: sqlc-gen-psycopg", f"cmd: {plugin}"))
    return root


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Any]]:
    """The manifest and the imported module of a static generation (plain sqlc)."""
    root = project(tmp_path_factory.mktemp("static") / "project")
    done = run_sqlc(root)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "out" / PACKAGE / "manifest.json").read_text())
    sys.path.insert(0, str(root / "out"))
    try:
        module: ModuleType = importlib.import_module(f"{PACKAGE}.jobs")
        yield manifest, module
    finally:
        sys.path.remove(str(root / "out"))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def jobs_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The schema with two jobs: one with every column set, one with the NULLs."""
    schema = tmp_path_factory.mktemp("schema") / "schema.sql"
    schema.write_text(SCHEMA)
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO jobs (started_at, finished_at, queued, done, due, shipped, wait, days,"
            " at_time, seen) VALUES (now() - interval '2 hours', now(), localtimestamp,"
            " localtimestamp + interval '1 minute', current_date, current_date + 3,"
            " interval '90 minutes', 2, '12:30', now()),"
            " (now(), NULL, localtimestamp, NULL, current_date, NULL, interval '1 day', 0,"
            " '08:00', now())"
        )
        conn.commit()
        yield url


def columns_of(manifest: dict[str, Any], function: str) -> dict[str, str]:
    (found,) = [f for f in manifest["functions"] if f["name"] == function]
    return {c["field"]: c["annotation"] for c in found["columns"]}


def fits(value: object, annotation: str) -> bool:
    """Is ``value`` what ``annotation`` promises? A date is never a datetime here."""
    kind, _, optional = annotation.partition(" | ")
    if value is None:
        return optional == "None"
    return type(value) is CLASSES[kind]


def test_every_rule_is_postgresql_own(jobs_url: str) -> None:
    with psycopg.connect(jobs_url) as conn:
        for (left, op, right), result in DATETIME_OPERATORS.items():
            sql = f"SELECT pg_typeof(NULL::{left} {op} NULL::{right})::text, %s::regtype::text"
            pg, ours = conn.execute(sql, (result,)).fetchone() or ("", "")
            assert pg == ours, f"{left} {op} {right}: PostgreSQL says {pg}, the table {ours}"


def test_every_date_trunc_rule_is_postgresql_own(jobs_url: str) -> None:
    with psycopg.connect(jobs_url) as conn:
        for source, result in DATE_TRUNC_RESULTS.items():
            sql = f"SELECT pg_typeof(date_trunc('day', NULL::{source}))::text, %s::regtype::text"
            pg, ours = conn.execute(sql, (result,)).fetchone() or ("", "")
            assert pg == ours, f"date_trunc of {source}: PostgreSQL says {pg}, the table {ours}"


SQL_VALUE_FUNCTIONS = (
    "current_date", "current_time", "current_time(2)", "current_timestamp",
    "current_timestamp(2)", "localtime", "localtime(2)", "localtimestamp", "localtimestamp(2)",
    "current_role", "current_user", "user", "session_user", "current_catalog",
    "current_schema",
)  # fmt: skip


def test_every_sql_value_function_is_typed_as_postgresql_types_it(jobs_url: str) -> None:
    seen = set()
    with psycopg.connect(jobs_url) as conn:
        for spelled in SQL_VALUE_FUNCTIONS:
            node = parse_sql(f"SELECT {spelled}")[0].stmt.targetList[0].val
            assert isinstance(node, ast.SQLValueFunction), spelled
            ours = SQL_VALUE_FUNCTION_TYPES[node.op]
            sql = f"SELECT pg_typeof({spelled})::text, %s::regtype::text"
            pg, expected = conn.execute(sql, (ours,)).fetchone() or ("", "")
            assert pg == expected, f"{spelled}: PostgreSQL says {pg}, the table {ours}"
            seen.add(node.op)
    assert seen == set(SQL_VALUE_FUNCTION_TYPES)


def test_static_annotations_are_postgresql_types(generated: tuple[dict[str, Any], Any]) -> None:
    manifest, _ = generated
    found = columns_of(manifest, "job_times")
    assert {k: found[k] for k in EXPRESSIONS} == {k: a for k, (_, a) in EXPRESSIONS.items()}
    # Only the string-literal operand stays sqlc's guess, with its warning.
    assert found[UNKNOWN_OPERAND] == "int"
    (warning,) = manifest["warnings"]
    assert warning.startswith(
        f"queries/jobs.sql:{3 + len(EXPRESSIONS)}: query JobTimes: column {UNKNOWN_OPERAND}: "
        "int4 is sqlc's static guess"
    ), warning


def test_values_are_instances_of_their_annotations(
    generated: tuple[dict[str, Any], Any], jobs_url: str
) -> None:
    manifest, module = generated
    annotations = columns_of(manifest, "job_times")
    with psycopg.connect(jobs_url) as conn:
        rows = module.job_times(conn)
    assert len(rows) == 2
    for row in rows:
        for name in EXPRESSIONS:
            value = getattr(row, name)
            assert fits(value, annotations[name]), (name, value, annotations[name])
    assert [row.took is None for row in rows] == [False, True]  # a NULL operand: NULL


def test_control_sqlc_guesses_do_not_fit(
    tmp_path: Path, generated: tuple[dict[str, Any], Any], jobs_url: str
) -> None:
    """sqlc's static types, as the request it sends any plugin holds them, turned into
    annotations the way the plugin annotated them before (``any``, as current_date, it
    typed itself): PostgreSQL's values are not instances of them for every column whose
    rule changes the type."""
    dump = tmp_path / "request.json"
    plugin = tmp_path / "dump_request"
    plugin.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(dump)!r}).write_bytes(sys.stdin.buffer.read())\nprint('{{}}')\n"
    )
    plugin.chmod(0o755)
    done = run_sqlc(project(tmp_path / "project", str(plugin)))
    assert done.returncode == 0, done.stderr
    (query,) = [q for q in json.loads(dump.read_text())["queries"] if q["name"] == "JobTimes"]
    guessed = {c["name"]: c["type"]["name"] for c in query["columns"]}
    old = {}
    for name, (_, annotation) in EXPRESSIONS.items():
        if guessed[name] in pytypes.UNRESOLVED:  # typed by the plugin before too
            continue
        described = pytypes.describe(pytypes.normalise(guessed[name]), 0, result=True)
        assert described is not None, (name, guessed[name])
        if described.element.text() != annotation.split(" | ")[0]:
            old[name] = described.element.text()
    # sqlc's pick of date_trunc's overload is right for an interval and for the
    # three-argument form (a timestamptz one only); wrong (an interval) for the rest
    assert set(old) == set(EXPRESSIONS) - {
        "days_late", "days_ago", "at", "today", "login", *WERE_TEXT, "trunc_wait",
        "trunc_zone",
    }  # fmt: skip
    # sqlc's int4 for the arithmetic, its interval for date_trunc
    assert set(old.values()) == {"int", "datetime.timedelta"}
    old.update(dict.fromkeys(WERE_TEXT, "str"))
    _, module = generated
    with psycopg.connect(jobs_url) as conn:
        (row, _) = module.job_times(conn)
    misfits = {name for name, annotation in old.items() if not fits(getattr(row, name), annotation)}
    assert misfits == set(old)
