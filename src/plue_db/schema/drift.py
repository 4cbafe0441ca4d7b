"""``plue-db check``: prove generated/, migrations/ and live databases match schema.sql.

Each check returns the problems it found as readable text (empty = passed): released
migrations are unchanged (plue_db.schema.released, migrations.sum); generated
code is what the generator produces now (no stale files either); all migrations applied
to an empty scratch database give the catalog of schema.sql applied to another; optionally a
live database has that catalog too. Scratch databases live on the configured server and
are dropped afterwards, whatever happens; regeneration alone always analyses queries on
the embedded PostgreSQL 16 (plue_db.typecheck.generate), so the expected output never depends on
which server is configured.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import psycopg

from plue_db import config, servers
from plue_db.schema import catalog, migration_lint, released
from plue_db.schema.migrate import MigrationError, migrate
from plue_db.servers.scratch import SchemaError, scratch_database
from plue_db.typecheck import generate


def check_generated(root: Path = config.PROJECT_ROOT, *, diff: bool = False) -> list[str]:
    """How generated/ differs from what the generator writes now: one problem naming the
    changed, missing and stale files and the fix, then (with ``diff``) a unified diff
    per file; or sqlc's errors if generation fails."""
    try:
        fresh = generate.fresh_output(root)
    except generate.GenerationError as exc:
        return [f"the generator fails on schema.sql / queries/:\n{exc}"]
    packages = {path.parent for path in fresh if path.name == "models.py"}
    current = generate.package_files(root, packages)
    stale = [p for p in sorted(set(fresh) | set(current)) if fresh.get(p) != current.get(p)]
    if not stale:
        return []
    state = {True: "changed", False: "missing"}
    names = [f"{p} ({state[p in current] if p in fresh else 'no longer generated'})" for p in stale]
    are = "file is" if len(stale) == 1 else "files are"
    summary = f"{len(stale)} generated {are} stale: run `plue-db generate`\n" + "\n".join(names)
    if not diff:
        return [summary + "\n(`plue-db check --only generated --diff` shows the diff)"]
    diffs = [
        "".join(
            difflib.unified_diff(
                current.get(path, "").splitlines(keepends=True),
                fresh.get(path, "").splitlines(keepends=True),
                fromfile=f"{path} (committed)" if path in current else "/dev/null",
                tofile=f"{path} (generated now)" if path in fresh else "/dev/null",
            )
        )
        for path in stale
    ]
    return [summary, *diffs]


def check_migrations(
    server_url: str,
    schema: Path = config.SCHEMA_PATH,
    migrations: Path = config.MIGRATIONS_DIR,
) -> list[str]:
    """Objects that differ between schema.sql and all migrations, each on a fresh database."""
    with (
        scratch_database(server_url, schema=schema) as from_schema,
        scratch_database(server_url) as migrated,
    ):
        migrate(migrated, migrations)
        return compare(from_schema, migrated, ("schema.sql", "migrations"))


DRAFT_HINT = (
    "fix: `plue-db migration new NAME` drafts the next migration from these differences "
    "and lists in it what is left to write by hand"
)


def check_migrations_or_draft(
    server_url: str,
    schema: Path = config.SCHEMA_PATH,
    migrations: Path = config.MIGRATIONS_DIR,
) -> list[str]:
    """check_migrations, with the command that writes the missing migration."""
    problems = check_migrations(server_url, schema, migrations)
    return [*problems, DRAFT_HINT] if problems else []


def check_live(server_url: str, live_url: str, schema: Path = config.SCHEMA_PATH) -> list[str]:
    """Objects that differ between schema.sql and the database at ``live_url``."""
    with scratch_database(server_url, schema=schema) as from_schema:
        return compare(from_schema, live_url, ("schema.sql", "live database"))


def check_fidelity(server_url: str, schema: Path = config.SCHEMA_PATH) -> list[str]:
    """Queries whose generated Python types disagree with what PostgreSQL reports."""
    from plue_db.typecheck import (
        fidelity,  # imports the generated package; only this check needs it
    )

    with scratch_database(server_url, schema=schema) as from_schema:
        return fidelity.check(from_schema)


def compare(left_url: str, right_url: str, labels: tuple[str, str]) -> list[str]:
    with psycopg.connect(left_url) as left, psycopg.connect(right_url) as right:
        pairs = catalog.differences(catalog.snapshot(left), catalog.snapshot(right))
    return [describe(key, a, b, labels) for key, a, b in pairs]


def describe(key: str, left: str | None, right: str | None, labels: tuple[str, str]) -> str:
    """One difference as text: which side has the object (None = absent), or both
    definitions."""
    for side, here, there in ((labels[0], left, right), (labels[1], right, left)):
        if there is None:
            return f"{key}: only in {side}" + (f": {here}" if here else "")
    assert left is not None and right is not None  # one side absent returned above
    if "\n" in left or "\n" in right:
        diff = difflib.unified_diff(
            left.splitlines(), right.splitlines(), labels[0], labels[1], lineterm=""
        )
        return f"{key}: differs\n" + "\n".join("    " + line for line in diff)
    width = max(len(label) for label in labels)
    return f"{key}: differs\n    {labels[0]:<{width}}  {left}\n    {labels[1]:<{width}}  {right}"


@dataclass(frozen=True, slots=True)
class Check:
    """One check of ``plue-db check``: ``name`` is what --only and --json call it."""

    name: str
    title: str
    run: Callable[[], list[str]]


def checks(live_url: str | None, *, diff: bool = False) -> list[Check]:
    """Every check, in order; 'live' only with a live database to compare. The server
    for scratch databases is resolved (and the embedded one started) on first use."""
    server = cache(servers.database_url)
    found = [
        Check(
            "released",
            f"released migrations are unchanged ({released.SUM_PATH.name})",
            released.check,
        ),
        Check(
            "lint",
            "unreleased migrations pass squawk's safety rules (.squawk.toml)",
            migration_lint.check_lint,
        ),
        Check("generated", "generated/ matches the generator", partial(check_generated, diff=diff)),
        Check(
            "migrations",
            "migrations/ matches schema.sql",
            lambda: check_migrations_or_draft(server()),
        ),
        Check(
            "types",
            "generated types match PostgreSQL's (PREPARE)",
            lambda: check_fidelity(server()),
        ),
    ]
    if live_url is not None:
        title = f"{config.redacted(live_url)} matches schema.sql"
        found.append(Check("live", title, lambda: check_live(server(), live_url)))
    return found


def run_check(
    live_url: str | None = None,
    *,
    only: Sequence[str] = (),
    as_json: bool = False,
    diff: bool = False,
) -> bool:
    """Run the checks (``only`` those named), print a section per check (or, with
    ``as_json``, one JSON document) and a last line; return whether all passed.

    A live database is connected to first, so an unreachable one fails in a second with
    the connection error (psycopg.OperationalError, for the CLI's fix line), not after
    the slow checks.
    """
    if live_url is not None and (not only or "live" in only):
        psycopg.connect(live_url, connect_timeout=10).close()
    selected = [c for c in checks(live_url, diff=diff) if not only or c.name in only]
    results = []
    for number, check in enumerate(selected, 1):
        # Progress on stderr (stdout keeps the sections or the JSON): a check on a loaded
        # machine or a remote server can take tens of seconds.
        print(f"check {number}/{len(selected)}: {check.name}...", file=sys.stderr, flush=True)
        try:
            problems = check.run()
        except (MigrationError, SchemaError, psycopg.OperationalError, FileNotFoundError) as exc:
            problems = [str(exc).strip()]
        results.append((check, problems))
        if not as_json:
            print(f"{'ok  ' if not problems else 'FAIL'} {check.title}", flush=True)
            for problem in problems:
                print("  " + problem.replace("\n", "\n  "))
    failed = [check.name for check, problems in results if problems]
    if as_json:
        document = {
            "passed": not failed,
            "checks": [
                {"name": c.name, "title": c.title, "passed": not p, "problems": p}
                for c, p in results
            ],
        }
        print(json.dumps(document, indent=2))
    elif failed:
        print(f"check: failed: {', '.join(failed)} ({len(failed)} of {len(results)} checks)")
    else:
        print(f"check: all passed ({', '.join(check.name for check, _ in results)})")
    return not failed
