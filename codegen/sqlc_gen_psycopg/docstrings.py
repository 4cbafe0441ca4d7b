"""Option ``docstrings: google``: a function's Args, Returns and Raises sections, made
from its finished model (the SQL stays in its constant only).

The sections are one text for every flavor, so they name PostgreSQL's types and the
classes by their own names (``Author``, not ``models.Author`` or ``q.GetBioRow``): the
Python annotations are the signature's.
"""

from __future__ import annotations

import textwrap

from sqlc_gen_psycopg.model.commands import Command
from sqlc_gen_psycopg.model.package import Function, Param
from sqlc_gen_psycopg.model.results import ModelResult, RowResult, ScalarResult


def google(fn: Function, package: str) -> str:
    """The sections of ``fn``'s docstring, Google style; "" when it has none."""
    sections = [
        ("Args", args(fn)),
        ("Returns", [returns(fn)] if returns(fn) else []),
        ("Raises", raises(fn, package)),
    ]
    return "\n\n".join(
        f"{title}:\n" + "\n".join(entry(line) for line in lines)
        for title, lines in sections
        if lines
    )


def entry(line: str) -> str:
    """One entry of a section, wrapped to fit 100 columns in a function body, its
    continuation lines indented under it (Google style)."""
    indent = " " * (4 + len(line) - len(line.lstrip()))
    return textwrap.fill(line.strip(), 92, initial_indent=indent, subsequent_indent=indent + "    ")


def argument(param: Param) -> str:
    """``bio (text): meets authors.bio; None sends NULL.``"""
    db = param.db_type
    type_name = db.name.removeprefix("pg_catalog.") + "[]" * db.array_dims
    meaning = [f"meets {param.source}" if param.source else "the query's parameter"]
    if param.nullable:
        meaning.append("None sends NULL")
    return f"{param.name} ({type_name}): {'; '.join(meaning)}."


def args(fn: Function) -> list[str]:
    """One line a parameter; a Params class's fields under the argument that holds them."""
    if fn.params_class is None:
        return [argument(p) for p in fn.params]
    holder = (
        f"rows: {fn.params_class.name} values, one statement each; fields:"
        if fn.command.batch
        else f"params: a {fn.params_class.name}; fields:"
    )
    return [holder, *(f"    {argument(p)}" for p in fn.params)]


def row(fn: Function) -> str:
    """What one decoded row is."""
    match fn.result:
        case ModelResult(ref=ref):
            return f"{article(ref.symbol.name)} {ref.symbol.name} row"
        case RowResult(row_class=cls):
            return f"{article(cls.name)} {cls.name}"
        case ScalarResult(column=column):
            return f"the {column.name or column.field} value"
        case _:
            return ""


def article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


def returns(fn: Function) -> str:
    """The result's meaning, ``None`` when no row came included."""
    one = row(fn) if fn.always_row else f"{row(fn)}, or None when no row matches"
    match fn.command:
        case Command.ONE:
            return f"{one[0].upper()}{one[1:]}."
        case Command.MANY:
            return f"Every row, in the query's order: each {row(fn)}."
        case Command.EXECROWS:
            return "The number of rows the statement affected."
        case Command.EXECRESULT:
            return "ExecResult: the number of rows affected and PostgreSQL's command tag."
        case Command.COPYFROM:
            return "The number of rows written."
        case Command.BATCHONE:
            return f"One result per input row, in order: {one}."
        case Command.BATCHMANY:
            return f"One list per input row, in order: each {row(fn)}."
        case _:
            return ""


def raises(fn: Function, package: str) -> list[str]:
    """What the call may raise that the caller may catch by name."""
    lines = []
    if fn.always_row:
        lines.append("NoRowError: the statement returned no row.")
    if fn.refuses_read_only:
        lines.append(
            f"ReadOnlyConnectionError: on a read-only psycopg connection, before "
            f"sending ({fn.access.reason})."
        )
    checked = [p.name for p in fn.params if p.checks]
    if checked:
        lines.append(
            f"ParameterValueError: {', '.join(checked)} holds a value the drivers would "
            f"store differently (a naive datetime, a NULL element); nothing is sent."
        )
    lines.extend(f"{v.describe()} ({package}.errors)." for v in fn.violations)
    return lines
