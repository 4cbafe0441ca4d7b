"""No import cycles in plue_db or the plugin: every import, top-level or deferred inside
a function, counts (a deferred import that closes a cycle only hides it until run time).

The graph is read from the source with ast, so nothing is imported to build it. The same
graph shows that no package reaches into another's private (``_x``) module, and that each
sub-package of plue_db imports only what its ``__init__`` docstring allows.
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


def private_reaches(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, module) for each private module (``_x``) imported from outside the
    package it lives in: a private module is its own package's business."""
    found = []
    for module, targets in graph.items():
        for target in targets:
            parent, _, name = target.rpartition(".")
            private = name.startswith("_") and not name.startswith("__")
            if private and not (module == parent or module.startswith(parent + ".")):
                found.append((module, target))
    return sorted(found)


def test_no_package_imports_another_packages_private_module() -> None:
    assert private_reaches(import_graph()) == []


def test_control_a_private_module_reached_from_outside_is_found() -> None:
    graph = {
        "p.a": {"p.b._inner"},
        "p.b.c": {"p.b._inner"},
        "p.b._inner": set(),
        "p.b": {"p.b._inner"},
    }
    assert private_reaches(graph) == [("p.a", "p.b._inner")]


# What each part of plue_db may import (its __init__ docstring says so): "top" is the
# service runtime's modules at the top level; cli dispatches into everything.
MAY_IMPORT = {
    "top": {"top", "servers"},
    "servers": {"top", "servers"},
    "typecheck": {"top", "servers", "typecheck"},
    "schema": {"top", "servers", "typecheck", "schema"},
    "mcp": {"top", "servers", "demo", "mcp"},
    "demo": {"top", "servers", "schema", "demo"},
}


def part(module: str) -> str:
    """The sub-package of plue_db ``module`` lives in, "top" for the top level, "cli"."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT):
        return parts[1]
    return "cli" if parts[1:] == ["cli"] else "top"


def layer_breaks(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (module, target)
        for module, targets in graph.items()
        if module.startswith("plue_db") and part(module) != "cli"
        for target in targets
        if target.startswith("plue_db.") and part(target) not in MAY_IMPORT[part(module)]
    )


def test_each_sub_package_imports_only_what_its_docstring_allows() -> None:
    assert layer_breaks(import_graph()) == []


def test_control_a_server_module_importing_the_schema_is_a_break() -> None:
    graph = import_graph()
    graph["plue_db.servers.embedded"] = {
        *graph["plue_db.servers.embedded"],
        "plue_db.schema.migrate",
    }
    graph["plue_db.pool"] = {*graph["plue_db.pool"], "plue_db.mcp.stats"}
    assert layer_breaks(graph) == [
        ("plue_db.pool", "plue_db.mcp.stats"),
        ("plue_db.servers.embedded", "plue_db.schema.migrate"),
    ]
