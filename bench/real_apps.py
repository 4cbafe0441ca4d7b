"""sqlc-gen-psycopg on public applications' sqlc projects: generate, type-check, PREPARE.

The projects' SQL stays out of this repository: point the harness at checkouts (or bare
git directories, read at HEAD) that you fetched yourself, for example::

    .venv/bin/python -m bench.real_apps /work/.mirror/hatchet-dev+hatchet/repo \\
        /work/.mirror/techschool+simplebank/repo

Every PostgreSQL entry of every ``sqlc.yaml``/``sqlc.json`` in a project is generated
with the plugin instead of its own ``gen``/``codegen`` settings (Go options don't carry
over; schema and queries stay exactly as the project has them), with ``emit_asyncpg``
on unless ``--no-asyncpg``, twice: ``sqlc-gen-psycopg-db generate --static`` and with
the database-backed analysis. Each package is then imported, type-checked (``mypy
--strict``, basedpyright strict), PREPAREd against its schema (``sqlc-gen-psycopg-db
check``), and every function is called on a scratch database with its schema, on empty
and seeded tables (bench.call_every: ok/pg-error/failure). The result is a Markdown
table, one row per entry and mode, then every failing call. ``--database-url`` picks
the server (default: the one ``plue_db.servers`` resolves). sqlc's own end-to-end corpus
has a mode of its own, ``python -m bench.sqlc_corpus``.
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
from sqlc_gen_psycopg.analysis.project import ProjectError, targets
from sqlc_gen_psycopg.analysis.scratch import SchemaError, scratch_database
from sqlc_gen_psycopg.analysis.typecheck import NOTE, check_project

from plue_db.servers import database_url

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent  # bench.call_every runs from here
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


def write_config(entry: Entry, asyncpg: bool, mode: str) -> Path:
    """A sqlc.yaml beside the original that sends its entry to our plugin, writing
    under gen_psycopg_<mode>/."""
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
                        "out": f"gen_psycopg_{mode}/{entry.package}",
                        "options": {"package": entry.package, "emit_asyncpg": asyncpg},
                    }
                ],
            }
        ],
    }
    path = entry.config.with_name(f"sqlc.psycopg{entry.index}.{mode}.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    return done.returncode, (done.stdout + done.stderr).strip()


def first_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    extra = f" (+{len(lines) - count} more lines)" if len(lines) > count else ""
    return " / ".join(lines[:count]).replace("|", "\\|") + extra


MODES = ("static", "database")


def check(entry: Entry, database_url: str, asyncpg: bool) -> None:
    """Generate the entry in both analysis modes, then import, type-check, PREPARE and
    call each package, recording each outcome under its mode."""
    folder = entry.config.parent
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    entry.outcomes["queries"] = str(query_count(entry))
    for mode in MODES:
        config = write_config(entry, asyncpg, mode)
        where = ["--static"] if mode == "static" else ["--database-url", database_url]
        command = [str(BIN / "sqlc-gen-psycopg-db"), "generate", "-f", config.name, *where]
        code, output = run(command, folder, env)
        if code != 0:
            entry.outcomes[f"{mode} generate"] = "FAILED: " + first_lines(output)
            continue
        entry.outcomes[f"{mode} generate"] = "ok"
        # sqlc drops a plugin's stderr when it succeeds; the manifest keeps the warnings
        manifest = folder / f"gen_psycopg_{mode}" / entry.package / "manifest.json"
        entry.outcomes[f"{mode} warnings"] = str(len(json.loads(manifest.read_text())["warnings"]))
        check_package(entry, mode, config, database_url, env)


def check_package(
    entry: Entry, mode: str, config: Path, database_url: str, env: dict[str, str]
) -> None:
    """Import, mypy --strict, basedpyright strict, PREPARE and the calls of one package."""
    folder = entry.config.parent
    out = folder / f"gen_psycopg_{mode}"
    pyenv = {**env, "PYTHONPATH": f"{out}{os.pathsep}{ROOT}", "MYPYPATH": str(out)}
    importer = (
        "import importlib, pkgutil, {0}\n"
        "for m in pkgutil.walk_packages({0}.__path__, '{0}.'): importlib.import_module(m.name)"
    )
    outcomes = entry.outcomes
    code, output = run([sys.executable, "-c", importer.format(entry.package)], out, pyenv)
    outcomes[f"{mode} import"] = "ok" if code == 0 else "FAILED: " + first_lines(output)
    code, output = run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "-p", entry.package], out, pyenv
    )
    outcomes[f"{mode} mypy"] = "ok" if code == 0 else first_lines(output, 2)
    outcomes[f"{mode} basedpyright"] = pyright(out, entry.package, pyenv)
    try:  # sqlc-gen-psycopg-db check's comparison, each problem one item
        outcomes[f"{mode} PREPARE"] = prepare_cell(check_project(config, database_url))
    except (ProjectError, SchemaError) as exc:
        outcomes[f"{mode} PREPARE"] = "FAILED: " + first_lines(str(exc))
    outcomes[f"{mode} calls"] = calls(entry, config, database_url, pyenv)


REJECTED_SQL = ": PostgreSQL rejects the SQL: "


def prepare_cell(problems: list[str]) -> str:
    """The PREPARE check as a cell, every problem counted (the check's text shows the
    first alone): ``ok``, or the queries PostgreSQL rejects (the project's SQL: what its
    schema files lack) and the other findings, the first named; notes in brackets."""
    notes = sum(problem.startswith(NOTE) for problem in problems)
    rejected = sum(REJECTED_SQL in problem for problem in problems)
    others = [p for p in problems if not p.startswith(NOTE) and REJECTED_SQL not in p]
    parts = [f"{rejected} rejected"] if rejected else []
    if others:
        parts.append(f"{len(others)} other: {first_lines(others[0], 1)}")
    return (", ".join(parts) or "ok") + (f" ({notes} notes)" if notes else "")


def pyright(out: Path, package: str, env: dict[str, str]) -> str:
    """basedpyright strict over the package: ok, or its error count and first error."""
    settings = {"typeCheckingMode": "strict", "pythonVersion": "3.11", "include": [package]}
    (out / "pyrightconfig.json").write_text(json.dumps(settings))
    command = [str(BIN / "basedpyright"), "--project", "pyrightconfig.json", "--outputjson"]
    _, output = run([*command, "--pythonpath", sys.executable], out, env)
    report = json.loads(output[output.index("{") :])
    errors = [d for d in report.get("generalDiagnostics", []) if d.get("severity") == "error"]
    if not errors:
        return "ok"
    first = errors[0]
    where = f"{Path(first['file']).name}:{first['range']['start']['line'] + 1}"
    return f"{len(errors)} errors: {where}: {first['message'].splitlines()[0]}"


def calls(entry: Entry, config: Path, database_url: str, env: dict[str, str]) -> str:
    """bench.call_every on a scratch database with the entry's schema: per target (sync,
    aio, asyncpg) ok/pg-error/rejected/failure over both passes (empty, seeded)."""
    [entry_target] = targets(config)
    schema = entry_target.schema
    try:
        with scratch_database(database_url, prefix="plue_bench_calls", schema=schema) as url:
            command = [sys.executable, "-m", "bench.call_every", entry.package, url]
            code, output = run(command, entry.config.parent, env)
    except SchemaError as exc:
        return f"schema: {exc}"
    if code != 0:
        return "FAILED: " + first_lines(output)
    result = json.loads(output.splitlines()[-1])
    cells: list[str] = []
    for target in ("sync", "aio", "asyncpg"):
        passes = [result[p][target] for p in ("empty", "seeded_tables")]
        failures = [line for p in passes for line in p["failures"]]
        rejected = [line for p in passes for line in p["rejected"]]
        CALL_FAILURES.extend(f"{entry.label} {line}" for line in failures)
        REJECTED.update((f"{entry.label} {line.split(' ', 1)[1]}", None) for line in rejected)
        ok, pg_error = (sum(p[k] for p in passes) for k in ("ok", "pg_error"))
        if ok or pg_error or failures or rejected:
            cells.append(f"{target} {ok}/{pg_error}/{len(rejected)}/{len(failures)}")
    return ", ".join(cells)


# Every failing call of the run, and every call whose SQL PostgreSQL rejects whatever
# the data (the project's: its PREPARE fails too), printed after the table.
CALL_FAILURES: list[str] = []
REJECTED: dict[str, None] = {}  # one line per function, whichever target and pass
STAGES = ("generate", "warnings", "import", "mypy", "basedpyright", "PREPARE", "calls")


def report(found: list[Entry]) -> str:
    columns = [f"{stage}" for stage in STAGES]
    lines = [
        "| entry | mode | queries | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for entry in found:
        for mode in MODES:
            cells = [entry.outcomes.get(f"{mode} {stage}", "-") for stage in STAGES]
            queries = entry.outcomes.get("queries", "-")
            lines.append(f"| {entry.label} | {mode} | {queries} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def passed(cell: str) -> bool:
    """An outcome that is no failure: ok (with notes), or calls none of which failed."""
    calls = r"(sync|aio|asyncpg) \d+/\d+/\d+/0"
    return cell.startswith("ok") or all(re.fullmatch(calls, c) for c in cell.split(", "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="+", type=Path, help="checkouts or git directories")
    parser.add_argument("--database-url", help="server for database mode, PREPARE and the calls")
    parser.add_argument("--no-asyncpg", action="store_true", help="psycopg targets only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, print it")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="plue-real-apps-"))
    try:
        found: list[Entry] = []
        for source in args.projects:
            root = export(source.resolve(), work)
            found.extend(entries(root.name, root))
        server = args.database_url or database_url()
        for entry in found:
            print(f"... {entry.label}", file=sys.stderr, flush=True)
            check(entry, server, not args.no_asyncpg)
        print(report(found))
        print("\nFailing calls:", *CALL_FAILURES, sep="\n")
        print("\nSQL PostgreSQL rejects (class 42):", *REJECTED, sep="\n")
        failed = [
            e
            for e in found
            if any(
                not passed(v)
                for k, v in e.outcomes.items()
                if k != "queries" and not k.endswith("warnings")
            )
        ]
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
