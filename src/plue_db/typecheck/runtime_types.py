"""Is a value what its annotation promises? The run-time half of type fidelity.

`plue-db check` proves each generated type is the one PostgreSQL reports; this proves the
values psycopg hands back really are instances of the annotations made from them, by
walking a returned value against ``typing.get_type_hints`` of the generated function
(and recursively of each dataclass). Checks are exact where Python's subclassing would
hide a lie: a datetime is not a date, a bool is not an int, a str is not a StrEnum.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, get_args, get_origin

from psycopg.types.multirange import Multirange
from psycopg.types.range import Range


class Json:
    """Stands for the package's recursive JSON aliases (``JsonValue``, ``JsonInput``),
    which are strings at run time and can't be evaluated, let alone joined with ``|``."""


JSON_SCALARS = (str, int, float, bool, type(None))


class Checker:
    """Mismatches between values and annotations of one generated package.

    ``namespace`` is its ``types`` module's names, which annotations may use without
    their own module importing them (``JsonInput`` needs ``Mapping``).
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = {**namespace, "JsonValue": Json, "JsonInput": Json}

    def hints(self, annotated: Any) -> dict[str, Any]:
        """``typing.get_type_hints``, resolved in the package's alias namespace."""
        return typing.get_type_hints(annotated, localns=self.namespace)

    def returned(self, function: Callable[..., Any], value: object, where: str) -> list[str]:
        """Mismatches of a function's result against its return annotation; for a
        (sync or async) generator function, ``value`` is the list of what it yielded."""
        hint = self.hints(function)["return"]
        if get_origin(hint) in (Generator, Iterator, AsyncGenerator, AsyncIterator):
            hint = types.GenericAlias(list, get_args(hint)[:1])
        return self.mismatches(value, hint, where)

    def mismatches(self, value: object, hint: Any, where: str) -> list[str]:
        """Every place in value that is not an instance of hint, one line each."""
        origin = get_origin(hint)
        if hint is Any:
            return []
        if hint is Json or is_pydantic_json(hint):
            return json_mismatches(value, where)
        if hint is None or hint is type(None):
            return [] if value is None else [f"{where}: {value!r} is not None"]
        if origin in (typing.Union, types.UnionType):
            reports = [self.mismatches(value, arm, where) for arm in get_args(hint)]
            if any(not report for report in reports):
                return []
            shaped = [
                r
                for r, arm in zip(reports, get_args(hint), strict=True)
                if shape(arm) is type(value)
            ]
            if len(shaped) == 1:  # the arm the value was meant for: say what inside is wrong
                return shaped[0]
            return [f"{where}: {describe(value)} is none of {format_hint(hint)}"]
        if origin is list:
            if type(value) is not list:
                return [f"{where}: {describe(value)} is not a list"]
            [item] = get_args(hint)
            return [
                p for i, v in enumerate(value) for p in self.mismatches(v, item, f"{where}[{i}]")
            ]
        if origin is dict:
            key_hint, item_hint = get_args(hint)
            if type(value) is not dict:
                return [f"{where}: {describe(value)} is not a dict"]
            return [
                p
                for k, v in value.items()
                for p in (
                    *self.mismatches(k, key_hint, f"{where} key {k!r}"),
                    *self.mismatches(v, item_hint, f"{where}[{k!r}]"),
                )
            ]
        if origin is tuple:  # tuple[T, ...], as psycopg returns a record
            item, _ = get_args(hint)
            if type(value) is not tuple:
                return [f"{where}: {describe(value)} is not a tuple"]
            return [
                p for i, v in enumerate(value) for p in self.mismatches(v, item, f"{where}[{i}]")
            ]
        if origin in (Range, Multirange):
            if type(value) is not origin:
                return [f"{where}: {describe(value)} is not a {origin.__qualname__}"]
            [item] = get_args(hint)
            ranges = list(value) if isinstance(value, Multirange) else [value]
            return [  # unbounded ends are None whatever the element type
                p
                for i, r in enumerate(ranges)
                for end in ("lower", "upper")
                if getattr(r, end) is not None
                for p in self.mismatches(getattr(r, end), item, f"{where}[{i}].{end}")
            ]
        if typing.is_typeddict(hint):  # a typed json column (option json_types)
            return self.typed_dict(value, hint, where)
        if isinstance(hint, type):
            return self.instance(value, hint, where)
        raise TypeError(f"{where}: no rule for the annotation {hint!r}")

    def typed_dict(self, value: object, cls: Any, where: str) -> list[str]:
        """value is a dict of the TypedDict's keys (a ``NotRequired`` one may be missing,
        none other may be added), each an instance of its annotation."""
        if type(value) is not dict:
            return [f"{where}: {describe(value)} is not a dict ({cls.__qualname__})"]
        items = typing.cast(dict[str, object], value)
        hints = typing.get_type_hints(cls, self.namespace, include_extras=True)
        found = [
            f"{where}: {key!r} is not a key of {cls.__qualname__}"
            for key in items
            if key not in hints
        ]
        for key, hint in hints.items():
            marker = get_origin(hint)
            if key in items:
                inner = (
                    get_args(hint)[0] if marker in (typing.Required, typing.NotRequired) else hint
                )
                found += self.mismatches(items[key], inner, f"{where}[{key!r}]")
            elif marker is not typing.NotRequired:
                found.append(f"{where}: {key!r} of {cls.__qualname__} is missing")
        return found

    def instance(self, value: object, cls: type, where: str) -> list[str]:
        """value is exactly a cls (enum members: of that enum); a row class (any
        model_type) field by field."""
        if type(value) is not cls:
            return [f"{where}: {describe(value)} is not a {cls.__module__}.{cls.__qualname__}"]
        if issubclass(cls, enum.Enum):
            return []
        names = row_fields(cls)
        hints = self.hints(cls) if names else {}
        return [
            p
            for name in names
            for p in self.mismatches(getattr(value, name), hints[name], f"{where}.{name}")
        ]


def row_fields(cls: type) -> tuple[str, ...]:
    """The fields of a generated row class of any model_type (dataclass, attrs,
    msgspec.Struct, pydantic), () for any other class."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    if hasattr(cls, "__attrs_attrs__"):
        return tuple(a.name for a in cls.__attrs_attrs__)
    if hasattr(cls, "__struct_fields__"):
        return tuple(cls.__struct_fields__)
    model_fields = getattr(cls, "__pydantic_fields__", None)
    return tuple(model_fields) if isinstance(model_fields, dict) else ()


def is_pydantic_json(hint: Any) -> bool:
    """pydantic's ``JsonValue`` (the pydantic model_type's json annotation)."""
    return getattr(hint, "__name__", None) == "JsonValue" and "pydantic" in str(
        getattr(hint, "__module__", "")
    )


def shape(hint: Any) -> Any:
    """The class a value of hint is an instance of (``list[int]`` -> list)."""
    return get_origin(hint) or hint


def json_mismatches(value: object, where: str) -> list[str]:
    """What psycopg's json loader returns: dicts with str keys, lists, and scalars."""
    if type(value) is dict:
        return [
            p
            for k, v in value.items()
            for p in ([] if type(k) is str else [f"{where}: JSON key {k!r} is not a str"])
            + json_mismatches(v, f"{where}[{k!r}]")
        ]
    if type(value) is list:
        return [p for i, v in enumerate(value) for p in json_mismatches(v, f"{where}[{i}]")]
    if type(value) in JSON_SCALARS:
        return []
    return [f"{where}: {describe(value)} is not a JSON value"]


def describe(value: object) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{shown} ({type(value).__module__}.{type(value).__qualname__})"


def format_hint(hint: Any) -> str:
    return str(hint).replace("typing.", "")
