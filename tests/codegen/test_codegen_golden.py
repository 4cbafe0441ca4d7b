"""Golden tests, as sqlc's own: each tests/golden/<feature>/ run through sqlc and the
plugin gives exactly its expected/ files (or its expected_error.txt), and every expected
package imports, passes ruff, mypy --strict and pyright strict, and agrees with what
PostgreSQL says about its SQL. ``UPDATE_GOLDEN=1`` rewrites the expected output
(tests/golden/README.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plue_db.schema import drift
from plue_db.typecheck import fidelity
from tests.codegen.codegen_support import (
    BIN,
    EXPECTED,
    check_golden,
    copy_fixture,
    files_under,
    golden_fixtures,
    run_sqlc,
    successful_fixtures,
    tree_diff,
)
from tests.codegen.extensions import extensions_of, skip_without
from tests.paths import GOLDEN, ROOT

FIXTURES = golden_fixtures()
GENERATED = successful_fixtures()


def packages(fixture: str) -> list[Path]:
    expected = GOLDEN / fixture / EXPECTED
    return sorted(p for p in expected.iterdir() if (p / "__init__.py").is_file())


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_output_matches_golden(fixture: str, tmp_path: Path) -> None:
    work = copy_fixture(GOLDEN / fixture, tmp_path)
    assert check_golden(GOLDEN / fixture, work) == ""
    if fixture in GENERATED:
        # sqlc diff regenerates and compares with what the first run wrote: deterministic.
        done = run_sqlc(work, "diff")
        assert done.returncode == 0, done.stdout + done.stderr


def test_there_are_golden_fixtures_of_both_kinds() -> None:
    assert len(FIXTURES) >= 25
    assert 0 < len(GENERATED) < len(FIXTURES)


def test_a_changed_golden_fails_with_a_readable_diff(tmp_path: Path) -> None:
    """Negative control: one edited expected line is reported as a diff naming the file."""
    golden = tmp_path / "golden" / "cmd_one"
    shutil.copytree(GOLDEN / "cmd_one", golden)
    models = golden / EXPECTED / "cmd_one" / "models.py"
    models.write_text(models.read_text().replace("class Author", "class Writer"))
    (golden / EXPECTED / "cmd_one" / "stale.py").write_text("")
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    problems = check_golden(golden, copy_fixture(golden, work_dir))
    assert "--- expected/cmd_one/models.py\n+++ generated/cmd_one/models.py" in problems
    assert "-class Writer" in problems and "+class Author" in problems
    assert "cmd_one/stale.py: in expected/ but not generated" in problems


def test_an_error_golden_fails_when_generation_succeeds(tmp_path: Path) -> None:
    """Negative control: a fixture expecting an error that generates fine is reported."""
    golden = tmp_path / "golden" / "cmd_one"
    shutil.copytree(GOLDEN / "cmd_one", golden)
    shutil.rmtree(golden / EXPECTED)
    (golden / "expected_error.txt").write_text("some error\n")
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    problems = check_golden(golden, copy_fixture(golden, work_dir))
    assert problems == "generation succeeded, but expected_error.txt expects it to fail"


def test_tree_diff_names_missing_and_extra_files() -> None:
    assert tree_diff({"a.py": "x\n"}, {"a.py": "x\n"}) == ""
    diff = tree_diff({"a.py": "x\n"}, {"b.py": "y\n"})
    assert "a.py: in expected/ but not generated" in diff
    assert "b.py: generated but not in expected/" in diff


def test_package_names_are_unique() -> None:
    """The type checkers below see every fixture's package at once."""
    names = [p.name for f in GENERATED for p in packages(f)]
    assert len(names) == len(set(names)), names


def search_path() -> list[str]:
    """Every expected/ directory, and each fixture directory (hand-written modules that
    a fixture's overrides import live beside expected/)."""
    return [str(GOLDEN / f / EXPECTED) for f in GENERATED] + [str(GOLDEN / f) for f in GENERATED]


def test_expected_output_passes_ruff() -> None:
    expected = [str(GOLDEN / f / EXPECTED) for f in GENERATED]
    for command in (
        [str(BIN / "ruff"), "check", "--no-force-exclude", "--ignore", "E501", *expected],
        [str(BIN / "ruff"), "format", "--check", "--no-force-exclude", *expected],
    ):
        done = run(command, cwd=ROOT)
        assert done.returncode == 0, done.stdout + done.stderr


def test_expected_output_passes_mypy_strict(tmp_path: Path) -> None:
    names = [arg for f in GENERATED for p in packages(f) for arg in ("-p", p.name)]
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", "/dev/null"]
    done = run(
        [*mypy, "--cache-dir", str(tmp_path / "cache"), *names],
        cwd=tmp_path,
        env={"MYPYPATH": ":".join(search_path()), "PATH": str(BIN)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def pyright(tmp_path: Path, include: list[str]) -> subprocess.CompletedProcess[str]:
    """basedpyright in strict mode over ``include``, with the golden packages importable."""
    config = tmp_path / "pyrightconfig.json"
    settings = {"typeCheckingMode": "strict", "pythonVersion": "3.11"}
    config.write_text(json.dumps({**settings, "include": include, "extraPaths": search_path()}))
    return run(
        [str(BIN / "basedpyright"), "--project", str(config), "--pythonpath", sys.executable],
        tmp_path,
    )


def test_expected_output_passes_pyright_strict(tmp_path: Path) -> None:
    done = pyright(tmp_path, [str(GOLDEN / f / EXPECTED) for f in GENERATED])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_expected_output_names_no_plue_command() -> None:
    text = {f"{f}/{n}": t for f in GENERATED for n, t in files_under(GOLDEN / f / EXPECTED).items()}
    assert [name for name, body in text.items() if "plue" in body.lower()] == []


def test_expected_output_imports(tmp_path: Path) -> None:
    """Every module of every expected package imports in a fresh interpreter."""
    modules = [
        ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for f in GENERATED
        for package in packages(f)
        for path in sorted(package.rglob("*.py"))
    ]
    script = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    done = run(
        [sys.executable, "-c", script, *modules],
        cwd=tmp_path,
        env={"PYTHONPATH": ":".join(search_path()), "PATH": str(BIN)},
    )
    assert done.returncode == 0, done.stderr
    assert {f"{p.name}.models" for f in GENERATED for p in packages(f)} <= set(modules)


@pytest.mark.each_server  # PostgreSQL's description of each statement, on every server
@pytest.mark.parametrize("fixture", GENERATED)
def test_expected_output_agrees_with_postgresql(fixture: str, server_url: str) -> None:
    """The fixture's schema loaded into a scratch database; every generated function's SQL
    PREPAREd there, and its parameter and column types and nullability, as the manifest
    records them, compared with PostgreSQL's (plue_db.typecheck.fidelity, as `plue-db check`).
    A fixture whose schema creates an extension runs on the servers that have it."""
    for extension in extensions_of(GOLDEN / fixture / "schema.sql"):
        skip_without(extension, server_url)
    manifests = fidelity.targets(GOLDEN / fixture / "sqlc.yaml")[0].manifests
    assert manifests and all(fidelity.read_manifest(m) for m in manifests)
    assert fidelity.check_project(GOLDEN / fixture / "sqlc.yaml", server_url) == []


def test_project_package_is_up_to_date() -> None:
    """generated/ is exactly what schema.sql + queries/ produce now, with no stale files."""
    assert drift.check_generated() == []
