"""sqlc-gen-psycopg on sqlc's own PostgreSQL end-to-end cases: generate, import, type-check.

sqlc's code and SQL stay out of this repository: point the harness at a checkout or a
bare git directory of sqlc (read at HEAD)::

    nice -n 10 .venv/bin/python -m bench.sqlc_corpus /work/.mirror/sqlc-dev+sqlc/repo

A case is a folder of ``internal/endtoend/testdata`` with a ``postgresql/`` config; of its
variants one config is taken (``pgx/v5`` first, then ``pgx``, ``pgx/v4``, ``stdlib``, the
folder itself, any other). Cases whose expected outcome is an error (sqlc's tests read a
``stderr/base.txt``, ``stderr_linux.txt`` or ``stderr.txt``) and those that run another
command than ``generate`` (``exec.json``) are counted apart, not run. Every PostgreSQL
entry of the others is generated with the plugin (``bench.real_apps.write_config``: its
schema and queries, our options), statically as sqlc's ``base`` context does. A refusal
is sqlc's when ``sqlc vet`` refuses the entry without its codegen too (``sqlc compile``
runs the listed plugins, and without any checks nothing), else the plugin's;
``:execlastid`` is a refusal the plugin keeps, counted apart. ``--database-url`` generates
through ``sqlc-gen-psycopg-db generate`` on that server instead. Then all generated
packages are checked at once: one interpreter imports each, one ``mypy
--strict`` run and one basedpyright strict run cover them all, and each error is mapped
back to its package by path. The result: a summary table and one line per failing case
with its first error.
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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.real_apps import BIN, CONFIG_NAMES, Entry, entries, export, first_lines, write_config

TESTDATA = "internal/endtoend/testdata"
PREFERENCE = ("pgx/v5", "pgx", "pgx/v4", "stdlib", "")
ERROR_FILES = ("stderr/base.txt", f"stderr_{sys.platform}.txt", "stderr.txt")
STAGES = ("generate", "import", "mypy", "basedpyright")
IMPORTER = """\
import importlib, json, pkgutil, sys
failed = {}
for name in sys.argv[1:]:
    try:
        package = importlib.import_module(name)
        for m in pkgutil.walk_packages(package.__path__, name + "."):
            importlib.import_module(m.name)
    except BaseException as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


@dataclass
class Case:
    """One end-to-end case: its name, the chosen config, and how it fared."""

    name: str
    config: Path
    skip: str = ""
    entries: tuple[Entry, ...] = ()
    refused_by: str = ""
    database_only: bool = False  # sqlc's own test runs it only with a database
    failures: dict[str, str] | None = None

    def fail(self, stage: str, message: str) -> None:
        failures = self.failures if self.failures is not None else {}
        failures.setdefault(stage, message)
        self.failures = failures


def rank(config: Path, case_root: Path) -> int:
    variant = str(config.parent.relative_to(case_root))
    variant = "" if variant == "." else variant
    return PREFERENCE.index(variant) if variant in PREFERENCE else len(PREFERENCE)


def expected_error(folder: Path) -> bool:
    return any(
        (folder / name).is_file() and (folder / name).read_text().strip() for name in ERROR_FILES
    )


def exec_settings(folder: Path) -> dict[str, Any]:
    """sqlc's ``exec.json`` for a case variant: ``command`` other than generate,
    ``contexts`` it runs in (``managed-db`` only: sqlc claims it with a database)."""
    exec_file = folder / "exec.json"
    return dict(json.loads(exec_file.read_text())) if exec_file.is_file() else {}


def find_cases(testdata: Path) -> list[Case]:
    """One config per case folder that has a ``postgresql/`` variant."""
    by_case: dict[Path, list[Path]] = {}
    for config in (p for name in CONFIG_NAMES for p in testdata.rglob(name)):
        parts = config.relative_to(testdata).parts
        if "postgresql" not in parts[:-1]:
            continue
        root = testdata.joinpath(*parts[: parts.index("postgresql") + 1])
        by_case.setdefault(root, []).append(config)
    cases: list[Case] = []
    for root, configs in sorted(by_case.items()):
        config = min(configs, key=lambda c: (rank(c, root), str(c)))
        case = Case(str(root.parent.relative_to(testdata)), config)
        settings = exec_settings(config.parent)
        if expected_error(config.parent):
            case.skip = "expected error"
        elif (command := settings.get("command", "generate")) != "generate":
            case.skip = f"command {command}"
        case.database_only = "base" not in settings.get("contexts", ["base"])
        cases.append(case)
    return cases


def nice(command: list[str]) -> list[str]:
    return ["nice", "-n", "10", *command]


def run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        nice(command), cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def generate(case: Case, packages: Path, env: dict[str, str], asyncpg: bool, url: str) -> None:
    """Generate each entry of the case's config and move its package under ``packages``;
    with ``url``, through ``sqlc-gen-psycopg-db generate`` (database-backed analysis on a
    scratch database of that server)."""
    folder = case.config.parent
    safe = re.sub(r"\W", "_", case.name).lower()
    found = entries(f"c_{safe}", folder)
    case.entries = tuple(e for e in found if e.config == case.config)
    for entry in case.entries:
        mode = "database" if url else "static"
        config = write_config(entry, asyncpg, mode)
        command = [str(BIN / "sqlc"), "generate", "-f", config.name]
        if url:
            command = [str(BIN / "sqlc-gen-psycopg-db"), *command[1:], "--database-url", url]
        code, output = run(command, folder, env)
        if code != 0:
            plain = config.with_name(f"sqlc.vet{entry.index}.yaml")
            settings = yaml.safe_load(config.read_text())
            del settings["plugins"], settings["sql"][0]["codegen"]
            plain.write_text(yaml.safe_dump(settings))
            vetted, _ = run([str(BIN / "sqlc"), "vet", "-f", plain.name], folder, env)
            case.refused_by = "sqlc" if vetted != 0 else refuser(output)
            if case.refused_by == "sqlc" and case.database_only:
                case.refused_by = "sqlc, database-only case"
            said = [line for line in output.splitlines() if not line.startswith("# package")]
            case.fail("generate", first_lines("\n".join(said), 1))
            return
        shutil.move(folder / f"gen_psycopg_{mode}" / entry.package, packages / entry.package)


def refuser(output: str) -> str:
    """Who refused a config sqlc vets: the plugin (``:execlastid`` apart, a refusal it
    keeps), or else the database-backed analysis (PostgreSQL or sqlc on the server)."""
    if "error running command sqlc-gen-psycopg" not in output:
        return "database"
    return "plugin, kept" if ":execlastid" in output else "plugin"


def owner(path: str, packages: Path) -> str:
    relative = (
        Path(path).resolve().relative_to(packages.resolve())
        if Path(path).is_absolute()
        else Path(path)
    )
    return relative.parts[0]


def check_imports(cases: list[Case], packages: Path, env: dict[str, str]) -> None:
    names = {e.package: c for c in cases for e in c.entries if (packages / e.package).is_dir()}
    code, output = run([sys.executable, "-c", IMPORTER, *names], packages, env)
    failed = json.loads(output.splitlines()[-1]) if code == 0 else {n: output for n in names}
    for name, message in failed.items():
        names[name].fail("import", first_lines(message, 1))


def check_mypy(cases: list[Case], packages: Path, env: dict[str, str], broken: set[str]) -> None:
    names = {e.package: c for c in cases for e in c.entries if (packages / e.package).is_dir()}
    targets = sorted(set(names) - broken)
    _, output = run([str(BIN / "mypy"), "--strict", "--no-incremental", *targets], packages, env)
    for line in output.splitlines():
        match = re.match(r"^([^:\s]+\.pyi?):\d+(?::\d+)?: error: ", line)
        if match and owner(match.group(1), packages) in names:
            names[owner(match.group(1), packages)].fail("mypy", line)


def check_pyright(cases: list[Case], packages: Path, env: dict[str, str], broken: set[str]) -> None:
    names = {e.package: c for c in cases for e in c.entries if (packages / e.package).is_dir()}
    config = packages / "pyrightconfig.json"
    settings = {"typeCheckingMode": "strict", "pythonVersion": "3.11"}
    config.write_text(json.dumps({**settings, "include": sorted(set(names) - broken)}))
    command = [str(BIN / "basedpyright"), "--project", str(config), "--outputjson"]
    _, output = run([*command, "--pythonpath", sys.executable], packages, env)
    report = json.loads(output[output.index("{") :])
    for diagnostic in report.get("generalDiagnostics", []):
        if diagnostic.get("severity") != "error":
            continue
        name = owner(diagnostic["file"], packages)
        line = diagnostic["range"]["start"]["line"] + 1
        where = Path(diagnostic["file"]).resolve().relative_to(packages.resolve())
        names[name].fail("basedpyright", f"{where}:{line}: {diagnostic['message'].splitlines()[0]}")


def summary(cases: list[Case]) -> str:
    ran = [c for c in cases if not c.skip]
    skipped = Counter(c.skip for c in cases if c.skip)
    generated = [c for c in ran if not (c.failures and "generate" in c.failures)]
    rows = [
        ("cases with a postgresql config", len(cases)),
        *((f"not run: {reason}", count) for reason, count in sorted(skipped.items())),
        ("run", len(ran)),
        ("refused by sqlc (sqlc vet fails too)", sum(c.refused_by.startswith("sqlc") for c in ran)),
        (
            "of which sqlc's tests run only with a database (exec.json)",
            sum(c.refused_by == "sqlc, database-only case" for c in ran),
        ),
        (
            "refused by the plugin: :execlastid (kept)",
            sum(c.refused_by == "plugin, kept" for c in ran),
        ),
        ("refused by the plugin, other", sum(c.refused_by == "plugin" for c in ran)),
        ("refused on the database (--database-url)", sum(c.refused_by == "database" for c in ran)),
        ("generated", len(generated)),
        *(
            (f"{stage} failures", sum(bool(c.failures and stage in c.failures) for c in generated))
            for stage in STAGES[1:]
        ),
        ("generated and clean at every stage", sum(not c.failures for c in generated)),
    ]
    table = ["| | cases |", "|---|---|", *(f"| {label} | {count} |" for label, count in rows)]
    return "\n".join(table)


def failing(cases: list[Case]) -> str:
    lines: list[str] = []
    for case in cases:
        for stage in STAGES:
            message = (case.failures or {}).get(stage)
            if message is not None:
                who = f" ({case.refused_by})" if stage == "generate" else ""
                lines.append(f"- {case.name}: {stage}{who}: {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sqlc", type=Path, help="sqlc checkout or git directory")
    parser.add_argument("--no-asyncpg", action="store_true", help="psycopg targets only")
    parser.add_argument("--no-pyright", action="store_true", help="skip basedpyright")
    parser.add_argument("--database-url", default="", help="database-backed analysis there")
    parser.add_argument("-k", dest="only", default="", help="only cases whose name has this")
    parser.add_argument("--jobs", type=int, default=2, help="sqlc runs at a time")
    parser.add_argument("--keep", action="store_true", help="keep the work folder, print it")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="plue-sqlc-corpus-"))
    try:
        root = export(args.sqlc.resolve(), work, under=TESTDATA)
        cases = [c for c in find_cases(root / TESTDATA) if args.only in c.name]
        packages = work / "packages"
        packages.mkdir()
        path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "PATH": path, "PYTHONPATH": str(packages), "MYPYPATH": str(packages)}
        todo = [c for c in cases if not c.skip]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            asyncpg, url = not args.no_asyncpg, args.database_url
            list(pool.map(lambda c: generate(c, packages, env, asyncpg, url), todo))
        check_imports(todo, packages, env)
        broken = {
            e.package
            for c in todo
            if c.failures and "SyntaxError" in c.failures.get("import", "")
            for e in c.entries
        }
        check_mypy(todo, packages, env, broken)
        if not args.no_pyright:
            check_pyright(todo, packages, env, broken)
        print(summary(cases))
        print()
        print(failing(cases))
        return 1 if any(c.failures for c in todo) else 0
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
