"""Every import path a service uses keeps working after the tools moved into sub-packages.

A service imports the top level of plue_db (README.md, docs/scale-out.md): the pools, the
routers, transactions, connection strings, and the server resolution the pool defaults
to (``plue_db.servers.database_url``, now a package re-exporting servers/resolve.py).
Each path is imported by name and each documented name looked up, so a module moved or a
name renamed fails here, not in a service after an upgrade.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

from tests.paths import ROOT

PUBLIC = {
    "plue_db": [],
    "plue_db.pool": ["open_pool", "open_async_pool", "PoolOptions", "PoolSettings", "Timeouts"],
    "plue_db.pooler": ["PoolerSettingsError", "connection_kwargs", "configure"],
    "plue_db.transactions": [
        "run_in_transaction",
        "run_in_transaction_async",
        "RolledBackError",
        "CommitOutcomeUnknown",
    ],
    "plue_db.routing": ["open_router", "Router", "Policy", "RoutingSettings", "NoPositionError"],
    "plue_db.routing_async": ["open_async_router", "AsyncRouter"],
    "plue_db.dsn": ["DsnError", "redacted", "validate", "with_params"],
    "plue_db.eager": ["LazyResultError"],
    "plue_db.values": ["change_id", "commit_id", "sha256_hex", "wallet_address"],
    "plue_db.json_shapes": ["WorkflowPlan", "PlanStep"],
    "plue_db.sanitize": ["clean_text", "clean_json"],
    "plue_db.extras": ["MissingExtraError"],
    "plue_db.config": ["database_url_setting", "replica_urls"],
    "plue_db.servers": ["database_url", "replica_urls"],
    "plue_db.cli": ["main"],
}


def missing(paths: dict[str, list[str]]) -> list[str]:
    """Each path that does not import, and each name its module does not have."""
    problems = []
    for path, names in paths.items():
        try:
            module = importlib.import_module(path)
        except ImportError as exc:
            problems.append(f"{path}: {exc}")
            continue
        problems += [f"{path}.{name}" for name in names if not hasattr(module, name)]
    return problems


def test_every_public_path_imports_with_its_documented_names() -> None:
    assert missing(PUBLIC) == []


def test_control_a_moved_module_and_a_renamed_name_are_caught() -> None:
    """plue_db.migrate moved to plue_db.schema.migrate: a service importing the old path
    would fail, and so does the check; so does a name its module lacks."""
    assert missing({"plue_db.migrate": ["migrate"]}) == [
        "plue_db.migrate: No module named 'plue_db.migrate'"
    ]
    assert missing({"plue_db.pool": ["open_pool", "open_pools"]}) == ["plue_db.pool.open_pools"]


def loaded_tools(modules: list[str]) -> list[str]:
    """The tool sub-packages a fresh interpreter has loaded after importing ``modules``."""
    probe = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(' '.join(sorted({n.split('.')[1] for n in sys.modules "
        "if n.count('.') >= 1 and n.split('.')[0] == 'plue_db' "
        "and n.split('.')[1] in ('schema', 'typecheck', 'mcp', 'demo')})))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return run.stdout.split()


def test_the_service_runtime_loads_no_tool_package() -> None:
    """A service importing the runtime pays for servers/ (the pool's default server) and
    nothing of schema/, typecheck/, mcp/ or demo/."""
    service = [path for path in PUBLIC if path != "plue_db.cli"]
    assert loaded_tools(service) == []


def test_control_the_cli_loads_the_tools_it_names_at_import() -> None:
    assert "schema" in loaded_tools(["plue_db.cli"])
