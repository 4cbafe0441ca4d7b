"""Which Python type each PostgreSQL type becomes: domains resolved to their base type,
overrides and converters (options ``overrides``, ``json_types``), enums, composite types,
ranges; and the class names of the schema's tables and types, claimed before any query's.

The first layer of the Builder (model.build): model.columns and model.build ask it the
annotation, loader and dumper of every value they make.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlc_gen_psycopg import naming, pytypes
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model import convert
from sqlc_gen_psycopg.model.convert import Convert
from sqlc_gen_psycopg.model.results import (
    DbType,
    EnumArrayLoad,
    EnumLookup,
    Loader,
    RangeLoad,
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
from sqlc_gen_psycopg.options import Options, Override
from sqlc_gen_psycopg.protocol import Column as SqlcColumn
from sqlc_gen_psycopg.protocol import Request
from sqlc_gen_psycopg.pytypes import PyType, normalise
from sqlc_gen_psycopg.schema_info import SchemaInfo, SqlType, qualified

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


class TypeMapping:
    """The schema's types as Python: what a value of each is annotated, loaded and
    dumped as, and the names of the classes the package generates for them."""

    def __init__(self, request: Request, options: Options, schema: SchemaInfo) -> None:
        self.request = request
        self.options = options
        self.schema = schema
        self.proven = schema.elements.proven()  # array columns without NULL elements
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
        # Who reads the values being built, as a Python expression: a typed json
        # column's error names it (option json_types). A function's name; in a models
        # decoder its ``caller`` parameter, which the functions pass (CALLER).
        self.reader = ""

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
        """The type with domains resolved to their base type: the schema files' and
        information_schema's (which no schema file defines)."""
        name, dims = type_.name, type_.array_dims
        seen: set[str] = set()
        while name in self.schema.domains and name not in seen:
            seen.add(name)
            base = self.schema.domains[name]
            name, dims = self.type_name("", base.name), dims + base.array_dims
        if name not in self.user_types:
            name = pytypes.INFORMATION_SCHEMA_DOMAINS.get(name, name)
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


def dump_symbol(py: PyType) -> Symbol | None:
    """The psycopg wrapper a written value needs (``Jsonb``), if any."""
    return from_import("psycopg.types.json", py.dump) if py.dump else None


def sqlc_type_name(column: SqlcColumn) -> str:
    """A column's type as sqlc named it, schema-qualified when sqlc qualifies it."""
    return f"{column.type_schema}.{column.type_name}" if column.type_schema else column.type_name


def enum_lookup(type_name: str) -> str:
    """Name of the generated value -> member dict of an enum type (``ISSUE_STATE_BY_VALUE``)."""
    return f"{naming.constant(type_name)}_BY_VALUE"
