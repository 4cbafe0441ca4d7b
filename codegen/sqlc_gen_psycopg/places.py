"""``file:line`` of a query's parameter or result column, as sqlc's own errors give it.

sqlc sends each query's file name (no folder) and its statement text: the leading
comments (``-- name:`` and the doc comment) cut off, ``sqlc.arg(x)`` rewritten to
``$n`` and ``*`` expanded in place, every line break kept. So the statement starts on
the first line after ``-- name:`` that is neither blank nor a comment, and a node's
line is that line plus the line breaks before the node's offset (pglast's location,
in bytes) in the text sqlc sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pglast
from pglast import ast, enums
from pglast.stream import RawStream

from sqlc_gen_psycopg.inference import returning


@dataclass(frozen=True, slots=True)
class Site:
    """A parameter or column of one query, where the user wrote it."""

    place: str  # ``queries/users.sql:14``
    query: str
    what: str  # ``parameter flag``, ``column age``

    def line(self, message: str) -> str:
        """A one-line message about it: ``file:line: query Name: column x: message``."""
        return f"{self.place}: query {self.query}: {self.what}: {message}"


class Places:
    """Finds queries in the files sqlc.yaml's ``queries`` names (relative to sqlc's
    working directory, which is the plugin's)."""

    def __init__(self, query_paths: tuple[str, ...], directory: Path = Path()) -> None:
        self.query_paths = query_paths
        self.directory = directory  # the config's folder, where query_paths start
        self.files: dict[str, tuple[str, list[str]] | None] = {}

    def site(self, filename: str, query: str, text: str, offset: int | None, what: str) -> Site:
        """The site of the node at ``offset`` in ``text`` (the query's own line without
        an offset); just the file name when the file can't be found."""
        found = self.read(filename)
        if found is None:
            return Site(filename, query, what)
        path, lines = found
        start = statement_line(lines, query)
        if start is None:
            return Site(path, query, what)
        below = text.encode()[:offset].count(b"\n") if offset is not None else 0
        return Site(f"{path}:{start + below}", query, what)

    def read(self, filename: str) -> tuple[str, list[str]] | None:
        if filename not in self.files:
            self.files[filename] = None
            for entry in self.query_paths:
                base = self.directory / entry
                path = base / filename if base.is_dir() else base
                if path.name == filename and path.is_file():
                    self.files[filename] = (path.as_posix(), path.read_text().splitlines())
                    break
        return self.files[filename]


def statement_line(lines: list[str], query: str) -> int | None:
    """The 1-based line where the statement of ``-- name: query`` starts."""
    header = re.compile(rf"\s*--\s*name:\s*{re.escape(query)}\s")
    for index, line in enumerate(lines):
        if header.match(line + " "):
            for number in range(index + 1, len(lines)):
                stripped = lines[number].strip()
                if stripped and not stripped.startswith("--"):
                    return number + 1
            return index + 1
    return None


@cache
def statement(text: str) -> Any:
    """The one statement of a query's text, or None when pglast can't parse it."""
    try:
        parsed = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return None
    return parsed[0].stmt if len(parsed) == 1 else None


def output_targets(text: str) -> tuple[Any, ...]:
    """The result columns' ResTargets: a SELECT's (its first branch for UNION and the
    like), or the RETURNING list of an INSERT, UPDATE or DELETE."""
    stmt = statement(text)
    if isinstance(stmt, ast.SelectStmt):
        while stmt.op != enums.SetOperation.SETOP_NONE:
            stmt = stmt.larg
        return tuple(stmt.targetList or ())
    return returning(stmt)


def target(text: str, index: int) -> Any:
    """The ResTarget of the result column at ``index``, if the statement has it."""
    targets = output_targets(text)
    return targets[index] if index < len(targets) else None


def param_offset(text: str, number: int) -> int | None:
    """Where ``$number`` first appears in the text."""
    stmt = statement(text)
    if stmt is None:
        return None
    found = [
        node.location
        for node in walk(stmt)
        if isinstance(node, ast.ParamRef) and node.number == number
    ]
    return min(found) if found else None


def walk(node: Any) -> Any:
    """Every node below ``node``, itself included."""
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from walk(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)


# Expressions that a ``::type`` written right after them casts whole.
BARE = (ast.ColumnRef, ast.A_Const, ast.FuncCall, ast.ParamRef, ast.SQLValueFunction)


def sql_of(node: Any) -> str:
    """An expression as SQL, parenthesised unless it is a name, a literal, a parameter or
    a call, so that ``::type`` after it casts all of it. Decided by the node, not the
    text: ``lower(x) || upper(y)`` starts and ends like one call but is two."""
    text = str(RawStream()(node))
    return text if isinstance(node, BARE) else f"({text})"
