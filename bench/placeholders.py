"""The generated SQL text rewritten for clients that don't take ``$1`` placeholders.

Every case must run the very same statement, so the hand-written baselines, SQLAlchemy
and pgbench get the generated constant with only its placeholders rewritten. The
benchmark's queries hold no ``$n`` inside literals, so a token rewrite is exact here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any, LiteralString, cast

_DOLLAR = re.compile(r"\$(\d+)")
_COLON_WORD = re.compile(r"(?<![:\w]):(\w)")


def numbers(sql: str) -> list[int]:
    """The placeholder numbers in order of appearance (``$2`` twice gives 2 twice)."""
    return [int(m.group(1)) for m in _DOLLAR.finditer(sql)]


def format_style(sql: LiteralString) -> LiteralString:
    """``$n`` -> ``%s`` for psycopg's client cursors; pass arguments via :func:`reorder`."""
    return _DOLLAR.sub("%s", sql.replace("%", "%%"))


def reorder(sql: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Maps a ``$n`` statement's arguments to the order its ``%s`` rewrite wants them.

    Built once per statement (a C ``itemgetter``), so a baseline pays no more per call
    than hand-written code that lists its arguments in order.
    """
    order = [n - 1 for n in numbers(sql)]
    if order == list(range(len(order))):
        return _same
    if len(order) == 1:
        return lambda args: (args[order[0]],)
    return cast(Callable[[tuple[Any, ...]], tuple[Any, ...]], itemgetter(*order))


def _same(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return args


def sqlalchemy_style(sql: str) -> str:
    """``$n`` -> ``(:pn)`` for SQLAlchemy ``text()``, which does not bind ``:p1::bigint``.

    Other ``:word`` (the ``-- name: X :one`` line) is escaped so it is not a parameter.
    """
    return _DOLLAR.sub(r"(:p\1)", _COLON_WORD.sub(r"\\:\1", sql))


def pgbench_style(sql: str) -> str:
    """``$n`` -> ``:pn``, pgbench's variables (it reads ``:p1::bigint`` correctly)."""
    return _DOLLAR.sub(r":p\1", sql)
