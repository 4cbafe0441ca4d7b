"""migrations.sum: the released migrations' checksums, committed beside migrations/.

``plue-db migrate`` refuses a database whose applied migration was edited afterwards,
but only on a deploy; ``plue-db check`` runs on empty scratch databases and could not
see it. So ``plue-db migration release`` records each migration's sha256 (the checksum
migrate records in the database, plue_db.schema.migrate.Migration.checksum) in migrations.sum at
the project root, and check fails, naming the file, when a listed migration differs or
is gone. It lives outside migrations/ because migrate refuses anything there but
NNNN_name.sql files. A migration not listed yet is *unreleased*: free to change, and
what the migration linter looks at (``unreleased``).
"""

from __future__ import annotations

from pathlib import Path

from plue_db import config
from plue_db.schema.migrate import Migration, MigrationError, discover

SUM_PATH = config.PROJECT_ROOT / "migrations.sum"
HEADER = (
    "# Written by `plue-db migration release`: one line per released migration,\n"
    "# '<file name> <sha256 of its bytes>' (the checksum plue-db migrate records).\n"
    "# `plue-db check` fails when a migration listed here changes or is missing.\n"
)


def released_migrations(sum_path: Path = SUM_PATH) -> dict[str, str]:
    """File name -> sha256 hex of every released migration; {} if there is no sum file.

    Raises MigrationError naming ``file:line`` for a line that is not '<name> <sha256>'.
    """
    if not sum_path.exists():
        return {}
    listed: dict[str, str] = {}
    for number, line in enumerate(sum_path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2 or len(fields[1]) != 64 or fields[0] in listed:
            raise MigrationError(
                f"{sum_path}:{number}: expected '<NNNN_name.sql> <sha256 hex>' once per "
                "file; rewrite it with `plue-db migration release`"
            )
        listed[fields[0]] = fields[1]
    return listed


def unreleased(migrations: list[Migration], sum_path: Path = SUM_PATH) -> list[Migration]:
    """The migrations not listed in ``sum_path``, in order: those a linter should check
    (released ones already ran somewhere and can no longer be changed)."""
    listed = released_migrations(sum_path)
    return [m for m in migrations if m.name not in listed]


def check(directory: Path = config.MIGRATIONS_DIR, sum_path: Path = SUM_PATH) -> list[str]:
    """What would make a deploy refuse: a released migration edited or missing, or an
    unreleased one numbered before the last released one (empty = fine)."""
    listed = released_migrations(sum_path)
    migrations = {m.name: m for m in discover(directory)}
    problems = []
    for name, checksum in sorted(listed.items()):
        migration = migrations.get(name)
        if migration is None:
            problems.append(
                f"{directory / name} is released ({sum_path.name}) but missing; restore it"
            )
        elif migration.checksum != checksum:
            problems.append(
                f"{migration.path} was changed after it was released (checksum "
                f"{checksum[:12]}… in {sum_path.name}, {migration.checksum[:12]}… now); "
                "restore it and add a new migration instead"
            )
    last = max(listed, default="")
    problems += [
        f"{m.path} is unreleased but sorts before the released {last}; renumber it after {last}"
        for name, m in sorted(migrations.items())
        if name not in listed and name < last
    ]
    return problems


def release(directory: Path = config.MIGRATIONS_DIR, sum_path: Path = SUM_PATH) -> list[str]:
    """Record every migration in ``directory`` as released; returns the names newly
    recorded. Refuses (MigrationError) if a released one changed or is missing: that is
    what check catches, and recording it again would hide it."""
    problems = check(directory, sum_path)
    if problems:
        raise MigrationError(problems[0])
    listed = released_migrations(sum_path)
    migrations = discover(directory)
    lines = "".join(f"{m.name} {m.checksum}\n" for m in migrations)
    sum_path.write_text(HEADER + lines)
    return [m.name for m in migrations if m.name not in listed]
