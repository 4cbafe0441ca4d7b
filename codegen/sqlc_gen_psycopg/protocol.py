"""Reading sqlc's JSON GenerateRequest and writing the GenerateResponse.

sqlc sends proto field names as JSON keys, with every field present and ``bytes``
fields base64-encoded; it rejects unknown fields in the answer.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Identifier:
    schema: str
    name: str

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Identifier | None:
        if not raw:
            return None
        return cls(schema=raw.get("schema", ""), name=raw.get("name", ""))


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    not_null: bool
    is_array: bool
    array_dims: int
    comment: str
    type_schema: str
    type_name: str
    table: Identifier | None
    embed_table: Identifier | None
    is_named_param: bool
    is_func_call: bool
    original_name: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Column:
        type_ = raw.get("type") or {}
        return cls(
            name=raw.get("name", ""),
            not_null=bool(raw.get("not_null")),
            is_array=bool(raw.get("is_array")),
            array_dims=int(raw.get("array_dims") or 0),
            comment=raw.get("comment", ""),
            type_schema=type_.get("schema", ""),
            type_name=type_.get("name", ""),
            table=Identifier.parse(raw.get("table")),
            embed_table=Identifier.parse(raw.get("embed_table")),
            is_named_param=bool(raw.get("is_named_param")),
            is_func_call=bool(raw.get("is_func_call")),
            original_name=raw.get("original_name", ""),
        )


@dataclass(frozen=True, slots=True)
class Parameter:
    number: int
    column: Column


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    cmd: str
    text: str
    filename: str
    comments: tuple[str, ...]
    columns: tuple[Column, ...]
    params: tuple[Parameter, ...]
    insert_into_table: Identifier | None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    schema: str
    comment: str
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class Enum:
    name: str
    schema: str
    values: tuple[str, ...]
    comment: str


@dataclass(frozen=True, slots=True)
class Request:
    tables: tuple[Table, ...]
    enums: tuple[Enum, ...]
    composite_types: tuple[Identifier, ...]
    default_schema: str
    queries: tuple[Query, ...]
    schema_files: tuple[str, ...]
    options: dict[str, Any]
    # sqlc.yaml's ``queries`` (files or folders, relative to sqlc's working directory,
    # which is the plugin's): where a query's file is, for file:line in warnings.
    query_paths: tuple[str, ...] = ()


SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_temp"})


def parse_request(data: bytes) -> Request:
    """Decode the request, dropping the system schemas sqlc includes in its catalog."""
    raw = json.loads(data)
    catalog = raw.get("catalog") or {}
    tables: list[Table] = []
    enums: list[Enum] = []
    composites: list[Identifier] = []
    for schema in catalog.get("schemas") or []:
        schema_name = schema.get("name", "")
        if schema_name in SYSTEM_SCHEMAS:
            continue
        for t in schema.get("tables") or []:
            rel = t.get("rel") or {}
            tables.append(
                Table(
                    name=rel.get("name", ""),
                    schema=schema_name,
                    comment=t.get("comment", ""),
                    columns=tuple(Column.parse(c) for c in t.get("columns") or []),
                )
            )
        for e in schema.get("enums") or []:
            enums.append(
                Enum(
                    name=e["name"],
                    schema=schema_name,
                    values=tuple(e.get("vals") or []),
                    comment=e.get("comment", ""),
                )
            )
        composites.extend(
            Identifier(schema_name, c["name"]) for c in schema.get("composite_types") or []
        )
    queries = tuple(
        Query(
            name=q["name"],
            cmd=q["cmd"],
            text=q["text"],
            filename=q.get("filename", ""),
            comments=tuple(q.get("comments") or []),
            columns=tuple(Column.parse(c) for c in q.get("columns") or []),
            params=tuple(
                Parameter(number=int(p["number"]), column=Column.parse(p.get("column") or {}))
                for p in q.get("params") or []
            ),
            insert_into_table=Identifier.parse(q.get("insert_into_table")),
        )
        for q in raw.get("queries") or []
    )
    settings = raw.get("settings") or {}
    encoded_options = raw.get("plugin_options") or ""
    options = json.loads(base64.b64decode(encoded_options)) if encoded_options else {}
    return Request(
        tables=tuple(tables),
        enums=tuple(enums),
        composite_types=tuple(composites),
        default_schema=catalog.get("default_schema") or "public",
        queries=queries,
        schema_files=tuple(settings.get("schema") or []),
        options=options,
        query_paths=tuple(settings.get("queries") or []),
    )


def encode_response(files: dict[str, str]) -> bytes:
    """The GenerateResponse: file names relative to the codegen ``out`` directory."""
    return json.dumps(
        {
            "files": [
                {"name": name, "contents": base64.b64encode(text.encode()).decode()}
                for name, text in sorted(files.items())
            ]
        }
    ).encode()
