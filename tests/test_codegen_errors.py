"""Bad input to the generator: a clear message naming the culprit, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.codegen_support import run_sqlc, sqlc_config

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    moods mood[] NOT NULL DEFAULT '{}'
);
"""


def generate(tmp_path: Path, queries: str, options: str = "{package: pkg}") -> str:
    """Run generation expecting failure; return stderr after checking nothing was written."""
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "queries.sql").write_text(queries)
    (tmp_path / "sqlc.yaml").write_text(sqlc_config("queries.sql", "out/pkg", options))
    done = run_sqlc(tmp_path)
    assert done.returncode != 0, "generation should have failed"
    assert not (tmp_path / "out").exists(), "a failed generation must write nothing"
    return done.stderr


CASES = {
    "unknown column": (
        "-- name: Bad :one\nSELECT nope FROM users;\n",
        ["queries.sql:2", 'column "nope" does not exist'],
    ),
    "unknown table": (
        "-- name: Bad :one\nSELECT id FROM nowhere;\n",
        ["queries.sql:1", 'relation "nowhere" does not exist'],
    ),
    "unnamed parameter": (
        "-- name: ByIds :many\nSELECT id FROM users WHERE id = ANY($1::bigint[]);\n",
        ["query ByIds", "parameter $1 has no name", "sqlc.arg"],
    ),
    "duplicate parameter names": (
        "-- name: Page :many\nSELECT id FROM users WHERE id > $1 AND id < sqlc.arg(id);\n",
        ["query Page", "both named 'id'", "sqlc.arg"],
    ),
    "uninferable parameter type": (
        "-- name: Echo :one\nSELECT id FROM users WHERE sqlc.arg(anything) IS NULL;\n",
        ["query Echo", "parameter $1 (anything)", "add a cast"],
    ),
    "uninferable column type": (
        "-- name: Nothing :one\nSELECT NULL AS nothing FROM users;\n",
        ["query Nothing", "column nothing", "add a cast"],
    ),
    "unnamed column": (
        "-- name: Two :many\nSELECT id, id + 1 FROM users;\n",
        ["query Two", "alias"],
    ),
    "duplicate column names": (
        "-- name: Dup :many\nSELECT id, name AS id FROM users;\n",
        ["query Dup", "two result columns are named 'id'"],
    ),
    "exec discarding rows": (
        "-- name: Ins :exec\nINSERT INTO users (name) VALUES ($1) RETURNING id;\n",
        ["query Ins", ":exec discards the rows"],
    ),
    "one without rows": (
        "-- name: Del :one\nDELETE FROM users WHERE id = $1;\n",
        ["queries.sql:1", '"Del"', "RETURNING"],
    ),
    "function name clash": (
        "-- name: ListUsers :many\nSELECT id FROM users;\n"
        "-- name: IterListUsers :one\nSELECT id FROM users LIMIT 1;\n",
        ["iter_list_users", "clashes"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_query_fails_clearly(case: str, tmp_path: Path) -> None:
    queries, fragments = CASES[case]
    stderr = generate(tmp_path, queries)
    for fragment in fragments:
        assert fragment in stderr, f"{fragment!r} not in: {stderr}"


def test_unknown_plugin_option(tmp_path: Path) -> None:
    stderr = generate(tmp_path, "-- name: A :one\nSELECT id FROM users;\n", "{package: pkg, x: 1}")
    assert "unknown plugin option(s) x" in stderr


def test_package_must_be_an_identifier(tmp_path: Path) -> None:
    stderr = generate(tmp_path, "-- name: A :one\nSELECT id FROM users;\n", "{package: my-pkg}")
    assert "'package' must be a Python package name" in stderr
