"""Python names and types as the generated code spells them, each knowing its import.

A ``Symbol`` is one name and the module defining it; a ``TypeRef`` an annotation built
from symbols. Neither is text until printed in a ``Scope`` (the module being written),
because the spelling depends on where it is written: ``models.Issue`` in a query
module is ``Issue`` inside models.py, and the async twin reaches its sync module's
classes through ``q.``. Imports are derived from the symbols a module's model uses
(imports.py), never collected while the model is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum


class Style(Enum):
    """How a symbol is brought into scope and written."""

    BUILTIN = "builtin"  # ``int``: no import
    ATTRIBUTE = "attribute"  # ``import datetime`` -> ``datetime.date``
    FROM = "from"  # ``from typing import Any`` -> ``Any``
    SUBMODULE = "submodule"  # ``from pkg import models`` -> ``models.Issue``
    VERBATIM = "verbatim"  # ``import tuned_types`` -> the text as given (an override)


@dataclass(frozen=True, slots=True, order=True)
class Import:
    """One import statement: ``import module`` or ``from module import name [as alias]``."""

    module: str
    name: str = ""
    alias: str = ""

    def line(self) -> str:
        alias = f" as {self.alias}" if self.alias else ""
        if not self.name:
            return f"import {self.module}{alias}"
        return f"from {self.module} import {self.name}{alias}"


@dataclass(frozen=True, slots=True)
class Scope:
    """The module being written: its dotted name, and aliases it imports modules under
    (the async twin's ``q``; ``_datetime`` where a dataclass field named ``datetime``
    would hide the module from the annotations after it)."""

    package: str
    module: str
    aliases: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, module: str) -> str:
        """A package-relative module (``.models``) as an absolute one."""
        return f"{self.package}{module}" if module.startswith(".") else module


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name generated code uses. ``module`` starting with ``.`` is package-relative."""

    module: str
    name: str
    style: Style

    def text(self, scope: Scope) -> str:
        module = scope.resolve(self.module)
        if self.style in (Style.BUILTIN, Style.FROM, Style.VERBATIM) or module == scope.module:
            return self.name
        if self.style is Style.ATTRIBUTE:
            return f"{scope.aliases.get(module, module)}.{self.name}"
        return f"{scope.aliases.get(module, module.rpartition('.')[2])}.{self.name}"

    def binds(self, scope: Scope) -> str:
        """The name the symbol's import binds in ``scope`` (``datetime`` for
        ``datetime.date``, ``models`` for ``models.Issue``), "" when it binds none."""
        text = self.text(scope)
        return text.partition(".")[0] if self.style in (Style.ATTRIBUTE, Style.SUBMODULE) else ""

    def import_(self, scope: Scope) -> Import | None:
        """The import this symbol needs in ``scope``, None for builtins and own names."""
        module = scope.resolve(self.module)
        if self.style is Style.BUILTIN or module == scope.module:
            return None
        if self.style is Style.FROM:
            return Import(module, self.name)
        if self.style is Style.SUBMODULE:
            parent, _, stem = module.rpartition(".")
            return Import(parent, stem, scope.aliases.get(module, ""))
        if self.style is Style.ATTRIBUTE:
            return Import(module, "", scope.aliases.get(module, ""))
        return Import(module)


def builtin(name: str) -> Symbol:
    return Symbol("", name, Style.BUILTIN)


def attribute(module: str, name: str) -> Symbol:
    return Symbol(module, name, Style.ATTRIBUTE)


def from_import(module: str, name: str) -> Symbol:
    return Symbol(module, name, Style.FROM)


# The distribution every generated package imports its shared helpers from
# (codegen/runtime: streams, cursors, pipelines, value checks, the error classes).
RUNTIME = "sqlc_gen_psycopg_runtime"


def from_runtime(module: str, name: str) -> Symbol:
    """``name`` of the runtime's ``module`` (``from_runtime("streams", "ServerStream")``)."""
    return from_import(f"{RUNTIME}.{module}", name)


def in_package(module: str, name: str) -> Symbol:
    """A name defined in one of the generated package's modules (``.models``)."""
    return Symbol(module, name, Style.SUBMODULE)


def verbatim(text: str, module: str) -> Symbol:
    """A user's type text (an override), needing ``import module`` if module is set."""
    return Symbol(module, text, Style.VERBATIM if module else Style.BUILTIN)


@dataclass(frozen=True, slots=True)
class TypeRef:
    """An annotation: a symbol, its type arguments (``list[...]``), and ``| None``."""

    symbol: Symbol
    args: tuple[TypeRef, ...] = ()
    optional: bool = False

    def text(self, scope: Scope) -> str:
        base = self.symbol.text(scope)
        if self.args:
            base += "[" + ", ".join(arg.text(scope) for arg in self.args) + "]"
        return f"{base} | None" if self.optional else base

    def symbols(self) -> Iterator[Symbol]:
        yield self.symbol
        for arg in self.args:
            yield from arg.symbols()

    def or_none(self, optional: bool = True) -> TypeRef:
        return replace(self, optional=self.optional or optional)

    def with_symbol(self, old: Symbol, new: Symbol) -> TypeRef:
        """The same annotation with ``old`` replaced by ``new`` wherever it appears."""
        return TypeRef(
            new if self.symbol == old else self.symbol,
            tuple(arg.with_symbol(old, new) for arg in self.args),
            self.optional,
        )


def ref(symbol: Symbol, *args: TypeRef, optional: bool = False) -> TypeRef:
    return TypeRef(symbol, args, optional)


LIST = builtin("list")
INT = ref(builtin("int"))
NONE = ref(builtin("None"))
STR = ref(builtin("str"))


def list_of(item: TypeRef, dims: int = 1) -> TypeRef:
    for _ in range(dims):
        item = ref(LIST, item)
    return item


def array_of(item: TypeRef, dims: int, *, null_items: bool) -> TypeRef:
    """``item`` nested in ``dims`` lists; when ``null_items``, an array's innermost items
    are ``| None`` (PostgreSQL keeps NULL elements unless a CHECK proves there are none:
    element_checks.py)."""
    return list_of(item.or_none(null_items and dims > 0), dims)
