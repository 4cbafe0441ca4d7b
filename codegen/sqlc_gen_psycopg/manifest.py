"""manifest.json: what was generated, for tools that must not re-read generated code.

Written beside the package from the same model the templates print, so it cannot
disagree with the code. `plue-db check` compares it with PostgreSQL's own description
of each query. Deterministic and pretty-printed (keys sorted, functions sorted by module
and name) so that a change shows up as a readable diff in review and in the drift check.
"""

from __future__ import annotations

import json
from typing import Any

from sqlc_gen_psycopg.model.package import Function, Module, Package, Param
from sqlc_gen_psycopg.model.results import Column, DbType
from sqlc_gen_psycopg.model.types import Scope

FILE_NAME = "manifest.json"
FORMAT = 1  # bump when an entry changes meaning


def manifest(pkg: Package) -> str:
    functions = sorted(
        (
            function_entry(module, fn, Scope(pkg.name, pkg.module_name(module.stem)))
            for module in pkg.modules
            for fn in module.functions
        ),
        key=lambda entry: (entry["module"], entry["name"]),
    )
    document = {
        "format": FORMAT,
        "package": pkg.name,
        "emit_async": pkg.emit_async,
        "functions": functions,
        # generation went on despite these (notices.py); sqlc shows none of them
        "warnings": list(pkg.warnings),
    }
    return pretty(document, "") + "\n"


ONE_LINE_ITEMS = frozenset({"params", "columns", "constraints"})


def pretty(value: Any, indent: str, *, one_line_items: bool = False) -> str:
    """Sorted JSON, indented like ``json.dumps(indent=2)`` except that each parameter and
    column sits on one line: a changed type is a one-line diff, and the file stays small."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(k)}: {pretty(value[k], inner, one_line_items=k in ONE_LINE_ITEMS)}"
            for k in sorted(value)
        ]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        lines = [inner + (compact(v) if one_line_items else pretty(v, inner)) for v in value]
        return "[\n" + ",\n".join(lines) + f"\n{indent}]"
    return compact(value)


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def function_entry(module: Module, fn: Function, scope: Scope) -> dict[str, Any]:
    """One function: where it lives, its SQL, and every value crossing its boundary;
    annotations as its sync module writes them."""
    result = fn.result
    return {
        "name": fn.name,
        "module": module.stem,
        "source": module.source,
        "query": fn.query_name,
        "command": fn.command.value,
        "stream": f"iter_{fn.name}" if fn.streams else None,
        "sql_constant": fn.constant.name,
        "sql": fn.sql,
        "copy_sql": fn.copy_sql or None,
        "returns": result.ref.text(scope) if result else None,
        # :one/:batchone that PostgreSQL answers with exactly one row for any data: the
        # function returns ``returns`` itself (never None for "no row"); see cardinality.py
        "always_row": fn.always_row,
        "row_class": result.row_class.name if result and result.row_class else None,
        "params_class": fn.params_class.name if fn.params_class else None,
        "params": [param_entry(p, scope) for p in fn.params],
        "columns": [column_entry(c, scope) for c in result.columns] if result else [],
        "read_only": fn.access.read_only,
        # what its statement can violate, each raised as ``class`` from <package>.errors
        "constraints": [
            {"name": v.constraint, "table": v.table, "kind": v.kind, "class": v.cls}
            for v in fn.violations
        ],
        "write_reason": fn.access.reason or None,
    }


def param_entry(param: Param, scope: Scope) -> dict[str, Any]:
    return {
        "name": param.name,
        "annotation": param.ref.text(scope),
        "nullable": param.nullable,
        "source": param.source or None,
        **type_entry(param.db_type),
    }


def column_entry(column: Column, scope: Scope) -> dict[str, Any]:
    """A result column; an embed lists its table's columns under ``columns``."""
    entry: dict[str, Any] = {
        "field": column.field,
        "annotation": column.ref.text(scope),
        "nullable": not column.not_null,
        "embed": column.embed,
    }
    if column.db_type is None:
        entry["columns"] = [column_entry(part, scope) for part in column.parts]
    else:
        entry["name"] = column.name
        entry.update(type_entry(column.db_type))
    return entry


def type_entry(db_type: DbType) -> dict[str, Any]:
    """The PostgreSQL type, and the override replacing its annotation; a converter's
    functions only when there is one (``type`` stays the database's: check compares it)."""
    entry: dict[str, Any] = {
        "type": {
            "name": db_type.name,
            "array_dims": db_type.array_dims,
            "base": db_type.base,
            "base_array_dims": db_type.base_array_dims,
        },
        "override": db_type.override or None,
    }
    if db_type.from_db:
        entry["converter"] = {"from_db": db_type.from_db, "to_db": db_type.to_db}
    return entry
