"""Plugin options from sqlc.yaml (``codegen[].options``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.pytypes import normalise


@dataclass(frozen=True, slots=True)
class Override:
    """Replace the Python annotation for a db type or one ``table.column``.

    psycopg's loader still decides the runtime value, so the annotation must describe
    it (the typical use: a TypedDict for a jsonb column). ``import`` is the module to
    import for the annotation, e.g. ``plue_types``.
    """

    python_type: str
    module: str


@dataclass(frozen=True, slots=True)
class Options:
    package: str
    emit_async: bool = True
    by_db_type: dict[str, Override] = field(default_factory=dict)
    by_column: dict[str, Override] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)


KNOWN = {"package", "emit_async", "overrides", "rename"}


def parse_options(raw: dict[str, Any]) -> Options:
    unknown = sorted(set(raw) - KNOWN)
    if unknown:
        raise GenerationError(
            f"sqlc.yaml: unknown plugin option(s) {', '.join(unknown)}; known: {sorted(KNOWN)}"
        )
    package = raw.get("package")
    if not isinstance(package, str) or not package.isidentifier():
        raise GenerationError("sqlc.yaml: option 'package' must be a Python package name")
    by_db_type: dict[str, Override] = {}
    by_column: dict[str, Override] = {}
    for item in raw.get("overrides") or []:
        python_type = item.get("python_type")
        if not isinstance(python_type, str) or not python_type:
            raise GenerationError(f"sqlc.yaml: override {item!r} needs a 'python_type'")
        module = item.get("import") or python_type.rpartition(".")[0]
        override = Override(python_type=python_type, module=module)
        if "column" in item:
            by_column[str(item["column"])] = override
        elif "db_type" in item:
            by_db_type[normalise(str(item["db_type"]))] = override
        else:
            raise GenerationError(f"sqlc.yaml: override {item!r} needs 'db_type' or 'column'")
    return Options(
        package=package,
        emit_async=bool(raw.get("emit_async", True)),
        by_db_type=by_db_type,
        by_column=by_column,
        rename={str(k): str(v) for k, v in (raw.get("rename") or {}).items()},
    )
