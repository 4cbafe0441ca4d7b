"""The user's types and converters the option_converters fixture names in sqlc.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in cents, stored as numeric(12, 2)."""

    cents: int


def money_from_db(value: Decimal) -> Money:
    return Money(int(value * 100))


def money_to_db(value: Money) -> Decimal:
    return Decimal(value.cents) / 100


@dataclass(frozen=True, slots=True)
class Tag:
    """A label, stored as text."""

    name: str


def tag_to_db(value: Tag) -> str:
    return value.name
