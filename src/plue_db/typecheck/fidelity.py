"""``plue-db check``'s type fidelity: the plugin's PREPARE check on plue-db's servers.

The check itself (each generated function's SQL PREPAREd, PostgreSQL's description
compared with manifest.json) is the plugin's, ``sqlc_gen_psycopg.analysis.typecheck``,
also run by ``sqlc-gen-psycopg-db check``; this module only picks the server (the
configured one, or a database that already holds the schema) and the default project.
"""

from __future__ import annotations

from pathlib import Path

from sqlc_gen_psycopg.analysis import typecheck
from sqlc_gen_psycopg.analysis.project import ProjectError, targets
from sqlc_gen_psycopg.analysis.scratch import SchemaError
from sqlc_gen_psycopg.analysis.typecheck import check_project, read_manifest

from plue_db import config, servers

# targets, read_manifest and check_project: for the golden fixtures' check
__all__ = ["ProjectError", "check", "check_project", "read_manifest", "run_check", "targets"]


def check(conninfo: str, sqlc_yaml: Path = config.PROJECT_ROOT / "sqlc.yaml") -> list[str]:
    """Problems found comparing every manifest sqlc.yaml names with the database at
    conninfo, which must already have the schema applied; nothing is written to it."""
    return typecheck.check(conninfo, sqlc_yaml)


def run_check(sqlc_yaml: Path, database_url: str | None) -> bool:
    """`plue-db check --sqlc-yaml`: print the result like the other checks; passed?

    With database_url, that database (which has the project's schema) is the judge;
    otherwise a scratch database on the configured server.
    """
    try:
        if database_url is None:
            problems = check_project(sqlc_yaml, servers.database_url())
        else:
            problems = check(database_url, sqlc_yaml)
    except (ProjectError, SchemaError) as exc:
        problems = [str(exc)]
    return typecheck.report(sqlc_yaml, problems)
