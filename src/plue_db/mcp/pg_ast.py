"""Walking pglast's parse trees: the one walker plue_db's SQL checks share.

The MCP guard (sql_guard) asks "which nodes are under here". The plugin in codegen/ is
a distribution of its own and keeps its own traversals (cardinality's, which stops at
subqueries on purpose; the type check's in analysis/typecheck.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast


def nodes(root: Any) -> Iterator[Any]:
    """Every pglast AST node under ``root``, itself included, in no promised order
    (iterative: a deep tree is bounded by the caller's input limits, not by Python's
    recursion limit)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Node):
            yield node
            stack.extend(getattr(node, name) for name in node)
        elif isinstance(node, tuple | list):
            stack.extend(node)
