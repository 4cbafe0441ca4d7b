"""The intermediate model: what to generate, decided once, rendered by templates.

Everything the templates need is computed here (names, annotations, how each row is
decoded, which parameters are wrapped), so templates stay free of logic and every
check that can fail runs before a single file is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlc_gen_psycopg import naming
from sqlc_gen_psycopg.cardinality import always_one_row
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.inference import Analyser, Relation, StatementFacts, TargetFacts
from sqlc_gen_psycopg.options import Options, Override
from sqlc_gen_psycopg.protocol import Column, Query, Request, Table
from sqlc_gen_psycopg.pytypes import SCALARS, UNRESOLVED, PyType, normalise, wrap_list
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType

COMMANDS = frozenset(
    {":one", ":many", ":exec", ":execrows", ":execresult", ":copyfrom", ":batchexec",
     ":batchone", ":batchmany"}
)  # fmt: skip
ROW_CLASS = "__ROW__"  # stands for the row dataclass in ``decode``; the template qualifies it
BATCH_COMMANDS = frozenset({":copyfrom", ":batchexec", ":batchone", ":batchmany"})
SINGLE_ROW_COMMANDS = frozenset({":one", ":batchone"})


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    annotation: str
    doc: str = ""


@dataclass(frozen=True, slots=True)
class DataClass:
    name: str
    doc: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class EnumClass:
    name: str
    doc: str
    members: tuple[tuple[str, str], ...]
    by_value: str  # name of the value -> member dict rows are decoded through
    sql_name: str


@dataclass(frozen=True, slots=True)
class DbType:
    """A value's PostgreSQL type, kept for the manifest (what `plue-db check` compares):
    as sqlc named it (schema-qualified when sqlc qualifies it; inference's name when that
    replaced sqlc's guess), the base type the annotation maps from (domains resolved),
    and the python_type of the override that replaced the annotation, if any."""

    name: str
    array_dims: int
    base: str
    base_array_dims: int
    override: str


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    annotation: str
    dump: str  # wrapper psycopg needs for the value (``Jsonb`` for jsonb), or ""
    nullable: bool
    db_type: DbType
    source: str  # ``table.column`` the parameter is compared with or written to, or ""


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    query_name: str
    cmd: str
    constant: str
    sql: str
    doc: str
    params: tuple[Param, ...]
    returns: str  # annotation of one decoded row, "" when the query returns no rows
    decode: str  # expression turning tuple ``r`` into the row, "" when no rows
    row_class: DataClass | None
    params_class: DataClass | None
    copy_sql: str = ""
    columns: tuple[Slot, ...] = ()  # every result column, for the manifest
    always_row: bool = False  # :one/:batchone that returns a row for any data (cardinality)


@dataclass(slots=True)
class Module:
    stem: str
    source: str
    functions: list[Function] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    models: tuple[DataClass, ...]
    composites: tuple[tuple[str, DataClass], ...]  # (SQL type name, dataclass)
    enums: tuple[EnumClass, ...]
    modules: tuple[Module, ...]
    models_imports: frozenset[str]
    emit_async: bool


class Builder:
    def __init__(self, request: Request, options: Options, schema: SchemaInfo) -> None:
        self.request = request
        self.options = options
        self.schema = schema
        self.enums = {e.name: e for e in request.enums}
        self.tables = {t.name: t for t in request.tables}
        self.model_names = {
            t.name: options.rename.get(t.name, naming.model_name(t.name)) for t in request.tables
        }
        relations: dict[str, Relation] = {
            t.name: {c.name: (self.sql_type(c), c.not_null) for c in t.columns}
            for t in request.tables
        }
        self.analyser = Analyser(relations, schema)

    # -- types --------------------------------------------------------------------------
    def sql_type(self, column: Column) -> SqlType:
        return SqlType(normalise(column.type_name), column.array_dims if column.is_array else 0)

    def base_type(self, type_: SqlType) -> SqlType:
        """The type with domains resolved to their base type."""
        name, dims = type_.name, type_.array_dims
        seen: set[str] = set()
        while name in self.schema.domains and name not in seen:
            seen.add(name)
            base = self.schema.domains[name]
            name, dims = normalise(base.name), dims + base.array_dims
        return SqlType(name, dims)

    def override_for(self, type_: SqlType, base: str, column_key: str) -> Override | None:
        return self.options.by_column.get(column_key) or self.options.by_db_type.get(
            type_.name, self.options.by_db_type.get(base)
        )

    def db_type(self, type_: SqlType, named: str, column_key: str) -> DbType:
        base = self.base_type(type_)
        override = self.override_for(type_, base.name, column_key)
        return DbType(
            named or type_.name,
            type_.array_dims,
            base.name,
            base.array_dims,
            override.python_type if override else "",
        )

    def py_type(self, type_: SqlType, where: str, *, column_key: str = "", result: bool) -> PyType:
        base = self.base_type(type_)
        name, dims = base.name, base.array_dims
        override = self.override_for(type_, name, column_key)
        if override is not None:
            imports = frozenset({f"import {override.module}"} if override.module else ())
            # The annotation changes; how psycopg must be handed the value does not.
            scalar = SCALARS.get(name)
            dump = scalar.dump if scalar and not dims else ""
            return PyType(wrap_list(override.python_type, type_.array_dims), imports, dump=dump)
        if name in self.enums:
            cls = f"enums.{naming.pascal(name)}"
            enum_imports = {f"from {self.options.package} import enums"}
            if dims > 1 and result:
                raise GenerationError(
                    f"{where}: multi-dimensional arrays of enum {name} can't be decoded; "
                    f"cast the column to text[] (e.g. `col::text[]`)"
                )
            # A dict lookup is ~20x cheaper per row than calling the enum class.
            load = f"enums.{enum_lookup(name)}[{{}}]"
            if dims:
                # psycopg returns arrays of an unregistered enum as their text literal.
                load = f"load_enum_array({cls}, {{}})"
                enum_imports.add(f"from {self.options.package}._types import load_enum_array")
            return PyType(wrap_list(cls, dims), frozenset(enum_imports), load=load, enum_name=name)
        if name in self.schema.composites:
            cls = f"models.{naming.pascal(name)}"
            return PyType(
                wrap_list(cls, dims), frozenset({f"from {self.options.package} import models"})
            )
        if name in self.request.composite_type_names:
            raise GenerationError(
                f"{where}: composite type {name} is not defined by CREATE TYPE ... AS in the "
                f"schema files sqlc.yaml lists, so its fields are unknown"
            )
        scalar = SCALARS.get(name)
        if scalar is None or name in UNRESOLVED:
            raise GenerationError(
                f"{where}: PostgreSQL type {type_.name or '(unknown)'!r} can't be inferred "
                f"statically; add a cast, e.g. `... ::text` or `sqlc.arg(name)::bigint`"
            )
        imports = frozenset(i.format(package=self.options.package) for i in scalar.imports)
        annotation = wrap_list(scalar.annotation, dims)
        dump = scalar.dump if not dims else ""
        return PyType(annotation, imports, load=scalar.load, dump=dump)

    # -- package ------------------------------------------------------------------------
    def build(self) -> Package:
        models_imports: set[str] = set()
        models = tuple(self.table_model(t, models_imports) for t in self.request.tables)
        composites = tuple(
            (name, self.composite_model(name, models_imports))
            for name in self.request.composite_type_names
            if name in self.schema.composites
        )
        enums = tuple(
            EnumClass(
                name=naming.pascal(e.name),
                doc=e.comment or f"Values of the PostgreSQL enum type {e.name}.",
                members=self.enum_members(e.name, e.values),
                by_value=enum_lookup(e.name),
                sql_name=e.name,
            )
            for e in self.request.enums
        )
        modules: dict[str, Module] = {}
        seen: dict[str, str] = {}
        for query in self.request.queries:
            stem = PurePosixPath(query.filename).stem
            module = modules.setdefault(
                stem, Module(stem=naming.identifier(stem, query.filename), source=query.filename)
            )
            fn = self.function(query, module)
            where = f"{query.filename}: query {query.name}"
            for name in (fn.name, f"iter_{fn.name}"):
                if name in seen:
                    raise GenerationError(
                        f"{where}: function name {name} clashes with query {seen[name]}"
                    )
                seen[name] = query.name
            module.functions.append(fn)
        return Package(
            name=self.options.package,
            models=models,
            composites=composites,
            enums=enums,
            modules=tuple(modules[k] for k in sorted(modules)),
            models_imports=frozenset(models_imports),
            emit_async=self.options.emit_async,
        )

    def enum_members(self, type_name: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        members: dict[str, str] = {}
        for value in values:
            member = naming.enum_member(value)
            if member in members:
                raise GenerationError(
                    f"enum {type_name}: values {members[member]!r} and {value!r} both become "
                    f"the Python name {member}"
                )
            members[member] = value
        return tuple(members.items())

    def model_field(self, py: PyType, imports: set[str]) -> str:
        """A field annotation as written inside models.py, collecting what it imports
        (models.py refers to its own classes unqualified and never imports itself)."""
        own = f"from {self.options.package} import models"
        imports.update(i for i in py.imports if i != own)
        return py.annotation.replace("models.", "")

    def composite_model(self, name: str, imports: set[str]) -> DataClass:
        fields = []
        for item in self.schema.composites[name]:
            where = f"schema: composite type {name}, field {item.name}"
            type_ = SqlType(normalise(item.type.name), item.type.array_dims)
            annotation = self.model_field(self.py_type(type_, where, result=True), imports)
            fields.append(Field(naming.identifier(item.name, where), f"{annotation} | None"))
        doc = f"The PostgreSQL composite type {name} (register with register_composites)."
        return DataClass(naming.pascal(name), doc, tuple(fields))

    def table_model(self, table: Table, imports: set[str]) -> DataClass:
        fields = []
        for column in table.columns:
            where = f"schema: column {table.name}.{column.name}"
            py = self.py_type(
                self.sql_type(column),
                where,
                column_key=f"{table.name}.{column.name}",
                result=True,
            )
            annotation = self.model_field(py, imports)
            annotation = annotation if column.not_null else f"{annotation} | None"
            fields.append(Field(naming.identifier(column.name, where), annotation, column.comment))
        doc = table.comment or f"A row of the {table.name} table."
        return DataClass(self.model_names[table.name], doc, tuple(fields))

    # -- queries ------------------------------------------------------------------------
    def function(self, query: Query, module: Module) -> Function:
        where = f"{query.filename}: query {query.name}"
        if query.cmd not in COMMANDS:
            raise GenerationError(
                f"{where}: unknown command {query.cmd}; use one of {', '.join(sorted(COMMANDS))}"
            )
        fn_name = naming.identifier(naming.snake(query.name), where)
        params = self.params(query, where, module)
        sql = f"-- name: {query.name} {query.cmd}\n{query.text}\n"
        doc = "\n".join(c.strip() for c in query.comments).strip() or (
            f"Run the {query.name} query."
        )
        returns, decode, row_class = "", "", None
        columns: tuple[Slot, ...] = ()
        always_row = query.cmd in SINGLE_ROW_COMMANDS and always_one_row(query.text)
        if query.columns:
            if query.cmd not in (":one", ":many", ":batchone", ":batchmany"):
                raise GenerationError(
                    f"{where}: {query.cmd} discards the rows this query returns; "
                    f"use :one or :many, or drop RETURNING"
                )
            returns, decode, row_class, columns = self.result(
                query, where, module, always_row=always_row
            )
        elif query.cmd in (":one", ":many", ":batchone", ":batchmany"):
            raise GenerationError(f"{where}: {query.cmd} needs a query that returns rows")
        params_class = None
        copy_sql = ""
        if query.cmd in BATCH_COMMANDS:
            params_class = DataClass(
                f"{naming.pascal(query.name)}Params",
                f"One row of input for {fn_name}.",
                tuple(Field(p.name, p.annotation) for p in params),
            )
        if query.cmd == ":copyfrom":
            copy_sql = self.copy_sql(query, where)
        return Function(
            name=fn_name,
            query_name=query.name,
            cmd=query.cmd,
            constant=naming.constant(query.name),
            sql=sql,
            doc=doc,
            params=params,
            returns=returns,
            decode=decode,
            row_class=row_class,
            params_class=params_class,
            copy_sql=copy_sql,
            columns=columns,
            always_row=always_row,
        )

    def params(self, query: Query, where: str, module: Module) -> tuple[Param, ...]:
        out: list[Param] = []
        names: dict[str, int] = {}
        for p in sorted(query.params, key=lambda p: p.number):
            col = p.column
            raw_name = col.name
            if not raw_name:
                raise GenerationError(
                    f"{where}: parameter ${p.number} has no name; "
                    f"name it with sqlc.arg(name) (e.g. `ANY(sqlc.arg(ids)::bigint[])`)"
                )
            name = naming.identifier(raw_name, f"{where}: parameter ${p.number}")
            if name in names:
                raise GenerationError(
                    f"{where}: parameters ${names[name]} and ${p.number} are both named "
                    f"{name!r}; give them distinct names with sqlc.arg(...)"
                )
            names[name] = p.number
            table = col.table.name if col.table else ""
            key = f"{table}.{col.original_name or col.name}"
            py = self.py_type(
                self.sql_type(col),
                f"{where}: parameter ${p.number} ({name})",
                column_key=key,
                result=False,
            )
            module.imports.update(py.imports)
            annotation = py.annotation if col.not_null else f"{py.annotation} | None"
            if py.dump:
                module.imports.add(f"from psycopg.types.json import {py.dump}")
                module.imports.discard(f"from {self.options.package}._types import JsonValue")
                module.imports.add(f"from {self.options.package}._types import JsonInput")
                annotation = annotation.replace("JsonValue", "JsonInput")
            db_type = self.db_type(self.sql_type(col), sqlc_type_name(col), key)
            source = f"{table}.{col.original_name or col.name}" if table else ""
            out.append(Param(name, annotation, py.dump, not col.not_null, db_type, source))
        return tuple(out)

    def copy_sql(self, query: Query, where: str) -> str:
        table = query.insert_into_table
        if table is None:
            raise GenerationError(
                f"{where}: :copyfrom needs a one-row insert of parameters into a table, "
                f"with its column list"
            )
        columns = [p.column.original_name or p.column.name for p in query.params]
        quoted = ", ".join(quote_ident(c) for c in columns)
        schema = f"{quote_ident(table.schema)}." if table.schema else ""
        return f"COPY {schema}{quote_ident(table.name)} ({quoted}) FROM STDIN"

    def result(
        self, query: Query, where: str, module: Module, *, always_row: bool
    ) -> tuple[str, str, DataClass | None, tuple[Slot, ...]]:
        """The annotation of one row, how ``r`` decodes into it, its Row class if any,
        and the result columns.

        A single column is returned bare, except a nullable one from a :one/:batchone
        that may find no row: there None would mean both "no row" and NULL, so it gets
        a one-field Row class instead.
        """
        facts = self.analyser.statement(query.text)
        slots = self.slots(query, facts, where, module)
        table_model = self.whole_table_model(query, slots)
        if table_model is not None:
            module.imports.add(f"from {self.options.package} import models")
            annotation = f"models.{table_model}"
            return annotation, decode_expr(annotation, slots), None, tuple(slots)
        ambiguous_none = query.cmd in SINGLE_ROW_COMMANDS and not always_row
        if (
            len(slots) == 1
            and slots[0].embed is None
            and not (ambiguous_none and not slots[0].not_null)
        ):
            slot = slots[0]
            return slot.annotation, slot.expr, None, tuple(slots)
        fields: list[Field] = []
        seen: set[str] = set()
        for slot in slots:
            if slot.field in seen:
                raise GenerationError(
                    f"{where}: two result columns are named {slot.field!r}; alias one of them"
                )
            seen.add(slot.field)
            fields.append(Field(slot.field, slot.annotation))
        row = DataClass(f"{naming.pascal(query.name)}Row", f"A row of {query.name}.", tuple(fields))
        return row.name, decode_expr(ROW_CLASS, slots), row, tuple(slots)

    def whole_table_model(self, query: Query, slots: list[Slot]) -> str | None:
        """The model of the one table whose columns these are, in order, if any.

        Columns read through a CTE (``WITH claimed AS (UPDATE ... RETURNING *) SELECT *
        FROM claimed``) carry the CTE's name, so a source that isn't a table is matched
        against every table's column list; only a unique match counts.
        """
        if any(s.embed is not None for s in slots):
            return None
        sources = {c.table.name for c in query.columns if c.table}
        if len(sources) != 1 or any(c.table is None for c in query.columns):
            return None
        source = next(iter(sources))
        candidates = [self.tables[source]] if source in self.tables else list(self.tables.values())
        matches = [t for t in candidates if self.same_columns(query, slots, t)]
        return self.model_names[matches[0].name] if len(matches) == 1 else None

    def same_columns(self, query: Query, slots: list[Slot], table: Table) -> bool:
        if len(table.columns) != len(slots):
            return False
        return all(
            (column.name, slot.sql_type, slot.not_null)
            == (own.name, self.sql_type(own), own.not_null)
            for column, slot, own in zip(query.columns, slots, table.columns, strict=True)
        )

    def slots(
        self, query: Query, facts: StatementFacts | None, where: str, module: Module
    ) -> list[Slot]:
        targets = list(facts.targets) if facts else []
        slots: list[Slot] = []
        position = 0
        for column in query.columns:
            if column.embed_table is not None:
                slot = self.embed_slot(column, facts, position, where, module)
                position += slot.width
            else:
                target = targets[position] if position < len(targets) else None
                slot = self.column_slot(column, target, position, where, module)
                position += 1
            slots.append(slot)
        return slots

    def column_slot(
        self, column: Column, target: TargetFacts | None, index: int, where: str, module: Module
    ) -> Slot:
        raw_name = column.name
        override: bool | None = None
        if raw_name.endswith(("!", "?")):
            override = raw_name.endswith("!")
            raw_name = raw_name[:-1]
        what = f"{where}: column {raw_name or index + 1}"
        if not raw_name or raw_name == "?column?":
            raise GenerationError(f"{what}: has no name; give it an alias (`AS name`)")
        type_ = self.sql_type(column)
        if (
            target is not None
            and target.type is not None
            and (type_.name in UNRESOLVED or (target.is_aggregate and not column.table))
        ):
            type_ = target.type
        not_null = column.not_null
        if target is not None and target.nullable is not None:
            not_null = not target.nullable
        if override is not None:
            not_null = override
        table = column.table.name if column.table else ""
        py = self.py_type(
            type_, what, column_key=f"{table}.{column.original_name or raw_name}", result=True
        )
        module.imports.update(py.imports)
        annotation = py.annotation if not_null else f"{py.annotation} | None"
        expr = load_expr(py, index, not_null)
        key = f"{table}.{column.original_name or raw_name}"
        named = sqlc_type_name(column) if type_ == self.sql_type(column) else type_.name
        db_type = self.db_type(type_, named, key)
        field_name = naming.identifier(raw_name, what)
        return Slot(field_name, annotation, expr, type_, not_null, None, 1, column.name, db_type)

    def embed_slot(
        self, column: Column, facts: StatementFacts | None, start: int, where: str, module: Module
    ) -> Slot:
        assert column.embed_table is not None
        table = self.tables.get(column.embed_table.name)
        if table is None:
            raise GenerationError(f"{where}: sqlc.embed of unknown table {column.embed_table.name}")
        model = f"models.{self.model_names[table.name]}"
        module.imports.add(f"from {self.options.package} import models")
        nullable = facts is not None and any(
            facts.alias_tables.get(alias, alias) == table.name for alias in facts.nullable_relations
        )
        exprs = [  # a nullable embed is guarded as a whole below
            load_expr(
                self.py_type(self.sql_type(own), f"{where}: {table.name}.{own.name}", result=True),
                start + offset,
                own.not_null,
            )
            for offset, own in enumerate(table.columns)
        ]
        width = len(table.columns)
        if all(e == f"r[{start + k}]" for k, e in enumerate(exprs)):
            build = f"{model}(*r[{start}:{start + width}])"
        else:
            build = f"{model}({', '.join(exprs)})"
        annotation = model
        if nullable:
            probe = next((start + k for k, c in enumerate(table.columns) if c.not_null), None)
            if probe is None:
                raise GenerationError(
                    f"{where}: sqlc.embed({table.name}) on the nullable side of an outer join "
                    f"needs a NOT NULL column to tell a missing row from a row of NULLs"
                )
            build = f"None if r[{probe}] is None else {build}"
            annotation = f"{model} | None"
        field_name = naming.identifier(column.name or table.name, where)
        parts = tuple(self.embedded_column(table, own, where) for own in table.columns)
        return Slot(
            field_name, annotation, build, None, not nullable, table.name, width, "", None, parts
        )

    def embedded_column(self, table: Table, own: Column, where: str) -> Slot:
        """One column of an embedded table as the manifest lists it (its model's field)."""
        key = f"{table.name}.{own.name}"
        type_ = self.sql_type(own)
        py = self.py_type(type_, f"{where}: {key}", column_key=key, result=True)
        annotation = py.annotation if own.not_null else f"{py.annotation} | None"
        db_type = self.db_type(type_, sqlc_type_name(own), key)
        field_name = naming.identifier(own.name, where)
        return Slot(field_name, annotation, "", type_, own.not_null, None, 1, own.name, db_type)


@dataclass(frozen=True, slots=True)
class Slot:
    """One field of a result row: a column, or an embedded table spanning ``width`` columns."""

    field: str
    annotation: str
    expr: str
    sql_type: SqlType | None
    not_null: bool
    embed: str | None
    width: int
    column: str = ""  # the column's name as sqlc sent it (``total!``); "" for an embed
    db_type: DbType | None = None  # None for an embed, whose columns are its parts
    parts: tuple[Slot, ...] = ()  # an embed's columns


def sqlc_type_name(column: Column) -> str:
    """A column's type as sqlc named it, schema-qualified when sqlc qualifies it."""
    return f"{column.type_schema}.{column.type_name}" if column.type_schema else column.type_name


def load_expr(py: PyType, index: int, not_null: bool) -> str:
    """How the generated code reads column ``index`` of row ``r`` (enums need a lookup)."""
    value = f"r[{index}]"
    if not py.load:
        return value
    loaded = py.load.format(value)
    return loaded if not_null else f"None if {value} is None else {loaded}"


def enum_lookup(type_name: str) -> str:
    """Name of the generated value -> member dict of an enum type (``ISSUE_STATE_BY_VALUE``)."""
    return f"{naming.constant(type_name)}_BY_VALUE"


def decode_expr(cls: str, slots: list[Slot]) -> str:
    if all(s.expr == f"r[{i}]" for i, s in enumerate(slots)) and all(s.width == 1 for s in slots):
        return f"{cls}(*r)"
    return f"{cls}({', '.join(s.expr for s in slots)})"


def quote_ident(name: str) -> str:
    """Quote an identifier for the COPY statement we build at generation time."""
    return '"' + name.replace('"', '""') + '"'
