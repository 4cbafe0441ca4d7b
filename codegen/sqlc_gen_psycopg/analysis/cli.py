"""The ``sqlc-gen-psycopg-db`` command: ``generate`` (sqlc with PostgreSQL's own types)
and ``check`` (generated annotations against PREPARE), on a scratch database of
``--database-url`` or of a temporary embedded PostgreSQL 16.

A user error is one message on stderr and exit status 1; a traceback means a bug.
SIGTERM unwinds like Ctrl-C, so scratch databases, the temporary configuration and the
embedded cluster are removed whichever way the run ends short of SIGKILL.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import FrameType

from sqlc_gen_psycopg.analysis.requires import MissingExtraError, require

PROG = "sqlc-gen-psycopg-db"


def server(args: argparse.Namespace) -> AbstractContextManager[str]:
    """The server to make scratch databases on: --database-url, else the embedded one."""
    if args.database_url:
        return nullcontext(args.database_url)
    require("embedded", "the embedded PostgreSQL (without --database-url)")
    from sqlc_gen_psycopg.analysis.scratch import embedded_server

    return embedded_server()


def config_file(args: argparse.Namespace) -> Path:
    from sqlc_gen_psycopg.analysis.project import find_config

    path: Path = args.file or find_config(Path.cwd())
    return path.resolve()


def cmd_generate(args: argparse.Namespace) -> int:
    from sqlc_gen_psycopg.analysis.generate import generate
    from sqlc_gen_psycopg.analysis.project import warnings

    config = config_file(args)
    if args.static:
        generate(config, None)
    else:
        with server(args) as url:
            generate(config, url)
    for line in warnings(config):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from sqlc_gen_psycopg.analysis.typecheck import check_project, report

    config = config_file(args)
    with server(args) as url:
        return 0 if report(config, check_project(config, url)) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="sqlc-gen-psycopg with PostgreSQL's own types: each command loads the "
        "project's schema files into a scratch database and drops it afterwards.",
    )
    version = importlib.metadata.version("sqlc-gen-psycopg")
    parser.add_argument("--version", action="version", version=f"{PROG} {version}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "generate": cmd_generate,
        "check": cmd_check,
    }
    helps = {
        "generate": "run `sqlc generate` with its database-backed analysis (sqlc PREPAREs "
        "each query), errors at their file:line with the query's name",
        "check": "PREPARE every generated function's SQL and compare PostgreSQL's types "
        "with the annotations in each package's manifest.json",
    }
    for name, handler in handlers.items():
        sub = commands.add_parser(name, help=helps[name], description=helps[name])
        sub.set_defaults(handler=handler)
        sub.add_argument(
            "-f",
            "--file",
            type=Path,
            help="the sqlc configuration (default: sqlc.yaml, sqlc.yml or sqlc.json here)",
        )
        where = sub.add_mutually_exclusive_group() if name == "generate" else sub
        where.add_argument(
            "--database-url",
            help="a server on which to create the scratch database (the login needs "
            "CREATEDB); default: a temporary embedded PostgreSQL 16, the [embedded] extra",
        )
        if name == "generate":
            where.add_argument(
                "--static",
                action="store_true",
                help="sqlc's static analysis (no server): its guesses for uncast expressions",
            )
    return parser


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        require("analysis", f"{PROG} {args.command}")
    except MissingExtraError as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return 1
    import psycopg

    from sqlc_gen_psycopg.analysis.generate import SqlcError
    from sqlc_gen_psycopg.analysis.project import ProjectError
    from sqlc_gen_psycopg.analysis.scratch import SchemaError, ServerError

    user_errors = (
        MissingExtraError,
        ProjectError,
        SchemaError,
        ServerError,
        psycopg.OperationalError,
    )
    try:
        return int(args.handler(args))
    except SqlcError as exc:  # sqlc's errors, one per line, each at its place
        print(exc, file=sys.stderr)
    except (*user_errors, psycopg.OperationalError) as exc:
        print(f"{PROG} {args.command}: {' '.join(str(exc).split())}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1
