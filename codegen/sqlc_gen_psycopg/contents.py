"""What a package holds besides its query modules and models: the public ``types`` its
code uses, computed from the finished model as imports.py computes imports
(codegen/README.md, "What a package contains").

The helpers every package shares (streams, cursors, pipelines, value checks, typed
json) are imported from sqlc-gen-psycopg-runtime, never copied in. ``types.py``
re-exports from the runtime the names the package's code uses and the errors the
runtime's helpers it calls can raise, so callers find every class to catch in their own
package. ``errors`` and ``types`` are always written; ``enums`` when the schema has enums
(render.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlc_gen_psycopg import imports
from sqlc_gen_psycopg.model.package import ASYNCPG, Package
from sqlc_gen_psycopg.model.types import RUNTIME, Symbol

TYPES = ".types"
# The error a helper module raises to the caller, by the module its functions come from.
RAISES: dict[str, str] = {
    f"{RUNTIME}.streams": "StreamEndedError",
    f"{RUNTIME}.values": "ParameterValueError",
    f"{RUNTIME}.json_shapes": "JsonShapeError",
    f"{RUNTIME}.asyncpg_target": "StreamEndedError",
}


@dataclass(frozen=True, slots=True)
class Contents:
    types: frozenset[str]  # the names types.py re-exports from the runtime

    def __contains__(self, name: str) -> bool:
        """``"NoRowError" in uses``: whether types.py offers the name (the template asks)."""
        return name in self.types


def used_symbols(pkg: Package) -> Iterator[Symbol]:
    """Every name the query modules (in each flavor) and models.py import."""
    for flavor in pkg.flavors:
        source = pkg.for_asyncpg() if flavor is ASYNCPG else pkg
        for module in source.modules:
            yield from imports.module_symbols(module, flavor, classes=pkg.emit_classes)
    yield from imports.models_symbols(pkg)


def contents(pkg: Package) -> Contents:
    """The public types ``pkg``'s code uses or can raise through a runtime helper."""
    used = list(used_symbols(pkg))
    names = {s.name for s in used if s.module == TYPES}
    names |= {RAISES[s.module] for s in used if s.module in RAISES}
    if pkg.emit_asyncpg:
        names.add(RAISES[f"{RUNTIME}.asyncpg_target"])
    return Contents(frozenset(names))
