"""Hand-written types the options fixture's overrides point at (not generated)."""

from decimal import Decimal
from typing import NewType, TypedDict

Money = NewType("Money", Decimal)


class Profile(TypedDict):
    name: str
    languages: list[str]
