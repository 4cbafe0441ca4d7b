"""Every generated function agrees with PostgreSQL's own description of its SQL (PREPARE),
read from the manifest the generator writes beside the package.

The negative controls feed the checker deliberately wrong manifest entries for real
queries, proving each kind of mismatch is seen, not just that a run came back empty.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlc_gen_psycopg.analysis import project, typecheck

from tests.fixtures.fix_db import Conn
from tests.paths import GOLDEN, ROOT

PLUE_DB = str(Path(sys.executable).parent / "plue-db")


@pytest.fixture(scope="module")
def functions() -> list[typecheck.GeneratedFunction]:
    [target] = project.targets(ROOT / "sqlc.yaml")
    [manifest] = target.manifests
    return typecheck.read_manifest(manifest)


@pytest.fixture
def autocommit_conn(database_url: str) -> Iterator[Conn]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def find(functions: list[typecheck.GeneratedFunction], name: str) -> typecheck.GeneratedFunction:
    return next(f for f in functions if f.name == name)


def retype(
    values: tuple[typecheck.Value, ...], target: str, **changes: object
) -> tuple[typecheck.Value, ...]:
    """values with the one named target changed."""
    assert target in {v.name for v in values}
    return tuple(
        dataclasses.replace(v, **changes) if v.name == target else v  # type: ignore[arg-type]
        for v in values
    )


def probe(
    sql: str, params: tuple[typecheck.Value, ...], columns: tuple[typecheck.Value, ...]
) -> typecheck.GeneratedFunction:
    return typecheck.GeneratedFunction("t", "probe", sql, None, params, columns)


def value(
    name: str, base: str, *, nullable: bool = False, is_array: bool = False
) -> typecheck.Value:
    return typecheck.Value(name, "(annotation)", nullable, base, is_array)


def test_every_generated_function_matches_postgres(database_url: str) -> None:
    assert typecheck.check(database_url, ROOT / "sqlc.yaml") == []


def test_manifest_lists_every_generated_function_with_its_annotations(
    functions: list[typecheck.GeneratedFunction],
) -> None:
    """The manifest and the code come from one model: same functions, same parameters."""
    document = json.loads((ROOT / "generated/plue_queries/manifest.json").read_text())
    listed = {(f["module"], f["name"]): f for f in document["functions"]}
    modules = {module for module, _ in listed}
    generated = set()
    for module_name in modules:
        module = importlib.import_module(f"plue_queries.{module_name}")
        for name, function in vars(module).items():
            ours = inspect.isfunction(function) and function.__module__ == module.__name__
            if ours and not name.startswith("iter_"):
                generated.add((module_name, name))
                signature = inspect.signature(function)
                entry = listed.get((module_name, name))
                if entry is not None and entry["params_class"] is None:
                    assert {
                        p.name: p.annotation
                        for p in signature.parameters.values()
                        if p.kind is p.KEYWORD_ONLY
                    } == {p["name"]: p["annotation"] for p in entry["params"]}
    assert generated == set(listed)
    assert len(functions) == len(listed) > 250
    copy = find(functions, "copy_workflow_logs")
    assert [p.name for p in copy.params] == ["run_id", "step_id", "stream", "content"]
    assert copy.copy_sql is not None and copy.copy_sql.startswith('COPY "workflow_logs"')
    assert copy.columns == ()


def test_control_int8_column_claimed_text_is_reported(
    autocommit_conn: Conn, functions: list[typecheck.GeneratedFunction]
) -> None:
    function = find(functions, "get_user_by_id")
    wrong = dataclasses.replace(function, columns=retype(function.columns, "id", base="text"))
    assert typecheck.check_functions(autocommit_conn, [wrong]) == [
        "users.get_user_by_id: column id: PostgreSQL type int8, generated int from text"
    ]


def test_control_nullable_column_claimed_non_optional_is_reported(
    autocommit_conn: Conn, functions: list[typecheck.GeneratedFunction]
) -> None:
    function = find(functions, "get_user_by_id")
    wrong = dataclasses.replace(
        function, columns=retype(function.columns, "email", nullable=False, annotation="str")
    )
    assert typecheck.check_functions(autocommit_conn, [wrong]) == [
        "users.get_user_by_id: column email: users.email is nullable, generated non-optional str"
    ]


def test_control_not_null_column_claimed_optional_without_outer_join_is_reported(
    autocommit_conn: Conn, functions: list[typecheck.GeneratedFunction]
) -> None:
    function = find(functions, "get_user_by_id")
    wrong = dataclasses.replace(
        function,
        columns=retype(function.columns, "username", nullable=True, annotation="str | None"),
    )
    assert typecheck.check_functions(autocommit_conn, [wrong]) == [
        "users.get_user_by_id: column username: users.username is NOT NULL and no outer join"
        " can null it, generated str | None"
    ]


def test_not_null_column_on_outer_joined_side_may_be_optional(autocommit_conn: Conn) -> None:
    """repositories.name is NOT NULL, but a LEFT JOIN can make it NULL."""
    sql = (
        "SELECT u.id, r.name FROM users u LEFT JOIN repositories r ON r.owner_id = u.id"
        " WHERE u.id = $1"
    )
    columns = (value("id", "int8"), value("name", "text", nullable=True))
    function = probe(sql, (value("id", "int8"),), columns)
    assert typecheck.check_functions(autocommit_conn, [function]) == []
    inner = dataclasses.replace(function, sql=sql.replace("LEFT JOIN", "JOIN"))
    assert typecheck.check_functions(autocommit_conn, [inner]) == [
        "t.probe: column name: repositories.name is NOT NULL and no outer join can null it,"
        " generated (annotation)"
    ]


def test_control_parameter_count_type_and_column_name_are_reported(
    autocommit_conn: Conn, functions: list[typecheck.GeneratedFunction]
) -> None:
    get = find(functions, "get_user_by_id")
    wrong_type = dataclasses.replace(get, params=retype(get.params, "id", base="int4"))
    missing = dataclasses.replace(get, params=())
    renamed = dataclasses.replace(get, columns=retype(get.columns, "username", name="login"))
    assert typecheck.check_functions(autocommit_conn, [wrong_type, missing, renamed]) == [
        "users.get_user_by_id: parameter $1 id: PostgreSQL type int8, generated int from int4",
        "users.get_user_by_id: PostgreSQL sees 1 parameters, the function takes 0",
        "users.get_user_by_id: column username: the manifest names it login",
    ]


def test_control_extra_column_and_array_and_domain_types_are_reported(
    autocommit_conn: Conn,
) -> None:
    sql = "SELECT $1::jsonb AS doc, $2::text[] AS tags, $3::bigint[] AS ids"
    params = (
        value("doc", "jsonb"),
        value("tags", "text", is_array=True),
        value("ids", "int8", is_array=True),
    )
    right = tuple(dataclasses.replace(p, nullable=True) for p in params)
    function = probe(sql, params, right)
    assert typecheck.check_functions(autocommit_conn, [function]) == []
    wrong = dataclasses.replace(
        function,
        columns=(value("doc", "json"), value("tags", "text"), right[2], value("x", "int4")),
    )
    assert typecheck.check_functions(autocommit_conn, [wrong]) == [
        "t.probe: PostgreSQL returns 3 columns, the generated row has 4",
        "t.probe: column doc: PostgreSQL type jsonb, generated (annotation) from json",
        "t.probe: column tags: PostgreSQL type text[], generated (annotation) from text",
    ]


def test_control_copy_target_columns_are_compared_with_the_table(
    autocommit_conn: Conn, functions: list[typecheck.GeneratedFunction]
) -> None:
    """COPY can't be PREPAREd: its columns' types come from the table's catalog."""
    copy = find(functions, "copy_workflow_logs")
    assert copy.copy_sql is not None
    assert typecheck.check_functions(autocommit_conn, [copy]) == []
    # The INSERT agrees (stream is text there), the COPY target column does not.
    mismatched_insert = (
        "INSERT INTO workflow_logs (run_id, step_id, stream, content)"
        " SELECT $1, $2, 'stdout', $4 WHERE $3::text IS NOT NULL"
    )
    wrong_type = dataclasses.replace(
        copy, sql=mismatched_insert, params=retype(copy.params, "stream", base="text")
    )
    no_column = dataclasses.replace(copy, copy_sql=copy.copy_sql.replace('"content"', '"body"'))
    no_table = dataclasses.replace(
        copy, copy_sql=copy.copy_sql.replace('"workflow_logs"', '"logs"')
    )
    assert typecheck.check_functions(autocommit_conn, [wrong_type, no_column, no_table]) == [
        "workflows.copy_workflow_logs: COPY column workflow_logs.stream: PostgreSQL type"
        " log_stream, generated enums.LogStream from text",
        "workflows.copy_workflow_logs: COPY: table workflow_logs has no column body",
        "workflows.copy_workflow_logs: COPY: table logs does not exist",
    ]


def test_sql_postgres_rejects_is_reported(autocommit_conn: Conn) -> None:
    [problem] = typecheck.check_functions(
        autocommit_conn, [probe("SELECT no_such_column FROM users", (), ())]
    )
    assert problem.startswith("t.probe: PostgreSQL rejects the SQL:")
    assert "no_such_column" in problem


def copy_golden(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(GOLDEN / name, target)
    return target / "sqlc.yaml"


def run_check(*args: str, server_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLUE_DB, "check", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": server_url},
        timeout=120,
        check=False,
    )


def test_check_takes_any_projects_sqlc_yaml(tmp_path: Path, server_url: str) -> None:
    """The fixture projects pass; the same project with one manifest type changed fails,
    naming the function, the column and both types."""
    sqlc_yaml = copy_golden("kitchen_sink", tmp_path)
    passed = run_check("--sqlc-yaml", str(sqlc_yaml), server_url=server_url)
    assert (passed.returncode, passed.stderr) == (0, "")
    assert passed.stdout == f"ok   {sqlc_yaml}: generated types match PostgreSQL's\n"
    manifest = sqlc_yaml.parent / "expected/kitchen/manifest.json"
    document = json.loads(manifest.read_text())
    entry = next(f for f in document["functions"] if f["name"] == "get_kind")
    column = next(c for c in entry["columns"] if c.get("name") == "id")
    column["type"]["base"] = "text"
    manifest.write_text(json.dumps(document))
    failed = run_check("--sqlc-yaml", str(sqlc_yaml), server_url=server_url)
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [
        f"FAIL {sqlc_yaml}: generated types match PostgreSQL's",
        f"  queries.get_kind: column id: PostgreSQL type int8,"
        f" generated {column['annotation']} from text",
    ]


def test_check_against_a_database_that_has_the_schema(database_url: str, server_url: str) -> None:
    ok = run_check(
        "--sqlc-yaml",
        str(ROOT / "sqlc.yaml"),
        "--database-url",
        database_url,
        server_url=server_url,
    )
    assert (ok.returncode, ok.stdout.startswith("ok ")) == (0, True), ok.stdout


def test_check_names_a_project_without_the_plugin_or_manifest(
    tmp_path: Path, server_url: str
) -> None:
    sqlc_yaml = copy_golden("kitchen_sink", tmp_path)
    (sqlc_yaml.parent / "expected/kitchen/manifest.json").unlink()
    missing = run_check("--sqlc-yaml", str(sqlc_yaml), server_url=server_url)
    assert missing.returncode == 1
    assert f"{sqlc_yaml.parent}/expected/kitchen/manifest.json: no manifest" in missing.stdout
    sqlc_yaml.write_text(sqlc_yaml.read_text().replace("sqlc-gen-psycopg", "sqlc-gen-go"))
    other = run_check("--sqlc-yaml", str(sqlc_yaml), server_url=server_url)
    assert other.returncode == 1
    assert f"{sqlc_yaml}: no codegen entry uses the sqlc-gen-psycopg plugin" in other.stdout


OUR_PLUGIN = "plugins: [{name: p, process: {cmd: sqlc-gen-psycopg}}]\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list", "not an sqlc version 2 configuration"),
        (OUR_PLUGIN + "sql: [{codegen: [{plugin: p}]}]", "configuration (KeyError('out'))"),
        (OUR_PLUGIN + "sql: [{codegen: [{plugin: p, out: o}]}]", "names no schema"),
        ("sql: [", "can't read it"),
    ],
)
def test_unusable_sqlc_yaml_is_one_message_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    sqlc_yaml = tmp_path / "sqlc.yaml"
    sqlc_yaml.write_text(text)
    with pytest.raises(project.ProjectError) as caught:
        project.targets(sqlc_yaml)
    assert str(caught.value).startswith(f"{sqlc_yaml}: ")
    assert message in str(caught.value)


def test_the_plugins_command_is_the_same_check(tmp_path: Path, server_url: str) -> None:
    """`sqlc-gen-psycopg-db check` (the plugin's distribution, no plue-db) passes the
    fixture project and fails it, naming the column, once a manifest type is wrong."""
    sqlc_yaml = copy_golden("kitchen_sink", tmp_path)
    command = [str(Path(sys.executable).parent / "sqlc-gen-psycopg-db"), "check"]
    command += ["-f", str(sqlc_yaml), "--database-url", server_url]
    passed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert (passed.returncode, passed.stdout) == (
        0,
        f"ok   {sqlc_yaml}: generated types match PostgreSQL's\n",
    )
    manifest = sqlc_yaml.parent / "expected/kitchen/manifest.json"
    manifest.write_text(manifest.read_text().replace('"base": "int8"', '"base": "text"', 1))
    failed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert failed.returncode == 1
    assert failed.stdout.startswith(f"FAIL {sqlc_yaml}: generated types match PostgreSQL's\n")
    assert "PostgreSQL type int8" in failed.stdout and "from text" in failed.stdout
