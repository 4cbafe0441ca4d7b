"""Building the model from sqlc's request: every decision, and every check that can fail,
happens here, before a single file is written.

The Builder is one object in three layers, one job each, since all three claim names in
one scope and tell the same notices: model.mapping turns PostgreSQL types into Python
ones, model.columns decides how each query's rows come back, and this module builds the
package: the models, enums and composite types, and each query's function and parameters.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import PurePosixPath

from sqlc_gen_psycopg import asyncpg_types, docstrings, naming, pytypes
from sqlc_gen_psycopg.access import Access, classify
from sqlc_gen_psycopg.cardinality import always_one_row
from sqlc_gen_psycopg.cursors import Cursor, cursor_for
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model.columns import ResultColumns, model_decoder
from sqlc_gen_psycopg.model.commands import Command
from sqlc_gen_psycopg.model.convert import CALLER
from sqlc_gen_psycopg.model.mapping import JSON_INPUT, JSON_VALUE, enum_lookup, sqlc_type_name
from sqlc_gen_psycopg.model.package import (
    Composite,
    CopyTarget,
    EnumClass,
    Function,
    Model,
    Module,
    Package,
    Param,
    Violation,
)
from sqlc_gen_psycopg.model.results import DataClass, Field, Result, Value
from sqlc_gen_psycopg.model.types import in_package
from sqlc_gen_psycopg.options import Options
from sqlc_gen_psycopg.protocol import Identifier, Query, Request, Table
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, regtype
from sqlc_gen_psycopg.violations import violated_by


class Builder(ResultColumns):
    def __init__(self, request: Request, options: Options, schema: SchemaInfo) -> None:
        super().__init__(request, options, schema)
        self.violations = self.violation_classes()

    def violation_classes(self) -> dict[tuple[str, str], Violation]:
        """One exception class per constraint, keyed by (table, constraint name): the
        constraint's name in CamelCase plus ``Violation`` (``users_pkey`` ->
        ``UsersPkeyViolation``); when another table's constraint has that name, the
        table's name goes in front (``MembersNameNotEmptyViolation``)."""
        scope = naming.Scope(separator="", reserved=naming.BUILTINS | ERRORS_MODULE_NAMES)
        classes: dict[tuple[str, str], Violation] = {}
        for c in self.schema.constraints.all:
            wanted = violation_class(c.name, self.options.initialisms)
            if scope.holder(wanted) is not None:  # another table's constraint of that name
                wanted = violation_class(f"{c.table}_{c.name}", self.options.initialisms)
            name = scope.claim(wanted, f"{c.table}.{c.name}")
            classes[(c.table, c.name)] = Violation(name, c.name, c.table, c.kind.value, c.kind.base)
        return classes

    # -- package ------------------------------------------------------------------------
    def build(self) -> Package:
        models = tuple(self.table_model(t) for t in self.request.tables)
        composites = tuple(
            self.composite(c)
            for c in self.request.composite_types
            if self.key(c.schema, c.name) in self.schema.composites
        )
        enums = tuple(
            EnumClass(
                name=self.enum_names[key],
                doc=e.comment or f"Values of the PostgreSQL enum type {key}.",
                members=self.enum_members(key, e.values),
                by_value=enum_lookup(key),
                sql_name=key,
            )
            for key, e in self.enums.items()
        )
        functions: dict[str, list[Function]] = {}
        sources: dict[str, str] = {}
        seen: dict[str, str] = {}
        for query in self.request.queries:
            stem = naming.identifier(
                PurePosixPath(query.filename).stem, query.filename, naming.PACKAGE_MODULES
            )
            sources.setdefault(stem, query.filename)
            fn = self.function(query, stem)
            for name in fn.exported:
                if name in seen:
                    raise GenerationError(
                        f"{query.filename}: query {query.name}: function name {name} clashes "
                        f"with query {seen[name]}"
                    )
                seen[name] = query.name
            functions.setdefault(stem, []).append(fn)
        package = Package(
            name=self.options.package,
            models=models,
            composites=composites,
            enums=enums,
            modules=tuple(
                Module(stem, sources[stem], tuple(functions[stem])) for stem in sorted(functions)
            ),
            emit_async=self.options.emit_async,
            emit_asyncpg=self.options.emit_asyncpg,
            emit_classes=self.options.emit_classes,
            model_type=self.options.model_type,
            violations=tuple(self.violations.values()),
        )
        if self.options.emit_asyncpg:  # told to notices: before the warnings are taken
            package = replace(package, asyncpg_support=asyncpg_types.support(package, self.notices))
        return replace(package, warnings=tuple(self.notices.lines))

    def enum_members(self, type_name: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        scope = naming.Scope()
        members: list[tuple[str, str]] = []
        for value in values:
            member = naming.enum_member(value)
            other = scope.holder(member)
            if other is not None and self.options.strict_names:
                raise GenerationError(
                    f"enum {type_name}: values {other!r} and {value!r} both become "
                    f"the Python name {member}"
                )
            members.append((scope.claim(member, value), value))
        return tuple(members)

    def composite(self, type_: Identifier) -> Composite:
        name = self.key(type_.schema, type_.name)
        fields = []
        bases = []
        for item in self.schema.composites[name]:
            where = f"schema: composite type {name}, field {item.name}"
            field_type = SqlType(self.type_name("", item.type.name), item.type.array_dims)
            mapped = self.mapped(field_type, where, result=True, converters=False)
            annotation = mapped.ref.or_none()
            fields.append(Field(self.field_name(item.name, where), annotation))
            bases.append(self.base_type(field_type).name)
        doc = f"The PostgreSQL composite type {name} (register with register_composites)."
        cls = self.row_class(in_package(".models", self.composite_names[name]), doc, fields)
        return Composite(cls, regtype(name), type_.schema, type_.name, tuple(bases))

    def table_model(self, table: Table) -> Model:
        fields: list[Field] = []
        values: list[Value] = []
        table_key = self.key(table.schema, table.name)
        self.reader = CALLER
        for index, column in enumerate(table.columns):
            where = f"schema: column {table_key}.{column.name}"
            mapped = self.mapped(
                self.sql_type(column),
                where,
                column_key=f"{table_key}.{column.name}",
                result=True,
            )
            name = self.field_name(column.name or f"column_{index + 1}", where)  # view's SELECT 1
            fields.append(Field(name, mapped.ref.or_none(not column.not_null), column.comment))
            values.append(Value(index, mapped.loader, column.not_null))
        name = self.model_names[table_key]
        self.model_fields[name] = tuple(fields)
        doc = table.comment or f"A row of the {table_key} table."
        model = Model(
            self.row_class(in_package(".models", name), doc, fields),
            model_decoder(name),
            tuple(values),
        )
        if model.takes_caller:
            self.caller_models.add(name)
        return model

    def field_name(self, column: str, where: str) -> str:
        """A table's or composite type's column as a dataclass field: its own name,
        escaped where it would hide a builtin the class's annotations use."""
        return naming.identifier(column, where, naming.ANNOTATION_BUILTINS)

    # -- queries ------------------------------------------------------------------------
    def function(self, query: Query, stem: str) -> Function:
        where = f"{query.filename}: query {query.name}"
        command = Command.parse(query.cmd, where)
        taken = naming.BUILTINS | naming.MODULE_NAMES | self.options.model_type.module_names
        taken |= self.options.module_names
        if self.options.emit_classes and self.options.query_parameter_limit is not None:
            taken |= {"params"}  # a method hands its parameter object, params, on to it
        fn_name = naming.identifier(naming.snake(query.name), where, taken)
        fallbacks: list[str] = []  # names sqlc's rules made up, told in the docstring
        cursor = cursor_for(query.text) if command.streams else Cursor.NONE
        streams = cursor is not Cursor.NONE
        reserved = naming.STREAM_SIGNATURE_NAMES if streams else naming.SIGNATURE_NAMES
        if self.options.emit_classes:  # a method binds self and calls the function by name
            reserved |= {"self", fn_name, f"iter_{fn_name}"}
        self.reader = json.dumps(fn_name)
        params = self.params(query, where, fallbacks, reserved, fn_name)
        always_row = command.single_row and always_one_row(query.text)
        result: Result | None = None
        if command.returns_rows:
            result = self.result(query, where, stem, command, fallbacks, always_row=always_row)
        elif query.columns and self.options.strict_names:
            raise GenerationError(
                f"{where}: {query.cmd} discards the rows this query returns; "
                f"use :one or :many, or drop RETURNING"
            )
        doc = "\n".join(c.strip() for c in query.comments).strip() or (
            f"Run the {query.name} query."
        )
        if fallbacks:
            names = ", ".join(fallbacks)
            doc += f"\n\nNames made up by sqlc's rules (choose with sqlc.arg() or AS): {names}."
        violations = tuple(
            self.violations[(c.table, c.name)]
            for c in violated_by(query.text, self.schema.constraints)
        )
        if violations and not self.options.docstrings:  # else in the Raises section
            listed = "\n".join(f"- {v.describe()}" for v in violations)
            doc += f"\n\nRaises, from {self.options.package}.errors, on a violation of:\n{listed}"
        params_class = None
        limit = self.options.query_parameter_limit
        if command.batch or (limit is not None and len(params) > limit):
            params_class = DataClass(
                in_package(
                    f".{stem}",
                    self.class_name(f"{naming.pascal(query.name)}Params", where),
                ),
                f"{'One row of input' if command.batch else 'The parameters'} for {fn_name}.",
                tuple(Field(p.name, p.ref) for p in params),
            )
        fn = Function(
            name=fn_name,
            query_name=query.name,
            command=command,
            constant=in_package(f".{stem}", naming.constant(query.name)),
            sql=f"-- name: {query.name} {query.cmd}\n{query.text}\n",
            doc=doc,
            params=params,
            result=result,
            params_class=params_class,
            copy_sql=self.copy_sql(query, where) if command is Command.COPYFROM else "",
            copy_target=self.copy_target(query) if command is Command.COPYFROM else None,
            always_row=always_row,
            cursor=cursor,
            violations=violations,
            access=Access(False, "COPY")
            if command is Command.COPYFROM
            else classify(query.text, self.schema.volatility),
        )
        if self.options.docstrings:
            return replace(fn, sections=docstrings.google(fn, self.options.package))
        return fn

    def params(
        self,
        query: Query,
        where: str,
        fallbacks: list[str],
        reserved: frozenset[str],
        fn_name: str,
    ) -> tuple[Param, ...]:
        """Parameters named as sqlc's Go generator names them: after the column they meet,
        else ``dollar_N``; a clash numbered (``id``, ``id_2``), sqlc.arg() names first;
        ``reserved`` (names the function binds) escaped. Each gets the checks its value
        passes before it is sent (pytypes.checks)."""
        ordered = sorted(query.params, key=lambda p: (not p.column.is_named_param, p.number))
        scope = naming.Scope()
        names: dict[int, str] = {}
        for p in ordered:
            what = f"{where}: parameter ${p.number}"
            wanted = naming.python_name(p.column.name)
            if not wanted and self.options.strict_names:
                raise GenerationError(
                    f"{what} has no name; "
                    f"name it with sqlc.arg(name) (e.g. `ANY(sqlc.arg(ids)::bigint[])`)"
                )
            made_up = not wanted
            wanted = naming.escape(wanted or naming.fallback_parameter(p.number), reserved)
            other = scope.holder(wanted)
            if other is not None and self.options.strict_names:
                first, second = sorted((other, f"${p.number}"))
                raise GenerationError(
                    f"{where}: parameters {first} and {second} are both named "
                    f"{wanted!r}; give them distinct names with sqlc.arg(...)"
                )
            names[p.number] = scope.claim(wanted, f"${p.number}")
            if made_up or names[p.number] != wanted:
                fallbacks.append(f"{names[p.number]} for ${p.number}")
        out: list[Param] = []
        written = self.schema.elements.written(query.text)
        for p in sorted(query.params, key=lambda p: p.number):
            col = p.column
            name = names[p.number]
            table = self.table_key(col)
            key = f"{table}.{col.original_name or col.name}"
            mapped = self.mapped(
                self.sql_type(col),
                f"{where}: parameter ${p.number} ({name})",
                column_key=key,
                result=False,
            )
            if mapped.untyped:
                self.notices.untyped_param(query, p.number, name, named=col.is_named_param)
            annotation = mapped.ref.or_none(not col.not_null)
            if mapped.dump is not None:
                annotation = annotation.with_symbol(JSON_VALUE, JSON_INPUT)
            db_type = self.db_type(self.sql_type(col), sqlc_type_name(col), key)
            source = f"{table}.{col.original_name or col.name}" if table else ""
            base = self.base_type(self.sql_type(col))
            no_nulls = key in self.proven or written.get(p.number) in self.proven
            checks = pytypes.checks(base.name, base.array_dims, no_null_items=no_nulls)
            out.append(
                Param(
                    name,
                    annotation,
                    mapped.dump,
                    not col.not_null,
                    db_type,
                    source,
                    checks,
                    f"{fn_name}: {name}",
                    mapped.to_db,
                )
            )
        return tuple(out)

    def copy_sql(self, query: Query, where: str) -> str:
        if query.insert_into_table is None:
            raise GenerationError(
                f"{where}: :copyfrom needs a one-row insert of parameters into a table, "
                f"with its column list"
            )
        target = self.copy_target(query)
        quoted = ", ".join(quote_ident(c) for c in target.columns)
        schema = f"{quote_ident(target.schema)}." if target.schema else ""
        return f"COPY {schema}{quote_ident(target.table)} ({quoted}) FROM STDIN"

    def copy_target(self, query: Query) -> CopyTarget:
        table = query.insert_into_table
        assert table is not None, "copy_sql checked it"
        columns = tuple(p.column.original_name or p.column.name for p in query.params)
        return CopyTarget(table.schema, table.name, columns)


# What the generated errors module binds besides its constraint classes.
ERRORS_MODULE_NAMES = frozenset(
    {"annotations", "ClassVar", "ConstraintViolation", "Final", "psycopg", "raise_named"}
)


def violation_class(constraint: str, initialisms: tuple[str, ...]) -> str:
    """``users_username_lower_key`` -> ``UsersUsernameLowerKeyViolation``; a name that
    doesn't start with a letter gets ``Constraint`` in front."""
    wanted = naming.pascal(constraint, initialisms) + "Violation"
    return wanted if wanted[0].isalpha() else f"Constraint{wanted}"


def quote_ident(name: str) -> str:
    """Quote an identifier for the COPY statement we build at generation time."""
    return '"' + name.replace('"', '""') + '"'
