"""How generated code turns a tuple row ``r`` into Python values.

A ``Value`` reads one column (through an enum lookup when it needs one), an
``Embed`` hands its slice of the row to its model's decoder, and a ``Result`` knows
the annotation of one decoded row and the expression that decodes it. Expressions are
made here, in a ``Scope``, so templates print them and decide nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from sqlc_gen_psycopg.model.convert import Convert
from sqlc_gen_psycopg.model.kinds import ModelType
from sqlc_gen_psycopg.model.types import Scope, Symbol, TypeRef
from sqlc_gen_psycopg.schema_info import SqlType


@dataclass(frozen=True, slots=True)
class EnumLookup:
    """An enum column: ``enums.ISSUE_STATE_BY_VALUE[value]`` (a dict lookup is ~20x
    cheaper per row than calling the enum class)."""

    by_value: Symbol

    def expr(self, value: str, scope: Scope) -> str:
        return f"{self.by_value.text(scope)}[{value}]"

    def symbols(self) -> Iterator[Symbol]:
        yield self.by_value


@dataclass(frozen=True, slots=True)
class EnumArrayLoad:
    """An enum[] column, which psycopg returns as its text literal when the enum type
    isn't registered: ``load_enum_array(enums.Mood, value)``."""

    function: Symbol
    enum: Symbol

    def expr(self, value: str, scope: Scope) -> str:
        return f"{self.function.text(scope)}({self.enum.text(scope)}, {value})"

    def symbols(self) -> Iterator[Symbol]:
        yield from (self.function, self.enum)


@dataclass(frozen=True, slots=True)
class RangeLoad:
    """A range or multirange column (``dims``: array dimensions around a multirange):
    ``as_range(value)``, which passes psycopg's Range through and makes asyncpg's
    (``asyncpg.Range``; a multirange: a list of them) psycopg's, so the models both
    drivers share hold one type."""

    function: Symbol
    dims: int = 0

    def expr(self, value: str, scope: Scope) -> str:
        dims = f", {self.dims}" if self.dims else ""
        return f"{self.function.text(scope)}({value}{dims})"

    def symbols(self) -> Iterator[Symbol]:
        yield self.function


Loader = EnumLookup | EnumArrayLoad | RangeLoad | Convert


@dataclass(frozen=True, slots=True)
class Value:
    """Column ``index`` of the row; ``loader`` None when psycopg's value is the result."""

    index: int
    loader: Loader | None
    not_null: bool

    @property
    def passthrough(self) -> bool:
        return self.loader is None

    def expr(self, scope: Scope) -> str:
        value = f"r[{self.index}]"
        if self.loader is None:
            return value
        loaded = self.loader.expr(value, scope)
        return loaded if self.not_null else f"None if {value} is None else {loaded}"

    def symbols(self) -> Iterator[Symbol]:
        if self.loader is not None:
            yield from self.loader.symbols()


@dataclass(frozen=True, slots=True)
class Embed:
    """An ``sqlc.embed(table)``: ``width`` columns from ``start`` decoded by the table's
    model decoder; on an outer join's nullable side, None when the NOT NULL column at
    ``probe`` is NULL."""

    decoder: Symbol
    start: int
    width: int
    probe: int | None
    caller: str = ""  # the function's name, for a decoder with a typed json column

    @property
    def passthrough(self) -> bool:
        return False

    def expr(self, scope: Scope) -> str:
        caller = f", {self.caller}" if self.caller else ""
        call = f"{self.decoder.text(scope)}(r[{self.start}:{self.start + self.width}]{caller})"
        return call if self.probe is None else f"None if r[{self.probe}] is None else {call}"

    def symbols(self) -> Iterator[Symbol]:
        yield self.decoder


@dataclass(frozen=True, slots=True)
class DbType:
    """A value's PostgreSQL type, kept for the manifest (what `plue-db check` compares):
    as sqlc named it (schema-qualified when sqlc qualifies it; inference's name when that
    replaced sqlc's guess), the base type the annotation maps from (domains resolved),
    and the python_type of the override that replaced the annotation, if any, with its
    converter's functions (dotted paths; "" without one)."""

    name: str
    array_dims: int
    base: str
    base_array_dims: int
    override: str
    from_db: str = ""
    to_db: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a result row: a column, or an embedded table (its columns in
    ``parts``), with what the manifest records about it."""

    field: str
    ref: TypeRef
    value: Value | Embed
    not_null: bool
    embed: str | None = None  # the embedded table
    name: str = ""  # the column's name as sqlc sent it (``total!``); "" for an embed
    db_type: DbType | None = None  # None for an embed, whose columns are its parts
    sql_type: SqlType | None = None  # the type the annotation was made from; None for an embed
    parts: tuple[Column, ...] = ()


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    ref: TypeRef
    doc: str = ""


@dataclass(frozen=True, slots=True)
class DataClass:
    """A generated class (``@dataclass(slots=True)``, or the row classes' ``kind``: see
    kinds.py), and the symbol other modules use for it."""

    symbol: Symbol
    doc: str
    fields: tuple[Field, ...]
    kind: ModelType = ModelType.DATACLASS

    @property
    def name(self) -> str:
        return self.symbol.name

    def symbols(self) -> Iterator[Symbol]:
        yield from self.kind.class_symbols()
        for item in self.fields:
            yield from item.ref.symbols()

    def build(self, values: tuple[Value | Embed, ...], scope: Scope) -> str:
        """The class from one row: ``Cls(*r)`` when the row passes through and the
        kind takes positional arguments, else each value (positionally: keyword
        arguments cost about twice as much per row; see docs/generated-api.md)."""
        cls = self.symbol.text(scope)
        if self.kind.positional and passes_through(values):
            return f"{cls}(*r)"
        names = (item.name for item in self.fields)
        return self.kind.construct(
            cls, [(n, v.expr(scope)) for n, v in zip(names, values, strict=True)]
        )


def private_aliases(classes: Iterable[DataClass], scope: Scope) -> Scope:
    """``scope`` with a private alias (``import datetime as _datetime``) for each module
    a field name would hide from the annotations after it in its class body: a field
    ``datetime`` before one typed ``datetime.date`` makes that annotation the field."""
    aliases = dict(scope.aliases)
    for cls in classes:
        fields = {item.name for item in cls.fields}
        for item in cls.fields:
            for symbol in item.ref.symbols():
                if symbol.binds(scope) in fields and symbol.module != scope.module:
                    module = scope.resolve(symbol.module)
                    aliases[module] = "_" + module.replace(".", "_")
    return replace(scope, aliases=aliases)


def passes_through(values: tuple[Value | Embed, ...]) -> bool:
    """The row holds exactly these fields as psycopg returns them (``Cls(*r)`` works)."""
    return all(
        isinstance(v, Value) and v.passthrough and v.index == i for i, v in enumerate(values)
    )


@dataclass(frozen=True, slots=True)
class ModelResult:
    """Rows that are exactly one table's columns: its model, via ``models.load_x(r)``."""

    ref: TypeRef
    decoder: Symbol
    columns: tuple[Column, ...]
    caller: str = ""  # the function's name, for a decoder with a typed json column

    @property
    def row_class(self) -> None:
        return None

    @property
    def typed(self) -> bool:
        """``decode`` is a call type checkers know the type of (``r[0]`` is ``Any``)."""
        return True

    def decode(self, scope: Scope) -> str:
        caller = f", {self.caller}" if self.caller else ""
        return f"{self.decoder.text(scope)}(r{caller})"

    def symbols(self) -> Iterator[Symbol]:
        yield from self.ref.symbols()
        yield self.decoder


@dataclass(frozen=True, slots=True)
class ScalarResult:
    """One column, returned bare."""

    column: Column

    @property
    def ref(self) -> TypeRef:
        return self.column.ref

    @property
    def columns(self) -> tuple[Column, ...]:
        return (self.column,)

    @property
    def row_class(self) -> None:
        return None

    @property
    def typed(self) -> bool:
        return False

    def decode(self, scope: Scope) -> str:
        return self.column.value.expr(scope)

    def symbols(self) -> Iterator[Symbol]:
        yield from self.ref.symbols()
        yield from self.column.value.symbols()


@dataclass(frozen=True, slots=True)
class RowResult:
    """Any other shape: a ``<Query>Row`` dataclass defined next to the function."""

    row_class: DataClass
    columns: tuple[Column, ...]

    @property
    def ref(self) -> TypeRef:
        return TypeRef(self.row_class.symbol)

    @property
    def typed(self) -> bool:
        return True

    def decode(self, scope: Scope) -> str:
        return self.row_class.build(tuple(c.value for c in self.columns), scope)

    def symbols(self) -> Iterator[Symbol]:
        yield self.row_class.symbol
        for column in self.columns:
            yield from column.value.symbols()


Result = ModelResult | ScalarResult | RowResult
