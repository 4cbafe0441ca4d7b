"""``plue-db check``: prove generated/, migrations/ and live databases match schema.sql.

Each check returns the problems it found as readable text (empty = passed): generated
code is what the generator produces now (no stale files either); all migrations applied
to an empty scratch database give the catalog of schema.sql applied to another; optionally a
live database has that catalog too. Scratch databases live on the configured server and
are dropped afterwards, whatever happens; regeneration alone always analyses queries on
the embedded PostgreSQL 16 (plue_db.generate), so the expected output never depends on
which server is configured.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import psycopg

from plue_db import catalog, config, generate, servers
from plue_db.migrate import MigrationError, migrate
from plue_db.scratch import SchemaError, scratch_database


def check_generated(root: Path = config.PROJECT_ROOT) -> list[str]:
    """How generated/ differs from what the generator writes now: changed, missing and
    stale files, each with a unified diff (or sqlc's errors if generation fails)."""
    try:
        fresh = generate.fresh_output(root)
    except generate.GenerationError as exc:
        return [f"the generator fails on schema.sql / queries/:\n{exc}"]
    packages = {path.parent for path in fresh if path.name == "models.py"}
    current = generate.package_files(root, packages)
    diffs = [
        "".join(
            difflib.unified_diff(
                current.get(path, "").splitlines(keepends=True),
                fresh.get(path, "").splitlines(keepends=True),
                fromfile=f"{path} (committed)" if path in current else "/dev/null",
                tofile=f"{path} (generated now)" if path in fresh else "/dev/null",
            )
        )
        or f"{path}: differs"
        for path in sorted(set(fresh) | set(current))
        if fresh.get(path) != current.get(path)
    ]
    if not diffs:
        return []
    return ["generated/ is not what `plue-db generate` produces now:\n" + "\n".join(diffs)]


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


def check_live(server_url: str, live_url: str, schema: Path = config.SCHEMA_PATH) -> list[str]:
    """Objects that differ between schema.sql and the database at ``live_url``."""
    with scratch_database(server_url, schema=schema) as from_schema:
        return compare(from_schema, live_url, ("schema.sql", "live database"))


def check_fidelity(server_url: str, schema: Path = config.SCHEMA_PATH) -> list[str]:
    """Queries whose generated Python types disagree with what PostgreSQL reports."""
    from plue_db import fidelity  # imports the generated package; only this check needs it

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


def run_check(live_url: str | None = None) -> bool:
    """Run every check, print a section per check, return whether all passed."""
    server_url = servers.database_url()
    sections: list[tuple[str, Callable[[], list[str]]]] = [
        ("generated/ matches the generator", check_generated),
        ("migrations/ matches schema.sql", lambda: check_migrations(server_url)),
        ("generated types match PostgreSQL's (PREPARE)", lambda: check_fidelity(server_url)),
    ]
    if live_url is not None:
        label = f"{config.redacted(live_url)} matches schema.sql"
        sections.append((label, lambda: check_live(server_url, live_url)))
    passed = True
    for title, check in sections:
        try:
            problems = check()
        except (MigrationError, SchemaError, psycopg.OperationalError, FileNotFoundError) as exc:
            problems = [str(exc).strip()]
        print(f"{'ok  ' if not problems else 'FAIL'} {title}")
        for problem in problems:
            print("  " + problem.replace("\n", "\n  "))
        passed = passed and not problems
    return passed
