"""bench.call_every, the run-time stage of bench.real_apps, on a golden package.

Every function of asyncpg_target (psycopg sync, aio and asyncpg) is called on empty and
seeded tables; none fails and the seeded pass reads rows. The control is the same
package with one annotation that lies (``Author.name: int``): the harness reports it on
every target that returns an author.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlc_gen_psycopg.analysis.scratch import scratch_database

from tests.paths import GOLDEN, ROOT

FIXTURE = GOLDEN / "asyncpg_target"


def call_every(server_url: str, packages: Path) -> dict[str, Any]:
    with scratch_database(server_url, prefix="plue_test", schema=(FIXTURE / "schema.sql",)) as url:
        done = subprocess.run(
            [sys.executable, "-m", "bench.call_every", "apg_target", url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": f"{packages}{os.pathsep}{ROOT}"},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_every_call_of_a_golden_package_returns_its_annotations(server_url: str) -> None:
    result = call_every(server_url, FIXTURE / "expected")
    assert result["seeded"] > 0
    for passed in ("empty", "seeded_tables"):
        for target in ("sync", "aio", "asyncpg"):
            outcome = result[passed][target]
            assert outcome["failures"] == [] and outcome["rejected"] == [], (passed, target)
            assert outcome["ok"] > 0
    assert result["seeded_tables"]["sync"]["ok"] == result["empty"]["sync"]["ok"]


def test_control_a_lying_annotation_is_a_failure(server_url: str, tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "expected" / "apg_target", tmp_path / "apg_target")
    models = tmp_path / "apg_target" / "models.py"
    text = models.read_text()
    assert text.count("    name: str\n") >= 1
    models.write_text(text.replace("    name: str\n", "    name: int\n", 1))
    result = call_every(server_url, tmp_path)
    for target in ("sync", "aio", "asyncpg"):
        failures = result["seeded_tables"][target]["failures"]
        assert any(".name: 'a' (builtins.str) is not a builtins.int" in f for f in failures)
