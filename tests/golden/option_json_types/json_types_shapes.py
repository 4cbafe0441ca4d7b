"""The json shapes the option_json_types fixture names in sqlc.yaml, one of each kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import msgspec
import pydantic


class PlanStep(TypedDict):
    name: str
    run: str
    needs: NotRequired[list[str]]


class Plan(TypedDict):
    steps: list[PlanStep]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str | None = None


class Usage(msgspec.Struct, frozen=True):
    input_tokens: int
    output_tokens: int


class Settings(pydantic.BaseModel):
    theme: Literal["light", "dark"]
    width: int
