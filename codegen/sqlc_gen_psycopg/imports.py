"""Imports computed from the finished model, as sqlc's Go generator does in importer.go.

Each generated file's imports are the symbols its model uses (annotations, decoders,
wrappers) plus the runtime helpers its commands print, resolved in that file's
``Scope``. Nothing is collected while the model is built, and nothing is pruned
afterwards: render.py makes ruff fail generation on an unused or a missing name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlc_gen_psycopg.model.commands import Command
from sqlc_gen_psycopg.model.package import Flavor, Function, Module, Package
from sqlc_gen_psycopg.model.types import (
    Import,
    Scope,
    Symbol,
    attribute,
    from_import,
    from_runtime,
)

ANY = from_import("typing", "Any")
DATACLASS = from_import("dataclasses", "dataclass")
FINAL = from_import("typing", "Final")
GENERIC = from_import("typing", "Generic")
TYPE_VAR = from_import("typing", "TypeVar")
LITERAL_STRING = from_import("typing", "LiteralString")
ITERABLE = from_import("collections.abc", "Iterable")
SEQUENCE = from_import("collections.abc", "Sequence")
THREAD_CURSOR = from_runtime("cursors", "thread_cursor")
NO_ROW = from_import(".types", "NoRowError")
READ_ONLY_ERROR = from_import(".types", "ReadOnlyConnectionError")
RAISE_NAMED = from_import(".errors", "raise_named")
INTEGRITY_ERROR = attribute("psycopg", "IntegrityError")
ROWCOUNT = from_runtime("asyncpg_target", "rowcount")
ASYNCPG_RAISE_NAMED = from_import("._asyncpg", "raise_named")
COMPOSITE_RUNTIME = (
    ANY,
    attribute("psycopg", "Connection"),
    from_import("typing", "Final"),
    from_import("typing", "NamedTuple"),
    from_import("psycopg.types.composite", "CompositeInfo"),
    from_import("psycopg.types.composite", "register_composite"),
)
SINGLE_STATEMENT = (Command.ONE, Command.MANY, Command.EXEC, Command.EXECROWS, Command.EXECRESULT)


def lines(symbols: Iterable[Symbol], scope: Scope) -> list[str]:
    """Sorted import statements for ``symbols`` as written in ``scope``."""
    needed: set[Import] = set()
    for symbol in symbols:
        found = symbol.import_(scope)
        if found is not None:
            needed.add(found)
    return sorted(i.line() for i in needed)


def command_runtime(fn: Function, flavor: Flavor) -> Iterator[Symbol]:
    """The helpers the template of ``fn``'s command prints in ``flavor``: those every
    driver's templates print alike, then the driver's own."""
    if fn.streams:
        yield flavor.stream
        yield from flavor.generator(fn.row).symbols()
    if fn.command.batch:
        yield from (ITERABLE, flavor.atomic)
        assert fn.params_class is not None
        yield fn.params_class.symbol
    if fn.always_row:
        yield NO_ROW
    if flavor.driver == "asyncpg":
        yield from asyncpg_runtime(fn)
    else:
        yield from psycopg_runtime(fn, flavor)


def asyncpg_runtime(fn: Function) -> Iterator[Symbol]:
    """The helpers only the asyncpg templates (templates/functions/asyncpg) print for ``fn``."""
    if fn.command in (Command.EXECROWS, Command.EXECRESULT, Command.COPYFROM):
        yield ROWCOUNT
    if fn.translates_errors:
        yield ASYNCPG_RAISE_NAMED


def psycopg_runtime(fn: Function, flavor: Flavor) -> Iterator[Symbol]:
    """The helpers only the psycopg templates print for ``fn``."""
    if fn.command in SINGLE_STATEMENT:
        assert flavor.completed is not None
        yield from (flavor.raw_cursor if flavor.aio else THREAD_CURSOR, flavor.completed)
    if fn.command.batch:
        yield flavor.raw_cursor
    if fn.translates_errors:
        yield from (INTEGRITY_ERROR, RAISE_NAMED)
    if not fn.access.read_only:
        yield READ_ONLY_ERROR


def function_symbols(fn: Function, flavor: Flavor) -> Iterator[Symbol]:
    """Every name ``fn``'s function text uses in a module of ``flavor``."""
    yield from flavor.connection.symbols()
    yield fn.constant
    yield from fn.returns.symbols()
    if fn.params_class is not None:  # a batch's rows, or the parameter object
        yield fn.params_class.symbol
    for param in fn.params:
        if fn.params_class is None:  # else only the Params class's fields annotate them
            yield from param.ref.symbols()
        wrapper = param.wrapper(flavor.driver)  # Jsonb; on asyncpg only JsonItem in arrays
        if wrapper is not None:
            yield wrapper
        yield from param.checks
        if param.to_db is not None:
            yield from param.to_db.symbols()
    if fn.result is not None:
        yield from fn.result.symbols()
    yield from command_runtime(fn, flavor)


def module_symbols(module: Module, flavor: Flavor, *, classes: bool) -> Iterator[Symbol]:
    """A query module: its functions, and in the sync one the constants and classes;
    with ``classes`` its ``Queries`` class, a dataclass using what its functions use."""
    for fn in module.functions:
        yield from function_symbols(fn, flavor)
    if classes:
        yield DATACLASS
    if flavor.driver == "psycopg":
        yield FINAL  # READ_ONLY_FUNCTIONS
        if flavor.aio:
            yield module.read_only_constant
    if not flavor.aio:
        yield LITERAL_STRING
        for cls in module.classes():
            yield from cls.symbols()


def query_module(module: Module, flavor: Flavor, scope: Scope, *, classes: bool) -> list[str]:
    return lines(module_symbols(module, flavor, classes=classes), scope)


def models_symbols(pkg: Package) -> Iterator[Symbol]:
    for model in pkg.models:
        yield from (SEQUENCE, ANY)
        yield from model.symbols()
    for composite in pkg.composites:
        yield from COMPOSITE_RUNTIME
        yield from pkg.model_type.composite_symbols()
        yield from composite.cls.symbols()


def models_module(pkg: Package, scope: Scope) -> list[str]:
    return lines(models_symbols(pkg), scope)


def enums_module(pkg: Package, scope: Scope) -> list[str]:
    """``ByValue`` always; ``Final`` for the lookup dicts when there are enums."""
    symbols = [from_import("enum", "StrEnum"), GENERIC, TYPE_VAR]
    if pkg.enums:
        symbols.append(FINAL)
    return lines(symbols, scope)
