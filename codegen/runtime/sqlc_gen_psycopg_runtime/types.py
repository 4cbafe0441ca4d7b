"""The types generated signatures use and the errors generated functions raise. A
generated package's ``types`` module re-exports the ones it uses, so every package a
service imports raises the same classes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TypeAlias

import psycopg
import psycopg.errors

JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"
"""A decoded json/jsonb value, as psycopg's json loader returns it."""

JsonInput: TypeAlias = (
    "Mapping[str, JsonInput] | Sequence[JsonInput] | str | int | float | bool | None"
)
"""Anything psycopg can write as json/jsonb (read-only views, so typed dicts fit)."""

Inet: TypeAlias = (
    ipaddress.IPv4Address
    | ipaddress.IPv6Address
    | ipaddress.IPv4Interface
    | ipaddress.IPv6Interface
)
"""An inet value: an address, or an interface when it carries a prefix length."""

Cidr: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
"""A cidr value."""


class ExecResult(NamedTuple):
    """What an :execresult query reports: rows affected and PostgreSQL's command tag."""

    rowcount: int
    status: str


class NoRowError(psycopg.errors.NoDataFound):
    """A query typed to always return one row returned none (a BEFORE trigger returning
    NULL, or a rule, discarded it)."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"{function}: the query always returns one row, but PostgreSQL returned none"
            " (a BEFORE trigger returning NULL or a rule may have discarded it)"
        )
        self.function = function


class ReadOnlyConnectionError(psycopg.errors.ReadOnlySqlTransaction):
    """A function that writes was called on a read-only connection (``conn.read_only``);
    raised before anything is sent. PostgreSQL's own class for that (SQLSTATE 25006)."""

    def __init__(self, function: str, reason: str) -> None:
        super().__init__(
            f"{function} writes ({reason}) and cannot run on a read-only connection"
            " (a replica reader); run it on a primary connection"
        )
        self.function = function


class StreamEndedError(psycopg.ProgrammingError):
    """A stream was read after the transaction holding its cursor had ended."""


class ParameterValueError(ValueError):
    """A parameter's value was refused before anything was sent: psycopg and asyncpg
    would store it differently, or the schema refuses it. ``where`` names the function
    and parameter: ``create_auth_session: expires_at``."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where


class JsonShapeError(ValueError):
    """A json value read from a column given a type (option json_types) doesn't fit it.
    ``where`` names the function (or models decoder) and the column, ``path`` the place
    in the JSON (``$.steps[0].run``); no value is returned, so none is half typed."""

    def __init__(self, where: str, shape: str, path: str, problem: str) -> None:
        super().__init__(f"{where}: the JSON does not fit {shape}: {problem} at {path}")
        self.where = where
        self.path = path
