"""plue-db generate runs the venv's sqlc with our plugin and passes its errors through."""

from __future__ import annotations

from pathlib import Path

import pytest

from plue_db import drift
from plue_db.generate import generate
from tests.codegen_support import sqlc_config


def project(root: Path, query: str) -> Path:
    (root / "sqlc.yaml").write_text(sqlc_config("queries", "out/tiny", "{package: tiny}"))
    (root / "schema.sql").write_text(
        "CREATE TABLE note (id bigint PRIMARY KEY, body text NOT NULL);\n"
    )
    (root / "queries").mkdir()
    (root / "queries" / "notes.sql").write_text(query)
    return root


def test_generate_runs_the_plugin_from_the_venv(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    module = (root / "out" / "tiny" / "notes.py").read_text()
    assert "def get_note(" in module


def test_check_reports_a_hand_edited_generated_file(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    assert drift.check_generated(root) == []
    edited = root / "out" / "tiny" / "notes.py"
    edited.write_text(edited.read_text() + "# edited by hand\n")
    problems = drift.check_generated(root)
    assert len(problems) == 1
    assert problems[0].startswith("generated/ is not what `plue-db generate` produces now:")
    assert "out/tiny/notes.py" in problems[0]
    assert "-# edited by hand" in problems[0]


def test_generate_passes_sqlc_errors_through(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, nope FROM note;\n")
    assert generate(root) != 0
    err = capfd.readouterr().err
    assert "queries/notes.sql:2:" in err
    assert 'column "nope" does not exist' in err
    assert not (root / "out").exists()


def test_generate_removes_modules_of_deleted_query_files(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    (root / "queries" / "extra.sql").write_text(
        "-- name: CountNotes :one\nSELECT count(*) FROM note;\n"
    )
    assert generate(root) == 0
    assert (root / "out" / "tiny" / "extra.py").exists()
    (root / "queries" / "extra.sql").unlink()
    problems = drift.check_generated(root)
    assert len(problems) == 1 and "out/tiny/extra.py (committed)" in problems[0]
    assert generate(root) == 0
    assert not (root / "out" / "tiny" / "extra.py").exists()
    assert not (root / "out" / "tiny" / "aio" / "extra.py").exists()
    assert "count_notes" not in (root / "out" / "tiny" / "__init__.py").read_text()
    assert drift.check_generated(root) == []


def test_failed_generation_leaves_generated_files_alone(tmp_path: Path) -> None:
    root = project(tmp_path, "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n")
    assert generate(root) == 0
    before = (root / "out" / "tiny" / "notes.py").read_text()
    (root / "queries" / "notes.sql").write_text("-- name: GetNote :one\nSELECT nope FROM note;\n")
    assert generate(root) != 0
    assert (root / "out" / "tiny" / "notes.py").read_text() == before
    problems = drift.check_generated(root)
    assert len(problems) == 1 and 'column "nope" does not exist' in problems[0]
