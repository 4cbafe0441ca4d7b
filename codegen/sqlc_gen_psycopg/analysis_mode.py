"""Did sqlc take this request's types from a database, or guess them statically?

sqlc's request doesn't say. With ``database:`` in the config entry (and the database
analyzer not turned off with ``analyzer: {database: false}``), sqlc PREPAREs every query
and sends PostgreSQL's types; without it, expressions' types are its own guesses. sqlc
runs the plugin in the directory of its config file and sends the entry's ``queries``,
so the entry is found there: the file sqlc was given with ``-f``/``--file`` (read from
its command line, sqlc being the plugin's parent process, where /proc has it), else the
one sqlc reads by default (``sqlc.yaml``, ``sqlc.yml``, ``sqlc.json``); the entry is the
one with these queries. A config that can't be found or read counts as static.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

CONFIG_NAMES = ("sqlc.yaml", "sqlc.yml", "sqlc.json")


def database_backed(query_paths: tuple[str, ...], directory: Path = Path()) -> bool:
    """True when the entry of these queries analyses them on a database."""
    entry = config_entry(query_paths, directory)
    if entry is None or not entry.get("database"):
        return False
    analyzer = entry.get("analyzer") or {}
    return not (isinstance(analyzer, dict) and analyzer.get("database") is False)


def config_directory() -> Path:
    """Where sqlc.yaml's relative paths start: the folder of the config sqlc was given
    with ``-f`` (the plugin runs in sqlc's own working directory), else here."""
    given = sqlc_file_argument()
    return Path(given).parent if given else Path()


def config_entry(query_paths: tuple[str, ...], directory: Path) -> dict[str, Any] | None:
    given = sqlc_file_argument()
    for name in (given,) if given else CONFIG_NAMES:
        path = directory / name
        if not path.is_file():
            continue
        try:
            text = path.read_text()
            document = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError):
            return None
        entries = document.get("sql") if isinstance(document, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            queries = entry.get("queries") if isinstance(entry, dict) else None
            listed = (queries,) if isinstance(queries, str) else tuple(queries or ())
            if listed == query_paths:
                return entry  # type: ignore[no-any-return]
        return None
    return None


def sqlc_file_argument(cmdline: Path | None = None) -> str | None:
    """The ``-f``/``--file`` argument of the sqlc process that started the plugin."""
    try:
        args = (cmdline or Path(f"/proc/{os.getppid()}/cmdline")).read_bytes().split(b"\0")
    except OSError:
        return None
    words = [arg.decode(errors="replace") for arg in args]
    for index, word in enumerate(words):
        if word in ("-f", "--file") and index + 1 < len(words):
            return words[index + 1]
        for prefix in ("-f=", "--file="):
            if word.startswith(prefix):
                return word.removeprefix(prefix)
    return None
