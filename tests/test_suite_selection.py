"""What tests/run_suites.py runs on the second server: the tests marked ``each_server``
(tests/fix_server.py's EACH_SERVER_MODULES, and single tests decorated so), and never
a test that skips on the first server for an extension it lacks without running here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.fix_server import EACH_SERVER_MODULES
from tests.paths import ROOT

TESTS = ROOT / "tests"


def modules_on_disk() -> dict[str, Path]:
    return {p.stem: p for p in TESTS.rglob("test_*.py") if "golden" not in p.parts}


def unknown(names: frozenset[str]) -> set[str]:
    """Names of the list that are no test module on disk (renamed or removed)."""
    return set(names) - set(modules_on_disk())


def test_every_listed_module_is_on_disk() -> None:
    assert unknown(EACH_SERVER_MODULES) == set()
    assert unknown(EACH_SERVER_MODULES | {"test_queries_userz"}) == {"test_queries_userz"}


def decorated(function: ast.FunctionDef) -> bool:
    return any("each_server" in ast.unparse(d) for d in function.decorator_list)


def unselected_skippers(listed: frozenset[str]) -> set[str]:
    """Tests that skip where an extension is missing (``skip_without``, saying the test
    runs on another server) but that the second server's run would leave out."""
    found = set()
    for stem, path in modules_on_disk().items():
        if stem in listed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
                if "skip_without" in calls and not decorated(node):
                    found.add(f"{stem}::{node.name}")
    return found


def test_a_test_skipped_for_a_missing_extension_runs_on_the_other_server() -> None:
    assert unselected_skippers(EACH_SERVER_MODULES) == set()
    # control: without its module in the list, the type goldens' round trip is seen
    missing = unselected_skippers(EACH_SERVER_MODULES - {"test_golden_types"})
    assert any(name.startswith("test_golden_types::") for name in missing), missing


def test_the_second_run_collects_the_listed_tests_and_no_own_server_test() -> None:
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    command += ["-m", "each_server and not own_servers"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    modules = {Path(i.split("::")[0]).stem for i in ids}
    assert modules - EACH_SERVER_MODULES == {"test_codegen_golden"}  # its PREPARE check
    assert len(modules & EACH_SERVER_MODULES) > 40
    assert not any("patroni" in i or "routing_freshness" in i for i in ids)
