"""sqlc's database-backed analysis, on scratch databases of the embedded PostgreSQL 16.

With a ``database: {uri: ...}`` entry, sqlc PREPAREs every query on a server that has
the schema loaded and takes the parameter and column types PostgreSQL reports, instead
of its static guesses (``now() - ts`` is an interval, not an int). The committed
sqlc.yaml stays static so that a plain ``sqlc generate`` needs no server: sqlc does not
skip the database when the uri is empty or an unset ``${VAR}``, it connects to libpq's
defaults. ``plue-db generate`` adds the entry to the copy of the config in its scratch
project instead.

The server is always the embedded PostgreSQL 16, never DATABASE_URL: generated types
must not depend on which server (or which version) happened to be configured.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import yaml

from plue_db import embedded
from plue_db.scratch import load_schema, scratch_database

# sqlc's own search order for its configuration file.
CONFIG_NAMES = ("sqlc.yaml", "sqlc.yml", "sqlc.json")
# sqlc 1.31.1 expands ${NAME} in a uri only when NAME is upper-case letters and
# underscores (a digit leaves the text as it is), so entry 12 reads ..._URI_BC.
URI_VARIABLE = "PLUE_DB_ANALYSIS_URI_"
PREFIX = "plue_analysis"


class ConfigError(Exception):
    """The project's sqlc configuration is missing or not what sqlc accepts; names the file."""


def config_path(root: Path) -> Path:
    found = [root / name for name in CONFIG_NAMES if (root / name).is_file()]
    if not found:
        raise ConfigError(f"no sqlc configuration in {root} (looked for {', '.join(CONFIG_NAMES)})")
    return found[0]


def read_config(path: Path) -> dict[str, Any]:
    try:
        settings = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(settings, dict) or not isinstance(settings.get("sql"), list):
        raise ConfigError(f"{path} has no `sql:` list of packages")
    return settings


def schema_files(root: Path, schema: object) -> list[Path]:
    """The files of an entry's ``schema`` (a path or a list; a folder means its .sql files
    in name order, as sqlc reads them), run as they are."""
    paths = [schema] if isinstance(schema, str) else schema
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"`schema: {schema!r}` must be a path or a list of paths")
    files: list[Path] = []
    for name in paths:
        path = root / name
        files.extend(sorted(path.glob("*.sql")) if path.is_dir() else [path])
    return files


@contextmanager
def analysis_databases(root: Path, scratch: Path) -> Iterator[dict[str, str]]:
    """Point every PostgreSQL entry of ``scratch``'s sqlc config (a copy of ``root``) at
    its own scratch database with the entry's schema loaded.

    Yields the environment variables the rewritten config reads its uris from; the
    databases are dropped on exit, whatever happens. The config and schema files are
    read from ``root`` so that an error names the user's file.
    """
    path = config_path(root)
    settings = read_config(path)
    server = embedded.start(keep_running=True)
    env: dict[str, str] = {}
    with ExitStack() as stack:
        for index, entry in enumerate(settings["sql"]):
            if not isinstance(entry, dict) or entry.get("engine") != "postgresql":
                continue
            url = stack.enter_context(scratch_database(server, prefix=PREFIX))
            for schema in schema_files(root, entry.get("schema")):
                load_schema(url, schema)
            variable = URI_VARIABLE + "".join(string.ascii_uppercase[int(d)] for d in str(index))
            # sqlc expands ${VAR} in the uri; a literal uri could hold a '$' of its own.
            entry["database"] = {"uri": "${" + variable + "}"}
            env[variable] = url
        (scratch / path.name).write_text(json.dumps(settings, indent=2))  # JSON is YAML
        yield env
