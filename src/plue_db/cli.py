"""The ``plue-db`` command: run the embedded server, migrate, generate, check, demo, docs, debug.

User errors (a bad migration, a malformed or unreachable DATABASE_URL, a login without
privileges, an unusable PLUE_DB_PGDATA) print one line to stderr naming the problem and
the fix, and exit 1; a traceback means a bug in plue-db. Every such line is scrubbed of
the passwords of every connection string in play (plue_db.dsn), because libpq's
messages can quote them.

Over 400 lines on purpose: the parser of every command is one table read top to bottom,
each command's function only hands over to the sub-package doing the work, and the one
line a user error prints is chosen here (``describe``), in one place for every command.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import psycopg
from psycopg_pool import PoolTimeout

from plue_db import config, dsn, extras, servers
from plue_db.schema import picture as schema_picture
from plue_db.schema.migrate import MigrationError, migrate
from plue_db.schema.picture import SchemaPictureError
from plue_db.schema.reset import ResetRefusedError
from plue_db.servers.embedded import EmbeddedError
from plue_db.servers.pidfile import PidFileError
from plue_db.servers.replicas import ReplicaError
from plue_db.servers.scratch import SchemaError

Command = Callable[[argparse.Namespace], int]


def cmd_up(args: argparse.Namespace) -> int:
    if args.replicas < 0:
        raise ReplicaError(f"--replicas takes a number of replicas, 0 or more; got {args.replicas}")
    embedded_server = not config.database_url_setting()
    if args.replicas and not embedded_server:
        raise EmbeddedError("--replicas starts replicas of the embedded server; unset DATABASE_URL")
    if embedded_server:
        from plue_db.servers import embedded, embedded_replicas

        for line in [embedded.clear_stale(), *embedded_replicas.clear_stale(args.replicas)]:
            if line:
                print(line)
    url = servers.database_url()
    _report_migrations(url, args.migrations_dir, dry_run=False)
    print(url)
    if args.replicas:
        from plue_db.servers import embedded_replicas

        urls = embedded_replicas.start(args.replicas, url, say=_progress)
        print(f"{config.REPLICA_URLS}={' '.join(urls)}")
    return 0


def _progress(line: str) -> None:
    """A step of a long command, on stderr: stdout keeps only what scripts read."""
    print(line, file=sys.stderr, flush=True)


def cmd_down(args: argparse.Namespace) -> int:
    """Stop every server it can, replicas first, one line each (a failure on stderr,
    and exit 1 after trying the rest)."""
    from plue_db.servers import embedded, embedded_replicas

    stops: list[Callable[[], str]] = [
        *(partial(embedded_replicas.stop, d) for d in embedded_replicas.directories()),
        embedded.stop,
    ]
    failed = False
    for stop in stops:
        try:
            print(stop(), flush=True)
        except USER_ERRORS as exc:
            print(f"plue-db down: {describe(exc, args)}", file=sys.stderr, flush=True)
            failed = True
    return 1 if failed else 0


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _database_url_option(args) or servers.database_url()
    _report_migrations(url, args.migrations_dir, dry_run=args.dry_run)
    return 0


def _report_migrations(url: str, directory: Path, *, dry_run: bool) -> None:
    """A line per migration, then one that sums them up: how many, how long, where the
    database now is (or, for a dry run, that nothing changed)."""
    started = time.monotonic()
    done = migrate(url, directory, dry_run=dry_run)
    if not done:
        print("database is up to date; no migration to apply")
        return
    for migration in done:
        print(f"{'would apply' if dry_run else 'applied'} {migration.name}")
    count = f"{len(done)} migration{'s' if len(done) > 1 else ''}"
    if dry_run:
        print(f"dry run: {count} would apply; nothing was changed")
    else:
        took = time.monotonic() - started
        print(f"migrated: {count} applied in {took:.1f} s; the database is at {done[-1].name}")


def cmd_generate(args: argparse.Namespace) -> int:
    from plue_db.typecheck.generate import generate, watch

    return watch() if args.watch else generate(check=args.check)


def cmd_check(args: argparse.Namespace) -> int:
    url = _database_url_option(args)
    if args.sqlc_yaml is None:
        from plue_db.schema import drift

        if "live" in args.only and url is None:
            raise UsageError("check --only live compares a live database: add --database-url")
        passed = drift.run_check(url, only=args.only, as_json=args.json, diff=args.diff)
        return 0 if passed else 1
    if args.only or args.json or args.diff:
        raise UsageError("--only, --json and --diff apply to the project's checks, not --sqlc-yaml")
    from plue_db.typecheck import fidelity

    return 0 if fidelity.run_check(args.sqlc_yaml, url) else 1


def cmd_reset(args: argparse.Namespace) -> int:
    from plue_db.schema import reset

    url, where = reset.target(args.force)
    name = reset.recreate(url)
    done = migrate(url, args.migrations_dir)
    count = f"{len(done)} migration{'' if len(done) == 1 else 's'}"
    print(f"reset: dropped and recreated database {name} on {where}; applied {count}")
    return 0


def cmd_migration_release(args: argparse.Namespace) -> int:
    from plue_db.schema import released

    recorded = released.release(args.migrations_dir)
    listed = ", ".join(recorded) if recorded else "nothing new"
    print(f"recorded in {released.SUM_PATH.name} as released: {listed}")
    return 0


def cmd_migration_new(args: argparse.Namespace) -> int:
    from plue_db.schema import migration_draft

    url = None if args.empty else servers.database_url()
    written = migration_draft.new_migration(args.name, url, args.migrations_dir, args.schema)
    print(migration_draft.summary(written))
    return 1 if written.failure else 0


def cmd_docs(args: argparse.Namespace) -> int:
    return schema_picture.main(args.output)


def cmd_mcp(args: argparse.Namespace) -> int:
    reader_url = os.environ.get(READER_URL, "").strip()
    if reader_url:
        dsn.validate(reader_url, READER_URL)
    return delegate("mcp.server")(args)


# plue_db.schema.drift.checks' names, in the order they run (the fast ones first).
CHECK_NAMES = ("released", "lint", "generated", "migrations", "types", "live")


class UsageError(Exception):
    """Options that make no sense together; the message says which."""


def _check_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in CHECK_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown check {', '.join(unknown) or '(none)'}; choose from {', '.join(CHECK_NAMES)}"
        )
    return names


def _database_url_option(args: argparse.Namespace) -> str | None:
    url: str | None = args.database_url
    return dsn.validate(url, "--database-url") if url else None


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
    parser.add_argument(
        "--version", action="version", version=f"plue-db {importlib.metadata.version('plue-db')}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Command, help_text: str, needs: tuple[str, ...] = ()
    ) -> argparse.ArgumentParser:
        """A command; ``needs`` are the extras it always uses (plue_db.extras)."""
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler, needs=needs)
        return sub

    def migrations_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--migrations-dir",
            type=Path,
            default=config.MIGRATIONS_DIR,
            help="folder of NNNN_name.sql files (default: %(default)s)",
        )

    up = add(
        "up",
        cmd_up,
        "start the embedded server (unless DATABASE_URL is set), migrate, print the connection URL",
        ("migrate",),
    )
    migrations_dir(up)
    up.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="N",
        help="also run N streaming replicas of the embedded server and print "
        "PLUE_DB_REPLICA_URLS=... (reads are routed to them)",
    )
    add("down", cmd_down, "stop the embedded server and its replicas", ("embedded",))
    migrating = add(
        "migrate",
        cmd_migrate,
        "apply pending migrations, each in its own transaction",
        ("migrate",),
    )
    migrating.add_argument(
        "--dry-run", action="store_true", help="list what would run; change nothing"
    )
    migrating.add_argument(
        "--database-url", help="migrate this database instead of the configured one"
    )
    migrations_dir(migrating)
    generating = add(
        "generate", cmd_generate, "regenerate generated/plue_queries with sqlc", ("codegen",)
    )
    mode = generating.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every generated file that would change",
    )
    mode.add_argument(
        "--watch",
        action="store_true",
        help="generate again whenever sqlc.yaml, schema.sql or queries/ change, until Ctrl-C",
    )
    check = add(
        "check",
        cmd_check,
        "prove generated/ is fresh and migrations/ (and optionally a live database) "
        "match schema.sql",
        ("codegen",),
    )
    check.add_argument(
        "--database-url",
        help="also compare this live database to schema.sql (with --sqlc-yaml: compare the "
        "generated types with this database, which has that project's schema)",
    )
    check.add_argument(
        "--only",
        type=_check_names,
        default=(),
        metavar="NAMES",
        help="run only these checks, comma-separated: " + ", ".join(CHECK_NAMES),
    )
    check.add_argument(
        "--json", action="store_true", help="print one JSON document: each check's result"
    )
    check.add_argument(
        "--diff", action="store_true", help="show stale generated files' diffs, not only names"
    )
    check.add_argument(
        "--sqlc-yaml",
        type=Path,
        help="check only the generated types of the project this sqlc.yaml describes (any "
        "project using sqlc-gen-psycopg), against its schema in a scratch database",
    )
    add(
        "demo",
        delegate("demo.scenario"),
        "walk through Plue, migrating and writing demo rows into DATABASE_URL's database "
        "if set, else the embedded one, and print tables",
        ("migrate",),
    )
    resetting = add(
        "reset",
        cmd_reset,
        "drop and recreate the embedded database (DATABASE_URL's only with --force), then "
        "apply every migration: the way back from a database ahead of this branch",
        ("migrate",),
    )
    resetting.add_argument(
        "--force", action="store_true", help="also reset the database DATABASE_URL points at"
    )
    migrations_dir(resetting)
    migration = add("migration", cmd_migration_release, "manage migrations/ files")
    migration_commands = migration.add_subparsers(
        dest="migration_command", required=True, metavar="SUBCOMMAND"
    )
    release = migration_commands.add_parser(
        "release",
        help="record migrations/ in migrations.sum as released: check then fails if one changes",
    )
    release.set_defaults(handler=cmd_migration_release, needs=())
    migrations_dir(release)
    new = migration_commands.add_parser(
        "new",
        help="write the next NNNN_name.sql, drafted from how schema.sql differs from migrations/",
        description="write the next NNNN_name.sql, drafted from how schema.sql differs from "
        "migrations/ (what cannot be drafted safely is listed in the file as left by hand)",
    )
    new.set_defaults(handler=cmd_migration_new, needs=("codegen",))
    new.add_argument("name", help="lower-case letters, digits and underscores (add_topics)")
    new.add_argument("--empty", action="store_true", help="write only the header; draft nothing")
    new.add_argument("--schema", type=Path, default=config.SCHEMA_PATH, help="default: %(default)s")
    migrations_dir(new)
    add("stats", delegate("mcp.stats"), "print database statistics")
    docs = add(
        "docs",
        cmd_docs,
        "draw schema.sql's tables by domain, with their foreign keys (Mermaid)",
        ("codegen",),
    )
    docs.add_argument(
        "--output",
        type=Path,
        default=schema_picture.DOC_PATH,
        help="the Markdown file to write (default: %(default)s)",
    )
    add("mcp", cmd_mcp, "serve the MCP debug tools over stdio", ("mcp",))
    return parser


READER_URL = "PLUE_MCP_DATABASE_URL"

# Failures the user can fix: they get one line, not a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    MigrationError,
    SchemaError,
    SchemaPictureError,
    dsn.DsnError,
    EmbeddedError,
    extras.MissingExtraError,
    ReplicaError,
    PidFileError,
    psycopg.OperationalError,
    psycopg.errors.InsufficientPrivilege,
    PoolTimeout,
    FileNotFoundError,
    UsageError,
    ResetRefusedError,
)

# What to do about a failed connection, by what libpq or the server said.
CONNECTION_HINTS = tuple(
    (re.compile(pattern, re.IGNORECASE), hint)
    for pattern, hint in (
        ("password authentication failed", "check the user name and password in {source}"),
        ('role ".*" does not exist', "check the user name in {source}"),
        ("not permitted to log in", "use a login role in {source}"),
        ('database ".*" does not exist', "create the database or fix its name in {source}"),
        ("permission denied", "the login in {source} lacks a privilege; use one that has it"),
        ("is the server running|timeout expired", "start the server or fix {source}'s host/port"),
        ("resolve host|translate host", "fix the host in {source}"),
    )
)


def describe(exc: Exception, args: argparse.Namespace) -> str:
    """One line for a user error: what went wrong, what to do, and no password."""
    source = _url_source(args)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        message = f"{exc.diag.message_primary}; the login in {source} lacks this privilege: "
        message += "use the database owner's login or GRANT it"
    else:
        message = str(exc)
    if isinstance(exc, psycopg.OperationalError):
        hint = next((h for pattern, h in CONNECTION_HINTS if pattern.search(message)), None)
        if hint:
            message = f"{message.rstrip()} ({hint.format(source=source)})"
    urls = [os.environ.get(name, "") for name in ("DATABASE_URL", READER_URL)]
    urls.append(getattr(args, "database_url", None) or "")
    return " ".join(dsn.scrub(message, urls).split())


def _url_source(args: argparse.Namespace) -> str:
    if getattr(args, "database_url", None):
        return "--database-url"
    if os.environ.get("DATABASE_URL", "").strip():
        return "DATABASE_URL"
    return "the embedded server's URL"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        extras.require(*args.needs)
        code: int = args.handler(args)
    except USER_ERRORS as exc:
        print(f"plue-db {args.command}: {describe(exc, args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
