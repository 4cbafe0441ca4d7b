"""No import cycles in plue_db or the plugin: every import, top-level or deferred inside
a function, counts (a deferred import that closes a cycle only hides it until run time).

The graph is read from the source with ast, so nothing is imported to build it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT

PACKAGES = {
    "plue_db": ROOT / "src" / "plue_db",
    "sqlc_gen_psycopg": ROOT / "codegen" / "sqlc_gen_psycopg",
}


def module_name(package: str, root: Path, path: Path) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(module: str, is_package: bool, tree: ast.AST) -> set[str]:
    """The absolute names ``tree`` imports (``from x import y`` counts x.y, which is a
    module when y is one)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    sources = {
        module_name(package, root, path): path
        for package, root in PACKAGES.items()
        for path in root.rglob("*.py")
    }
    return {
        module: {
            name
            for name in imported(module, path.name == "__init__.py", ast.parse(path.read_text()))
            if name in sources and name != module
        }
        for module, path in sources.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "plue_db.cli" in graph and "sqlc_gen_psycopg.model.build" in graph
    assert "plue_db.servers" in graph["plue_db.typecheck.fidelity"]


def test_a_cycle_is_found() -> None:
    """Control: the search sees a cycle of three modules, and nothing in a chain."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []
