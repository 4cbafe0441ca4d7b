"""Values the generated functions convert or check themselves: enum arrays psycopg reads
as text, asyncpg's ranges made psycopg's, and the parameter checks that give a value one
meaning on both drivers (docs/generated-api.md, "One meaning per value")."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, TypeVar, cast

import psycopg
from psycopg.pq import Format
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from sqlc_gen_psycopg_runtime.types import ParameterValueError

_TEXT_ARRAY_OID = psycopg.postgres.types["text"].array_oid
_TEXT_ARRAY = psycopg.postgres.adapters.get_loader(_TEXT_ARRAY_OID, Format.TEXT)
E = TypeVar("E", bound=StrEnum)
Clock = TypeVar("Clock", bound=datetime.datetime | datetime.time | None)
Day = TypeVar("Day", bound=datetime.date | None)
Items = TypeVar("Items", bound=list[Any] | None)


def _elements(raw: str | list[str | None]) -> list[str | None]:
    """An enum[] value's elements: psycopg returns an array of an enum type it hasn't
    registered as its text literal (``{sad,NULL}``), parsed with its text-array loader."""
    if isinstance(raw, str):
        assert _TEXT_ARRAY is not None
        loaded: list[str | None] = _TEXT_ARRAY(_TEXT_ARRAY_OID).load(raw.encode())
        return loaded
    return raw


def as_range(value: Any) -> Any:
    """A range (or an array of them) as psycopg's Range: psycopg's value as it is,
    asyncpg's (``asyncpg.Range``, as the asyncpg modules read it) made psycopg's, so
    the models both drivers share hold one type."""
    if value is None or isinstance(value, Range):
        return cast(Any, value)
    if not hasattr(value, "isempty"):  # a list: an array of ranges
        return [as_range(item) for item in value]
    if value.isempty:
        return Range[Any](empty=True)
    bounds = ("[" if value.lower_inc else "(") + ("]" if value.upper_inc else ")")
    return Range[Any](value.lower, value.upper, bounds)


def as_multirange(value: Any, dims: int = 0) -> Any:
    """A multirange (``dims``: the array dimensions around it) as psycopg's
    Multirange; asyncpg reads one as a list of ``asyncpg.Range``."""
    if value is None or isinstance(value, Multirange):
        return cast(Any, value)
    items: list[Any] = value
    if dims:
        return [as_multirange(item, dims - 1) for item in items]
    return Multirange[Any](as_range(item) for item in items)


def load_enum_array(cls: type[E], raw: str | list[str | None]) -> list[E | None]:
    """An enum[] value as a list of members, a NULL element as None."""
    return [None if value is None else cls(value) for value in _elements(raw)]


def load_enum_array_no_nulls(cls: type[E], raw: str | list[str | None]) -> list[E]:
    """An enum[] value of a column whose CHECK keeps NULL elements out."""
    elements = _elements(raw)
    if None in elements:
        raise ValueError(f"{cls.__name__}[]: a NULL element where a CHECK keeps them out")
    return [cls(value) for value in elements if value is not None]


# Parameter checks: a value psycopg and asyncpg would store differently is refused, before
# anything is sent, by both (docs/generated-api.md, "One meaning per value").


def aware(value: Clock, where: str) -> Clock:
    """A timestamptz or timetz parameter: aware, since psycopg reads a naive value in the
    session's TimeZone and asyncpg in the Python process's local time zone (a naive
    time for timetz it refuses). An aware time for a time column means its wall clock
    on both, so time has no check."""
    if value is not None and value.utcoffset() is None:
        raise ParameterValueError(where, f"{value!r} is naive; {_AWARE}")
    return value


def aware_items(value: Items, where: str) -> Items:
    """A timestamptz[] or timetz[] parameter: every element aware (or None)."""
    for index, item in _leaves(value):
        if isinstance(item, _CLOCKS) and item.utcoffset() is None:
            raise ParameterValueError(where, f"element {index} ({item!r}) is naive; {_AWARE}")
    return value


def naive(value: Clock, where: str) -> Clock:
    """A timestamp (without time zone) parameter: naive, the wall-clock time to store;
    psycopg would convert an aware value to the session's TimeZone, asyncpg refuse it."""
    if value is not None and value.utcoffset() is not None:
        raise ParameterValueError(where, f"{value!r} is aware; {_NAIVE}")
    return value


def naive_items(value: Items, where: str) -> Items:
    """A timestamp[] parameter: every element naive (or None)."""
    for index, item in _leaves(value):
        if isinstance(item, _CLOCKS) and item.utcoffset() is not None:
            raise ParameterValueError(where, f"element {index} ({item!r}) is aware; {_NAIVE}")
    return value


def plain_date(value: Day, where: str) -> Day:
    """A date parameter: a date, not a datetime (which psycopg would convert to the
    session's TimeZone before taking its date, and asyncpg would not)."""
    if isinstance(value, datetime.datetime):
        raise ParameterValueError(where, f"{value!r} is a datetime; pass its .date()")
    return value


def no_null_items(value: Items, where: str) -> Items:
    """An array parameter written to a column whose CHECK keeps NULL elements out."""
    if value is not None and None in value:
        raise ParameterValueError(
            where,
            f"element {value.index(None)} is None, but the column it is written to holds"
            " no NULL elements (a CHECK proves it)",
        )
    return value


_CLOCKS = (datetime.datetime, datetime.time)
_AWARE = "the column keeps an instant: pass an aware value (tzinfo set, e.g. datetime.now(UTC))"
_NAIVE = (
    "timestamp keeps wall-clock time: pass a naive value"
    " (e.g. value.astimezone(UTC).replace(tzinfo=None))"
)


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """(position, element) of every innermost element of a (nested) list: ``[1][0]``."""
    if isinstance(value, list):
        for index, item in enumerate(cast("list[object]", value)):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value
