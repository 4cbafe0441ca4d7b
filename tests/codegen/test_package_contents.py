"""A package holds only the helper modules and public types its code uses (issue 18,
"Output a reader can take in"; sqlc_gen_psycopg/contents.py).

tests/golden/authors_example is sqlc's examples/authors (one table, :one/:many/:one/
:exec). Before contents.py every package got every helper module: that example was 923
lines of Python in 14 files (1159 with _pipeline.py), against 140 for
sqlc-gen-better-python and 124 for the official plugin. With only the helpers it used,
595 lines in 10 files. Now the helpers every package shares live once, in
sqlc-gen-psycopg-runtime (codegen/runtime), and the package holds only what comes from
its schema and queries: at most LIMIT lines, with every feature: sync and aio twins, an
``iter_*`` stream, a named constraint error, read-only marking and NoRowError, played
below on PostgreSQL.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import sys
from pathlib import Path

import psycopg
import pytest
import sqlc_gen_psycopg_runtime
import sqlc_gen_psycopg_runtime.types
from sqlc_gen_psycopg import contents
from sqlc_gen_psycopg.model.types import RUNTIME as RUNTIME_PACKAGE

from tests.codegen.test_golden_types import package
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = GOLDEN / "authors_example"
AUTHORS = FIXTURE / "expected" / "authors"
LIMIT = 450
# No enums.py (no enums), and no helper module: they are the runtime's.
FILES = {
    "__init__.py",
    "aio/__init__.py",
    "aio/query.py",
    "errors.py",
    "models.py",
    "query.py",
    "types.py",
}


def python_lines(root: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in root.rglob("*.py"))


def test_the_authors_example_holds_only_what_it_uses() -> None:
    files = {str(p.relative_to(AUTHORS)) for p in AUTHORS.rglob("*.py")}
    assert files == FILES
    assert python_lines(AUTHORS) <= LIMIT


def test_the_authors_example_with_its_helpers_copied_in_is_over_the_limit() -> None:
    """Negative control: the package plus copies of the runtime modules it imports (what
    every package held before the runtime) is over the limit, so the test above sees it."""
    used = ("cursors.py", "pipeline.py", "streams.py")
    copied = sum(len((RUNTIME / name).read_text().splitlines()) for name in used)
    assert python_lines(AUTHORS) + copied > LIMIT


def defined_names(path: Path) -> set[str]:
    """The names a types.py offers: the runtime's, imported and listed in ``__all__``."""
    imported: set[str] = set()
    exported: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            assert node.module == "sqlc_gen_psycopg_runtime.types"
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.Assign):
            assert isinstance(node.value, ast.List)
            exported = {
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
    assert imported == exported, path
    return exported


def test_types_defines_only_what_the_package_uses() -> None:
    assert defined_names(AUTHORS / "types.py") == {
        "NoRowError",  # create_author: an INSERT ... RETURNING returns a row
        "ReadOnlyConnectionError",  # create_author, delete_author write
        "StreamEndedError",  # iter_list_authors
    }
    every = defined_names(GOLDEN / "kitchen_sink" / "expected" / "kitchen" / "types.py")
    assert {"ExecResult", "JsonValue", "JsonInput", "ParameterValueError"} <= every


def test_every_feature_is_still_there(server_url: str) -> None:
    """Sync and async: rows, a stream, the named pkey violation, the read-only guard."""
    name = package("authors_example")
    query = importlib.import_module(f"{name}.query")
    aio = importlib.import_module(f"{name}.aio.query")
    errors = importlib.import_module(f"{name}.errors")
    types = importlib.import_module(f"{name}.types")
    # one class for every generated package: the runtime's
    assert types.NoRowError is sqlc_gen_psycopg_runtime.types.NoRowError
    assert {"get_author", "list_authors", "iter_list_authors"} == query.READ_ONLY_FUNCTIONS
    assert aio.READ_ONLY_FUNCTIONS == query.READ_ONLY_FUNCTIONS
    with fresh_database(server_url, FIXTURE / "schema.sql") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO authors (id, name) VALUES (2, 'taken')")
            first = query.create_author(conn, name="Brian", bio=None)
            assert (first.id, first.name, first.bio) == (1, "Brian", None)
            with pytest.raises(errors.AuthorsPkeyViolation):  # the sequence's next id is 2
                query.create_author(conn, name="Dennis")
            assert query.get_author(conn, id=1) == first
            assert [a.name for a in query.iter_list_authors(conn, batch_size=1)] == [
                "Brian",
                "taken",
            ]
            conn.read_only = True
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="delete_author"):
                query.delete_author(conn, id=1)

        async def run() -> list[str]:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
                await aio.delete_author(aconn, id=2)
                return [a.name async for a in aio.iter_list_authors(aconn)]

        assert asyncio.run(run()) == ["Brian"]


RUNTIME = Path(sqlc_gen_psycopg_runtime.__file__).parent
STANDARD_LIBRARY = sys.stdlib_module_names


def imported_roots(path: Path) -> dict[str, set[str]]:
    """The top-level packages ``path`` imports, and each runtime ``types`` name it imports."""
    roots: set[str] = set()
    from_types: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.partition(".")[0])
            if node.module == f"{RUNTIME_PACKAGE}.types":
                from_types |= {a.name for a in node.names}
    return {"roots": roots, "types": from_types}


def test_the_runtime_imports_psycopg_and_the_standard_library_only() -> None:
    """Its pyproject names psycopg as its one dependency; every module keeps to that."""
    for path in RUNTIME.glob("*.py"):
        roots = imported_roots(path)["roots"] - set(STANDARD_LIBRARY) - {"__future__"}
        assert roots <= {"psycopg", RUNTIME_PACKAGE}, (path.name, roots)


def test_raises_lists_the_error_each_runtime_helper_raises() -> None:
    """contents.RAISES mirrors which ``types`` error each runtime helper imports to raise,
    so a package calling that helper re-exports the class its caller catches."""
    for path in RUNTIME.glob("*.py"):
        if path.stem in {"__init__", "types"}:
            continue
        raised = imported_roots(path)["types"]
        listed = contents.RAISES.get(f"{RUNTIME_PACKAGE}.{path.stem}")
        assert raised == ({listed} if listed else set()), path.name
    # control: a helper importing an error RAISES doesn't list is seen
    atomic = RUNTIME / "atomic.py"
    assert imported_roots(atomic)["types"] == set()
    assert f"{RUNTIME_PACKAGE}.atomic" not in contents.RAISES
