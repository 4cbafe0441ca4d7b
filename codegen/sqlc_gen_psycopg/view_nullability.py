"""A view's column is NOT NULL only when the view's defining query proves it.

PostgreSQL records every view column as nullable. sqlc's catalog instead gives a view's
columns what its own reading of the defining query found, and that reading follows
plain LEFT/RIGHT/FULL joins but not a join nested on an outer join's nullable side, a
LATERAL subquery, a scalar subquery, a UNION branch's NULL or an aggregate over no rows:
each of those returns NULL from a column sqlc calls NOT NULL. So a view column keeps
sqlc's NOT NULL only when ``inference.Analyser`` proves it from the definition in the
schema files (views over views in definition order, each seeing the ones before it
corrected); a view whose definition can't be lined up with sqlc's columns is nullable
throughout.
"""

from __future__ import annotations

from dataclasses import replace

from sqlc_gen_psycopg.inference import Analyser, Relation
from sqlc_gen_psycopg.protocol import Request, Table
from sqlc_gen_psycopg.pytypes import normalise
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, qualified


def prove_views(request: Request, schema: SchemaInfo) -> Request:
    """``request`` with each view column's ``not_null`` kept only where proven."""
    if not schema.views:
        return request
    tables = {qualified(t.schema, t.name): t for t in request.tables}
    by_key = {key: relation(t) for key, t in tables.items()}
    # The analyser reads relations by their unqualified name: the default schema's wins.
    relations = {tables[k].name: by_key[k] for k in sorted(tables, key=lambda k: "." not in k)}
    analyser = Analyser(relations, schema)
    for key, view in schema.views.items():
        table = tables.get(key)
        if table is None:
            continue
        names = [c.name for c in table.columns]
        proven = lined_up(analyser.view_columns(view.query), view.names, names)
        columns = tuple(
            replace(c, not_null=c.not_null and ok)
            for c, ok in zip(table.columns, proven, strict=True)
        )
        tables[key] = replace(table, columns=columns)
        if relations.get(table.name) is by_key[key]:
            relations[table.name] = by_key[key] = relation(tables[key])
    return replace(request, tables=tuple(tables.values()))


def lined_up(
    found: list[tuple[str | None, bool]] | None, aliases: tuple[str, ...], names: list[str]
) -> list[bool]:
    """Each column's proof, when ``found`` holds sqlc's columns in order (the CREATE's
    own column names win over the query's); else none is proven."""
    if found is None or len(found) != len(names):
        return [False] * len(names)
    for index, ((name, _), want) in enumerate(zip(found, names, strict=True)):
        name = aliases[index] if index < len(aliases) else name
        if name is not None and name != want:
            return [False] * len(names)
    return [not_null for _, not_null in found]


def relation(table: Table) -> Relation:
    """A table's columns as the analyser reads them: name -> (type, NOT NULL?)."""
    return {
        c.name: (SqlType(normalise(c.type_name), c.array_dims if c.is_array else 0), c.not_null)
        for c in table.columns
    }
