"""A project's sqlc configuration, read as sqlc 1.31 reads it: which file, which
PostgreSQL entries, their schema files in sqlc's order, and the packages the plugin
writes for them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from sqlc_gen_psycopg.schema_info import schema_files

# sqlc's own search order for its configuration file.
CONFIG_NAMES = ("sqlc.yaml", "sqlc.yml", "sqlc.json")
PLUGIN = "sqlc-gen-psycopg"
MANIFEST = "manifest.json"


class ProjectError(Exception):
    """The sqlc configuration is missing or not what sqlc accepts; names the file."""


def find_config(directory: Path) -> Path:
    """The configuration sqlc uses in ``directory`` when run without ``-f``."""
    found = [directory / name for name in CONFIG_NAMES if (directory / name).is_file()]
    if not found:
        raise ProjectError(
            f"no sqlc configuration in {directory} (looked for {', '.join(CONFIG_NAMES)})"
        )
    return found[0]


def read_config(path: Path) -> dict[str, Any]:
    """The configuration as a dict with a ``sql:`` list (JSON is YAML too)."""
    try:
        settings = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"{path}: can't read it: {exc}") from exc
    if not isinstance(settings, dict) or not isinstance(settings.get("sql"), list):
        raise ProjectError(f"{path}: not an sqlc version 2 configuration (no `sql:` list)")
    return settings


def is_postgresql(entry: object) -> bool:
    return isinstance(entry, dict) and entry.get("engine") == "postgresql"


def entry_schema(config: Path, entry: dict[str, Any]) -> list[Path]:
    """The schema files of one ``sql:`` entry in the order sqlc reads them (a folder: its
    ``*.sql`` in name order, hidden and golang-migrate ``*.down.sql`` files skipped)."""
    schema = entry.get("schema")
    if not schema:
        raise ProjectError(f"{config}: an sql entry names no schema")
    paths = [schema] if isinstance(schema, str) else schema
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ProjectError(f"{config}: `schema: {schema!r}` must be a path or a list of paths")
    missing = [p for p in paths if not (config.parent / p).exists()]
    if missing:
        raise ProjectError(f"{config}: schema path {missing[0]} does not exist")
    return schema_files([config.parent / p for p in paths])


@dataclasses.dataclass(frozen=True)
class Target:
    """One ``sql:`` entry that the plugin generates: its schema files, the manifest of
    each package generated from it, and those of them generated with ``strict_types``."""

    schema: tuple[Path, ...]
    manifests: tuple[Path, ...]
    strict: frozenset[Path] = frozenset()


def target(config: Path, entry: dict[str, Any], codegens: list[dict[str, Any]]) -> Target:
    """The entry with these codegen items of the plugin."""
    manifests = {
        config.parent / str(c["out"]) / MANIFEST: (c.get("options") or {}).get("strict_types")
        for c in codegens
    }
    return Target(
        tuple(entry_schema(config, entry)),
        tuple(manifests),
        frozenset(path for path, strict in manifests.items() if strict is True),
    )


def targets(config: Path) -> list[Target]:
    """The sql entries whose codegen runs sqlc-gen-psycopg."""
    settings = read_config(config)
    try:
        ours = {
            plugin.get("name")
            for plugin in settings.get("plugins") or []
            if Path(str((plugin.get("process") or {}).get("cmd", ""))).name == PLUGIN
        }
        found = [
            target(config, entry, codegens)
            for entry in settings["sql"]
            if (codegens := [c for c in entry.get("codegen") or [] if c.get("plugin") in ours])
        ]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ProjectError(f"{config}: not an sqlc version 2 configuration ({exc!r})") from exc
    if not found:
        raise ProjectError(f"{config}: no codegen entry uses the {PLUGIN} plugin")
    return found


def warnings(config: Path) -> list[str]:
    """The warnings the last generation left in each package's manifest.json: sqlc drops
    a plugin's stderr when it succeeds, so this is where a command finds them to print."""
    return [
        line
        for found in targets(config)
        for manifest in found.manifests
        if manifest.is_file()
        for line in json.loads(manifest.read_text()).get("warnings", [])
    ]
