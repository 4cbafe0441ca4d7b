"""The generated package as a model: modules of functions, models, enums, and the
flavors the query modules are printed in (psycopg sync and async, asyncpg).

Over 400 lines on purpose: these are the records the templates print, and the two large
ones need each other: a flavor picks each function's templates (``flavor.templates(fn)``
in every query module's template) and a function's methods are printed per flavor, so
Function and Flavor can't live apart without an import cycle; the rest are small
records a Package holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlc_gen_psycopg.access import UNCLASSIFIED, Access
from sqlc_gen_psycopg.cursors import Cursor
from sqlc_gen_psycopg.model.commands import Command, Shape
from sqlc_gen_psycopg.model.convert import CALLER, Convert
from sqlc_gen_psycopg.model.kinds import ModelType
from sqlc_gen_psycopg.model.results import (
    DataClass,
    DbType,
    RangeLoad,
    Result,
    Value,
    passes_through,
)
from sqlc_gen_psycopg.model.types import (
    INT,
    NONE,
    Scope,
    Symbol,
    TypeRef,
    attribute,
    from_import,
    from_runtime,
    in_package,
    list_of,
    ref,
)
from sqlc_gen_psycopg.pytypes import MULTIRANGES, RANGES

ANY = ref(from_import("typing", "Any"))


@dataclass(frozen=True, slots=True)
class Flavor:
    """What differs between a sync query module and its async twins."""

    aio: bool
    driver: str  # "psycopg" or "asyncpg"
    name: str  # "sync", "aio" or "asyncpg": its own folder of function templates
    subpackage: str  # where its modules live: "" (the package), "aio", "asyncpg"
    def_: str
    await_: str
    with_: str
    connection: TypeRef
    raw_cursor: Symbol
    stream: Symbol
    atomic: Symbol
    closing: str
    # psycopg's block that completes a statement inside the caller's pipeline
    # (sqlc_gen_psycopg_runtime.pipeline); asyncpg has no pipeline mode
    completed: Symbol | None = None
    # the class of a module's functions as methods (option emit_classes)
    queries_class: str = "Queries"

    def generator(self, item: TypeRef) -> TypeRef:
        if self.aio:
            return ref(from_import("collections.abc", "AsyncGenerator"), item, NONE)
        return ref(from_import("collections.abc", "Generator"), item, NONE, NONE)

    def templates(self, fn: Function) -> tuple[str, ...]:
        """The templates printing ``fn`` in this flavor, its ``iter_*`` twin's last.

        A single statement's body differs between psycopg's sync and async cursors, so
        each has its own folder; batches and streams differ only in what the flavor
        prints (``await``, ``async with``), so both psycopg flavors share the driver's.
        """
        own = self.driver if fn.command.batch else self.name
        main = f"functions/{own}/{fn.shape}.py.j2"
        if fn.streams:
            return (main, f"functions/{self.driver}/{Shape.STREAM}.py.j2")
        return (main,)


SYNC = Flavor(
    aio=False,
    driver="psycopg",
    name="sync",
    subpackage="",
    def_="def",
    await_="",
    with_="with",
    connection=ref(attribute("psycopg", "Connection"), ANY),
    raw_cursor=from_runtime("cursors", "new_cursor"),
    stream=from_runtime("streams", "ServerStream"),
    atomic=from_runtime("atomic", "atomic"),
    closing="closing",
    completed=from_runtime("pipeline", "completed"),
)
ASYNC = Flavor(
    aio=True,
    driver="psycopg",
    name="aio",
    subpackage="aio",
    def_="async def",
    await_="await ",
    with_="async with",
    connection=ref(attribute("psycopg", "AsyncConnection"), ANY),
    raw_cursor=from_runtime("cursors", "new_async_cursor"),
    stream=from_runtime("streams", "AsyncServerStream"),
    atomic=from_runtime("atomic", "atomic_async"),
    closing="aclosing",
    completed=from_runtime("pipeline", "completed_async"),
    queries_class="AsyncQueries",
)
# asyncpg ships no type information: its functions take the package's own Protocol of
# the connection methods they call (templates/_asyncpg.py.j2). It has no raw cursor;
# the stream is the runtime's ``asyncpg_target.ServerStream``, a DECLAREd cursor read
# through fetchmany.
ASYNCPG = Flavor(
    aio=True,
    driver="asyncpg",
    name="asyncpg",
    subpackage="asyncpg",
    def_="async def",
    await_="await ",
    with_="async with",
    connection=ref(from_runtime("asyncpg_target", "Connection")),
    raw_cursor=from_runtime("asyncpg_target", "Connection"),
    stream=from_runtime("asyncpg_target", "ServerStream"),
    atomic=from_runtime("asyncpg_target", "atomic"),
    closing="aclosing",
    queries_class="AsyncQueries",
)
EXEC_RESULT = ref(from_import(".types", "ExecResult"))
ITERABLE = from_import("collections.abc", "Iterable")
JSON_ITEM = from_runtime("asyncpg_target", "JsonItem")
# asyncpg's codecs take only asyncpg.Range: psycopg's Range (and Multirange) made so
ASYNCPG_RANGES = {
    **dict.fromkeys(RANGES, from_runtime("asyncpg_target", "to_asyncpg_range")),
    **dict.fromkeys(MULTIRANGES, from_runtime("asyncpg_target", "to_asyncpg_multirange")),
}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    ref: TypeRef
    dump: Symbol | None  # wrapper psycopg needs for the value (``Jsonb`` for jsonb)
    nullable: bool
    db_type: DbType
    source: str  # ``table.column`` the parameter is compared with or written to, or ""
    # the runtime's ``values`` checks its value passes first, innermost first (pytypes.checks)
    checks: tuple[Symbol, ...] = ()
    where: str = ""  # ``function: parameter``, as a refused value's error names it
    to_db: Convert | None = None  # the converter's function, first of all (convert.py)

    def arg(self, scope: Scope, prefix: str, driver: str = "psycopg") -> str:
        """The value as the driver is handed it: the converter's ``to_db(x)`` if any,
        then psycopg's ``Jsonb(x)``, each element's for an array; None stays None.
        asyncpg's codecs encode json themselves, but take a list element of an array
        for a sub-array, so a json array's elements go in ``JsonItem`` there. The
        wrappers are imported by name, so print bare."""
        value = f"{prefix}{self.name}"
        checked = self.checked(self.to_db.expr(value, scope) if self.to_db else value)
        wrapper = self.wrapper(driver)
        if wrapper is None and self.to_db is None:
            return checked
        if wrapper is not None:
            checked = wrap(wrapper.name, self.db_type.base_array_dims, checked)
        return f"None if {value} is None else {checked}" if self.nullable else checked

    def wrapper(self, driver: str) -> Symbol | None:
        """What the driver needs each json value (or array element) wrapped in; on
        asyncpg, each range too."""
        if driver == "asyncpg" and self.db_type.base in ASYNCPG_RANGES:
            return ASYNCPG_RANGES[self.db_type.base]
        if self.dump is None or (driver == "asyncpg" and not self.db_type.base_array_dims):
            return None
        return self.dump if driver == "psycopg" else JSON_ITEM

    def checked(self, value: str) -> str:
        """The value after its checks (``aware(p.expires_at, "f: expires_at")``); each
        check is imported by name from the runtime's ``values``, so prints bare."""
        for check in self.checks:
            value = f'{check.name}({value}, "{self.where}")'
        return value

    def symbols(self) -> Iterator[Symbol]:
        yield from self.ref.symbols()
        if self.dump is not None:
            yield self.dump
        yield from self.checks
        if self.to_db is not None:
            yield from self.to_db.symbols()


def wrap(dump: str, dims: int, value: str) -> str:
    """``Jsonb(value)``; for an array each element wrapped (``[Jsonb(_e1) for _e1 in
    value]``: psycopg adapts a list's elements by their Python type, and a dict has none)."""
    if not dims:
        return f"{dump}({value})"
    item = f"_e{dims}"
    return f"[{wrap(dump, dims - 1, item)} for {item} in {value}]"


@dataclass(frozen=True, slots=True)
class CopyTarget:
    """The table and columns a :copyfrom writes, unquoted (asyncpg quotes them itself)."""

    schema: str
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """A constraint's exception class in the generated ``errors`` module: a subclass of
    psycopg's ``base`` (``UniqueViolation``, ...) named after the constraint."""

    cls: str
    constraint: str
    table: str
    kind: str  # "unique", "primary key", "check", "exclusion", "foreign key"
    base: str

    def describe(self) -> str:
        return f"{self.cls}: {self.kind} {self.constraint} on {self.table}"


@dataclass(frozen=True, slots=True)
class Method:
    """A method of a module's ``Queries`` class (option emit_classes): the module function
    of its name called on ``self.conn`` with the same parameters, so the two can't drift."""

    name: str
    parameters: str  # after ``self``: the function's after ``conn``
    returns: TypeRef
    arguments: str  # after ``self.conn`` in the call
    awaits: bool  # an async function (an ``iter_*`` stream's generator is returned as is)

    @property
    def def_(self) -> str:
        return "async def" if self.awaits else "def"

    @property
    def call(self) -> str:
        return f"{'await ' if self.awaits else ''}{self.name}(self.conn{self.arguments})"


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    query_name: str
    command: Command
    constant: Symbol  # the SQL constant, in the sync module
    sql: str
    doc: str
    params: tuple[Param, ...]
    result: Result | None  # None when the command returns no rows
    params_class: DataClass | None
    copy_sql: str = ""
    copy_target: CopyTarget | None = None  # for :copyfrom
    always_row: bool = False  # :one/:batchone that returns a row for any data (cardinality)
    access: Access = UNCLASSIFIED  # may it run on a replica (access.py)
    cursor: Cursor = Cursor.NONE  # the server-side cursor an iter_* twin can use (cursors.py)
    violations: tuple[Violation, ...] = ()  # what its statement can violate (violations.py)
    sections: str = ""  # Args/Returns/Raises after ``doc`` (option docstrings, docstrings.py)

    @property
    def docstring(self) -> str:
        """``doc`` and then its sections, if any."""
        return f"{self.doc}\n\n{self.sections}" if self.sections else self.doc

    @property
    def streams(self) -> bool:
        """It also gets an ``iter_<name>`` twin (a :many that PostgreSQL can DECLARE)."""
        return self.cursor is not Cursor.NONE

    @property
    def translates_errors(self) -> bool:
        """It re-raises constraint violations as the ``errors`` module's classes: every
        function that may write (one a hot standby can run violates nothing)."""
        return not self.access.read_only

    @property
    def refuses_read_only(self) -> bool:
        """Its psycopg functions check ``conn.read_only`` before sending anything: every
        function that may write."""
        return not self.access.read_only

    @property
    def shape(self) -> Shape:
        """The body its command prints (which template: ``Flavor.templates``)."""
        return Shape.of(self.command, always_row=self.always_row)

    @property
    def marker(self) -> str:
        """The SQL's first line, ``-- name: X :cmd``: names the savepoint of a batch."""
        return self.sql.split("\n")[0]

    @property
    def stream_arguments(self) -> str:
        """The stream's arguments: a locking query's cursor can't be WITH HOLD."""
        holdable = "" if self.cursor is Cursor.ANY else ", holdable=False"
        return f'conn, "{self.name}", batch_size{holdable}'

    @property
    def cursor_prefix(self) -> str:
        """The asyncpg stream's cursor names, ``<name>_<hash of its SQL>_`` and a number.

        asyncpg caches each FETCH statement with the columns of the first cursor it read,
        so a name must only ever hold this query's rows (a name alone repeats across
        modules); with the number it stays within PostgreSQL's 63 bytes.
        """
        digest = hashlib.sha256(self.sql.encode()).hexdigest()[:8]
        head = self.name.encode()[:40].decode(errors="ignore")
        return f"{head}_{digest}_"

    @property
    def row(self) -> TypeRef:
        """One decoded row (``None`` for commands without rows)."""
        return self.result.ref if self.result is not None else NONE

    @property
    def item(self) -> TypeRef:
        """What one execution of a single-row command yields."""
        return self.row.or_none(not self.always_row)

    @property
    def returns(self) -> TypeRef:
        """The main function's return annotation."""
        match self.command:
            case Command.ONE:
                return self.item
            case Command.MANY:
                return list_of(self.row)
            case Command.EXECROWS | Command.COPYFROM:
                return INT
            case Command.EXECRESULT:
                return EXEC_RESULT
            case Command.BATCHONE:
                return list_of(self.item)
            case Command.BATCHMANY:
                return list_of(self.row, 2)
            case _:
                return NONE

    @property
    def classes(self) -> tuple[DataClass, ...]:
        """The Row and Params dataclasses defined next to the function."""
        row_class = self.result.row_class if self.result is not None else None
        return tuple(c for c in (row_class, self.params_class) if c is not None)

    @property
    def plain_classes(self) -> tuple[DataClass, ...]:
        """``classes`` but a parameter object, which prints frozen and keyword-only
        (templates/macros.j2, params_object)."""
        return tuple(c for c in self.classes if not (self.takes_object and c is self.params_class))

    @property
    def exported(self) -> tuple[str, ...]:
        """The names this function adds to its module (``iter_`` twins of streams)."""
        return (self.name, f"iter_{self.name}") if self.streams else (self.name,)

    @property
    def takes_object(self) -> bool:
        """It takes its parameters as one frozen ``<Query>Params`` (more of them than
        option query_parameter_limit allows), which its body reads as ``params.x``."""
        return self.params_class is not None and not self.command.batch

    def fields(self, scope: Scope) -> list[str]:
        """Each parameter declared (``bio: str | None = None``: those that may be NULL
        default to None), as a keyword parameter or a field of the parameter object."""
        return [
            f"{p.name}: {p.ref.text(scope)}" + (" = None" if p.nullable else "")
            for p in self.params
        ]

    def signature(self, scope: Scope) -> str:
        """Keyword-only parameters after ``conn``, or the parameter object."""
        if self.params_class is not None and self.takes_object:
            return f", params: {self.params_class.symbol.text(scope)}"
        parts = self.fields(scope)
        return "".join(f", {'*, ' if i == 0 else ''}{part}" for i, part in enumerate(parts))

    def parameters(self, scope: Scope) -> str:
        """What the main function takes after ``conn``: a batch's rows, else ``signature``."""
        if self.params_class is not None and self.command.batch:
            rows = ref(ITERABLE, ref(self.params_class.symbol))
            return f", rows: {rows.text(scope)}"
        return self.signature(scope)

    def stream_parameters(self, scope: Scope) -> str:
        """What the ``iter_*`` twin takes after ``conn``."""
        return f"{self.stream_signature(scope)}, batch_size: int = 1000"

    def methods(self, scope: Scope, flavor: Flavor) -> tuple[Method, ...]:
        """Its methods in ``flavor``'s ``Queries`` class, its ``iter_*`` twin's last."""
        keywords = "".join(f", {p.name}={p.name}" for p in self.params)
        passed = ", params" if self.takes_object else keywords
        arguments = ", rows" if self.command.batch else passed
        main = Method(self.name, self.parameters(scope), self.returns, arguments, flavor.aio)
        if not self.streams:
            return (main,)
        stream = Method(
            f"iter_{self.name}",
            self.stream_parameters(scope),
            flavor.generator(self.row),
            f"{passed}, batch_size=batch_size",
            awaits=False,
        )
        return (main, stream)

    def args(self, scope: Scope, prefix: str | None = None) -> str:
        """The parameters as the tuple handed to psycopg, each read after ``prefix``
        (by default ``params.`` from a parameter object, else bare)."""
        prefix = self.prefix if prefix is None else prefix
        values = [p.arg(scope, prefix) for p in self.params]
        return f"({values[0]},)" if len(values) == 1 else f"({', '.join(values)})"

    @property
    def prefix(self) -> str:
        """What the body reads a parameter after: ``params.`` or nothing."""
        return "params." if self.takes_object else ""

    def stream_signature(self, scope: Scope) -> str:
        """The ``iter_*`` twin's parameters: ``signature`` and then, keyword-only too,
        ``batch_size``."""
        keywords = bool(self.params) and not self.takes_object
        return self.signature(scope) + ("" if keywords else ", *")

    def positional(self, prefix: str | None = None) -> str:
        """The parameters as asyncpg's ``*args`` (``a, b``): its codecs encode json
        itself (``_asyncpg.init_connection``; ``Param.arg``)."""
        prefix = self.prefix if prefix is None else prefix
        scope = Scope("", "")  # asyncpg's wrapper prints bare
        return ", ".join(p.arg(scope, prefix, "asyncpg") for p in self.params)

    def trailing_args(self) -> str:
        """The parameters after the SQL in an asyncpg call (``, a, b``), or nothing."""
        return f", {self.positional()}" if self.params else ""

    def record(self, prefix: str) -> str:
        """The parameters as one tuple for asyncpg's executemany and COPY."""
        values = self.positional(prefix)
        return f"({values},)" if len(self.params) == 1 else f"({values})"

    def decode(self, scope: Scope) -> str:
        """The expression turning tuple ``r`` into one row."""
        assert self.result is not None, f"{self.name}: {self.command} decodes no rows"
        return self.result.decode(scope)


@dataclass(frozen=True, slots=True)
class Module:
    stem: str
    source: str
    functions: tuple[Function, ...]

    def classes(self) -> Iterator[DataClass]:
        for fn in self.functions:
            yield from fn.classes

    @property
    def read_only_constant(self) -> Symbol:
        """The sync module's ``READ_ONLY_FUNCTIONS``, which its async twin shares."""
        return in_package(f".{self.stem}", "READ_ONLY_FUNCTIONS")

    @property
    def read_only_names(self) -> list[str]:
        """Every read-only function this module defines (``iter_*`` streams included)."""
        return sorted(name for fn in self.functions if fn.access.read_only for name in fn.exported)


@dataclass(frozen=True, slots=True)
class Model:
    """A table's dataclass and its row decoder ``load_<model>`` in models.py."""

    cls: DataClass
    decoder: Symbol
    values: tuple[Value, ...]

    @property
    def star(self) -> bool:
        """The row is the fields exactly as psycopg returns them: ``Cls(*r)``."""
        return self.cls.kind.positional and passes_through(self.values)

    @property
    def takes_caller(self) -> bool:
        """A typed json column's error names who read it: the decoder takes ``caller``."""
        return any(isinstance(v.loader, Convert) and v.loader.shape for v in self.values)

    @property
    def caller_parameter(self) -> str:
        """The decoder's parameter after ``r`` when it takes one (``, caller: str = ...``)."""
        default = f"models.{self.decoder.name}"
        return f', {CALLER}: str = "{default}"' if self.takes_caller else ""

    @property
    def opening(self) -> str:
        """The decoder's call before its ``(``: the class, or pydantic's ``model_construct``."""
        return self.cls.kind.opening(self.cls.name)

    def arguments(self, scope: Scope) -> tuple[tuple[str, str], ...]:
        """Each constructor argument and the field it fills."""
        return tuple(
            (self.cls.kind.argument(item.name, value.expr(scope)), item.name)
            for value, item in zip(self.values, self.cls.fields, strict=True)
        )

    def symbols(self) -> Iterator[Symbol]:
        yield from self.cls.symbols()
        for value in self.values:
            yield from value.symbols()


@dataclass(frozen=True, slots=True)
class EnumClass:
    name: str
    doc: str
    members: tuple[tuple[str, str], ...]
    by_value: str  # name of the value -> member dict rows are decoded through
    sql_name: str


@dataclass(frozen=True, slots=True)
class Composite:
    """A composite type's dataclass and the names each driver finds the type by."""

    cls: DataClass
    regtype: str  # psycopg's ``CompositeInfo.fetch`` (``foo."PointXY"``)
    schema: str  # asyncpg's ``set_type_codec`` takes the schema and the name apart
    name: str
    field_bases: tuple[str, ...]  # each field's type, domains resolved (asyncpg_types)


@dataclass(frozen=True, slots=True)
class AsyncpgSupport:
    """What the asyncpg target adds to asyncpg's own codecs, and what it leaves out
    (asyncpg_types.py)."""

    text_types: tuple[str, ...] = ()  # pg_catalog types init_connection reads as text
    hstore: bool = False  # init_connection sets asyncpg's hstore codec
    left_out: frozenset[str] = frozenset()  # functions the asyncpg modules don't have
    ranges: bool = False  # a function passes a range: asyncpg_target.to_asyncpg_range


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    models: tuple[Model, ...]
    composites: tuple[Composite, ...]
    enums: tuple[EnumClass, ...]
    modules: tuple[Module, ...]
    emit_async: bool
    emit_asyncpg: bool = False
    emit_classes: bool = False  # a Queries class per query module (Function.methods)
    violations: tuple[Violation, ...] = ()  # every constraint's class, for the errors module
    warnings: tuple[str, ...] = ()  # one line each (notices.py), in manifest.json
    asyncpg_support: AsyncpgSupport = AsyncpgSupport()
    model_type: ModelType = ModelType.DATACLASS  # of models, composites and Row classes

    def package_exports(self, module: Module) -> list[str]:
        """The names a package's ``__init__`` re-exports from ``module``: its functions,
        except one named like a query module (``Health`` in health.sql), which would
        replace that module there; it stays ``pkg.health.health``."""
        stems = {m.stem for m in self.modules}
        return sorted(n for fn in module.functions for n in fn.exported if n not in stems)

    def module_name(self, stem: str, *, aio: bool = False) -> str:
        return f"{self.name}.aio.{stem}" if aio else f"{self.name}.{stem}"

    @property
    def loads_ranges(self) -> bool:
        """Whether a decoder reads a range through ``values.as_range`` (RangeLoad)."""
        values = [v for m in self.models for v in m.values] + [
            c.value for m in self.modules for f in m.functions if f.result for c in f.result.columns
        ]
        return any(isinstance(v, Value) and isinstance(v.loader, RangeLoad) for v in values)

    def for_asyncpg(self) -> Package:
        """The package as its asyncpg modules print it: without the functions they
        leave out (and a module left with none)."""
        left_out = self.asyncpg_support.left_out
        kept = (
            replace(m, functions=tuple(f for f in m.functions if f.name not in left_out))
            for m in self.modules
        )
        return replace(self, modules=tuple(m for m in kept if m.functions))

    @property
    def flavors(self) -> tuple[Flavor, ...]:
        """The flavors its query modules are printed in, the sync one first."""
        return (
            SYNC,
            *((ASYNC,) if self.emit_async else ()),
            *((ASYNCPG,) if self.emit_asyncpg else ()),
        )
