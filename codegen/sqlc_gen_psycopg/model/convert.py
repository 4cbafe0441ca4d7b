"""A converter's function applied to a value (option ``overrides`` with ``from_db`` and
``to_db``): the user's own type on the Python side, the driver's value on the other.

One expression serves both directions, so reads and writes can't disagree about arrays:
an array's elements are converted one by one (a NULL element where the annotation
allows one stays None), and a NULL value is guarded by its caller (``Value.expr``,
``Param.arg``), so a converter never sees None.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlc_gen_psycopg.model.types import Scope, Symbol, attribute


@dataclass(frozen=True, slots=True)
class Convert:
    """``function`` (``from_db`` on a read, ``to_db`` on a write) on a value of ``dims``
    array dimensions whose innermost elements may be NULL when ``null_items``."""

    function: Symbol
    dims: int = 0
    null_items: bool = False

    def expr(self, value: str, scope: Scope) -> str:
        return apply(self.function.text(scope), self.dims, value, null_items=self.null_items)

    def symbols(self) -> Iterator[Symbol]:
        yield self.function


def apply(function: str, dims: int, value: str, *, null_items: bool) -> str:
    """``f(value)``, or for an array ``[f(_e1) for _e1 in value]`` nested ``dims`` deep
    (PostgreSQL's sub-arrays are never NULL; only the innermost elements may be)."""
    if not dims:
        return f"{function}({value})"
    item = f"_e{dims}"
    inner = apply(function, dims - 1, item, null_items=null_items)
    if dims == 1 and null_items:
        inner = f"None if {item} is None else {inner}"
    return f"[{inner} for {item} in {value}]"


def function(path: str) -> Symbol:
    """A dotted path from sqlc.yaml (``shop.money.load``) as ``import shop.money``."""
    module, _, name = path.rpartition(".")
    return attribute(module, name)
