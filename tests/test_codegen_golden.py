"""Golden tests: fixtures run through sqlc and the plugin match the checked-in output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plue_db import drift
from tests.codegen_support import BIN, GOLDEN, copy_fixture, run_sqlc, tree

FIXTURES = sorted(p.name for p in GOLDEN.iterdir() if (p / "sqlc.yaml").is_file())


@pytest.mark.parametrize("fixture", FIXTURES)
def test_output_matches_expected(fixture: str, tmp_path: Path) -> None:
    work = copy_fixture(fixture, tmp_path)
    done = run_sqlc(work)
    assert done.returncode == 0, done.stderr
    assert tree(work / "expected") == tree(GOLDEN / fixture / "expected")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_generation_is_deterministic(fixture: str, tmp_path: Path) -> None:
    work = copy_fixture(fixture, tmp_path)
    assert run_sqlc(work).returncode == 0
    first = tree(work / "expected")
    assert run_sqlc(work).returncode == 0
    assert tree(work / "expected") == first
    assert run_sqlc(work, "diff").returncode == 0


@pytest.mark.parametrize("fixture", FIXTURES)
def test_expected_output_passes_ruff_and_mypy_strict(fixture: str) -> None:
    expected = GOLDEN / fixture / "expected"
    root = Path(__file__).resolve().parents[1]
    for command in (
        [str(BIN / "ruff"), "check", "--no-force-exclude", "--ignore", "E501", str(expected)],
        [str(BIN / "ruff"), "format", "--check", "--no-force-exclude", str(expected)],
    ):
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    packages = [p.name for p in expected.iterdir() if (p / "__init__.py").is_file()]
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", "/dev/null"]
    for package in packages:
        done = subprocess.run(
            [*mypy, "-p", package],
            cwd=expected,
            # Hand-written modules a fixture's overrides import live beside expected/.
            env={"MYPYPATH": f"{expected}:{GOLDEN / fixture}", "PATH": str(BIN)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_project_package_is_up_to_date() -> None:
    """generated/ is exactly what schema.sql + queries/ produce now, with no stale files."""
    assert drift.check_generated() == []


def test_project_package_passes_ruff_and_mypy_strict() -> None:
    root = Path(__file__).resolve().parents[1]
    package = root / "generated" / "plue_queries"
    for command in (
        [str(BIN / "ruff"), "check", str(package)],
        [str(BIN / "ruff"), "format", "--check", str(package)],
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", "/dev/null", str(package)],
    ):
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
