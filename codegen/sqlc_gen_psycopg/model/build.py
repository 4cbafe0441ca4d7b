"""Building the model from sqlc's request: every decision, and every check that can fail,
happens here, before a single file is written.

Over 400 lines on purpose: every decision and check of a generation in one place, in the
order the request is read, so a failure's cause is found here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from sqlc_gen_psycopg import asyncpg_types, docstrings, naming, pytypes
from sqlc_gen_psycopg.access import Access, classify
from sqlc_gen_psycopg.analysis_mode import config_directory, database_backed
from sqlc_gen_psycopg.cardinality import always_one_row
from sqlc_gen_psycopg.constraints import violated_by
from sqlc_gen_psycopg.cursors import Cursor, cursor_for
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.inference import Analyser, Relation, StatementFacts, TargetFacts
from sqlc_gen_psycopg.model import convert
from sqlc_gen_psycopg.model.commands import Command
from sqlc_gen_psycopg.model.convert import CALLER, Convert
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
from sqlc_gen_psycopg.model.results import (
    Column,
    DataClass,
    DbType,
    Embed,
    EnumArrayLoad,
    EnumLookup,
    Field,
    Loader,
    ModelResult,
    RangeLoad,
    Result,
    RowResult,
    ScalarResult,
    Value,
)
from sqlc_gen_psycopg.model.types import (
    Symbol,
    TypeRef,
    array_of,
    from_import,
    from_runtime,
    in_package,
    ref,
    verbatim,
)
from sqlc_gen_psycopg.notices import Notices
from sqlc_gen_psycopg.options import Options, Override
from sqlc_gen_psycopg.places import Places
from sqlc_gen_psycopg.protocol import Column as SqlcColumn
from sqlc_gen_psycopg.protocol import Identifier, Query, Request, Table
from sqlc_gen_psycopg.pytypes import UNRESOLVED, PyType, normalise
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, qualified, regtype

JSON_VALUE = from_import(".types", "JsonValue")
JSON_INPUT = from_import(".types", "JsonInput")  # what json parameters accept
LOAD_ENUM_ARRAY = from_runtime("values", "load_enum_array")
# psycopg's Range whichever driver read it (results.RangeLoad)
AS_RANGE = from_runtime("values", "as_range")
AS_MULTIRANGE = from_runtime("values", "as_multirange")
LOAD_ENUM_ARRAY_NO_NULLS = from_runtime("values", "load_enum_array_no_nulls")
# option json_types: the runtime's typed-json reader and writer (json_shapes)
JSON_SHAPE = from_runtime("json_shapes", "json_shape")
JSON_SHAPE_VALUE = from_runtime("json_shapes", "json_value")


@dataclass(frozen=True, slots=True)
class Mapped:
    """A PostgreSQL type in Python: its annotation, how a read value is loaded (enums),
    and the wrapper psycopg needs to be handed a written one (json); ``untyped`` when
    sqlc typed it ``any`` (annotated ``object``: nothing is claimed); ``to_db`` the
    converter a written value goes through first (a read one's is its loader)."""

    ref: TypeRef
    loader: Loader | None = None
    dump: Symbol | None = None
    untyped: bool = False
    to_db: Convert | None = None


class Builder:
    def __init__(self, request: Request, options: Options, schema: SchemaInfo) -> None:
        self.request = request
        self.options = options
        self.schema = schema
        self.notices = Notices(
            Places(request.query_paths, config_directory()),
            strict_types=options.strict_types,
            static=not database_backed(request.query_paths),
        )
        self.proven = schema.elements.proven()  # array columns without NULL elements
        self.model_fields: dict[str, tuple[Field, ...]] = {}  # model name -> its fields
        # Tables and types by key (``users``, ``baz.users``: schema_info.qualified), so
        # two schemas' objects of one name stay apart; their classes get the schema's
        # name in front (``BazUser``). Claimed in catalog order, before any query's class.
        self.enums = {self.key(e.schema, e.name): e for e in request.enums}
        self.tables = {self.key(t.schema, t.name): t for t in request.tables}
        self.composite_keys = tuple(self.key(c.schema, c.name) for c in request.composite_types)
        self.user_types = {*self.enums, *self.composite_keys, *schema.domains, *schema.composites}
        self.classes = naming.Scope(separator="", reserved=naming.BUILTINS | naming.MODULE_NAMES)
        self.model_names = {
            key: self.class_name(
                options.rename.get(key)
                or naming.model_name(key.replace(".", "_"), options.initialisms),
                f"table {key}",
            )
            for key in self.tables
        }
        self.composite_names = {
            key: self.class_name(self.type_class(key), f"composite type {key}")
            for key in self.composite_keys
        }
        self.enum_names = {
            key: self.class_name(self.type_class(key), f"enum {key}") for key in self.enums
        }
        # The analyser reads relations by their unqualified name: the default schema's wins.
        relations: dict[str, Relation] = {
            t.name: {c.name: (self.sql_type(c), c.not_null) for c in t.columns}
            for t in sorted(request.tables, key=lambda t: self.key(t.schema, t.name) == t.name)
        }
        self.analyser = Analyser(relations, schema)
        self.violations = self.violation_classes()
        # Who reads the values being built, as a Python expression: a typed json
        # column's error names it (option json_types). A function's name; in a models
        # decoder its ``caller`` parameter, which the functions pass (CALLER).
        self.reader = ""
        self.caller_models: set[str] = set()  # models whose decoder takes ``caller``

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

    def key(self, schema: str, name: str) -> str:
        return qualified(schema, name, self.request.default_schema)

    def type_class(self, key: str) -> str:
        """An enum's or composite type's class (``mood``: ``Mood``; ``foo.mood``: ``FooMood``)."""
        return naming.pascal(key.replace(".", "_"), self.options.initialisms)

    def table_key(self, column: SqlcColumn) -> str:
        """The key of the table a column belongs to, "" for none."""
        return self.key(column.table.schema, column.table.name) if column.table else ""

    def class_name(self, wanted: str, holder: str) -> str:
        """A class name unique in the package (models, enums and Row classes never share
        one, nor a builtin or a name generated modules import)."""
        other = self.classes.holder(wanted)
        if other is not None and self.options.strict_names:
            raise GenerationError(
                f"{holder} and {other} both become the class {wanted}; rename one "
                f"(option rename, or another query name)"
            )
        return self.classes.claim(wanted, holder)

    # -- types --------------------------------------------------------------------------
    def sql_type(self, column: SqlcColumn) -> SqlType:
        dims = column.array_dims if column.is_array else 0
        return SqlType(self.type_name(column.type_schema, column.type_name), dims)

    def type_name(self, schema: str, name: str) -> str:
        """A user-defined type (enum, composite, domain) as its key, exactly as created
        (``TenantMemberRole`` from ``::"TenantMemberRole"``, ``foo.mood``); any other
        type normalised (``pg_catalog.int8`` -> ``int8``)."""
        if not schema and "." in name:  # sqlc qualifies a parameter's type in its name
            schema, _, name = name.rpartition(".")
        key = self.key(schema, name)
        return key if key in self.user_types else normalise(name)

    def base_type(self, type_: SqlType) -> SqlType:
        """The type with domains resolved to their base type."""
        name, dims = type_.name, type_.array_dims
        seen: set[str] = set()
        while name in self.schema.domains and name not in seen:
            seen.add(name)
            base = self.schema.domains[name]
            name, dims = self.type_name("", base.name), dims + base.array_dims
        return SqlType(name, dims)

    def override_for(
        self, type_: SqlType, base: str, column_key: str, *, converters: bool = True
    ) -> Override | None:
        """A column's override, else its type's or its base type's: db_type overrides are
        keyed as options.py normalises them (``"Mood"``, ``audit.level``: ``mood``, ``level``).
        Without ``converters`` (a composite type's fields, which psycopg builds itself)
        an override with a converter doesn't count."""
        by_type = self.options.by_db_type
        found = self.options.by_column.get(column_key) or by_type.get(
            normalise(type_.name), by_type.get(normalise(base))
        )
        return None if found and found.converter and not converters else found

    def db_type(self, type_: SqlType, named: str, column_key: str) -> DbType:
        base = self.base_type(type_)
        override = self.override_for(type_, base.name, column_key)
        return DbType(
            named or type_.name,
            type_.array_dims,
            base.name,
            base.array_dims,
            override.python_type if override else "",
            override.converter.from_db if override and override.converter else "",
            override.converter.to_db if override and override.converter else "",
        )

    def mapped(
        self,
        type_: SqlType,
        where: str,
        *,
        column_key: str = "",
        result: bool,
        converters: bool = True,
    ) -> Mapped:
        """A value's Python type. A read array's elements are ``| None`` unless a CHECK
        proves the column holds no NULL element; a parameter's are what callers pass."""
        base = self.base_type(type_)
        name, dims = base.name, base.array_dims
        null_items = result and column_key not in self.proven
        override = self.override_for(type_, name, column_key, converters=converters)
        if override is not None:
            # The annotation changes; how psycopg must be handed the value does not, and
            # a converter turns the driver's value into the annotated one and back.
            annotation = ref(verbatim(override.python_type, override.module))
            scalar = pytypes.element(name)
            dump = dump_symbol(scalar) if scalar and not dims else None
            if override.json_shape:
                return self.json_shape(override, type_, name, column_key, result, null_items)
            converter = override.converter
            used = converter and (converter.from_db if result else converter.to_db)
            converted = (
                Convert(convert.function(used), type_.array_dims, null_items) if used else None
            )
            return Mapped(
                array_of(annotation, type_.array_dims, null_items=null_items),
                converted if result else None,
                dump=dump,
                to_db=None if result else converted,
            )
        if name in self.enums:
            return self.enum_type(name, dims, where, result=result, null_items=null_items)
        if name in self.schema.composites:
            composite = ref(in_package(".models", self.composite_names[name]))
            return Mapped(array_of(composite, dims, null_items=null_items))
        if name in self.composite_keys:
            raise GenerationError(
                f"{where}: composite type {name} is not defined by CREATE TYPE ... AS in the "
                f"schema files sqlc.yaml lists, so its fields are unknown"
            )
        described = pytypes.describe(name, dims, result=result)
        if described is None:  # the caller warns, naming the value (notices)
            return Mapped(pytypes.UNKNOWN.ref(), untyped=True)
        element = described.element
        loader: Loader | None = None
        if result and name in pytypes.RANGES:
            loader = RangeLoad(AS_RANGE)
        elif result and name in pytypes.MULTIRANGES:
            loader = RangeLoad(AS_MULTIRANGE, dims)
        return Mapped(
            array_of(element.ref(), described.dims, null_items=null_items),
            loader,
            dump=dump_symbol(element),  # each element's, for an array (Param.arg)
        )

    def json_shape(
        self,
        override: Override,
        type_: SqlType,
        base: str,
        column_key: str,
        result: bool,
        null_items: bool,
    ) -> Mapped:
        """A json/jsonb column given a type by option json_types: read through the
        package's ``json_shape`` (checked, or one JsonShapeError), written as json."""
        if base not in ("json", "jsonb"):
            raise GenerationError(
                f"sqlc.yaml: option json_types gives {column_key} the type "
                f"{override.python_type}, but the column is {base}, not json or jsonb"
            )
        shape = verbatim(override.python_type, override.module)
        dims = type_.array_dims
        read = Convert(JSON_SHAPE, dims, null_items, shape, self.reader, column_key)
        return Mapped(
            array_of(ref(shape), dims, null_items=null_items),
            read if result else None,
            dump=dump_symbol(scalar) if (scalar := pytypes.element(base)) else None,
            to_db=None if result else Convert(JSON_SHAPE_VALUE, dims),
        )

    def enum_type(
        self, name: str, dims: int, where: str, *, result: bool, null_items: bool
    ) -> Mapped:
        cls = in_package(".enums", self.enum_names[name])
        if dims > 1 and result:
            raise GenerationError(
                f"{where}: multi-dimensional arrays of enum {name} can't be decoded; "
                f"cast the column to text[] (e.g. `col::text[]`)"
            )
        loader: Loader = EnumLookup(in_package(".enums", enum_lookup(name)))
        if dims:
            loader = EnumArrayLoad(LOAD_ENUM_ARRAY if null_items else LOAD_ENUM_ARRAY_NO_NULLS, cls)
        return Mapped(array_of(ref(cls), dims, null_items=null_items), loader)

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

    def row_class(self, symbol: Symbol, doc: str, fields: Iterable[Field]) -> DataClass:
        """A class holding a row, of the kind option ``model_type`` chose (kinds.py)."""
        kind = self.options.model_type
        held = tuple(replace(item, ref=kind.field_ref(item.ref)) for item in fields)
        return DataClass(symbol, doc, held, kind)

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
            return ModelResult(
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
            return ScalarResult(columns[0])
        fields = tuple(Field(column.field, column.ref) for column in columns)
        row = self.row_class(
            in_package(f".{stem}", self.class_name(f"{naming.pascal(query.name)}Row", where)),
            f"A row of {query.name}."
            if fields
            else f"A row of {query.name}, which has no columns.",
            fields,
        )
        return RowResult(row, columns)

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


# What the generated errors module binds besides its constraint classes.
ERRORS_MODULE_NAMES = frozenset(
    {"annotations", "ClassVar", "ConstraintViolation", "Final", "psycopg", "raise_named"}
)


def violation_class(constraint: str, initialisms: tuple[str, ...]) -> str:
    """``users_username_lower_key`` -> ``UsersUsernameLowerKeyViolation``; a name that
    doesn't start with a letter gets ``Constraint`` in front."""
    wanted = naming.pascal(constraint, initialisms) + "Violation"
    return wanted if wanted[0].isalpha() else f"Constraint{wanted}"


def dump_symbol(py: PyType) -> Symbol | None:
    """The psycopg wrapper a written value needs (``Jsonb``), if any."""
    return from_import("psycopg.types.json", py.dump) if py.dump else None


def model_decoder(model: str) -> Symbol:
    """``models.load_issue``: the row decoder generated next to the ``Issue`` model."""
    return in_package(".models", f"load_{naming.snake(model)}")


def sqlc_type_name(column: SqlcColumn) -> str:
    """A column's type as sqlc named it, schema-qualified when sqlc qualifies it."""
    return f"{column.type_schema}.{column.type_name}" if column.type_schema else column.type_name


def enum_lookup(type_name: str) -> str:
    """Name of the generated value -> member dict of an enum type (``ISSUE_STATE_BY_VALUE``)."""
    return f"{naming.constant(type_name)}_BY_VALUE"


def quote_ident(name: str) -> str:
    """Quote an identifier for the COPY statement we build at generation time."""
    return '"' + name.replace('"', '""') + '"'
