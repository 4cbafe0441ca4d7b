"""The class kind of every generated class that holds a row (option ``model_type``):
table models, composite types' classes and ``<Query>Row`` classes.

Each kind knows how its class statement is written and how a decoder builds one from
values already of the annotated types (psycopg's, through the loaders of results.py).
Params classes stay dataclasses: they hold arguments, not rows.

pydantic's models are built with ``model_construct``: psycopg's values are already the
annotated types, so validation could only copy them or refuse them. For a flat row the
two cost the same, but validation walks and copies every list, dict and json document,
so its cost grows with their size (a 100-object json document: ~47x; bench/README.md,
"Model types"). Their ``model_config`` is strict, so a model a caller validates keeps
the same types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import Enum

from sqlc_gen_psycopg.model.types import Scope, Symbol, TypeRef, attribute, from_import

DATACLASS = from_import("dataclasses", "dataclass")
ASTUPLE = from_import("dataclasses", "astuple")
CALLABLE = from_import("collections.abc", "Callable")
ATTRS_DEFINE = attribute("attrs", "define")
ATTRS_ASTUPLE = attribute("attrs", "astuple")
STRUCT = attribute("msgspec", "Struct")
STRUCT_ASTUPLE = attribute("msgspec.structs", "astuple")
BASE_MODEL = attribute("pydantic", "BaseModel")
CONFIG_DICT = attribute("pydantic", "ConfigDict")
# The package's recursive JsonValue alias is a string pydantic can't resolve (it
# recurses); pydantic's own JsonValue describes the same values.
PACKAGE_JSON_VALUE = from_import(".types", "JsonValue")
PYDANTIC_JSON_VALUE = attribute("pydantic", "JsonValue")


class ModelType(Enum):
    DATACLASS = "dataclass"
    ATTRS = "attrs"
    MSGSPEC = "msgspec"
    PYDANTIC = "pydantic"

    @property
    def noun(self) -> str:
        """What the docstrings call one of its classes (plural: with ``es``)."""
        match self:
            case ModelType.DATACLASS:
                return "dataclass"
            case ModelType.ATTRS:
                return "attrs class"
            case ModelType.MSGSPEC:
                return "msgspec Struct class"
            case ModelType.PYDANTIC:
                return "pydantic model class"

    @property
    def module_names(self) -> frozenset[str]:
        """The names its imports bind at module level, which no query function may
        take (a parameter may: function bodies don't use them)."""
        if self is ModelType.DATACLASS:
            return frozenset()  # ``dataclass`` is in naming.MODULE_NAMES
        return frozenset({self.value})

    @property
    def positional(self) -> bool:
        """Its constructor takes the fields positionally (pydantic's takes keywords only)."""
        return self is not ModelType.PYDANTIC

    def class_symbols(self) -> Iterator[Symbol]:
        """What its class statement imports."""
        match self:
            case ModelType.DATACLASS:
                yield DATACLASS
            case ModelType.ATTRS:
                yield ATTRS_DEFINE
            case ModelType.MSGSPEC:
                yield STRUCT
            case ModelType.PYDANTIC:
                yield from (BASE_MODEL, CONFIG_DICT)

    def decorator(self, scope: Scope) -> str:
        """The line above ``class``, or ""."""
        match self:
            case ModelType.DATACLASS:
                return f"@{DATACLASS.text(scope)}(slots=True)"
            case ModelType.ATTRS:  # mutable, as the dataclass is
                return f"@{ATTRS_DEFINE.text(scope)}(slots=True)"
            case _:
                return ""

    def bases(self, scope: Scope) -> str:
        """``(msgspec.Struct)`` after the class name, or ""."""
        match self:
            case ModelType.MSGSPEC:
                return f"({STRUCT.text(scope)})"
            case ModelType.PYDANTIC:
                return f"({BASE_MODEL.text(scope)})"
            case _:
                return ""

    def config(self, scope: Scope) -> str:
        """pydantic's ``model_config`` line: Range and Multirange are checked by
        isinstance; strict, so validating keeps psycopg's types; no namespace is
        protected, so a column may be called ``model_id``."""
        if self is not ModelType.PYDANTIC:
            return ""
        return (
            f"model_config = {CONFIG_DICT.text(scope)}("
            "strict=True, arbitrary_types_allowed=True, protected_namespaces=())"
        )

    def field_ref(self, ref: TypeRef) -> TypeRef:
        """A field's annotation in a class of this kind."""
        if self is ModelType.PYDANTIC:
            return ref.with_symbol(PACKAGE_JSON_VALUE, PYDANTIC_JSON_VALUE)
        return ref

    def construct(self, cls: str, values: Sequence[tuple[str, str]]) -> str:
        """A class built from (field, value expression) pairs, on one line."""
        if self.positional:
            return f"{cls}({', '.join(value for _, value in values)})"
        keywords = ", ".join(f"{name}={value}" for name, value in values)
        return f"{cls}.model_construct({keywords})"

    def opening(self, cls: str) -> str:
        """What a multi-line constructor call starts with, before its ``(``."""
        return cls if self.positional else f"{cls}.model_construct"

    def argument(self, name: str, value: str) -> str:
        """One argument of a multi-line constructor call."""
        return value if self.positional else f"{name}={value}"

    def composite_symbols(self) -> Iterator[Symbol]:
        """What models.py's composite registration imports for this kind."""
        match self:
            case ModelType.DATACLASS:
                yield from (ASTUPLE, CALLABLE)
            case ModelType.ATTRS:
                yield from (ATTRS_ASTUPLE, CALLABLE)
            case ModelType.MSGSPEC:
                yield from (STRUCT_ASTUPLE, CALLABLE)
            case ModelType.PYDANTIC:
                yield BASE_MODEL

    def composite_class(self, scope: Scope) -> str:
        """The annotation of ``CompositeType.cls``."""
        if self is ModelType.PYDANTIC:
            return f"type[{BASE_MODEL.text(scope)}]"
        return f"{CALLABLE.text(scope)}[..., Any]"

    def composite_load(self) -> str:
        """``CompositeType.load``'s expression: the class from ``values``, in order."""
        if self.positional:
            return "self.cls(*values)"
        return "self.cls.model_construct(**dict(zip(self.cls.model_fields, values, strict=True)))"

    @property
    def tuple_function(self) -> str:
        """What models.py turns a composite into its field values with: dataclasses'
        ``astuple``, else its own ``composite_fields`` (body: ``fields_tuple``)."""
        return "astuple" if self.uses_astuple else "composite_fields"

    @property
    def uses_astuple(self) -> bool:
        """Its composites are written through dataclasses' ``astuple``."""
        return self is ModelType.DATACLASS

    @property
    def make_object(self) -> str:
        """``register_composite``'s maker for a class built by keyword, or "" (psycopg
        calls the class with the values in order)."""
        if self.positional:
            return ""
        return " make_object=lambda values, _: composite.load(tuple(values)),"

    @property
    def asyncpg_encoder(self) -> str:
        """The same, as the asyncpg helper module names it."""
        return "astuple" if self.uses_astuple else "models.composite_fields"

    def fields_tuple(self, obj: str, scope: Scope) -> str:
        """``composite_fields``' expression: the field values in order, not recursed
        into (a nested composite is written by its own registration); "" for a
        dataclass, which uses ``astuple``."""
        match self:
            case ModelType.ATTRS:
                return f"{ATTRS_ASTUPLE.text(scope)}({obj}, recurse=False)"
            case ModelType.MSGSPEC:
                return f"{STRUCT_ASTUPLE.text(scope)}({obj})"
            case ModelType.PYDANTIC:
                return f"tuple(value for _, value in {obj})"
            case _:
                return ""
