"""sqlc-gen-psycopg on public applications' sqlc projects: generate, type-check, PREPARE.

The projects' SQL stays out of this repository: point the harness at checkouts (or bare
git directories, read at HEAD) that you fetched yourself, for example::

    .venv/bin/python -m bench.real_apps /work/.mirror/hatchet-dev+hatchet/repo \\
        /work/.mirror/techschool+simplebank/repo

Every PostgreSQL entry of every ``sqlc.yaml``/``sqlc.json`` in a project is generated
with the plugin instead of its own ``gen``/``codegen`` settings (Go options don't carry
over; schema and queries stay exactly as the project has them), with ``emit_asyncpg``
on unless ``--no-asyncpg``. Each generated package is then imported, type-checked with
``mypy --strict``, and PREPAREd against its schema in a scratch database (``plue-db
check --sqlc-yaml``). The result is a Markdown table: one row per entry, with the number
of queries, generation's outcome, the plugin's warnings, and each check's outcome.
``--database-url`` picks the server for the PREPARE check (default: the one
``plue_db.servers`` resolves). sqlc's own end-to-end corpus has a mode of its own,
``python -m bench.sqlc_corpus`` (one config per case, all packages type-checked at once).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BIN = Path(sys.executable).parent
CONFIG_NAMES = ("sqlc.yaml", "sqlc.yml", "sqlc.json")
QUERY_NAME = re.compile(r"^\s*--\s*name:\s*\w+", re.MULTILINE)


@dataclass
class Entry:
    """One PostgreSQL ``sql`` entry of a project's sqlc config, rewritten for the plugin."""

    project: str
    config: Path
    index: int
    schema: list[str]
    queries: list[str]
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def package(self) -> str:
        base = re.sub(r"\W", "_", f"{self.project}_{self.config.parent.name}_{self.index}")
        return base.lower().strip("_") or "pkg"

    @property
    def label(self) -> str:
        return f"{self.project}:{self.config.name}#{self.index}"


def export(source: Path, into: Path, under: str = "") -> Path:
    """A plain copy of ``source`` (only its folder ``under``, if given): a work tree as it
    is, a git directory's text files at HEAD (a stored snapshot may lack its largest
    blobs; they are left out)."""
    target = into / source.parent.name.replace("+", "_")
    if not ((source / "HEAD").is_file() and not (source / ".git").exists()):
        shutil.copytree(source / under, target / under, ignore=shutil.ignore_patterns(".git"))
        return target
    git = ["git", "--git-dir", str(source)]
    tree = ["HEAD", *([under] if under else [])]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", *tree], check=True, capture_output=True)
    blobs: list[tuple[str, str]] = []
    for record in listing.stdout.decode().split("\0"):
        meta, _, path = record.partition("\t")
        if meta.endswith(tuple("0123456789abcdef")) and " blob " in meta:
            blobs.append((meta.split()[2], path))
    wanted = "".join(f"{oid}\n" for oid, _ in blobs).encode()
    batch = subprocess.run(
        [*git, "cat-file", "--batch"], input=wanted, capture_output=True, check=True
    )
    data, offset = batch.stdout, 0
    for _, path in blobs:
        end = data.index(b"\n", offset)
        header = data[offset:end].split()
        offset = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data[offset : offset + size])
        offset += size + 1
    return target


def as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def entries(project: str, root: Path) -> list[Entry]:
    """The PostgreSQL entries of every sqlc config under ``root`` (versions 1 and 2)."""
    found: list[Entry] = []
    for config in sorted(p for name in CONFIG_NAMES for p in root.rglob(name)):
        text = config.read_text()
        data = json.loads(text) if config.suffix == ".json" else yaml.safe_load(text)
        items = data.get("sql") or data.get("packages") or []
        for index, item in enumerate(items):
            if item.get("engine", "postgresql") != "postgresql":
                continue
            found.append(
                Entry(project, config, index, as_list(item["schema"]), as_list(item["queries"]))
            )
    return found


def query_count(entry: Entry) -> int:
    folder = entry.config.parent
    paths: list[Path] = []
    for name in entry.queries:
        path = folder / name
        paths.extend(sorted(path.rglob("*.sql")) if path.is_dir() else [path])
    return sum(len(QUERY_NAME.findall(p.read_text())) for p in paths if p.is_file())


def write_config(entry: Entry, asyncpg: bool) -> Path:
    """A sqlc.yaml beside the original that sends its entry to our plugin."""
    config = {
        "version": "2",
        "plugins": [{"name": "psycopg", "process": {"cmd": "sqlc-gen-psycopg", "format": "json"}}],
        "sql": [
            {
                "engine": "postgresql",
                "schema": entry.schema,
                "queries": entry.queries,
                "codegen": [
                    {
                        "plugin": "psycopg",
                        "out": f"gen_psycopg/{entry.package}",
                        "options": {"package": entry.package, "emit_asyncpg": asyncpg},
                    }
                ],
            }
        ],
    }
    path = entry.config.with_name(f"sqlc.psycopg{entry.index}.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    return done.returncode, (done.stdout + done.stderr).strip()


def first_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    extra = f" (+{len(lines) - count} more lines)" if len(lines) > count else ""
    return " / ".join(lines[:count]).replace("|", "\\|") + extra


def check(entry: Entry, database_url: str | None, asyncpg: bool) -> None:
    """Generate, import, type-check and PREPARE one entry, recording each outcome."""
    folder = entry.config.parent
    config = write_config(entry, asyncpg)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    code, output = run([str(BIN / "sqlc"), "generate", "-f", config.name], folder, env)
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    entry.outcomes["queries"] = str(query_count(entry))
    entry.outcomes["warnings"] = str(len(warnings))
    if code != 0:
        entry.outcomes["generate"] = "FAILED: " + first_lines(output)
        return
    entry.outcomes["generate"] = "ok"
    out = folder / "gen_psycopg"
    pyenv = {**env, "PYTHONPATH": str(out), "MYPYPATH": str(out)}
    importer = (
        "import importlib, pkgutil, {0}\n"
        "for m in pkgutil.walk_packages({0}.__path__, '{0}.'): importlib.import_module(m.name)"
    )
    code, output = run([sys.executable, "-c", importer.format(entry.package)], out, pyenv)
    entry.outcomes["import"] = "ok" if code == 0 else "FAILED: " + first_lines(output)
    code, output = run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "-p", entry.package], out, pyenv
    )
    entry.outcomes["mypy --strict"] = "ok" if code == 0 else first_lines(output, 2)
    prepare = [str(BIN / "plue-db"), "check", "--sqlc-yaml", str(config)]
    if database_url:
        prepare += ["--database-url", database_url]
    code, output = run(prepare, folder, env)
    entry.outcomes["PREPARE"] = "ok" if code == 0 else first_lines(output, 2)


COLUMNS = ("queries", "generate", "warnings", "import", "mypy --strict", "PREPARE")


def report(found: list[Entry]) -> str:
    lines = [
        "| entry | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for entry in found:
        cells = [entry.outcomes.get(column, "-") for column in COLUMNS]
        lines.append(f"| {entry.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="+", type=Path, help="checkouts or git directories")
    parser.add_argument("--database-url", help="server for the PREPARE check")
    parser.add_argument("--no-asyncpg", action="store_true", help="psycopg targets only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, print it")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="plue-real-apps-"))
    try:
        found: list[Entry] = []
        for source in args.projects:
            root = export(source.resolve(), work)
            found.extend(entries(root.name, root))
        for entry in found:
            print(f"... {entry.label}", file=sys.stderr, flush=True)
            check(entry, args.database_url, not args.no_asyncpg)
        print(report(found))
        failed = [
            e
            for e in found
            if any(v != "ok" for k, v in e.outcomes.items() if k not in ("queries", "warnings"))
        ]
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
