"""Every sqlc error at its own ``file:line:column``, with the query it is in.

sqlc's database-backed analysis PREPAREs each query as sqlc rewrote it (``SELECT *``
expanded to the column list, ``sqlc.arg(x)`` replaced by ``$1``) and reports
PostgreSQL's error position as if it were an offset into the query as written: the
statement's start plus the position in the rewritten text. After an expanded ``*`` that
lands lines later, often in the next query (a typo on users.sql:13:27 was reported at
17:5). Here the rewritten text (from sqlc's static request) is PREPAREd again, and
PostgreSQL's position is carried back through the rewrite onto the text as written.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pglast
import psycopg

# sqlc's error lines: "queries/users.sql:13:27: column "idd" does not exist"
LOCATED = re.compile(r"(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)")
QUERY_NAME = re.compile(r"name:\s*(\S+)\s+:")


@dataclasses.dataclass(frozen=True)
class Located:
    """One error as sqlc prints it; ``path`` is relative to the configuration's folder."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def parse_errors(output: str) -> tuple[list[Located], list[str]]:
    """sqlc's output split into located errors and any other lines (``# package``
    headers dropped: each error names its file)."""
    located: list[Located] = []
    other: list[str] = []
    for line in output.splitlines():
        match = LOCATED.fullmatch(line.strip())
        if match:
            located.append(
                Located(match["path"], int(match["line"]), int(match["column"]), match["message"])
            )
        elif line.strip() and not line.startswith("# package "):
            other.append(line)
    return located, other


@dataclasses.dataclass(frozen=True)
class Statement:
    """One query of a query file: its ``-- name:`` and where its SQL is, in characters
    (PostgreSQL's stmt_location: the first token, comments excluded, as sqlc counts);
    ``head`` is where its comments begin (the end of the statement before)."""

    name: str
    start: int
    text: str
    head: int

    def blanked(self, text: str) -> str:
        """``text`` (the file) without this query: its comments and SQL turned to spaces,
        newlines kept, so every other query keeps its line and column."""
        end = self.start + len(self.text)
        gone = "".join(c if c == "\n" else " " for c in text[self.head : end])
        return text[: self.head] + gone + text[end:]


def statements(text: str) -> list[Statement]:
    """The named queries of a query file (empty if the file doesn't parse)."""
    try:
        raw = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return []
    found: list[Statement] = []
    previous_end = 0
    for stmt in raw:
        start = stmt.stmt_location or 0
        end = start + stmt.stmt_len if stmt.stmt_len else len(text)
        names = QUERY_NAME.findall(text[previous_end:start])
        name = names[-1] if names else "?"
        found.append(Statement(name, start, text[start:end], previous_end))
        previous_end = end
    return found


def offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column."""
    lines = text.split("\n")
    return sum(len(before) + 1 for before in lines[: line - 1]) + column - 1


def line_column(text: str, at: int) -> tuple[int, int]:
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def enclosing(text: str, at: int) -> Statement | None:
    """The query whose text holds the offset ``at`` (or the last that starts before it)."""
    before = [s for s in statements(text) if s.start <= at]
    return before[-1] if before else None


def name_query(error: Located, root: Path) -> str:
    """The error with ``(query Name)`` added when its place is inside a query."""
    path = root / error.path
    if not path.is_file():
        return str(error)
    text = path.read_text(encoding="utf-8")
    query = enclosing(text, offset(text, error.line, error.column))
    return f"{error} (query {query.name})" if query else str(error)


def carry_back(rewritten: str, written: str, position: int) -> int:
    """PostgreSQL's 1-based ``position`` in the query sqlc sent, as an offset into the
    query as written: exact inside text both share, else the start of what sqlc
    rewrote (a ``$1`` points at its ``sqlc.arg(...)``)."""
    at = position - 1
    matcher = difflib.SequenceMatcher(None, rewritten, written, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if i1 <= at < i2:
            return j1 + (at - i1) if tag == "equal" else j1
    return len(written)


def server_position(conn: psycopg.Connection[object], sql: str) -> tuple[str, int] | None:
    """PostgreSQL's primary message and error position PREPAREing ``sql``; None if it
    prepares."""
    result = conn.pgconn.prepare(b"", sql.encode())
    if result.status != psycopg.pq.ExecStatus.FATAL_ERROR:
        return None
    message = result.error_field(psycopg.pq.DiagnosticField.MESSAGE_PRIMARY) or b""
    position = result.error_field(psycopg.pq.DiagnosticField.STATEMENT_POSITION) or b"1"
    return message.decode(), int(position)


def relocate(
    error: Located, root: Path, rewritten: dict[tuple[str, str], tuple[str, str]]
) -> Located | None:
    """A database-analysis error at its own place, or None if no query explains it.

    ``rewritten`` maps (file name, query name) to (the SQL sqlc sends, the URL of the
    scratch database it was analysed on). sqlc placed the error at the failing
    statement's start plus PostgreSQL's position in the rewritten SQL, so the failing
    query starts before the reported place; of those, the one whose PREPARE fails with
    the same message is it (nearest first).
    """
    path = root / error.path
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    reported = offset(text, error.line, error.column)
    for query in reversed([s for s in statements(text) if s.start <= reported]):
        found = rewritten.get((path.name, query.name))
        if found is None:
            continue
        sql, url = found
        with psycopg.connect(url, autocommit=True) as conn:
            failure = server_position(conn, sql)
        if failure is None or failure[0] != error.message:
            continue
        line, column = line_column(text, query.start + carry_back(sql, query.text, failure[1]))
        return dataclasses.replace(error, line=line, column=column)
    return None


def queries_in(
    requests: Iterable[tuple[dict[str, Any], str]],
) -> dict[tuple[str, str], tuple[str, str]]:
    """(file name, query name) -> (rewritten SQL, database URL), from sqlc's request of
    each entry and the URL of the database it was analysed on."""
    return {
        (str(query["filename"]), str(query["name"])): (str(query["text"]), url)
        for request, url in requests
        for query in request.get("queries") or []
    }
