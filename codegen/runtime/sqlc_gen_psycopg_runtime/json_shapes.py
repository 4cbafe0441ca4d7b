"""Typed json columns (option json_types): a decoded json value checked against the
user's type and built as it, or one JsonShapeError naming the function, the column and
the path in the JSON, so no half-typed value is ever returned.

msgspec Structs go through ``msgspec.convert`` and pydantic models through
``model_validate`` (their own semantics); a TypedDict or a dataclass is checked here
against its annotations (str, int, float, bool, None, Literal, lists, ``dict[str, X]``,
unions, nested TypedDicts and dataclasses, Any), so neither needs a library. Keys the
type doesn't declare are refused. Each type's reader is made once and cached.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from sqlc_gen_psycopg_runtime.types import JsonShapeError

Reader = Callable[[Any, str], Any]  # (json value, its path) -> the value as the type
MARKERS = (typing.Required, typing.NotRequired)
SCALARS: dict[Any, str] = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


class _MismatchError(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem


def json_shape(shape: Any, value: Any, caller: str, column: str) -> Any:
    """``value`` (the driver's decoded json) as ``shape``, or JsonShapeError naming the
    function that read it and the column."""
    try:
        return _reader(shape)(value, "$")
    except _MismatchError as error:
        where = f"{caller}: column {column}"
        raise JsonShapeError(where, shape.__name__, error.path, error.problem) from None


def json_value(value: Any) -> Any:
    """A typed value as json the driver writes: a dataclass's or model's fields, a
    TypedDict as the dict it is."""
    msgspec = sys.modules.get("msgspec")
    pydantic = sys.modules.get("pydantic")
    if msgspec is not None and isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


@functools.cache
def _reader(annotation: Any) -> Reader:
    """How a json value is read as ``annotation``."""
    msgspec = sys.modules.get("msgspec")
    pydantic = sys.modules.get("pydantic")
    if msgspec is not None and _subclass(annotation, msgspec.Struct):
        return functools.partial(_msgspec, msgspec, annotation)
    if pydantic is not None and _subclass(annotation, pydantic.BaseModel):
        return functools.partial(_pydantic, pydantic, annotation)
    if typing.is_typeddict(annotation):
        return functools.partial(_fields, dict, *_typed_dict_keys(annotation))
    if dataclasses.is_dataclass(annotation):
        return functools.partial(_fields, annotation, *_dataclass_keys(annotation))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return functools.partial(_list, args[0])
    if origin is dict:
        return functools.partial(_dict, args[1])
    if origin in (types.UnionType, typing.Union):
        return functools.partial(_union, args)
    if origin is typing.Literal:
        return functools.partial(_literal, args)
    if annotation in (None, type(None)):
        return _none
    if annotation in SCALARS:
        return functools.partial(_scalar, annotation)
    if annotation in (Any, object):
        return _any
    raise TypeError(f"json_types: can't check a json value against {annotation!r}")


def _subclass(annotation: Any, base: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, base)


def _msgspec(msgspec: Any, shape: Any, value: Any, path: str) -> Any:
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as error:
        problem, _, where = str(error).partition(" - at `")
        raise _MismatchError(where.rstrip("`") or path, problem) from None


def _pydantic(pydantic: Any, shape: Any, value: Any, path: str) -> Any:
    try:
        return shape.model_validate(value)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        steps = (f"[{step}]" if isinstance(step, int) else f".{step}" for step in first["loc"])
        raise _MismatchError(path + "".join(steps), first["msg"]) from None


def _fields(build: Any, hints: dict[str, Any], required: set[str], value: Any, path: str) -> Any:
    """A json object's keys read as the type's fields (a missing or unknown key refused),
    then ``build(**fields)``: the class, or ``dict`` for a TypedDict."""
    if not isinstance(value, dict):
        raise _MismatchError(path, f"expected an object, got {_kind(value)}")
    mapping = typing.cast(dict[str, Any], value)
    for key in hints:
        if key in required and key not in mapping:
            raise _MismatchError(f"{path}.{key}", "a required key is missing")
    for key in mapping:
        if key not in hints:
            raise _MismatchError(f"{path}.{key}", "a key the type doesn't declare")
    return build(
        **{key: _reader(hints[key])(item, f"{path}.{key}") for key, item in mapping.items()}
    )


def _typed_dict_keys(shape: Any) -> tuple[dict[str, Any], set[str]]:
    """A TypedDict's keys and its required ones; ``__required_keys__`` alone misses a
    ``NotRequired`` written as a string (``from __future__ import annotations``)."""
    hints: dict[str, Any] = {}
    required: set[str] = set()
    for key, hint in typing.get_type_hints(shape, include_extras=True).items():
        marker = typing.get_origin(hint)
        hints[key] = typing.get_args(hint)[0] if marker in MARKERS else hint
        if marker is typing.Required or (key in shape.__required_keys__ and marker is None):
            required.add(key)
    return hints, required


def _dataclass_keys(shape: Any) -> tuple[dict[str, Any], set[str]]:
    """A dataclass's constructor fields and those without a default."""
    fields = [field for field in dataclasses.fields(shape) if field.init]
    hints = typing.get_type_hints(shape)
    required = {
        field.name
        for field in fields
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    return {field.name: hints[field.name] for field in fields}, required


def _list(item: Any, value: Any, path: str) -> Any:
    read = _reader(item)
    return [read(element, f"{path}[{index}]") for index, element in enumerate(_array(value, path))]


def _array(value: Any, path: str) -> list[Any]:
    if not _instance(value, list):
        raise _MismatchError(path, f"expected an array, got {_kind(value)}")
    return typing.cast(list[Any], value)


def _instance(value: Any, cls: type[Any]) -> bool:
    """isinstance without narrowing ``value`` to a partly unknown ``list`` (the cast after
    it says what it holds: mypy calls that cast redundant after isinstance)."""
    return isinstance(value, cls)


def _dict(item: Any, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _MismatchError(path, f"expected an object, got {_kind(value)}")
    read = _reader(item)
    return {
        key: read(element, f"{path}.{key}")
        for key, element in typing.cast(dict[str, Any], value).items()
    }


def _union(options: tuple[Any, ...], value: Any, path: str) -> Any:
    """The first alternative that reads the value; a NULL-able one names its own mismatch."""
    present = [option for option in options if option is not type(None)]
    if value is None and len(present) < len(options):
        return None
    if len(present) == 1:
        return _reader(present[0])(value, path)
    for option in present:
        try:
            return _reader(option)(value, path)
        except _MismatchError:
            continue
    raise _MismatchError(path, f"{_kind(value)} fits none of {' | '.join(map(_name, options))}")


def _literal(allowed: tuple[Any, ...], value: Any, path: str) -> Any:
    if value not in allowed or isinstance(value, bool) is not isinstance(allowed[0], bool):
        raise _MismatchError(
            path, f"expected one of {', '.join(map(repr, allowed))}, got {value!r}"
        )
    return value


def _none(value: Any, path: str) -> Any:
    if value is not None:
        raise _MismatchError(path, f"expected null, got {_kind(value)}")
    return None


def _scalar(cls: Any, value: Any, path: str) -> Any:
    if cls is float and type(value) is int:  # json has one number type
        return float(value)
    if type(value) is not cls:
        raise _MismatchError(path, f"expected {SCALARS[cls]}, got {_kind(value)}")
    return value


def _any(value: Any, path: str) -> Any:
    return value


def _kind(value: Any) -> str:
    """A json value's kind as an error names it (``the string 'x'``)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return f"{SCALARS.get(type(value), type(value).__name__)} {value!r}"


def _name(annotation: Any) -> str:
    return "None" if annotation is type(None) else getattr(annotation, "__name__", repr(annotation))
