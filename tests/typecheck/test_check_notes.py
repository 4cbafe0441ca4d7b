"""The PREPARE check on a static guess that names another type with the same Python value.

Static sqlc types ``LIMIT $2`` as int4 (PostgreSQL: int8) and a varchar column's
comparison parameter as varchar (PostgreSQL: text); both are annotated ``int``/``str``,
which is what PostgreSQL gives. Without strict_types that is a note and the check
passes; with it (Plue's setting), and for any other difference, it is an error. The
control is the strict reading of the same findings, which fails as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlc_gen_psycopg.analysis import project, typecheck
from sqlc_gen_psycopg.analysis.scratch import scratch_database

from tests.fixtures.fix_db import Conn

SQL = (
    "SELECT id, owner FROM account WHERE owner = $1 AND created > $2 ORDER BY id LIMIT $3 OFFSET $4"
)


def value(name: str, annotation: str, base: str) -> typecheck.Value:
    return typecheck.Value(name, annotation, False, base, False)


def function(*, strict: bool, created: str = "timestamptz") -> typecheck.GeneratedFunction:
    params = (
        value("owner", "str", "varchar"),
        value("created", "datetime.datetime", created),
        value("limit", "int", "int4"),
        value("offset", "int", "int8"),
    )
    columns = (value("id", "int", "int8"), value("owner", "str", "text"))
    return typecheck.GeneratedFunction(
        "account", "list_accounts", SQL, None, params, columns, strict=strict
    )


@pytest.fixture
def conn(server_url: str) -> Iterator[Conn]:
    with (
        scratch_database(server_url, prefix="plue_test") as url,
        psycopg.connect(url, autocommit=True) as connection,
    ):
        connection.execute(
            "CREATE TABLE account (id bigint PRIMARY KEY, owner text NOT NULL,"
            " created timestamptz NOT NULL)"
        )
        yield connection


FINDINGS = [
    "account.list_accounts: parameter $1 owner: PostgreSQL type text, generated str from varchar",
    "account.list_accounts: parameter $3 limit: PostgreSQL type int8, generated int from int4",
]


def test_same_python_value_is_a_note_without_strict_types(
    conn: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    found = typecheck.check_functions(conn, [function(strict=False)])
    suffix = " (the same Python value; an error with strict_types)"
    assert found == [f"note: {line}{suffix}" for line in FINDINGS]
    assert typecheck.report(Path("sqlc.yaml"), found)
    assert capsys.readouterr().out.startswith("ok   sqlc.yaml")


def test_control_with_strict_types_each_is_an_error(conn: Conn) -> None:
    found = typecheck.check_functions(conn, [function(strict=True)])
    assert found == FINDINGS
    assert not typecheck.report(Path("sqlc.yaml"), found)


def test_naive_for_aware_is_an_error_without_strict_types(conn: Conn) -> None:
    found = typecheck.check_functions(conn, [function(strict=False, created="timestamp")])
    assert (
        "account.list_accounts: parameter $2 created: PostgreSQL type timestamptz,"
        " generated datetime.datetime from timestamp"
    ) in found
    assert not typecheck.report(Path("sqlc.yaml"), found)


def test_strict_types_is_read_per_package(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("")
    codegen = [
        {"plugin": "py", "out": out, "options": {"package": out, "strict_types": strict}}
        for out, strict in (("lenient", False), ("strict", True))
    ]
    (tmp_path / "sqlc.yaml").write_text(
        "version: '2'\nplugins: [{name: py, process: {cmd: sqlc-gen-psycopg}}]\n"
        f"sql: [{{engine: postgresql, schema: schema.sql, queries: q, codegen: {codegen}}}]\n"
    )
    [target] = project.targets(tmp_path / "sqlc.yaml")
    assert target.strict == {tmp_path / "strict/manifest.json"}
    assert len(target.manifests) == 2
