"""information_schema's domains are typed as their base types (issue 18).

sqlc names a column of information_schema ``cardinal_number``, ``sql_identifier``,
``yes_or_no``, ``character_data`` or ``time_stamp``, bare, with no base type, and the
plugin annotated every such unknown name ``str``. PostgreSQL sends a domain's value as its
base type's, so ``information_schema.columns.ordinal_position`` came back an int where
the annotation said str, and River's SchemaGetExpired parameters (``sql_identifier``)
failed the PREPARE check. Now the five domains resolve to their bases
(pytypes.INFORMATION_SCHEMA_DOMAINS), in static and database-backed generation: each value
is an instance of its annotation on psycopg and asyncpg, and the check passes. The
control is the plugin's old reading of sqlc's names (from the request sqlc sends any
plugin): ``str`` for every one, which the int and datetime values don't fit, and a
manifest whose bases are the bare names, which the check refuses.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlc_gen_psycopg import pytypes
from sqlc_gen_psycopg.analysis import typecheck

from bench.latency import asyncpg_params
from plue_db.typecheck.runtime_types import Checker
from tests.codegen.codegen_support import run_sqlc, sqlc_config
from tests.fixtures.fix_db import fresh_database

SCHEMA = "CREATE TABLE accounts (id int PRIMARY KEY, name varchar(40) NOT NULL);\n"
QUERIES = """-- name: AccountColumns :many
SELECT column_name, ordinal_position, is_nullable, data_type, character_maximum_length
FROM information_schema.columns
WHERE table_name = 'accounts'
ORDER BY ordinal_position;

-- name: Stamped :one
SELECT now()::information_schema.time_stamp AS at;

-- name: SchemasBefore :many
SELECT schema_name::text
FROM information_schema.schemata
WHERE schema_name LIKE @prefix
    AND schema_name < @before_name
ORDER BY schema_name;
"""
# column -> (its domain, the class of the values PostgreSQL sends)
DOMAINS = {
    "column_name": ("sql_identifier", str),
    "ordinal_position": ("cardinal_number", int),
    "is_nullable": ("yes_or_no", str),
    "data_type": ("character_data", str),
    "character_maximum_length": ("cardinal_number", int),
}
MODES = ("static", "database")


def project(root: Path, package: str, database: str = "", plugin: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "schema.sql").write_text(SCHEMA)
    (root / "query.sql").write_text(QUERIES)
    options = f"{{package: {package}, emit_asyncpg: true}}"
    config = sqlc_config("query.sql", f"out/{package}", options, database)
    if plugin:
        config = config.replace("cmd: sqlc-gen-psycopg", f"cmd: {plugin}")
    (root / "sqlc.yaml").write_text(config)
    return root


@pytest.fixture(scope="module")
def schema_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    schema = tmp_path_factory.mktemp("schema") / "schema.sql"
    schema.write_text(SCHEMA)
    with fresh_database(server_url, schema) as url:
        yield url


@pytest.fixture(scope="module", params=MODES)
def generated(
    request: pytest.FixtureRequest, schema_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, types.ModuleType]]:
    """(the package's folder, the package) generated in each analysis mode."""
    package = f"information_schema_{request.param}"
    root = tmp_path_factory.mktemp(request.param) / "project"
    done = run_sqlc(project(root, package, schema_url if request.param == "database" else ""))
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(root / "out"))
    try:
        yield root / "out" / package, importlib.import_module(package)
    finally:
        sys.path.remove(str(root / "out"))
        for name in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[name]


def calls(query: Any) -> dict[str, Any]:
    return {
        "account_columns": lambda conn: query.account_columns(conn),
        "stamped": lambda conn: query.stamped(conn),
        "schemas_before": lambda conn: query.schemas_before(
            conn, prefix="pg%", before_name="pg_toast"
        ),
    }


def test_values_fit_their_annotations_on_psycopg_and_asyncpg(
    generated: tuple[Path, types.ModuleType], schema_url: str
) -> None:
    _, package = generated
    checker = Checker(vars(importlib.import_module(f"{package.__name__}.types")))
    query = importlib.import_module(f"{package.__name__}.query")
    with psycopg.connect(schema_url) as conn:
        results = {name: call(conn) for name, call in calls(query).items()}
    rows = results["account_columns"]
    assert [(r.column_name, r.ordinal_position, r.character_maximum_length) for r in rows] == [
        ("id", 1, None),
        ("name", 2, 40),
    ]
    assert results["schemas_before"] == ["pg_catalog"]
    for name, value in results.items():
        assert checker.returned(getattr(query, name), value, name) == []

    on_asyncpg = importlib.import_module(f"{package.__name__}.asyncpg.query")

    async def run() -> dict[str, Any]:
        conn = await asyncpg.connect(**asyncpg_params(schema_url))
        try:
            await importlib.import_module(f"{package.__name__}._asyncpg").init_connection(conn)
            return {name: await call(conn) for name, call in calls(on_asyncpg).items()}
        finally:
            await conn.close()

    for name, value in asyncio.run(run()).items():
        assert checker.returned(getattr(on_asyncpg, name), value, name) == []


def test_postgresql_agrees_and_the_bare_names_did_not(
    generated: tuple[Path, types.ModuleType], schema_url: str, tmp_path: Path
) -> None:
    folder, package = generated
    functions = typecheck.read_manifest(folder / "manifest.json", strict=False)
    # control: the manifest as written before, each domain's bare name as its base
    document = json.loads((folder / "manifest.json").read_text())
    for function in document["functions"]:
        for value in (*function["params"], *function["columns"]):
            if value["type"]["name"] in pytypes.INFORMATION_SCHEMA_DOMAINS:
                value["type"]["base"] = value["type"]["name"]
    (tmp_path / "old.json").write_text(json.dumps(document))
    old = typecheck.read_manifest(tmp_path / "old.json", strict=False)
    with psycopg.connect(schema_url, autocommit=True) as conn:
        problems = typecheck.check_functions(conn, functions)
        found = typecheck.check_functions(conn, old)
    if package.__name__.endswith("static"):
        # sqlc typed LIKE's parameter as the column, PostgreSQL as text: a note, as
        # River's int4 for int8 is (database-backed sqlc asks PostgreSQL: none)
        (note,) = problems
        assert note.startswith("note: query.schemas_before: parameter $1 prefix: PostgreSQL")
        assert note.endswith("from name (the same Python value; an error with strict_types)")
    else:
        assert problems == []
    assert {p.split(": ")[1] for p in found if not p.startswith("note: ")} >= {
        "column ordinal_position",
        "column character_maximum_length",
    }


def test_control_the_old_annotations_do_not_fit(tmp_path: Path, schema_url: str) -> None:
    """sqlc's names, as the request it sends any plugin holds them, annotated the old
    way (an unknown name is str): the int and datetime values PostgreSQL sends don't
    fit them."""
    dump = tmp_path / "request.json"
    plugin = tmp_path / "dump_request"
    plugin.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(dump)!r}).write_bytes(sys.stdin.buffer.read())\nprint('{{}}')\n"
    )
    plugin.chmod(0o755)
    assert run_sqlc(project(tmp_path / "project", "old", plugin=str(plugin))).returncode == 0
    queries = {q["name"]: q for q in json.loads(dump.read_text())["queries"]}
    sent = {c["name"]: c["type"]["name"] for q in queries.values() for c in q["columns"]}
    assert {name: sent[name] for name in DOMAINS} == {n: d for n, (d, _) in DOMAINS.items()}
    assert pytypes.normalise(sent["at"]) == "time_stamp"
    old = pytypes.describe(pytypes.normalise(sent["at"]), 0, result=True)
    assert old is not None and old.element.text() == "str"  # no loader: the text
    with psycopg.connect(schema_url) as conn:
        rows = conn.execute(QUERIES.split(";")[0]).fetchall()
        stamped = conn.execute("SELECT now()::information_schema.time_stamp").fetchone()
    misfits = {
        name
        for row in rows
        for name, value in zip(DOMAINS, row, strict=True)
        if not isinstance(value, str | None)  # the old annotation, str | None
    }
    assert misfits == {"ordinal_position", "character_maximum_length"}
    assert stamped is not None and not isinstance(stamped[0], str)
