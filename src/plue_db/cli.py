"""The ``plue-db`` command: run the embedded server, migrate, generate, check, demo, debug.

User errors (a bad migration, an unreachable server, a missing file) print one line to
stderr and exit 1; a traceback means a bug in plue-db.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg
from psycopg_pool import PoolTimeout

from plue_db import config, drift
from plue_db.migrate import MigrationError, migrate
from plue_db.scratch import SchemaError

Command = Callable[[argparse.Namespace], int]


def cmd_up(args: argparse.Namespace) -> int:
    url = config.database_url()
    _report_migrations(url, args.migrations_dir, dry_run=False)
    print(url)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from plue_db import embedded

    if embedded.stop():
        print(f"stopped the embedded PostgreSQL in {embedded.data_dir()}")
    else:
        print(f"the embedded PostgreSQL in {embedded.data_dir()} is not running")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or config.database_url()
    _report_migrations(url, args.migrations_dir, dry_run=args.dry_run)
    return 0


def _report_migrations(url: str, directory: Path, *, dry_run: bool) -> None:
    done = migrate(url, directory, dry_run=dry_run)
    if not done:
        print("database is up to date; no migration to apply")
    for migration in done:
        print(f"{'would apply' if dry_run else 'applied'} {migration.name}")


def cmd_generate(args: argparse.Namespace) -> int:
    from plue_db.generate import generate

    return generate()


def cmd_check(args: argparse.Namespace) -> int:
    return 0 if drift.run_check(args.database_url) else 1


def delegate(module: str) -> Command:
    """A command implemented by ``plue_db.<module>.main()``, imported only when run."""

    def run(args: argparse.Namespace) -> int:
        code = importlib.import_module(f"plue_db.{module}").main()
        return int(code or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plue-db",
        description="Plue's PostgreSQL data layer. Uses DATABASE_URL if set, "
        "else an embedded PostgreSQL 16 under .pgdata/.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def migrations_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--migrations-dir",
            type=Path,
            default=config.MIGRATIONS_DIR,
            help="folder of NNNN_name.sql files (default: %(default)s)",
        )

    migrations_dir(
        add(
            "up",
            cmd_up,
            "start the embedded server (unless DATABASE_URL is set), migrate, "
            "print the connection URL",
        )
    )
    add("down", cmd_down, "stop the embedded server")
    migrating = add("migrate", cmd_migrate, "apply pending migrations, each in its own transaction")
    migrating.add_argument(
        "--dry-run", action="store_true", help="list what would run; change nothing"
    )
    migrating.add_argument(
        "--database-url", help="migrate this database instead of the configured one"
    )
    migrations_dir(migrating)
    add("generate", cmd_generate, "regenerate generated/plue_queries with sqlc")
    check = add(
        "check",
        cmd_check,
        "prove generated/ is fresh and migrations/ (and optionally a live database) "
        "match schema.sql",
    )
    check.add_argument("--database-url", help="also compare this live database to schema.sql")
    add("demo", delegate("demo"), "walk through Plue on the embedded database and print tables")
    add("stats", delegate("stats"), "print database statistics")
    add("mcp", delegate("mcp_server"), "serve the MCP debug tools over stdio")
    return parser


# Failures the user can fix: they get one line, not a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    MigrationError,
    SchemaError,
    psycopg.OperationalError,
    PoolTimeout,
    FileNotFoundError,
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except USER_ERRORS as exc:
        message = " ".join(str(exc).split())
        print(f"plue-db {args.command}: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
