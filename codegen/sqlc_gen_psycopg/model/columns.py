"""How a query's rows come back: a table's model, a bare column, or a Row class, and each
result column's field name, type and nullability (sqlc's, corrected by model.inference's
facts), an ``sqlc.embed`` as its table's model.

The second layer of the Builder (model.build), over model.mapping's types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlc_gen_psycopg import naming
from sqlc_gen_psycopg.analysis_mode import config_directory, database_backed
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.inference import Analyser, Relation, StatementFacts, TargetFacts
from sqlc_gen_psycopg.model import results
from sqlc_gen_psycopg.model.commands import Command
from sqlc_gen_psycopg.model.mapping import TypeMapping, sqlc_type_name
from sqlc_gen_psycopg.model.results import Column, DataClass, Embed, Field, Result, Value
from sqlc_gen_psycopg.model.types import Symbol, in_package, ref
from sqlc_gen_psycopg.notices import Notices
from sqlc_gen_psycopg.options import Options
from sqlc_gen_psycopg.places import Places
from sqlc_gen_psycopg.protocol import Column as SqlcColumn
from sqlc_gen_psycopg.protocol import Query, Request, Table
from sqlc_gen_psycopg.pytypes import UNRESOLVED
from sqlc_gen_psycopg.schema_info import SchemaInfo


class ResultColumns(TypeMapping):
    """The result side of a query; warnings about untyped values go to ``notices``."""

    def __init__(self, request: Request, options: Options, schema: SchemaInfo) -> None:
        super().__init__(request, options, schema)
        self.notices = Notices(
            Places(request.query_paths, config_directory()),
            strict_types=options.strict_types,
            static=not database_backed(request.query_paths),
        )
        self.model_fields: dict[str, tuple[Field, ...]] = {}  # model name -> its fields
        # The analyser reads relations by their unqualified name: the default schema's wins.
        relations: dict[str, Relation] = {
            t.name: {c.name: (self.sql_type(c), c.not_null) for c in t.columns}
            for t in sorted(request.tables, key=lambda t: self.key(t.schema, t.name) == t.name)
        }
        self.analyser = Analyser(relations, schema)
        self.caller_models: set[str] = set()  # models whose decoder takes ``caller``

    def row_class(self, symbol: Symbol, doc: str, fields: Iterable[Field]) -> DataClass:
        """A class holding a row, of the kind option ``model_type`` chose (kinds.py)."""
        kind = self.options.model_type
        held = tuple(replace(item, ref=kind.field_ref(item.ref)) for item in fields)
        return DataClass(symbol, doc, held, kind)

    def result(
        self,
        query: Query,
        where: str,
        stem: str,
        command: Command,
        fallbacks: list[str],
        *,
        always_row: bool,
    ) -> Result:
        """How the rows come back: a table's model, a bare column, or a Row class.

        A single column is returned bare, except a nullable one from a :one/:batchone
        that may find no row: there None would mean both "no row" and NULL, so it gets
        a one-field Row class instead.
        """
        if not query.columns and self.options.strict_names:
            raise GenerationError(f"{where}: {query.cmd} needs a query that returns columns")
        facts = self.analyser.statement(query.text)
        columns = self.columns(query, facts, where, fallbacks)
        table_model = self.whole_table_model(query, columns)
        if table_model is not None:
            # Each column is what the model's field says (read through a CTE, a column's
            # key names the CTE, which proves nothing about its array's elements).
            fields = self.model_fields[table_model]
            return results.ModelResult(
                ref(in_package(".models", table_model)),
                model_decoder(table_model),
                tuple(replace(c, ref=f.ref) for c, f in zip(columns, fields, strict=True)),
                self.reader if table_model in self.caller_models else "",
            )
        ambiguous_none = command.single_row and not always_row
        if (
            len(columns) == 1
            and columns[0].embed is None
            and not (ambiguous_none and not columns[0].not_null)
        ):
            return results.ScalarResult(columns[0])
        fields = tuple(Field(column.field, column.ref) for column in columns)
        row = self.row_class(
            in_package(f".{stem}", self.class_name(f"{naming.pascal(query.name)}Row", where)),
            f"A row of {query.name}."
            if fields
            else f"A row of {query.name}, which has no columns.",
            fields,
        )
        return results.RowResult(row, columns)

    def whole_table_model(self, query: Query, columns: tuple[Column, ...]) -> str | None:
        """The model of the one table whose columns these are, in order, if any.

        Columns read through a CTE (``WITH claimed AS (UPDATE ... RETURNING *) SELECT *
        FROM claimed``) carry the CTE's name, so a source that isn't a table is matched
        against every table's column list; only a unique match counts.
        """
        if any(c.embed is not None for c in columns):
            return None
        sources = {self.table_key(c) for c in query.columns if c.table}
        if len(sources) != 1 or any(c.table is None for c in query.columns):
            return None
        source = next(iter(sources))
        candidates = [self.tables[source]] if source in self.tables else list(self.tables.values())
        matches = [t for t in candidates if self.same_columns(query, columns, t)]
        return (
            self.model_names[self.key(matches[0].schema, matches[0].name)]
            if len(matches) == 1
            else None
        )

    def same_columns(self, query: Query, columns: tuple[Column, ...], table: Table) -> bool:
        if len(table.columns) != len(columns):
            return False
        return all(
            (sqlc.name, column.sql_type, column.not_null)
            == (own.name, self.sql_type(own), own.not_null)
            for sqlc, column, own in zip(query.columns, columns, table.columns, strict=True)
        )

    def columns(
        self,
        query: Query,
        facts: StatementFacts | None,
        where: str,
        fallbacks: list[str],
    ) -> tuple[Column, ...]:
        """The result columns, their fields named like sqlc's Go generator names them:
        an unnamed one ``column_N`` (its position), a clash numbered (``id``, ``id_2``)."""
        targets = list(facts.targets) if facts else []
        out: list[Column] = []
        scope = naming.Scope()
        position = 0
        for number, column in enumerate(query.columns, start=1):
            if column.embed_table is not None:
                built = self.embed_column(column, facts, position, where)
                position += len(built.parts)
                wanted = built.field
            else:
                target = targets[position] if position < len(targets) else None
                built = self.value_column(column, target, position, where, query)
                position += 1
                wanted = built.field or naming.fallback_column(number)
            other = scope.holder(wanted)
            if other is not None and self.options.strict_names:
                raise GenerationError(
                    f"{where}: two result columns are named {wanted!r}; alias one of them"
                )
            field = scope.claim(wanted, column.name)
            if field != built.field or not built.field:
                fallbacks.append(f"{field} for column {number}")
            out.append(replace(built, field=field))
        return tuple(out)

    def value_column(
        self,
        column: SqlcColumn,
        target: TargetFacts | None,
        index: int,
        where: str,
        query: Query,
    ) -> Column:
        raw_name = column.name
        override: bool | None = None
        if raw_name.endswith(("!", "?")):
            override = raw_name.endswith("!")
            raw_name = raw_name[:-1]
        what = f"{where}: column {raw_name or index + 1}"
        if raw_name == "?column?":  # PostgreSQL's label for an unnamed column
            raw_name = ""
        field = naming.escape(naming.python_name(raw_name), naming.ANNOTATION_BUILTINS)
        if not field and self.options.strict_names:
            raise GenerationError(f"{what}: has no name; give it an alias (`AS name`)")
        type_ = self.sql_type(column)
        # sqlc's type stands, unless it has none, or (an expression's, no table's) it is
        # wrong for aggregates, or in static mode a guess where PostgreSQL's own rule
        # gives the type (inference.TargetFacts.exact: date/time arithmetic, now()).
        if (
            target is not None
            and target.type is not None
            and (
                type_.name in UNRESOLVED
                or (
                    not column.table
                    and (target.is_aggregate or (target.exact and self.notices.static))
                )
            )
        ):
            type_ = target.type
        not_null = column.not_null
        if target is not None and target.nullable is not None:
            not_null = not target.nullable
        if override is not None:
            not_null = override
        key = f"{self.table_key(column)}.{column.original_name or raw_name}"
        mapped = self.mapped(type_, what, column_key=key, result=True)
        guessed = type_ == self.sql_type(column) and column.table is None
        if mapped.untyped or (guessed and (target is None or target.type != type_)):
            label = raw_name or str(index + 1)
            self.notices.column(query, index, label, type_.name, untyped=mapped.untyped)
        named = sqlc_type_name(column) if type_ == self.sql_type(column) else type_.name
        return Column(
            field=field,
            ref=mapped.ref.or_none(not not_null),
            value=Value(index, mapped.loader, not_null),
            not_null=not_null,
            name=column.name,
            db_type=self.db_type(type_, named, key),
            sql_type=type_,
        )

    def embed_column(
        self, column: SqlcColumn, facts: StatementFacts | None, start: int, where: str
    ) -> Column:
        assert column.embed_table is not None
        table_key = self.key(column.embed_table.schema, column.embed_table.name)
        table = self.tables.get(table_key)
        if table is None:
            raise GenerationError(f"{where}: sqlc.embed of unknown table {table_key}")
        model = self.model_names[table_key]
        nullable = facts is not None and any(
            facts.alias_tables.get(alias, alias) == table.name for alias in facts.nullable_relations
        )
        probe = None
        if nullable:
            probe = next((start + k for k, c in enumerate(table.columns) if c.not_null), None)
            if probe is None:
                raise GenerationError(
                    f"{where}: sqlc.embed({table.name}) on the nullable side of an outer join "
                    f"needs a NOT NULL column to tell a missing row from a row of NULLs"
                )
        return Column(
            field=naming.identifier(column.name or table.name, where),
            ref=ref(in_package(".models", model), optional=nullable),
            value=Embed(
                model_decoder(model),
                start,
                len(table.columns),
                probe,
                self.reader if model in self.caller_models else "",
            ),
            not_null=not nullable,
            embed=table_key,
            parts=tuple(self.embedded_column(table, own, where) for own in table.columns),
        )

    def embedded_column(self, table: Table, own: SqlcColumn, where: str) -> Column:
        """One column of an embedded table as the manifest lists it (its model's field)."""
        key = f"{self.key(table.schema, table.name)}.{own.name}"
        type_ = self.sql_type(own)
        mapped = self.mapped(type_, f"{where}: {key}", column_key=key, result=True)
        return Column(
            field=naming.identifier(own.name, where),
            ref=mapped.ref.or_none(not own.not_null),
            value=Value(0, mapped.loader, own.not_null),
            not_null=own.not_null,
            name=own.name,
            db_type=self.db_type(type_, sqlc_type_name(own), key),
            sql_type=type_,
        )


def model_decoder(model: str) -> Symbol:
    """``models.load_issue``: the row decoder generated next to the ``Issue`` model."""
    return in_package(".models", f"load_{naming.snake(model)}")
