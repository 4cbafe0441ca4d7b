"""Plugin options from sqlc.yaml (``codegen[].options``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model.kinds import ModelType
from sqlc_gen_psycopg.model.types import RUNTIME
from sqlc_gen_psycopg.naming import DEFAULT_INITIALISMS
from sqlc_gen_psycopg.pytypes import normalise


@dataclass(frozen=True, slots=True)
class Converter:
    """An override's functions, as dotted paths into the user's package: ``from_db``
    turns the driver's value into ``python_type`` on every read, ``to_db`` turns it back
    on every write (model/convert.py)."""

    from_db: str
    to_db: str


@dataclass(frozen=True, slots=True)
class Override:
    """Replace the Python annotation for a db type or one ``table.column``.

    Without a converter psycopg's loader still decides the runtime value, so the
    annotation must describe it. ``import`` is the module to import for the
    annotation, e.g. ``plue_types``.
    """

    python_type: str
    module: str
    converter: Converter | None = None
    # option json_types: the converter is the runtime's typed-json reader and writer
    # (sqlc_gen_psycopg_runtime.json_shapes), which also takes python_type and where it reads.
    json_shape: bool = False


@dataclass(frozen=True, slots=True)
class Options:
    package: str
    emit_async: bool = True
    # Also write ``package/asyncpg/``: the async functions over asyncpg (render.py).
    emit_asyncpg: bool = False
    by_db_type: dict[str, Override] = field(default_factory=dict)
    by_column: dict[str, Override] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    # Refuse what would need a fallback name or a guess (unnamed or clashing parameters
    # and columns, enum values without a name of their own, rows an :exec discards).
    strict_names: bool = False
    # Refuse a parameter or column sqlc can't type (``any``) instead of annotating it
    # ``object`` with a warning (notices.py).
    strict_types: bool = False
    initialisms: tuple[str, ...] = DEFAULT_INITIALISMS
    # The class kind of table models, composite types and Row classes (model/kinds.py).
    model_type: ModelType = ModelType.DATACLASS
    # Also write a ``Queries(conn)`` class per query module (``AsyncQueries`` in the async
    # ones) whose methods call the module's functions (model/package.py, Method).
    emit_classes: bool = False
    # A function with more parameters than this takes one frozen ``<Query>Params`` instead
    # of keyword arguments (model/package.py, Function.takes_object); None: never.
    query_parameter_limit: int | None = None
    # "google": docstrings with Args/Returns/Raises sections (docstrings.py); "": as before.
    docstrings: str = ""

    @property
    def module_names(self) -> frozenset[str]:
        """The top-level names the imports of overrides and converters bind in generated
        modules (``import plue_db.json_shapes`` binds ``plue_db``), which no query
        function may take."""
        paths: list[str] = []
        for override in (*self.by_db_type.values(), *self.by_column.values()):
            paths.append(override.module)
            if override.converter is not None and not override.json_shape:
                # (a json_types reader and writer are names imported from _json_shapes)
                paths += [override.converter.from_db, override.converter.to_db]
        return frozenset(path.split(".")[0] for path in paths if path)


KNOWN = {
    "package",
    "emit_async",
    "emit_asyncpg",
    "overrides",
    "rename",
    "strict_names",
    "strict_types",
    "initialisms",
    "model_type",
    "emit_classes",
    "query_parameter_limit",
    "docstrings",
    "json_types",
}


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
        override = Override(python_type, module, converter(item))
        if "column" in item:
            by_column[str(item["column"])] = override
        elif "db_type" in item:
            by_db_type[normalise(str(item["db_type"]))] = override
        else:
            raise GenerationError(f"sqlc.yaml: override {item!r} needs 'db_type' or 'column'")
    for column, override in json_types(raw.get("json_types")).items():
        if column in by_column:
            raise GenerationError(
                f"sqlc.yaml: column {column} has both an override and a json_types entry; keep one"
            )
        by_column[column] = override
    return Options(
        package=package,
        emit_async=flag(raw, "emit_async", default=True),
        emit_asyncpg=flag(raw, "emit_asyncpg", default=False),
        by_db_type=by_db_type,
        by_column=by_column,
        rename={str(k): str(v) for k, v in (raw.get("rename") or {}).items()},
        strict_names=flag(raw, "strict_names", default=False),
        strict_types=flag(raw, "strict_types", default=False),
        initialisms=initialisms(raw.get("initialisms", list(DEFAULT_INITIALISMS))),
        model_type=model_type(raw.get("model_type", ModelType.DATACLASS.value)),
        emit_classes=flag(raw, "emit_classes", default=False),
        query_parameter_limit=parameter_limit(raw.get("query_parameter_limit")),
        docstrings=docstring_style(raw.get("docstrings")),
    )


def converter(item: dict[str, Any]) -> Converter | None:
    """An override's ``from_db`` and ``to_db``: both or neither, each ``module.function``."""
    paths = {key: item.get(key) for key in ("from_db", "to_db")}
    if all(path is None for path in paths.values()):
        return None
    for key, path in paths.items():
        parts = path.split(".") if isinstance(path, str) else []
        if len(parts) < 2 or not all(part.isidentifier() for part in parts):
            raise GenerationError(
                f"sqlc.yaml: override {item!r}: {key!r} must be a dotted path to a function "
                f"(module.function), not {path!r}"
            )
    return Converter(from_db=str(paths["from_db"]), to_db=str(paths["to_db"]))


def json_types(value: object) -> dict[str, Override]:
    """``json_types``: ``table.column`` -> the dotted type its json values are read as."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and "." in k and isinstance(v, str) and "." in v
        for k, v in value.items()
    ):
        raise GenerationError(
            f"sqlc.yaml: option 'json_types' must map table.column to a dotted type "
            f"(module.Type), not {value!r}"
        )
    runtime = f"{RUNTIME}.json_shapes"
    converter = Converter(f"{runtime}.json_shape", f"{runtime}.json_value")
    return {
        str(column): Override(str(shape), str(shape).rpartition(".")[0], converter, True)
        for column, shape in value.items()
    }


def flag(raw: dict[str, Any], name: str, *, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise GenerationError(f"sqlc.yaml: option {name!r} must be true or false, not {value!r}")
    return value


def initialisms(value: object) -> tuple[str, ...]:
    """Lower-case words written in capitals in class names (``app_id`` -> ``AppID``)."""
    if not isinstance(value, list) or not all(
        isinstance(word, str) and word.isascii() and word.isalnum() for word in value
    ):
        raise GenerationError(
            f"sqlc.yaml: option 'initialisms' must be a list of words such as [id, url], "
            f"not {value!r}"
        )
    return tuple(word.lower() for word in value)


def docstring_style(value: object) -> str:
    """``docstrings``: absent (the summary and the constraint list, as before) or google."""
    if value is None:
        return ""
    if value == "google":
        return "google"
    raise GenerationError(f"sqlc.yaml: option 'docstrings' must be google, not {value!r}")


def parameter_limit(value: object) -> int | None:
    """``query_parameter_limit``: a number of parameters (0 or more), or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GenerationError(
            f"sqlc.yaml: option 'query_parameter_limit' must be a number of parameters "
            f"(0 or more), not {value!r}"
        )
    return value


def model_type(value: object) -> ModelType:
    """``model_type``: one of the kinds kinds.py knows."""
    for kind in ModelType:
        if value == kind.value:
            return kind
    known = ", ".join(kind.value for kind in ModelType)
    raise GenerationError(f"sqlc.yaml: option 'model_type' must be one of {known}, not {value!r}")
