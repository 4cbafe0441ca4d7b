"""What every demo step shares: the run it belongs to, its transactions, its failures.

A step is a function of a ``Demo``: it prints its heading and lines through
``demo.say``, does each unit of work in one transaction (``demo.unit``) and insists on
the rows it needs (``require``), failing with a ``DemoError`` that names what was
missing rather than carrying a None further.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel

from plue_db.transactions import run_in_transaction

T = TypeVar("T")
Say = Callable[[str], object]
Work = Callable[[psycopg.Connection[Any]], T]


class DemoError(Exception):
    """A demo step did not get the result it needs; the message names the step."""


@dataclass(frozen=True, slots=True)
class Demo:
    """One run of the demo: where it works, where it prints, what makes its names unique."""

    conn: psycopg.Connection[Any]  # not autocommit: each unit is one transaction
    say: Say
    suffix: str  # six hex digits; every name the run creates ends with it

    def section(self, number: int, title: str) -> None:
        self.say(f"\n== {number}. {title} ==")

    def unit(self, work: Work[T], isolation: IsolationLevel = IsolationLevel.READ_COMMITTED) -> T:
        """``work`` as one committed transaction, retried on a serialization failure."""
        return run_in_transaction(self.conn, work, isolation=isolation)


def require(value: T | None, what: str) -> T:
    """The row a step needs, or a DemoError naming what came back empty."""
    if value is None:
        raise DemoError(f"{what}: the query returned no row")
    return value


def short(text: str) -> str:
    """The first eight characters of an id or secret, enough to tell them apart."""
    return f"{text[:8]}…"


def usd(micro: int) -> Decimal:
    """Micro-USD as dollars with all six decimals."""
    return Decimal(micro).scaleb(-6)
