"""A view over ``JOIN ... USING`` or ``NATURAL JOIN``: its columns as PostgreSQL gives them.

``CREATE VIEW v AS SELECT * FROM a JOIN b USING (id)`` has ``id`` once: PostgreSQL puts
the merged columns first, then the left's others, then the right's. sqlc 1.31's catalog
lists both tables' columns whole instead, ``id`` twice, so a model built from it holds a
duplicate field, and sqlc expands a query's ``*`` over the view into that same list
(``SELECT x, v.id, v.id, y FROM v``), which PostgreSQL answers with the column twice.

So the view's columns are taken from its definition in the schema files (inference's
``view_columns``, views over views in definition order), one sqlc column per name in
PostgreSQL's order; and wherever a query's select list holds sqlc's expansion of such a
view (the view's sqlc column names, in order, as plain column references), that run is
rewritten to the view's own list, spelled as sqlc spelled each column, with the query's
result columns to match. Only a view whose sqlc columns repeat a name is touched:
PostgreSQL refuses such a view, so sqlc's list can't be what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pglast
from pglast import ast, visitors

from sqlc_gen_psycopg.inference import Analyser
from sqlc_gen_psycopg.protocol import Query, Request, Table
from sqlc_gen_psycopg.schema_info import SchemaInfo, qualified
from sqlc_gen_psycopg.view_nullability import relation


@dataclass(frozen=True, slots=True)
class Merged:
    """One view's columns as sqlc listed them and as PostgreSQL holds them."""

    name: str
    sqlc: tuple[str, ...]
    real: tuple[str, ...]


def merge_view_columns(request: Request, schema: SchemaInfo) -> Request:
    """``request`` with each USING/NATURAL view's columns and the queries over them as
    PostgreSQL has them."""
    if not schema.views:
        return request
    tables = {qualified(t.schema, t.name): t for t in request.tables}
    relations = {
        tables[k].name: relation(tables[k]) for k in sorted(tables, key=lambda k: "." not in k)
    }
    analyser = Analyser(relations, schema)
    merged: dict[str, Merged] = {}
    for key, view in schema.views.items():
        table = tables.get(key)
        if table is None:
            continue
        sqlc_names = tuple(c.name for c in table.columns)
        if len(set(sqlc_names)) == len(sqlc_names):
            continue
        found = analyser.view_columns(view.query)
        if found is None:
            continue
        real = [*view.names, *(name for name, _ in found[len(view.names) :])]
        if None in real or len(set(real)) != len(real) or set(real) != set(sqlc_names):
            continue
        names = tuple(name for name in real if name is not None)
        first = {c.name: c for c in reversed(table.columns)}
        tables[key] = replace(table, columns=tuple(first[name] for name in names))
        merged[key] = Merged(table.name, sqlc_names, names)
        if relations.get(table.name) is not None:
            relations[table.name] = relation(tables[key])
    if not merged:
        return request
    originals = {qualified(t.schema, t.name): t for t in request.tables}
    queries = tuple(rewrite(q, tuple(merged.values()), originals) for q in request.queries)
    return replace(request, tables=tuple(tables.values()), queries=queries)


def rewrite(query: Query, views: Sequence[Merged], originals: dict[str, Table]) -> Query:
    """The query with each run of its select list that is sqlc's expansion of a merged
    view replaced by the view's own columns, its result columns likewise."""
    data = query.text  # pglast's locations count characters
    stmt = statement(data)
    targets = select_list(stmt)
    if targets is None:
        return query
    read = RelationNames()
    read(stmt)
    spans = column_spans(data, targets)
    edits: list[tuple[int, int, Merged]] = []  # (first target, count, view)
    index = 0
    while index < len(spans):
        view = view_at(spans, index, views, read.names)
        if view is None:
            index += 1
            continue
        edits.append((index, len(view.sqlc), view))
        index += len(view.sqlc)
    if not edits:
        return query
    positions = result_positions(query, originals, len(spans))
    if positions is None:
        return query
    text, columns = data, list(query.columns)
    for start, count, view in reversed(edits):
        run = spans[start : start + count]
        at = [i for i in positions[start : start + count] if i is not None]
        if at and len(at) != count:
            continue  # half in an sqlc.embed: not sqlc's expansion of this view
        spelled: dict[str | None, str] = {}
        for span in run:
            spelled.setdefault(span.name, data[span.start : span.end])
        listed = ", ".join(spelled[name] for name in view.real)
        text = text[: run[0].start] + listed + text[run[-1].end :]
        if at:  # else an sqlc.embed, whose table's corrected columns already match
            first = {columns[i].name: columns[i] for i in reversed(at)}
            columns[at[0] : at[0] + count] = [first[name] for name in view.real]
    return replace(query, text=text, columns=tuple(columns))


@dataclass(frozen=True, slots=True)
class Span:
    """A select-list entry that is a plain column reference: its name, where it is."""

    name: str | None
    qualifier: str | None
    start: int
    end: int


def statement(data: str) -> Any:
    """The query's one statement, None if it isn't one we can parse."""
    try:
        parsed = pglast.parse_sql(data)
    except pglast.parser.ParseError:
        return None
    return parsed[0].stmt if len(parsed) == 1 else None


class RelationNames(visitors.Visitor):  # type: ignore[misc]
    """Every relation a statement names: its alias (or name) -> its name."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, str] = {}

    def visit_RangeVar(self, ancestors: Any, node: Any) -> None:  # noqa: N802 (pglast's)
        self.names[node.alias.aliasname if node.alias else node.relname] = node.relname


def select_list(stmt: Any) -> tuple[Any, ...] | None:
    """The top-level select list (or RETURNING list) of the statement, if it has one."""
    if stmt is None:
        return None
    if isinstance(stmt, ast.SelectStmt):
        return tuple(stmt.targetList or ())
    clause = getattr(stmt, "returningClause", None)
    return tuple(clause.exprs or ()) if clause is not None else None


def column_spans(data: str, targets: tuple[Any, ...]) -> list[Span]:
    """Each target as a Span; an aliased one or any other expression has no name."""
    tokens = pglast.parser.scan(data)
    starting = {token.start: index for index, token in enumerate(tokens)}
    out: list[Span] = []
    for res in targets:
        node = res.val
        names = (
            [f.sval for f in node.fields if isinstance(f, ast.String)]
            if isinstance(node, ast.ColumnRef)
            else []
        )
        if res.name or not names or len(names) != len(node.fields) or len(names) > 2:
            out.append(Span(None, None, res.location, res.location))
            continue
        at = starting[node.location]
        end = tokens[at].end
        while at + 2 < len(tokens) and tokens[at + 1].name == "ASCII_46":
            at += 2
            end = tokens[at].end
        qualifier = names[0] if len(names) == 2 else None
        out.append(Span(names[-1], qualifier, node.location, end + 1))
    return out


def view_at(
    spans: list[Span], index: int, views: Sequence[Merged], read: dict[str, str]
) -> Merged | None:
    """The merged view whose sqlc column list starts at ``index`` (plain references, at
    most one qualifier): one the query reads, the qualifier's if there is one; None
    unless every such view has one real list."""
    found: list[Merged] = []
    for view in views:
        run = spans[index : index + len(view.sqlc)]
        if len(run) != len(view.sqlc) or view.name not in read.values():
            continue
        if any(s.name != n for s, n in zip(run, view.sqlc, strict=True)):
            continue
        qualifiers = {s.qualifier for s in run if s.qualifier is not None}
        if len(qualifiers) > 1 or any(read.get(q) != view.name for q in qualifiers):
            continue
        found.append(view)
    return found[0] if found and all(v.real == found[0].real for v in found) else None


def result_positions(
    query: Query, originals: dict[str, Table], count: int
) -> list[int | None] | None:
    """For each select-list entry, the index of the query column it is, None inside an
    ``sqlc.embed`` (which the embedded table's corrected columns cover); None when
    sqlc's columns don't line up with the select list."""
    positions: list[int | None] = []
    for index, column in enumerate(query.columns):
        if column.embed_table is None:
            positions.append(index)
            continue
        key = qualified(column.embed_table.schema, column.embed_table.name)
        table = originals.get(key)
        if table is None:
            return None
        positions.extend([None] * len(table.columns))
    return positions if len(positions) == count else None
