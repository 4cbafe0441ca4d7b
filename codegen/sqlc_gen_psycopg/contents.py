"""What a package holds besides its query modules and models: the helper modules and the
public ``types`` its code uses, computed from the finished model as imports.py computes
imports (codegen/README.md, "What a package contains").

A helper module is written only when a generated module imports a name from it, or
another written helper does (``_streams`` reads cursors from ``_cursors``); ``types.py``
defines only the names something imports; ``enums`` is written when the schema has
enums (render.py). ``errors`` and ``types`` are always written: they are where callers
look for the classes to catch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlc_gen_psycopg import imports
from sqlc_gen_psycopg.model.package import ASYNCPG, Package
from sqlc_gen_psycopg.model.types import Scope, Symbol, attribute, from_import

TYPES = ".types"
# The names each helper template imports from the package (its ``from pkg... import``).
HELPER_NEEDS: dict[str, tuple[Symbol, ...]] = {
    "._atomic": (from_import("._cursors", "new_cursor"), from_import("._pipeline", "completed")),
    "._streams": (from_import("._cursors", "new_cursor"), from_import(TYPES, "StreamEndedError")),
    "._types": (from_import(TYPES, "ParameterValueError"),),
    "._asyncpg": (from_import(TYPES, "StreamEndedError"),),
    "._json_shapes": (from_import(TYPES, "JsonShapeError"),),
}

TYPE_ALIAS = from_import("typing", "TypeAlias")
ERRORS = attribute("psycopg.errors", "NoDataFound")  # ``import psycopg.errors``
# The imports each name of types.py needs.
TYPE_IMPORTS: dict[str, tuple[Symbol, ...]] = {
    "JsonValue": (TYPE_ALIAS,),
    "JsonInput": (
        TYPE_ALIAS,
        from_import("collections.abc", "Mapping"),
        from_import("collections.abc", "Sequence"),
    ),
    "Inet": (TYPE_ALIAS, attribute("ipaddress", "IPv4Address")),
    "Cidr": (TYPE_ALIAS, attribute("ipaddress", "IPv4Network")),
    "ExecResult": (from_import("typing", "NamedTuple"),),
    "NoRowError": (ERRORS,),
    "ReadOnlyConnectionError": (ERRORS,),
    "StreamEndedError": (attribute("psycopg", "ProgrammingError"),),
    "ParameterValueError": (),
    "JsonShapeError": (),
}


@dataclass(frozen=True, slots=True)
class Contents:
    helpers: frozenset[str]  # helper module files: "_cursors.py", "_streams.py", ...
    types: frozenset[str]  # the names types.py defines

    def __contains__(self, name: str) -> bool:
        """``"NoRowError" in uses``: whether types.py defines the name (the template asks)."""
        return name in self.types

    @property
    def type_imports(self) -> list[str]:
        """The import lines of types.py."""
        scope = Scope("", ".types")
        return imports.lines((s for n in self.types for s in TYPE_IMPORTS[n]), scope)


def used_symbols(pkg: Package) -> Iterator[Symbol]:
    """Every name the query modules (in each flavor) and models.py import."""
    for flavor in pkg.flavors:
        source = pkg.for_asyncpg() if flavor is ASYNCPG else pkg
        for module in source.modules:
            yield from imports.module_symbols(module, flavor, classes=pkg.emit_classes)
    yield from imports.models_symbols(pkg)
    if pkg.emit_asyncpg:
        yield from HELPER_NEEDS["._asyncpg"]


def contents(pkg: Package) -> Contents:
    """The helper modules and public types ``pkg``'s code uses, with what they use."""
    modules: set[str] = set()
    names: set[str] = set()
    pending = [s for s in used_symbols(pkg) if s.module.startswith(".")]
    while pending:
        symbol = pending.pop()
        if symbol.module == TYPES:
            names.add(symbol.name)
        elif symbol.module not in modules:
            modules.add(symbol.module)
            pending.extend(HELPER_NEEDS.get(symbol.module, ()))
    helpers = {f"{m[1:]}.py" for m in modules if m.startswith("._") and m != "._asyncpg"}
    return Contents(frozenset(helpers), frozenset(names))
