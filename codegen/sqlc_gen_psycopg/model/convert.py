"""A converter's function applied to a value (option ``overrides`` with ``from_db`` and
``to_db``): the user's own type on the Python side, the driver's value on the other.

One expression serves both directions, so reads and writes can't disagree about arrays:
an array's elements are converted one by one (a NULL element where the annotation
allows one stays None), and a NULL value is guarded by its caller (``Value.expr``,
``Param.arg``), so a converter never sees None.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlc_gen_psycopg.model.types import Scope, Symbol, attribute

# The parameter of a models decoder with a typed json column: who called it, which its
# JsonShapeError names (the query functions pass their name).
CALLER = "caller"


@dataclass(frozen=True, slots=True)
class Convert:
    """``function`` (``from_db`` on a read, ``to_db`` on a write) on a value of ``dims``
    array dimensions whose innermost elements may be NULL when ``null_items``. A typed
    json column's reader (option json_types) also takes the ``shape`` and, for its
    error, the ``caller`` (an expression: the function's name, or a models decoder's
    ``caller`` parameter) and the ``column``:
    ``json_shape(Plan, r[4], "get_plan", "workflows.plan")``."""

    function: Symbol
    dims: int = 0
    null_items: bool = False
    shape: Symbol | None = None
    caller: str = ""
    column: str = ""

    def expr(self, value: str, scope: Scope) -> str:
        return apply(lambda v: self.call(v, scope), self.dims, value, null_items=self.null_items)

    def call(self, value: str, scope: Scope) -> str:
        """The function on one (non-NULL) value."""
        if self.shape is None:
            return f"{self.function.text(scope)}({value})"
        shape, column = self.shape.text(scope), json.dumps(self.column)
        return f"{self.function.text(scope)}({shape}, {value}, {self.caller}, {column})"

    def symbols(self) -> Iterator[Symbol]:
        yield self.function
        if self.shape is not None:
            yield self.shape


def apply(call: Callable[[str], str], dims: int, value: str, *, null_items: bool) -> str:
    """``f(value)``, or for an array ``[f(_e1) for _e1 in value]`` nested ``dims`` deep
    (PostgreSQL's sub-arrays are never NULL; only the innermost elements may be)."""
    if not dims:
        return call(value)
    item = f"_e{dims}"
    inner = apply(call, dims - 1, item, null_items=null_items)
    if dims == 1 and null_items:
        inner = f"None if {item} is None else {inner}"
    return f"[{inner} for {item} in {value}]"


def function(path: str) -> Symbol:
    """A dotted path from sqlc.yaml (``shop.money.load``) as ``import shop.money``."""
    module, _, name = path.rpartition(".")
    return attribute(module, name)
