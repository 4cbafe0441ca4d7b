"""manifest.json: what was generated, for tools that must not re-read generated code.

Written beside the package from the same model the templates print, so it cannot
disagree with the code. `plue-db check` compares it with PostgreSQL's own description
of each query. Deterministic and pretty-printed (keys sorted, functions sorted by module
and name) so that a change shows up as a readable diff in review and in the drift check.
"""

from __future__ import annotations

import json
from typing import Any

from sqlc_gen_psycopg.model import DbType, Function, Module, Package, Param, Slot

FILE_NAME = "manifest.json"
FORMAT = 1  # bump when an entry changes meaning


def manifest(pkg: Package) -> str:
    functions = sorted(
        (function_entry(module, fn) for module in pkg.modules for fn in module.functions),
        key=lambda entry: (entry["module"], entry["name"]),
    )
    document = {
        "format": FORMAT,
        "package": pkg.name,
        "emit_async": pkg.emit_async,
        "functions": functions,
    }
    return pretty(document, "") + "\n"


ONE_LINE_ITEMS = frozenset({"params", "columns"})


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


def function_entry(module: Module, fn: Function) -> dict[str, Any]:
    """One function: where it lives, its SQL, and every value crossing its boundary."""
    return {
        "name": fn.name,
        "module": module.stem,
        "source": module.source,
        "query": fn.query_name,
        "command": fn.cmd,
        "sql_constant": fn.constant,
        "sql": fn.sql,
        "copy_sql": fn.copy_sql or None,
        "returns": fn.returns or None,
        "row_class": fn.row_class.name if fn.row_class else None,
        "params_class": fn.params_class.name if fn.params_class else None,
        "params": [param_entry(p) for p in fn.params],
        "columns": [column_entry(slot) for slot in fn.columns],
    }


def param_entry(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "annotation": param.annotation,
        "nullable": param.nullable,
        "source": param.source or None,
        **type_entry(param.db_type),
    }


def column_entry(slot: Slot) -> dict[str, Any]:
    """A result column; an embed lists its table's columns under ``columns``."""
    entry: dict[str, Any] = {
        "field": slot.field,
        "annotation": slot.annotation,
        "nullable": not slot.not_null,
        "embed": slot.embed,
    }
    if slot.db_type is None:
        entry["columns"] = [column_entry(part) for part in slot.parts]
    else:
        entry["name"] = slot.column
        entry.update(type_entry(slot.db_type))
    return entry


def type_entry(db_type: DbType) -> dict[str, Any]:
    return {
        "type": {
            "name": db_type.name,
            "array_dims": db_type.array_dims,
            "base": db_type.base,
            "base_array_dims": db_type.base_array_dims,
        },
        "override": db_type.override or None,
    }
