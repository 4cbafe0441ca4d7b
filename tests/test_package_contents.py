"""A package holds only the helper modules and public types its code uses (issue 18,
"Output a reader can take in"; sqlc_gen_psycopg/contents.py).

tests/golden/authors_example is sqlc's examples/authors (one table, :one/:many/:one/
:exec). Before contents.py every package got every helper module: that example was 923
lines of Python in 14 files (1159 with _pipeline.py), against 140 for
sqlc-gen-better-python and 124 for the official plugin. It is now at most LIMIT lines,
and still has every feature: sync and aio twins, an ``iter_*`` stream, a named
constraint error, read-only marking and NoRowError, played below on PostgreSQL.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import re
from pathlib import Path

import psycopg
import pytest
from sqlc_gen_psycopg import contents

from tests.fix_db import fresh_database
from tests.paths import GOLDEN
from tests.test_golden_types import package

FIXTURE = GOLDEN / "authors_example"
AUTHORS = FIXTURE / "expected" / "authors"
LIMIT = 600
# What the package uses; no _atomic (no :copyfrom/:batch*), _types (no enum arrays or
# checked parameters) or enums.py (no enums).
FILES = {
    "__init__.py",
    "_cursors.py",
    "_pipeline.py",
    "_streams.py",
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


def test_the_authors_example_with_every_helper_is_over_the_limit() -> None:
    """Negative control: the package plus the helper modules every package got before
    (kitchen_sink's, which uses them all) is over the limit, so the test above sees it."""
    kitchen = GOLDEN / "kitchen_sink" / "expected" / "kitchen"
    unused = ("_atomic.py", "_types.py", "enums.py")
    assert (
        python_lines(AUTHORS)
        + sum(len((kitchen / name).read_text().splitlines()) for name in unused)
        > LIMIT
    )


def defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    return names | {
        n.target.id
        for n in tree.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }


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


TEMPLATES = Path(contents.__file__).parent / "templates"
PACKAGE_IMPORT = re.compile(r"^from \{\{ pkg\.name \}\}\.(\w+) import (.+)$", re.MULTILINE)


def unlisted(template: str, helper: str) -> set[str]:
    """What ``template`` (the helper module ``helper``'s) imports from the package that
    contents.HELPER_NEEDS does not list for it, as ``module.name``."""
    listed = {(s.module, s.name) for s in contents.HELPER_NEEDS.get(helper, ())}
    modules = {m for m, _ in listed}
    found = set()
    for module, names in PACKAGE_IMPORT.findall(template):
        for name in (n.strip() for n in names.split(",")):
            wanted = (
                (f".{module}", name) in listed if module == "types" else f".{module}" in modules
            )
            if not wanted:
                found.add(f"{module}.{name}")
    return found


def test_helper_needs_lists_what_each_helper_template_imports() -> None:
    """contents.HELPER_NEEDS mirrors the helper templates' own imports, so a helper a
    written helper needs is written too."""
    helpers = sorted(TEMPLATES.glob("_*.py.j2"))
    assert len(helpers) >= 6
    for path in helpers:
        assert unlisted(path.read_text(), "." + path.name.removesuffix(".py.j2")) == set()
    # control: an import the table doesn't list is seen
    new_import = "from {{ pkg.name }}._cursors import new_cursor\n"
    assert unlisted(new_import, "._types") == {"_cursors.new_cursor"}
    assert unlisted("from {{ pkg.name }}.types import NoRowError\n", "._streams") == {
        "types.NoRowError"
    }
