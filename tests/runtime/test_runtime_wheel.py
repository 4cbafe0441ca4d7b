"""The runtime a service installs: the plue-db wheel needs psycopg, psycopg_pool and the
plugin's runtime (sqlc-gen-psycopg-runtime, a local reference to codegen/runtime) only.

The wheel is built from this checkout and installed into an empty virtualenv (no pip, no
setuptools) twice: at the locked versions and at the lowest versions pyproject.toml
allows. There it runs generated queries against the test server, and every CLI command
either works (``stats``) or names the extra it needs in one line. In the project's own
environment, what the runtime imports is checked module by module, and the table of
extras against pyproject.toml.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from packaging.requirements import Requirement

from plue_db import extras
from tests.fixtures.fix_db import fresh_database
from tests.lock import LOCK, canonical
from tests.paths import ROOT, SCHEMA

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEPENDENCIES: list[str] = PROJECT["dependencies"]
# The stated dependencies and what they themselves require (psycopg[binary] brings
# psycopg-binary; both psycopg packages need typing-extensions on Python < 3.13).
EXPECTED = {
    "plue-db",
    "psycopg",
    "psycopg-binary",
    "psycopg-pool",
    "sqlc-gen-psycopg-runtime",  # what generated/plue_queries imports (codegen/runtime)
    "typing-extensions",
}
RUNTIME_DISTRIBUTIONS = EXPECTED - {"plue-db"}

# Imports every runtime module (each generated one, sync and aio) and prints the
# distributions they loaded, besides the standard library and plue-db itself.
PROBE = """
import importlib, importlib.metadata, json, pkgutil, sys
before = set(sys.modules)
import plue_queries
for m in pkgutil.walk_packages(plue_queries.__path__, "plue_queries."):
    importlib.import_module(m.name)
for name in sys.argv[1:]:
    importlib.import_module(name)
owners = importlib.metadata.packages_distributions()
loaded = {m.partition(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted({d for m in loaded for d in owners.get(m, ())})))
"""
RUNTIME_MODULES = (
    "plue_db.pool",
    "plue_db.transactions",
    "plue_db.routing",
    "plue_db.servers",
    "plue_db.config",
    "plue_db.dsn",
    "plue_db.cli",
)

APP = """
import asyncio, sys
from plue_db.pool import open_async_pool, open_pool
from plue_db.transactions import run_in_transaction, run_in_transaction_async
from plue_queries import users
from plue_queries.aio import users as aio_users

url = sys.argv[1]
fields = dict(display_name="Ada", bio="", is_admin=False)
with open_pool(url) as pool:
    made = run_in_transaction(pool, lambda c: users.create_user(c, username="ada", **fields))
    with pool.connection() as conn:
        found = users.get_user_by_id(conn, id=made.id)

async def main():
    async with await open_async_pool(url) as pool:
        async def create(c):
            return await aio_users.create_user(c, username="bob", **fields)
        made = await run_in_transaction_async(pool, create)
        async with pool.connection() as conn:
            return await aio_users.get_user_by_id(conn, id=made.id)

print(found.username, type(found).__name__, asyncio.run(main()).username)
"""


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}:\n{done.stdout}{done.stderr}"
    return done.stdout


def local(requirement: str) -> bool:
    """A direct reference into this checkout (hatchling's ``{root:uri}``)."""
    return "{root:uri}" in requirement


def lowest(requirement: str) -> str:
    """``name[extras]==lowest`` for a ``>=`` range of pyproject.toml."""
    parsed = Requirement(requirement)
    [bound] = [s.version for s in parsed.specifier if s.operator == ">="]
    extra = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    return f"{parsed.name}{extra}=={bound}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plue-db wheel of this checkout, as `pip wheel . --no-deps` builds it."""
    dist = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    ok(
        run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), "."],
            ROOT,
        )
    )
    print(f"\nwheel built in {time.monotonic() - started:.1f} s")
    [built] = dist.glob("plue_db-*.whl")
    return built


@pytest.fixture(scope="module", params=["locked", "lowest"])
def venv(
    request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """An empty virtualenv holding the wheel and what pip installs for it, nothing else:
    its dependencies at the lock's versions, or at the lowest pyproject allows."""
    tmp = tmp_path_factory.mktemp(f"runtime-{request.param}")
    ok(run([sys.executable, "-m", "venv", "--without-pip", "venv"], tmp))
    # The project venv's pip installs into the scratch one (ensurepip would cost ~5 s).
    pip = [sys.executable, "-m", "pip", "--python", str(tmp / "venv" / "bin" / "python")]
    ranges = [r for r in DEPENDENCIES if not local(r)]  # the local one comes from the wheel
    pins = ["-c", str(LOCK)] if request.param == "locked" else [lowest(r) for r in ranges]
    started = time.monotonic()
    ok(run([*pip, "install", "--quiet", str(wheel), *pins], tmp))
    print(f"\n{request.param}: installed in {time.monotonic() - started:.1f} s")
    yield tmp / "venv"


def test_the_wheel_states_psycopg_psycopg_pool_and_the_plugin_runtime_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    required = [
        Requirement(line.split(": ", 1)[1]) for line in lines if line.startswith("Requires-Dist: ")
    ]
    unconditional = sorted(str(r) for r in required if r.marker is None)
    stated = [d.replace("{root:uri}", ROOT.as_uri()) for d in DEPENDENCIES]
    assert unconditional == sorted(str(Requirement(d)) for d in stated)
    names = {canonical(Requirement(d).name) for d in stated}
    assert names == {"psycopg", "psycopg-pool", "sqlc-gen-psycopg-runtime"}
    assert all("==" not in d for d in DEPENDENCIES), DEPENDENCIES
    # the plugin, the embedded server and the MCP stack come with extras only
    conditional = {canonical(r.name) for r in required if r.marker is not None}
    assert {"sqlc-gen-psycopg", "pgserver", "mcp", "pglast", "sqlc"} <= conditional


@pytest.mark.slow
def test_only_the_stated_dependencies_are_installed(venv: Path) -> None:
    listing = (
        "import importlib.metadata as m; print([d.metadata['Name'] for d in m.distributions()])"
    )
    names = ast.literal_eval(ok(run([str(venv / "bin" / "python"), "-c", listing], venv)))
    assert {canonical(n) for n in names} == EXPECTED
    assert len(names) == len(EXPECTED)  # no distribution twice


@pytest.mark.slow
def test_generated_queries_run_from_the_wheel(venv: Path, server_url: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    with fresh_database(server_url, SCHEMA) as url:
        out = ok(run([str(venv / "bin" / "python"), "app.py", url], tmp_path))
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT username FROM users ORDER BY id").fetchall()
    assert out.split() == ["ada", "User", "bob"]
    assert stored == [("ada",), ("bob",)]
    loaded = ok(run([str(venv / "bin" / "python"), "-c", PROBE, *RUNTIME_MODULES], tmp_path))
    assert {canonical(d) for d in json.loads(loaded)} <= EXPECTED


# Each command the light install cannot run, and the extra its one line must name.
NEEDS_AN_EXTRA = [
    (["up"], "migrate"),
    (["down"], "embedded"),
    (["migrate"], "migrate"),
    (["reset"], "migrate"),
    (["demo"], "migrate"),
    (["generate"], "codegen"),
    (["check"], "codegen"),
    (["docs"], "codegen"),
    (["mcp"], "mcp"),
    (["stats"], "embedded"),  # no DATABASE_URL: the embedded server
]


@pytest.mark.slow
def test_each_command_names_its_missing_extra_in_one_line(
    venv: Path, empty_database_url: str
) -> None:
    plue_db = str(venv / "bin" / "plue-db")
    assert "migrate" in ok(run([plue_db, "--help"], venv))
    for command, extra in NEEDS_AN_EXTRA:
        done = run([plue_db, *command], venv)
        lines = done.stderr.splitlines()
        assert done.returncode == 1 and len(lines) == 1, (command, done.stderr)
        assert lines[0].startswith(f"plue-db {command[0]}: ")
        assert lines[0].endswith(f"pip install 'plue-db[{extra}]'"), lines[0]
    # checked before anything is written: migrating an empty database leaves it empty
    done = run([plue_db, "migrate", "--database-url", empty_database_url], venv)
    assert done.returncode == 1 and "plue-db[migrate]" in done.stderr
    with psycopg.connect(empty_database_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'plue%'").fetchone()
    assert tables == (0,)


@pytest.mark.slow
def test_stats_runs_without_any_extra(venv: Path, database_url: str) -> None:
    out = ok(run([str(venv / "bin" / "plue-db"), "stats"], venv, DATABASE_URL=database_url))
    assert "users" in out


def probe(*modules: str) -> set[str]:
    """The distributions (canonical names) importing ``modules`` loads here."""
    done = run([sys.executable, "-c", PROBE, *modules], ROOT)
    return {canonical(d) for d in json.loads(ok(done))} - {"plue-db"}


def test_the_runtime_imports_only_psycopg_psycopg_pool_and_the_plugin_runtime() -> None:
    loaded = probe(*RUNTIME_MODULES)
    assert loaded <= RUNTIME_DISTRIBUTIONS, loaded - RUNTIME_DISTRIBUTIONS
    # (the editable runtime of this checkout is not mapped to its distribution here; the
    # wheel's virtualenv above sees it installed)
    assert {"psycopg", "psycopg-pool"} <= loaded


def test_the_import_probe_sees_a_heavy_import() -> None:
    """Negative control: the same probe, importing what needs an extra, reports it."""
    assert {"pglast", "pyyaml"} <= probe("plue_db.typecheck.fidelity")


def closure(extra: str) -> set[str]:
    """The distributions ``plue-db[extra]`` installs, transitively, as installed here."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in importlib.metadata.requires("plue-db") or ()]
    todo = [r for r in todo if r.marker and r.marker.evaluate({"extra": extra})]
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        if name == "plue-db":
            todo += [
                r
                for e in requirement.extras
                for r in map(Requirement, importlib.metadata.requires("plue-db") or ())
                if r.marker and r.marker.evaluate({"extra": e})
            ]
            continue
        if name in seen:
            continue
        seen.add(name)
        for sub in map(Requirement, importlib.metadata.requires(name) or ()):
            wanted = requirement.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(sub)
    return seen


def providers(extra: str) -> set[str]:
    """The top-level modules the distributions of ``plue-db[extra]`` provide."""
    dists = closure(extra)
    owners = importlib.metadata.packages_distributions()
    found = {module for module, names in owners.items() if dists & {canonical(n) for n in names}}
    # an editable install (the plugin here) is not in packages_distributions()
    return found | {d.replace("-", "_") for d in dists}


@pytest.mark.parametrize("extra", sorted(extras.PROVIDES))
def test_each_extra_provides_the_modules_plue_db_asks_it_for(extra: str) -> None:
    assert set(extras.PROVIDES[extra]) <= providers(extra)


def test_the_extras_check_can_fail() -> None:
    """Negative control: the embedded extra does not provide the MCP server."""
    assert "mcp" not in providers("embedded")
