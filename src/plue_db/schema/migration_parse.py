"""Split a migration file into statements, and refuse what only the runner may do.

Why parse before running: the runner promises that a file is applied entirely or not at
all (one transaction per file), or, for a file marked ``-- plue-db: no-transaction``,
one statement at a time with its progress recorded. A ``COMMIT`` (or ``BEGIN``,
``SAVEPOINT``, ``PREPARE TRANSACTION``, ...) in the file would end the runner's
transaction early: a later failure then leaves half the file applied while nothing is
recorded. PostgreSQL itself refuses ``COMMIT`` inside a ``DO`` block or a procedure
called in a transaction block; top-level transaction statements it obeys, so they are
refused here, by file and line, before anything of any pending file runs.

pglast (libpg_query: PostgreSQL's own parser) gives the statements and where each
starts; its offsets are in characters, as are PostgreSQL's error positions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

NO_TRANSACTION = "-- plue-db: no-transaction"
_DIRECTIVE = "plue-db:"


class MigrationError(Exception):
    """A migration set or run that cannot proceed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Statement:
    number: int  # 1-based position in the file
    line: int  # line of its first token
    text: str
    checksum: str  # sha256 of text: what a partly applied file must keep unchanged
    procedural: bool  # DO or CALL
    session: bool  # SET or RESET: replayed when a partly applied file resumes


@dataclass(frozen=True, slots=True)
class ParsedMigration:
    transactional: bool  # False: the file starts with NO_TRANSACTION
    statements: tuple[Statement, ...]


def line_at(text: str, offset: int) -> int:
    """The 1-based line holding character ``offset`` of ``text``."""
    return text.count("\n", 0, offset) + 1


def parse(path: Path, content: bytes) -> ParsedMigration:
    """The statements of one migration file; MigrationError names file and line of
    anything refused (bad encoding, syntax, transaction control, unknown directive)."""
    import pglast  # the migrate extra: imported only here, so the runtime stays light
    from pglast import ast, parser

    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MigrationError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        raw_statements = pglast.parse_sql(text)
    except parser.ParseError as exc:
        message, offset = exc.args
        raise MigrationError(f"{path}:{line_at(text, offset)}: {message}") from exc
    transactional = text.splitlines()[:1] != [NO_TRANSACTION]
    _check_directives(path, text, transactional)
    statements = []
    for number, raw in enumerate(raw_statements, start=1):
        start = raw.stmt_location
        body = text[start : start + raw.stmt_len] if raw.stmt_len else text[start:]
        body = body.rstrip()
        line = line_at(text, start)
        if isinstance(raw.stmt, ast.TransactionStmt):
            raise MigrationError(
                f"{path}:{line}: {body!r}: a migration may not control transactions "
                "(BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION, ...): the runner "
                "applies each file in one transaction; for statements that cannot run in "
                f"one, start the file with the line {NO_TRANSACTION!r} (docs/migrations.md)"
            )
        checksum = hashlib.sha256(body.encode()).hexdigest()
        # procedural code may COMMIT when not inside a transaction block
        procedural = isinstance(raw.stmt, ast.DoStmt | ast.CallStmt)
        session = isinstance(raw.stmt, ast.VariableSetStmt)
        statements.append(Statement(number, line, body, checksum, procedural, session))
    return ParsedMigration(transactional, tuple(statements))


def _check_directives(path: Path, text: str, transactional: bool) -> None:
    """Refuse a ``-- plue-db:`` comment that is not the marker on the first line: a
    misspelt or misplaced directive must not be silently ignored."""
    from pglast import parser

    for token in parser.scan(text):
        if token.name != "SQL_COMMENT":
            continue
        comment = text[token.start : token.end + 1]
        if not comment[2:].lstrip().lower().startswith(_DIRECTIVE):
            continue
        if token.start == 0 and not transactional:
            continue
        raise MigrationError(
            f"{path}:{line_at(text, token.start)}: {comment.strip()!r} is not a plue-db "
            f"directive; the only one is {NO_TRANSACTION!r}, alone on the first line"
        )
