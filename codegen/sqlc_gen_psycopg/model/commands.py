"""The sqlc commands (``-- name: X :one``) and what each one implies for generated code."""

from __future__ import annotations

from enum import StrEnum

from sqlc_gen_psycopg.errors import GenerationError


class Command(StrEnum):
    ONE = ":one"
    MANY = ":many"
    EXEC = ":exec"
    EXECROWS = ":execrows"
    EXECRESULT = ":execresult"
    COPYFROM = ":copyfrom"
    BATCHEXEC = ":batchexec"
    BATCHONE = ":batchone"
    BATCHMANY = ":batchmany"

    @classmethod
    def parse(cls, text: str, where: str) -> Command:
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(sorted(c.value for c in cls))
            raise GenerationError(f"{where}: unknown command {text}; use one of {known}") from None

    @property
    def returns_rows(self) -> bool:
        """Its function hands back decoded rows (the query must return some)."""
        return self in (Command.ONE, Command.MANY, Command.BATCHONE, Command.BATCHMANY)

    @property
    def single_row(self) -> bool:
        """Each execution yields at most one row: ``None`` means "no row"."""
        return self in (Command.ONE, Command.BATCHONE)

    @property
    def batch(self) -> bool:
        """Its function takes an iterable of ``<Query>Params`` rows, all or nothing."""
        return self in (Command.COPYFROM, Command.BATCHEXEC, Command.BATCHONE, Command.BATCHMANY)

    @property
    def streams(self) -> bool:
        """It may also get an ``iter_<name>`` twin reading through a server-side cursor
        (when PostgreSQL can DECLARE one over its statement: cursors.py)."""
        return self is Command.MANY


class Shape(StrEnum):
    """The body a function's command prints, named as its template
    (``templates/functions/<folder>/<shape>.py.j2``)."""

    ONE = "one"  # a :one that returns a row for any data: NoRowError when none came
    ONE_OR_NONE = "one_or_none"
    MANY = "many"
    EXEC = "exec"
    EXECROWS = "execrows"
    EXECRESULT = "execresult"
    COPYFROM = "copyfrom"
    BATCHEXEC = "batchexec"
    BATCHONE = "batchone"  # as ONE, per input row
    BATCHONE_OR_NONE = "batchone_or_none"
    BATCHMANY = "batchmany"
    STREAM = "stream"  # the iter_* twin of a :many

    @classmethod
    def of(cls, command: Command, *, always_row: bool) -> Shape:
        """A single-row command's shape also says whether "no row" can happen."""
        match command:
            case Command.ONE:
                return cls.ONE if always_row else cls.ONE_OR_NONE
            case Command.BATCHONE:
                return cls.BATCHONE if always_row else cls.BATCHONE_OR_NONE
            case _:
                return cls(command.value.removeprefix(":"))
