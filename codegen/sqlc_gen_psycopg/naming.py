"""Turning SQL names into Python names: snake_case functions, PascalCase classes."""

from __future__ import annotations

import keyword
import re

from sqlc_gen_psycopg.errors import GenerationError

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


def snake(name: str) -> str:
    """``GetUserByID`` -> ``get_user_by_id``; ``ListIssuesV2`` -> ``list_issues_v2``."""
    return _NOT_IDENT.sub("_", _WORD_BOUNDARY.sub("_", name)).strip("_").lower()


def pascal(name: str) -> str:
    """``issue_state`` -> ``IssueState``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9a-zA-Z]+", name))


def singular(word: str) -> str:
    """English plural -> singular for table names (``repositories`` -> ``repository``)."""
    rules = (("ies", "y"), ("sses", "ss"), ("uses", "us"), ("ches", "ch"), ("shes", "sh"))
    for suffix, replacement in rules:
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    return word[:-1]


def model_name(table: str) -> str:
    parts = table.split("_")
    return pascal("_".join([*parts[:-1], singular(parts[-1])]))


def identifier(name: str, what: str) -> str:
    """A safe Python identifier for a SQL name; keywords get a trailing underscore."""
    ident = _NOT_IDENT.sub("_", name).strip("_").lower() if not name.isidentifier() else name
    if ident and ident[0].isdigit():
        ident = f"_{ident}"
    if not ident.isidentifier():
        raise GenerationError(f"{what}: cannot make a Python name from {name!r}; alias it")
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        ident += "_"
    return ident


def constant(name: str) -> str:
    return snake(name).upper()


def enum_member(value: str) -> str:
    member = _NOT_IDENT.sub("_", value).strip("_").upper() or "EMPTY"
    return f"V_{member}" if member[0].isdigit() else member
