"""Warnings of a generation, word for word: one line each, ``file:line: query Name:
column x: ...``, kept in manifest.json (sqlc drops a plugin's stderr when it succeeds).

Static analysis: a result column of no table whose expression isn't cast has sqlc's
guessed type, and says so. Database-backed analysis: PostgreSQL typed it, no warning
(the control that the warning is about the analysis, not the SQL).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pglast import parse_sql
from sqlc_gen_psycopg import places

from tests.codegen.codegen_support import run_sqlc, sqlc_config
from tests.fixtures.fix_db import fresh_database

SCHEMA = """CREATE TABLE events (
    id bigserial PRIMARY KEY,
    amount numeric NOT NULL,
    created_at timestamptz NOT NULL
);
"""
QUERIES = """-- name: EventStats :many
-- How old each event is.
SELECT id,
       now() - created_at AS age,
       -- rounded to whole units
       round(amount) AS rounded,
       amount::float8 AS declared,
       created_at
FROM events;

-- name: Count :one
SELECT count(*) AS events FROM events;
"""
GUESSES = [
    "queries/events.sql:6: query EventStats: column rounded: float8 is sqlc's static guess "
    "for this expression; cast it: `round(amount)::<type> AS rounded`, or generate with the "
    "database-backed analysis",
]


def project(tmp_path: Path, database: str = "") -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "events.sql").write_text(QUERIES)
    config = sqlc_config("queries", "out/events_pkg", "{package: events_pkg}", database)
    (tmp_path / "sqlc.yaml").write_text(config)
    return tmp_path


def warnings_of(work: Path, *args: str) -> list[str]:
    done = run_sqlc(work, *args)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((work / "out" / "events_pkg" / "manifest.json").read_text())
    warnings: list[str] = manifest["warnings"]
    return warnings


def test_static_guesses_are_named_with_file_line_and_cast(tmp_path: Path) -> None:
    """rounded: an uncast expression; not declared (cast), created_at and id (table
    columns), count(*) (typed by the plugin's own inference, bigint) nor age (date/time
    arithmetic over typed columns: PostgreSQL's rule gives interval, where sqlc guessed
    int4; tests/codegen/test_datetime_arithmetic.py)."""
    work = project(tmp_path)
    assert warnings_of(work) == GUESSES
    source = (work / "out" / "events_pkg" / "events.py").read_text()
    assert "age: datetime.timedelta" in source and "rounded: float" in source


def test_database_backed_analysis_has_no_guesses(server_url: str, tmp_path: Path) -> None:
    with fresh_database(server_url, project(tmp_path) / "schema.sql") as url:
        work = project(tmp_path / "db", database=url)
        assert warnings_of(work) == []
    source = (work / "out" / "events_pkg" / "events.py").read_text()
    assert "age: datetime.timedelta" in source and "rounded: decimal.Decimal" in source


def test_database_backed_config_given_with_f_has_no_guesses(
    server_url: str, tmp_path: Path
) -> None:
    """``sqlc generate -f other.yaml`` (as sqlc-gen-psycopg-db runs it) beside a static
    sqlc.yaml: the plugin reads the config sqlc was given."""
    with fresh_database(server_url, project(tmp_path) / "schema.sql") as url:
        work = project(tmp_path / "db")
        analysed = sqlc_config("queries", "out/events_pkg", "{package: events_pkg}", url)
        (work / "analysed.yaml").write_text(analysed)
        assert warnings_of(work, "generate", "-f", "analysed.yaml") == []


def test_analyzer_turned_off_is_static(server_url: str, tmp_path: Path) -> None:
    """Control for the detection: ``analyzer: {database: false}`` keeps the static guesses."""
    with fresh_database(server_url, project(tmp_path) / "schema.sql") as url:
        work = project(tmp_path / "db", database=url)
        config = (
            (work / "sqlc.yaml")
            .read_text()
            .replace("    database:\n", "    analyzer:\n      database: false\n    database:\n")
        )
        (work / "sqlc.yaml").write_text(config)
        assert warnings_of(work) == GUESSES


@pytest.mark.parametrize("strict", [False, True])
def test_untyped_parameter_warning_or_error(tmp_path: Path, strict: bool) -> None:
    """The same line is a warning, or with strict_types the error that writes nothing."""
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "query.sql").write_text(
        "-- name: Recent :many\nSELECT id FROM events\nWHERE @flag AND amount > 0;\n"
    )
    options = "{package: events_pkg, strict_types: true}" if strict else "{package: events_pkg}"
    (tmp_path / "sqlc.yaml").write_text(sqlc_config("query.sql", "out/events_pkg", options))
    line = "query.sql:3: query Recent: parameter flag: sqlc can't infer its type (any)"
    if strict:
        done = run_sqlc(tmp_path)
        assert done.returncode == 1 and not (tmp_path / "out").exists()
        assert f"{line}; cast it: `sqlc.arg(flag)::<type>` (with strict_types off" in done.stderr
    else:
        assert warnings_of(tmp_path) == [
            f"{line}, so it is annotated object; cast it: `sqlc.arg(flag)::<type>`"
        ]


def test_untyped_columns_are_placed_after_star_union_and_returning(tmp_path: Path) -> None:
    """The column's own line: ``*`` expanded before it, a UNION's first branch, RETURNING."""
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "query.sql").write_text(
        "-- name: WithStar :many\nSELECT *,\n  NULL AS extra\nFROM events;\n\n"
        "-- name: Both :many\nSELECT id, NULL AS note FROM events\nUNION ALL\n"
        "SELECT id, NULL FROM events;\n\n"
        "-- name: Stamp :one\nINSERT INTO events (amount, created_at) VALUES (1, now())\n"
        "RETURNING id,\n  NULL AS marker;\n"
    )
    options = "{package: events_pkg}"
    (tmp_path / "sqlc.yaml").write_text(sqlc_config("query.sql", "out/events_pkg", options))
    cast = "sqlc can't infer its type (any), so it is annotated object; cast it: `NULL::<type>"
    assert warnings_of(tmp_path) == [
        f"query.sql:3: query WithStar: column extra: {cast} AS extra`",
        f"query.sql:7: query Both: column note: {cast} AS note`",
        f"query.sql:14: query Stamp: column marker: {cast} AS marker`",
    ]


def test_config_given_from_another_directory(tmp_path: Path) -> None:
    """``sqlc generate -f sub/sqlc.yaml`` runs the plugin in sqlc's own directory: the
    schema, the queries and the config are read from the config's folder (the schema
    read from here was a FileNotFoundError traceback), and file:line names the file from
    here."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "schema.sql").write_text(SCHEMA)
    (sub / "query.sql").write_text(
        "-- name: Recent :many\nSELECT id FROM events\nWHERE @flag AND amount > 0;\n"
    )
    (sub / "sqlc.yaml").write_text(sqlc_config("query.sql", "out/events_pkg", "{package: p}"))
    done = run_sqlc(tmp_path, "generate", "-f", "sub/sqlc.yaml")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((sub / "out" / "events_pkg" / "manifest.json").read_text())
    assert manifest["warnings"] == [
        "sub/query.sql:3: query Recent: parameter flag: sqlc can't infer its type (any), so "
        "it is annotated object; cast it: `sqlc.arg(flag)::<type>`"
    ]


def test_the_plugins_command_prints_what_sqlc_drops(tmp_path: Path) -> None:
    """``sqlc-gen-psycopg-db generate`` prints each warning on stderr, one line each;
    control: plain ``sqlc generate`` succeeds and shows none of them."""
    work = project(tmp_path)
    plain = run_sqlc(work)
    assert plain.returncode == 0 and "static guess" not in plain.stdout + plain.stderr
    done = subprocess.run(
        [str(Path(sys.executable).parent / "sqlc-gen-psycopg-db"), "generate", "--static"],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"warning: {line}" for line in GUESSES]


CAST_TARGETS = {
    "now()": "now()",
    "a.b": "a.b",
    "$1": "$1",
    "current_date": "CURRENT_DATE",
    "a + 1": "(a + 1)",
    "lower(x) || upper(y)": "(lower(x) || upper(y))",
    "now() - CAST('1 hour' AS interval)": "(now() - CAST('1 hour' AS interval))",
}


def old_sql_of(text: str) -> str:
    """The suggestion's expression as it was chosen before: by its text."""
    return text if re.fullmatch(r"[\w.'$]+(\(.*\))?", text) else f"({text})"


def test_the_suggested_cast_applies_to_the_whole_expression() -> None:
    """A warning's ``<expression>::<type>`` casts all of it: an expression that starts
    with a call and ends with one is still two, and gets parentheses. Control: judged by
    its text, as before, ``lower(x) || upper(y)::<type>`` would cast ``upper(y)`` alone."""
    for expression, suggested in CAST_TARGETS.items():
        node = parse_sql(f"SELECT {expression}")[0].stmt.targetList[0].val
        assert places.sql_of(node) == suggested, expression
    assert old_sql_of("lower(x) || upper(y)") == "lower(x) || upper(y)"
